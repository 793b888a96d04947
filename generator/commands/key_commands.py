"""`badgekiln keys new|rotate|revoke|list`: key management a small provider can live with.

`new` and `rotate` write the private key to keys/<id>.key.json (mode 0600, git-ignored) and
record its public half in content/ledger.json straight away, so the key is published (and
stays published) from the next build on, wherever that build runs. `rotate` retires the old
key: its private parts are deleted from its file, its public key stays in the ledger and the
DID document, so every credential it signed keeps verifying. `revoke` is for a key that leaked:
the ledger marks it revoked, its private parts are deleted, and the next build re-signs what it
signed with a current key and publishes it as revoked, so nothing it signed verifies any more.
Messages never show key material.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections import ChainMap
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from ..atomic_write import write_file_atomic
from ..crypto import keys
from ..diagnostics import Location, Report, did_you_mean, format_text
from ..load.files import files_on_disk
from ..model import ledger
from ..project_lock import project_lock
from ..validate.values import format_datetime

README = """\
# keys/ — private signing keys (never commit anything but this README)

Files here are made by `badgekiln keys new` and `badgekiln keys rotate`.
Each `<id>.key.json` holds one private signing key (Ed25519 for Open Badges 3.0 Data Integrity
proofs, RSA for VC-JWT and Open Badges 2.0 signed assertions). Anyone who has the file can
issue badges in your name.

- **Git**: this folder is git-ignored (see .gitignore). Never `git add -f` a key, never copy
  one into content/ or templates/.
- **Backup**: copy each key file to a password manager or an encrypted drive when you create it.
  If a key is lost, badges already issued stay valid (their signatures are recorded in
  content/ledger.json); run `badgekiln keys rotate` to make a new key for new badges.
- **CI**: store the content of the current key file in a secret named `BADGEKILN_SIGNING_KEYS`
  and expose it to the build step as an environment variable, e.g. on GitHub:

      gh secret set BADGEKILN_SIGNING_KEYS < keys/<id>.key.json

      - run: badgekiln build --frozen
        env:
          BADGEKILN_SIGNING_KEYS: ${{ secrets.BADGEKILN_SIGNING_KEYS }}

  The variable may hold one key file, a JSON list of key files, or either one base64-encoded.
- **Rotation**: `badgekiln keys rotate` makes a new key and retires the old one (its
  private part is deleted; its public key stays published so old credentials verify). Commit
  content/ledger.json afterwards and update the CI secret.
- **Leaked key**: `badgekiln keys revoke <id> --reason "..."` marks it revoked. The next
  build re-signs everything it signed with the current key (make one first with `keys rotate`
  if it was the current key) and the DID document marks it revoked, so copies signed with it
  stop verifying. Build, commit content/ledger.json and put only the current key in the CI secret.
- **Listing**: `badgekiln keys list` shows every key, where its private part is, and how
  many credentials it signed.
"""


class CommandError(Exception):
    """The command cannot run as asked; the message says why and what to do."""


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="keys_command", required=True)
    for name, text in (("new", "create a signing key (Ed25519 + RSA) in keys/"),
                       ("rotate", "create a new key and retire the current one (old public key stays published)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--issuer", help="issuer id the key signs for (default: every issuer without its own key)")
    p = sub.add_parser("revoke", help="revoke a leaked key: what it signed is re-signed and stops verifying")
    p.add_argument("key_id", metavar="KEY_ID", help="the key's id (see `keys list`)")
    p.add_argument("--reason", required=True, help="why, e.g. \"laptop stolen\" (kept in the ledger)")
    sub.add_parser("list", help="show the keys, their status and where their private parts are")


def _ledger_doc(project: Path) -> tuple[dict, dict[str, ledger.Entry]]:
    """The ledger's head, to edit, and its awards; every record is checked first: a record edited
    by hand must not be sealed again by a command."""
    path = project / ledger.LEDGER_PATH
    if not path.exists():
        return ledger.empty_head(), {}
    try:
        data = path.read_bytes()
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("format") not in (1, ledger.FORMAT):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise CommandError(f"{ledger.LEDGER_PATH} cannot be read; restore it from git first") from None
    report = Report()
    entries = ledger.parse(ChainMap({ledger.LEDGER_PATH: data}, files_on_disk(project, ledger.AWARDS_DIR, (".json",))),
                           report)
    if report.has_errors():
        raise CommandError(format_text(report.sorted()))
    return doc, entries


def _signed_counts(entries: dict[str, ledger.Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries.values():
        if isinstance(entry.credential, dict):
            key_id = str(entry.credential.get("verificationMethod", "")).rpartition("#key-")[2]
            counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def _registry(doc: dict) -> tuple[keys.PublicKey, ...]:
    report = Report()
    registry = keys.parse_registry(doc.get("keys"), report, Location(ledger.LEDGER_PATH, 1))
    if report.has_errors():
        raise CommandError(format_text(report.sorted()))
    return registry


def _check_issuer(project: Path, issuer: str | None) -> None:
    if issuer is None:
        return
    known = sorted(p.stem for p in (project / "content" / "issuers").glob("*.y*ml"))
    if issuer not in known:
        hint = did_you_mean(issuer, known) or f"known issuers: {', '.join(known) or 'none'}"
        raise CommandError(f"unknown issuer '{issuer}' ({hint})")


def _save(project: Path, doc: dict, registry: tuple[keys.PublicKey, ...]) -> None:
    doc = {**doc, "keys": keys.registry_json(registry)}
    (project / "content").mkdir(exist_ok=True)
    write_file_atomic(project / ledger.LEDGER_PATH, ledger.seal(doc))


def _refuse_unless_git_ignores(project: Path, relpath: str) -> bool:
    """In a git work tree, refuse to write a key git would not ignore; True when git ignores it.

    `git add -A` would otherwise stage the key and a push would publish it (keys stay private:
    DESIGN.md invariant 6). Outside a git work tree (or without git) there is nothing to check.
    """
    git = shutil.which("git")
    if git is None:
        return False
    inside = subprocess.run([git, "-C", str(project), "rev-parse", "--is-inside-work-tree"],
                            capture_output=True, text=True)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return False
    ignored = subprocess.run([git, "-C", str(project), "check-ignore", "-q", "--no-index", relpath],
                             capture_output=True)
    if ignored.returncode == 0:
        return True
    raise CommandError(f"refusing to write {relpath}: this folder is in a git repository that does not ignore it, "
                       "so `git add` would commit the private key and a push would publish it.\n"
                       "Add these two lines to the .gitignore at the top of the project, then run the command "
                       "again:\n  keys/*\n  !keys/README.md\n"
                       "(`badgekiln new site` writes a .gitignore with them; check with "
                       f"`git check-ignore -v {relpath}`)")


def _create(project: Path, issuer: str | None, now: datetime, existing: set[str]) -> tuple[keys.SigningKey, bool]:
    """A new key file in keys/; and whether git ignores it (False: no git work tree here)."""
    for _ in range(5):
        key, file_doc = keys.generate(issuer, now)
        if key.id not in existing:
            break
    else:  # pragma: no cover - 32-bit id collisions five times in a row
        raise CommandError("could not create a key with a fresh id; try again")
    ignored = _refuse_unless_git_ignores(project, f"{keys.KEYS_DIR}/{key.id}{keys.KEY_SUFFIX}")
    folder = project / keys.KEYS_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)  # a clone makes it 0755 (keys/README.md is committed); keys are nobody else's
    if not (folder / "README.md").exists():
        (folder / "README.md").write_text(README, encoding="utf-8")
    keys.write_private_file(folder / f"{key.id}{keys.KEY_SUFFIX}", file_doc)
    return key, ignored


def _scope(issuer: str | None) -> str:
    return f"issuer '{issuer}'" if issuer else "every issuer"


def _instructions(key: keys.SigningKey, ignored: bool) -> str:
    path = f"{keys.KEYS_DIR}/{key.id}{keys.KEY_SUFFIX}"
    git = ("git ignores it here (checked): never `git add -f` it" if ignored else
           "keep keys/ out of version control (the .gitignore of `badgekiln new site` does)")
    return (f"Back it up now: copy {path} to a password manager or an encrypted drive.\n"
            "  Anyone who has it can issue badges in your name; without it you cannot sign new ones\n"
            f"  (badges already issued stay valid). {git}.\n"
            f"To build in CI, put the file's content in a secret named {keys.ENV_VAR}, e.g. on GitHub:\n"
            f"  gh secret set {keys.ENV_VAR} < {path}\n"
            f"and pass it to the build step as the environment variable {keys.ENV_VAR} (see keys/README.md).")


def run(project: Path, args, now: datetime) -> str:
    """Run `keys new|rotate|revoke|list` under the project lock; returns the text to print, raises CommandError."""
    with project_lock(project):
        return _run(project, args, now)


def _run(project: Path, args, now: datetime) -> str:
    if args.keys_command == "list":
        return list_keys(project)
    if args.keys_command == "revoke":
        return revoke(project, args.key_id, args.reason, now)
    _check_issuer(project, args.issuer)
    doc, entries = _ledger_doc(project)
    registry = _registry(doc)
    current = [k for k in registry if k.issuer == args.issuer and not k.retired]
    if args.keys_command == "new":
        if current:
            raise CommandError(f"{_scope(args.issuer)} already has signing key {current[-1].id} "
                               f"(created {current[-1].created[:10]}); to replace it, run "
                               f"`badgekiln keys rotate{' --issuer ' + args.issuer if args.issuer else ''}`")
        key, ignored = _create(project, args.issuer, now, {k.id for k in registry})
        _save(project, doc, keys.merge_registry(registry, [key.public]))
        return (f"Created signing key {key.id} for {_scope(args.issuer)} in {keys.KEYS_DIR}/{key.id}{keys.KEY_SUFFIX} "
                "(readable only by you).\n"
                f"Its public key was recorded in {ledger.LEDGER_PATH}: commit that file.\n"
                + _instructions(key, ignored) + "\nNext: badgekiln build   (signs a credential for every award)")
    revoked = [k for k in registry if k.issuer == args.issuer and k.revoked]
    if not current and not revoked:
        raise CommandError(f"{_scope(args.issuer)} has no signing key to rotate; create one with "
                           f"`badgekiln keys new{' --issuer ' + args.issuer if args.issuer else ''}`")
    key, ignored = _create(project, args.issuer, now, {k.id for k in registry})
    if not current:  # the current key was revoked (and so retired): this is its replacement
        _save(project, doc, keys.merge_registry(registry, [key.public]))
        return (f"Created signing key {key.id} for {_scope(args.issuer)} in place of revoked key "
                f"{revoked[-1].id}; the next build signs new credentials with it and re-signs what the "
                "revoked key signed.\n"
                f"Build now (badgekiln build), commit {ledger.LEDGER_PATH}, and replace the {keys.ENV_VAR} "
                "secret in CI with the new key.\n" + _instructions(key, ignored))
    stamp = format_datetime(now)
    retired_ids = {k.id for k in current}
    registry = tuple(replace(k, retired=stamp) if k.id in retired_ids else k for k in registry)
    _save(project, doc, keys.merge_registry(registry, [key.public]))
    for old in current:
        path = project / keys.KEYS_DIR / f"{old.id}{keys.KEY_SUFFIX}"
        if path.exists():
            keys.write_private_file(path, keys.key_file_json(replace(old, retired=stamp), None, None))
    signed = _signed_counts(entries)
    old_text = ", ".join(f"{k.id} ({signed.get(k.id, 0)} credential(s) signed)" for k in current)
    return (f"Created signing key {key.id} for {_scope(args.issuer)}; new credentials will be signed with it.\n"
            f"Retired {old_text}: its private part was deleted from keys/, its public key stays in the DID "
            "document so everything it signed keeps verifying.\n"
            f"Commit {ledger.LEDGER_PATH}, and replace the {keys.ENV_VAR} secret in CI with the new key.\n"
            + _instructions(key, ignored))


def _unknown_key(key_id: str, registry: tuple[keys.PublicKey, ...]) -> CommandError:
    known = [k.id for k in registry]
    if not known:
        return CommandError(f"unknown key '{key_id}': {ledger.LEDGER_PATH} records no signing keys")
    hint = did_you_mean(key_id, known)
    return CommandError(f"unknown key '{key_id}' ({hint + ' ' if hint else ''}known keys: {', '.join(known)}; "
                        "see `badgekiln keys list`)")


def _replacements(revoked: keys.PublicKey, registry: tuple[keys.PublicKey, ...]) -> list[keys.PublicKey]:
    """Active keys that will re-sign what `revoked` signed (same scope, or site-wide)."""
    return [k for k in registry if k.id != revoked.id and not k.retired and not k.revoked
            and (k.issuer in (None, revoked.issuer))]


def revoke(project: Path, key_id: str, reason: str, now: datetime) -> str:
    """Mark a leaked key revoked in the ledger and strip its key file; the build does the rest."""
    reason = " ".join(reason.split())
    if not reason:
        raise CommandError("--reason must say why the key is revoked, e.g. --reason \"laptop stolen\"")
    doc, entries = _ledger_doc(project)
    registry = _registry(doc)
    old = next((k for k in registry if k.id == key_id), None)
    if old is None:
        raise _unknown_key(key_id, registry)
    if old.revoked:
        raise CommandError(f"key {key_id} was already revoked on {old.revoked[:10]} "
                           f"({old.revocation_reason or 'no reason given'}); nothing to do")
    stamp = format_datetime(now)
    was_current = not old.retired
    new = replace(old, retired=old.retired or stamp, revoked=stamp, revocation_reason=reason)
    _save(project, doc, tuple(new if k.id == key_id else k for k in registry))
    path = project / keys.KEYS_DIR / f"{key_id}{keys.KEY_SUFFIX}"
    stripped = path.exists() and "secretKeyMultibase" in path.read_text(encoding="utf-8", errors="replace")
    if path.exists():
        keys.write_private_file(path, keys.key_file_json(new, None, None))
    count = _signed_counts(entries).get(key_id, 0)
    return "\n".join(_revoke_message(new, count, was_current, stripped, _replacements(old, registry)))


def _revoke_message(key: keys.PublicKey, count: int, was_current: bool, stripped: bool,
                    replacements: list[keys.PublicKey]) -> list[str]:
    """What was done, then the steps that finish the job, in order (a leak is no time to guess)."""
    path = f"{keys.KEYS_DIR}/{key.id}{keys.KEY_SUFFIX}"
    deleted = f"; its private part was deleted from {path}." if stripped else "."
    lines = [f"Revoked signing key {key.id} ({_scope(key.issuer)}): {key.revocation_reason}",
             f"Recorded in {ledger.LEDGER_PATH}{deleted}"]
    if was_current:
        lines.append("It was the current key, so it is retired too: nothing new will be signed with it.")
    lines.append("What happens next:")
    steps = []
    if not replacements:
        flag = f" --issuer {key.issuer}" if key.issuer else ""
        steps.append([f"No other key signs for {_scope(key.issuer)}: make one first with",
                      f"  badgekiln keys rotate{flag}",
                      "(until then the build stops with E506 and publishes nothing)."])
    using = f"the current key {replacements[-1].id}" if replacements else "the new key"
    steps += [[f"Build on this machine (badgekiln build). It re-signs the {count} credential(s) {key.id} signed",
               f"with {using} and publishes {key.id} as revoked in the DID document: the copies",
               "recipients already hold (downloads, baked images, wallets) stop verifying. Award pages keep",
               "their links and offer the new copies; ask recipients who use a wallet to add it again."],
              [f"Commit {ledger.LEDGER_PATH}, then deploy (a --frozen CI build cannot record new signatures)."],
              [f"Update the {keys.ENV_VAR} secret in CI to hold only the current key: a build that is",
               f"given {key.id} stops with E505. Delete {key.id} from your backups too."]]
    for number, step in enumerate(steps, 1):
        lines += [f"  {number}. {step[0]}", *(f"     {line}" for line in step[1:])]
    return lines


def list_keys(project: Path) -> str:
    doc, entries = _ledger_doc(project)
    registry = _registry(doc)
    report = Report()
    keyring = keys.load_keyring(project, os.environ, report)
    private = {k.id: k.source for k in keyring.keys}
    known = {k.id for k in registry}
    rows = [("id", "signs for", "created", "status", "private key", "signed")]
    signed = _signed_counts(entries)
    for key in list(registry) + [k.public for k in keyring.keys if k.id not in known]:
        status = (f"REVOKED {key.revoked[:10]}" if key.revoked else f"retired {key.retired[:10]}" if key.retired
                  else "active" if key.id in known else "not yet recorded")
        rows.append((key.id, key.issuer or "every issuer", key.created[:10], status,
                     private.get(key.id, "not on this machine"), str(signed.get(key.id, 0))))
    if len(rows) == 1:
        return "No signing keys yet. Create one with: badgekiln keys new"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for key in (k for k in registry if k.revoked):
        lines.append(f"{key.id} was revoked on {key.revoked[:10]}: {key.revocation_reason or 'no reason given'}")
        if key.id in private:
            lines.append(f"warning: the revoked key {key.id} is still in {private[key.id]}; delete it "
                         "(builds refuse it: E505)")
    for key in keyring.keys:
        path = project / key.source
        if key.source.startswith(keys.KEYS_DIR + "/") and path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            lines.append(f"warning: {key.source} is readable by other users; run: chmod 600 {key.source}")
    if report.items:
        lines.append(format_text(report.sorted()))
    return "\n".join(lines)
