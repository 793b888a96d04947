"""`badgekiln endorsements fetch|add` and `badgekiln endorse`: endorsements in both directions.

Receiving: `fetch` does, once, what checking an endorsement needs the network for, and records
it beside the endorsement in NAME.check.json (model/endorsements.py reads it at every build):
the bytes of an endorsement given as a URL, the endorser's public key when it is not inside
the key id (a did:web DID document, an https key document), and the revocation status read
from the endorser's status list. `add FILE|URL` puts an endorsement into content/endorsements/
and fetches it.

Giving: `endorse URL --comment TEXT` appends an entry to content/given-endorsements.yaml and
checks the project with it (refusing without a signing key: an endorsement is only published
signed). `badgekiln build` then signs it with the issuer's key and did:web, freezes it in the
ledger and publishes it at endorsements/<id>.json, listed on the "Endorsements we give" page.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from .. import api, canonical
from ..atomic_write import write_file_atomic
from ..crypto import didweb, jws, keys, multikey
from ..diagnostics import Location, Report
from ..load.files import read_sources
from ..load.positioned_yaml import load_yaml
from ..model import endorsements, given_endorsements
from ..model.routes import Routes
from ..validate.values import format_datetime, parse_duration, parse_url, slugify
from ..verify.fetch import Fetcher, FetchError
from ..verify.issuer_keys import resolve_ed25519, resolve_rsa
from ..verify.report import Finding

_WHERE = Location("command line")


def add_arguments(sub) -> None:
    """Subcommands for cli.py."""
    p = sub.add_parser("endorsements", help="fetch and check received endorsements (content/endorsements/)")
    verbs = p.add_subparsers(dest="endorsements_command", required=True)
    f = verbs.add_parser("fetch", help="fetch what checking each endorsement needs, once, and record it")
    f.add_argument("names", nargs="*", help="only these endorsements (file names without extension)")
    a = verbs.add_parser("add", help="add an endorsement you received (a file, or the URL it is published at)")
    a.add_argument("source", help="EndorsementCredential .json or .jwt file, or an https:// URL")
    a.add_argument("--as", dest="name", help="its file name in content/endorsements/ (default: from the source)")
    e = sub.add_parser("endorse", help="endorse another provider's badge or organisation (signed, published here)")
    e.add_argument("about", metavar="URL", help="what you endorse: an OB 2.0 BadgeClass or Profile URL, or an "
                   "OB 3.0 Achievement or Profile id")
    e.add_argument("--comment", required=True, help="what you vouch for (Markdown)")
    e.add_argument("--valid-for", default=None, help="how long it holds, e.g. 3y (default: no expiry)")
    e.add_argument("--name", help="the endorsed badge or organisation (default: the name its JSON gives)")
    e.add_argument("--id", dest="ident", help="stable id in its URL (default: from the name)")
    e.add_argument("--issuer", help="which of your issuers endorses (needed with several)")


# --- receiving -------------------------------------------------------------------------------

def fetch(project: Path, names: list[str], now: datetime, fetcher: Fetcher | None = None) -> tuple[Report, str]:
    """Check every endorsement (or the named ones) over the network and record the results."""
    report = Report()
    fetcher = fetcher or Fetcher()
    files = endorsements.sources_of(read_sources(project))
    chosen = [(p, d) for p, d in files if not names or PurePosixPath(p).stem in names]
    unknown = sorted(set(names) - {PurePosixPath(p).stem for p, _ in files})
    if unknown:
        report.error("E301", f"no endorsement named {', '.join(unknown)} in content/endorsements/", _WHERE)
        return report, ""
    lines = []
    for path, data in chosen:
        record = check_one(path, data, fetcher, now, report)
        if record is not None:
            write_file_atomic(project / endorsements.check_path(path), canonical.json_bytes(record))
            lines.append(f"{path}: {_summary(record)}; recorded in {endorsements.check_path(path)}")
    checked = api.check(project, render=False)
    report.extend(d for d in checked.diagnostics if d.location.path.startswith("content/endorsements/"))
    if not chosen:
        return report, "content/endorsements/ holds no endorsement"
    return report, "\n".join(lines + ["commit content/endorsements/ and run `badgekiln build`"])


def _summary(record: dict) -> str:
    state = (record.get("status") or {}).get("state")
    return {"clear": "not revoked", "revoked": "REVOKED by the endorser",
            "unchecked": "revocation status could not be checked"}.get(state, "no status list")


def check_one(path: str, data: bytes, fetcher: Fetcher, now: datetime, report: Report) -> dict | None:
    """The check record of one endorsement (None, with errors reported, when it cannot be made)."""
    record: dict = {"source": path, "checked_on": format_datetime(now)}
    where = Location(path, 1)
    if path.endswith((".yaml", ".yml")):
        try:
            url = parse_url(_yaml_url(data))
            data = fetcher.get(url)
            text = data.decode("utf-8-sig")
        except (ValueError, FetchError, UnicodeDecodeError) as exc:
            report.error("E706", f"the endorsement cannot be fetched: {exc}", where,
                         "check the URL, or ask the endorser for the file and put it in content/endorsements/")
            return None
        record["fetched"] = {"url": url, "text": text}
        data = text.encode("utf-8")
    record["sha256"] = endorsements.sha256(data)
    try:
        text = data.decode("utf-8-sig").strip()
        if text.startswith("{"):
            document: dict | str = json.loads(text)
            credential = document
        else:
            document = text
            credential = endorsements.credential_of_jwt(jws.decode(text)[1])
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        report.error("E701", f"not an endorsement: {exc}", where)
        return None
    if not isinstance(credential, dict):
        report.error("E701", "not an endorsement: the JSON is not an object", where)
        return None
    if "Endorsement" in endorsements.types_of(credential) and "fetched" in record:
        return _check_ob2(record, credential, fetcher, where, report)
    record["keys"] = _keys(document, credential, fetcher, where, report)
    if record["keys"] is None:
        return None
    if credential.get("credentialStatus"):
        from ..verify import status  # (PyLD: imported when an endorsement is fetched, not with the CLI)

        finding = Finding("endorsement")
        status.check_ob3(credential, fetcher, finding)
        check = next((c for c in finding.checks if c.name == "status"), None)
        state = "unchecked" if check is None or check.ok is None else "clear" if check.ok else "revoked"
        record["status"] = {"state": state, "message": check.message if check else "no status found"}
    return record


def _yaml_url(data: bytes) -> str:
    doc = load_yaml(data, "endorsement", Report())
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str):
        raise ValueError("the file must hold one line, `url: https://...`")
    return doc["url"]


def _keys(document: dict | str, credential: dict, fetcher: Fetcher, where: Location, report: Report) -> dict | None:
    """The endorser's public keys that checking the proof needs, as recorded (none inside the key id)."""
    issuer_id = endorsements.issuer_id_of(credential)
    found: dict = {}
    try:
        if isinstance(document, str):
            kid = jws.decode(document)[0].get("kid")
            key, _where = resolve_rsa(str(kid), issuer_id, fetcher)
            found[kid] = {"publicKeyJwk": keys.rsa_public_jwk(key)}
            return found
        for proof in document.get("proof") if isinstance(document.get("proof"), list) else [document.get("proof")]:
            method = proof.get("verificationMethod") if isinstance(proof, dict) else None
            if isinstance(method, str) and not method.partition("#")[2].startswith("z6Mk"):
                key, _where = resolve_ed25519(method, issuer_id, fetcher)
                found[method] = {"publicKeyMultibase": multikey.encode_public_key(key)}
    except (ValueError, FetchError, didweb.DidWebError, multikey.MultikeyError, keys.KeyProblem) as exc:
        report.error("E706", f"the endorser's key cannot be obtained: {exc}", where,
                     "check your connection and run it again; if it persists, ask the endorser")
        return None
    return found


def _check_ob2(record: dict, doc: dict, fetcher: Fetcher, where: Location, report: Report) -> dict | None:
    """A hosted OB 2.0 Endorsement: its issuer Profile, on the same site, and `revoked`."""
    url = record["fetched"]["url"]
    issuer_url = endorsements.issuer_id_of(doc)
    try:
        profile = fetcher.json(str(issuer_url))
    except FetchError as exc:
        report.error("E706", f"the endorser's profile cannot be fetched: {exc}", where)
        return None
    if not isinstance(profile, dict) or profile.get("id") != issuer_url:
        report.error("E701", f"{issuer_url} is not the endorser's profile", where)
        return None
    if urlsplit(url).netloc != urlsplit(str(issuer_url)).netloc:
        report.error("E701", "the endorsement is not hosted on its endorser's site "
                     f"({urlsplit(str(issuer_url)).netloc})", where,
                     "hosted verification requires the endorser's own site")
        return None
    record["endorser"] = {"name": profile.get("name"), "url": profile.get("url")}
    revoked = doc.get("revoked") is True
    record["status"] = {"state": "revoked" if revoked else "clear",
                        "message": str(doc.get("revocationReason") or "") if revoked else "hosted copy not revoked"}
    return record


def add(project: Path, source: str, name: str | None, now: datetime,
        fetcher: Fetcher | None = None) -> tuple[Report, str]:
    """Put a received endorsement into content/endorsements/, then fetch what its checks need."""
    report = Report()
    folder = project / "content" / endorsements.FOLDER
    is_url = source.startswith(("https://", "http://"))
    default = PurePosixPath(urlsplit(source).path).stem if is_url else Path(source).stem
    stem = slugify(name or default) or "endorsement"
    suffix = ".yaml" if is_url else Path(source).suffix.lower()
    if suffix not in (".json", ".jwt", ".yaml"):
        report.error("E701", f"{source}: an endorsement is a .json or .jwt file, or a URL", _WHERE)
        return report, ""
    target = folder / f"{stem}{suffix}"
    if any((folder / f"{stem}{s}").exists() for s in endorsements.SOURCE_SUFFIXES):
        report.error("E302", f"content/endorsements/ already has an endorsement named {stem}", _WHERE,
                     "choose another name with --as NAME")
        return report, ""
    if not is_url and not Path(source).is_file():
        report.error("E701", f"{source}: no such file", _WHERE)
        return report, ""
    folder.mkdir(parents=True, exist_ok=True)
    if is_url:
        target.write_text(f"url: {json.dumps(source)}\n", encoding="utf-8")
    else:
        shutil.copyfile(source, target)
    fetched, text = fetch(project, [stem], now, fetcher)
    report.extend(fetched.items)
    if report.has_errors():
        target.unlink()
        (project / endorsements.check_path(f"content/{endorsements.FOLDER}/{target.name}")).unlink(missing_ok=True)
        return report, ""
    return report, f"added content/endorsements/{target.name}\n{text}"


# --- giving ----------------------------------------------------------------------------------

def endorse(project: Path, about: str, comment: str, valid_for: str | None, name: str | None, ident: str | None,
            issuer: str | None, now: datetime, fetcher: Fetcher | None = None) -> tuple[Report, str]:
    """Append an endorsement to content/given-endorsements.yaml and check the project with it."""
    report = Report()
    about = about.strip()
    comment = comment.strip()
    if not comment:
        report.error("E202", "endorse needs a --comment", _WHERE, "say what you vouch for: it is signed and published")
        return report, ""
    if not about.startswith(("did:", "urn:")):
        try:
            parse_url(about)
        except ValueError as exc:
            report.error("E206", str(exc), _WHERE)
            return report, ""
    try:
        duration = parse_duration(valid_for) if valid_for else None
    except ValueError as exc:
        report.error("E209", f"--valid-for: {exc}", _WHERE)
        return report, ""
    name = name or _name_of(about, fetcher or Fetcher())
    if not name:
        report.error("E202", f"cannot tell the name of {about}", _WHERE,
                     "give it with --name \"Riverside First Aid\"")
        return report, ""
    path = project / given_endorsements.PATH
    original = path.read_bytes() if path.exists() else None
    taken = _ids(original)
    ident = ident or _free(slugify(name) or "endorsement", taken)
    if ident in taken:
        report.error("E302", f"endorsement id '{ident}' is already used in {given_endorsements.PATH}", _WHERE,
                     "choose another with --id")
        return report, ""
    entry = [f"  - id: {ident}", f"    about: {json.dumps(about)}", f"    name: {json.dumps(name, ensure_ascii=False)}",
             f"    comment: {json.dumps(comment, ensure_ascii=False)}", f"    issued_on: {now.date().isoformat()}"]
    if duration is not None:
        entry.append(f"    valid_for: {duration}")
    if issuer:
        entry.append(f"    issuer: {issuer}")
    head = original.decode("utf-8") if original is not None else (
        "# Endorsements this site gives: `badgekiln endorse URL --comment TEXT` adds one, `badgekiln build`\n"
        "# signs and publishes it, `badgekiln revoke ID --reason TEXT` withdraws it.\nendorsements:\n")
    write_file_atomic(path, (head if head.endswith("\n") else head + "\n").encode("utf-8")
                      + ("\n".join(entry) + "\n").encode("utf-8"))
    checked = api.check(project, render=False)
    given = next((g for g in checked.model.given if g.slug == ident), None) if checked.model else None
    signer = checked.signing.signer_for(given.issuer) if checked.signing is not None and given else None
    if checked.model is None or given is None or signer is None:
        _restore(path, original)
        report.extend(checked.diagnostics)
        if checked.model is not None and given is not None:
            report.error("E501", f"issuer '{given.issuer}' has no signing key: an endorsement is only published signed",
                         _WHERE, "create one with `badgekiln keys new`, then endorse again")
        report.error("E309", f"the endorsement was not added; {given_endorsements.PATH} was left as it was", _WHERE)
        return report, ""
    routes = Routes(checked.model.site.base_url)
    url = routes.url(routes.given_endorsement(given))
    return report, (f"added endorsement '{ident}' of {name} to {given_endorsements.PATH}.\n"
                    f"Run `badgekiln build` to sign it (key {signer.key_id}, {signer.did}) and publish it at {url}; "
                    f"commit {given_endorsements.PATH} and the ledger (content/ledger.json, content/ledger/).\n"
                    f"The endorsed party puts that file in their content/endorsements/ "
                    f"(badgekiln endorsements add {url}).")


def _restore(path: Path, original: bytes | None) -> None:
    if original is None:
        path.unlink(missing_ok=True)
    else:
        write_file_atomic(path, original)


def _name_of(about: str, fetcher: Fetcher) -> str | None:
    """The name the endorsed entity's own JSON gives (OB 2.0 BadgeClass/Profile, OB 3.0 Achievement/Profile)."""
    if not about.startswith(("https://", "http://")):
        return None
    try:
        doc = fetcher.json(about)
    except FetchError:
        return None
    return doc.get("name").strip() if isinstance(doc, dict) and isinstance(doc.get("name"), str) else None


def _ids(data: bytes | None) -> set[str]:
    if data is None:
        return set()
    doc = load_yaml(data, given_endorsements.PATH, Report())
    items = doc.get("endorsements") if isinstance(doc, dict) else None
    return {str(i.get("id")) for i in items or [] if isinstance(i, dict)}


def _free(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate
