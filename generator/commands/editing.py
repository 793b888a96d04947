"""`revoke`, `suspend` and `reinstate`: edit an award's YAML for the user, then re-check it.

The award is found by its page slug (or page URL), its ledger key, or `BADGE/WHO` where WHO
is a recipient id, email address or name. A reference that matches several awards is refused
with the candidates listed. The change is written as a few lines appended under the award's
item in its awards file, with the item's own indentation, so comments and layout stay as the
user wrote them:

    - recipient: ada-okafor
      revoked:
        on: 2026-11-28
        reason: "Certificate issued in error"

Then the whole project is checked again; if the edit made anything invalid, the file is put
back as it was. Revocation is permanent; a suspension is lifted by `reinstate`, which keeps
the `suspended:` entry as history (suspending again later replaces that pair; git keeps the
rest of the history).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

from .. import api
from ..atomic_write import write_file_atomic
from ..clock import now_from_env
from ..diagnostics import Location, Report, did_you_mean
from ..load.files import read_sources
from ..model import given_endorsements, ledger
from ..model.domain import Award, GivenEndorsement, SiteModel
from ..model.lifecycle import root_of
from ..model.routes import award_slug_in
from ..project_lock import project_lock
from ..validate.entities import load_recipients
from ..validate.values import normalise_email, parse_datetime, slugify

ACTIONS = ("revoke", "suspend", "reinstate")
_WHERE = Location("command line")
@dataclass(frozen=True)
class Change:
    action: str  # revoke | suspend | reinstate
    ref: str
    reason: str
    on: datetime


def add_arguments(sub) -> None:
    """Subcommands for cli.py."""
    helps = {"revoke": "revoke an award (permanent): edits its YAML for you",
             "suspend": "suspend an award until it is reinstated",
             "reinstate": "lift a suspension"}
    for action in ACTIONS:
        p = sub.add_parser(action, help=helps[action])
        p.add_argument("award", help="page slug or URL, ledger key, or BADGE/RECIPIENT (id, email or name); "
                       "for revoke also the id of an endorsement you gave")
        p.add_argument("--reason", required=action != "reinstate", default="",
                       help="why (shown on the award page and in the revocation lists)")
        p.add_argument("--on", dest="on", default=None, help="date it takes effect, YYYY-MM-DD (default: today)")


def run(project: Path, action: str, ref: str, reason: str, on: str | None) -> tuple[Report, str]:
    report = Report()
    try:
        when = parse_datetime(on) if on else _today()
    except ValueError as exc:
        report.error("E204", f"--on: {exc}", _WHERE)
        return report, ""
    reason = " ".join(reason.split())
    if action != "reinstate" and not reason:
        report.error("E202", f"{action} needs a --reason", _WHERE, "say why: it is published with the award")
        return report, ""
    with project_lock(project):
        return apply(project, Change(action, ref, reason, when), report)


def _today() -> datetime:
    now = now_from_env()
    return datetime(now.year, now.month, now.day, tzinfo=now.tzinfo)


def apply(project: Path, change: Change, report: Report) -> tuple[Report, str]:
    prepared = api.check(project, api.BuildOptions(sign=False), render=False)  # the build signs, not the edit
    if prepared.model is None:
        report.extend(prepared.diagnostics)
        report.error("E309", f"cannot {change.action}: fix the errors in content first", _WHERE)
        return report, ""
    published = prepared.ledger_read.entries
    given = next((g for g in prepared.model.given if g.slug == change.ref.strip()
                  or change.ref.strip().endswith(f"/endorsements/{g.slug}.json")), None)
    if given is not None:
        return _apply_given(project, prepared, given, change, report)
    award = find(prepared.model, change.ref, project, report)
    if award is None:
        return report, ""
    root_key, _ = root_of(award.key)
    root = next(a for a in prepared.model.awards if a.key == root_key)
    if root_key not in published:
        report.error("E309", f"award {root_key} has not been published yet (it is not in {ledger.LEDGER_PATH})",
                     _WHERE, "just remove it from content; only published awards need revoking")
        return report, ""
    if root.earned_by:  # an automatic pathway award has no YAML of its own: it follows its components
        parts = ", ".join(f"{p.badge_name} ({p.slug})" for p in root.earned_by)
        report.error("E309", f"award {root.slug} was made automatically by the pathway of badge '{root.badge}'; "
                     f"its status follows the awards it was earned by: {parts}", _WHERE,
                     f"{change.action} the award it should follow, e.g. `badgekiln {change.action} "
                     f"{root.earned_by[0].slug}" + (" --reason ...`" if change.action != "reinstate" else "`"))
        return report, ""
    problem = _refusal(change.action, root)
    if problem:
        report.error("E309", problem, root.location)
        return report, ""
    if root.location.path.lower().endswith(".csv"):
        report.error("E309", f"award is a row of the roster {root.location.path}; rosters hold no status",
                     root.location, f"turn the roster into YAML with `badgekiln import {root.location.path} "
                     f"--badge {root.badge}`, delete the CSV, then run {change.action} again")
        return report, ""
    after = _edit_and_check(project, root.location, change, "awards", report)
    if after is None:
        return report, ""
    chain = [a for a in after.model.awards if root_of(a.key)[0] == root_key]
    verb = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}[change.action]
    extra = f" and its {len(chain) - 1} CPD renewal(s)" if len(chain) > 1 else ""
    who = f"{root.recipient_name}'s {after.model.badge(root.badge).name}"
    keys = {a.key for a in chain}
    followers = sorted({after.model.badge(a.badge).name for a in after.model.awards
                        if any(part.key in keys for part in a.earned_by)})
    follow = (f"\nPathway award(s) earned with it follow its status automatically: {', '.join(followers)}."
              if followers else "")
    return report, (f"{verb} {who} (page {root.slug}){extra} on {change.on.date()} in {root.location.path}:"
                    f"{root.location.line}.{follow}\nRun `badgekiln build` and deploy to publish the change; "
                    f"commit {root.location.path}.")


def _apply_given(project: Path, prepared, given: GivenEndorsement, change: Change,
                 report: Report) -> tuple[Report, str]:
    """Revoke an endorsement this site gave: the same lines under its entry, the same status lists."""
    if change.action != "revoke":
        report.error("E309", f"endorsement '{given.slug}' can only be revoked (it has no suspension)", given.location)
        return report, ""
    if given.slug not in ledger.parse_endorsements(prepared.ledger_read.sections, Report()).given:
        report.error("E309", f"endorsement '{given.slug}' has not been published yet", _WHERE,
                     f"just remove it from {given_endorsements.PATH}")
        return report, ""
    if given.revocation is not None:
        report.error("E309", f"endorsement was revoked on {given.revocation.on.date()}; revocation is permanent",
                     given.location)
        return report, ""
    if _edit_and_check(project, given.location, change, "endorsements", report) is None:
        return report, ""
    return report, (f"revoked endorsement '{given.slug}' of {given.about_name} on {change.on.date()} in "
                    f"{given.location.path}:{given.location.line}.\nRun `badgekiln build` and deploy to publish the "
                    f"change (its status-list bit); commit {given.location.path}.")


def _edit_and_check(project: Path, where: Location, change: Change, list_key: str, report: Report):
    """Write the change under the item at `where` and check the project; put the file back if it fails.

    Returns the check of the edited project, or None (with the reasons in `report`).
    """
    path = project / where.path
    original = path.read_bytes()
    try:
        edited = edit_yaml(original, where.line, change, list_key)
    except EditError as exc:
        report.error("E309", str(exc), where, "edit the file by hand (see README: Revoking an award)")
        return None
    write_file_atomic(path, edited)
    after = api.check(project, api.BuildOptions(sign=False), render=False)
    if after.model is None or after.report.has_errors():
        write_file_atomic(path, original)
        report.extend(after.diagnostics)
        report.error("E309", f"the edit would make content invalid; {where.path} was left as it was", where)
        return None
    return after


def _refusal(action: str, award: Award) -> str | None:
    if award.revocation is not None:
        return f"award was revoked on {award.revocation.on.date()}; revocation is permanent"
    if action == "suspend" and award.suspension is not None:
        return f"award is already suspended (since {award.suspension.on.date()})"
    if action == "reinstate" and award.suspension is None:
        return "award is not suspended"
    return None


# --- finding the award ------------------------------------------------------------------------

def find(model: SiteModel, ref: str, project: Path, report: Report) -> Award | None:
    """The award `ref` names (renewals resolve to themselves; callers go to the chain's root)."""
    ref = ref.strip()
    slug = award_slug_in(ref) or ref
    for award in model.awards:
        if award.slug == slug or award.key == ref:
            return award
    badge, sep, who = ref.partition("/")
    roots = [a for a in model.awards if root_of(a.key)[1] == 0]
    if not sep or badge not in {b.slug for b in model.badges}:
        hint = did_you_mean(badge if sep else ref, [b.slug for b in model.badges] if sep else [a.slug for a in roots])
        report.error("E301", f"no award '{ref}'", _WHERE,
                     hint or "give the page slug or URL (a/../SLUG/), or BADGE/RECIPIENT, e.g. first-aid/ada-okafor")
        return None
    emails = _recipient_emails(project)
    wanted_email = emails.get(who)
    try:
        wanted_email = wanted_email or normalise_email(who)
    except ValueError:
        pass
    candidates = [a for a in roots if a.badge == badge and (
        a.email == wanted_email or a.recipient_name.casefold() == who.casefold()
        or slugify(a.recipient_name) == who or a.key.startswith(f"{badge}/{who}"))]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        names = [slugify(a.recipient_name) for a in roots if a.badge == badge]
        report.error("E301", f"no award of badge '{badge}' for '{who}'", _WHERE,
                     did_you_mean(who, names) or "check the recipient id, email or name")
        return None
    listed = ", ".join(f"{a.slug} ({a.location.path}:{a.location.line})" for a in candidates)
    report.error("E310", f"'{ref}' matches {len(candidates)} awards: {listed}", _WHERE,
                 "give the page slug of the one you mean")
    return None


def _recipient_emails(project: Path) -> dict[str, str]:
    """Recipient id -> email, from content/recipients/ (errors there are `check`'s business)."""
    sources = read_sources(project)
    people, _ = load_recipients(sources, Report())
    return {rid: fields["email"] for rid, fields in people.items()}


# --- editing the YAML -------------------------------------------------------------------------

class EditError(Exception):
    """The award's YAML cannot be edited safely by the tool."""


def edit_yaml(data: bytes, item_line: int, change: Change, list_key: str = "awards") -> bytes:
    """`data` with the change written under the `list_key` item that starts on `item_line`."""
    text = data.decode("utf-8-sig")
    bom = data.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").split("\n")
    item = _item_node(text.replace("\r\n", "\n"), item_line, list_key)
    if item.flow_style:
        raise EditError("the award is written in flow style ({...}); the tool only edits block style")
    indent = " " * item.start_mark.column
    keys = {k.value: (k, v) for k, v in item.value}
    remove: list[tuple[int, int]] = []
    if change.action == "suspend" and "suspended" in keys:  # an earlier, lifted suspension: replace it
        for name in ("suspended", "reinstated"):
            if name in keys:
                key, value = keys[name]
                remove.append((key.start_mark.line, _last_line(value, lines)))
    elif change.action == "reinstate" and "reinstated" in keys:
        raise EditError("the award already has a reinstated: entry")
    elif change.action == "revoke" and "revoked" in keys:
        raise EditError("the award already has a revoked: entry")
    name = {"revoke": "revoked", "suspend": "suspended", "reinstate": "reinstated"}[change.action]
    block = [f"{indent}{name}:", f"{indent}  on: {change.on.date().isoformat()}"]
    if change.reason:
        block.append(f"{indent}  reason: {json.dumps(change.reason, ensure_ascii=False)}")
    insert_after = _last_line(item, lines)
    for start, end in sorted(remove, reverse=True):
        del lines[start:end + 1]
        if insert_after >= end:
            insert_after -= end - start + 1
    lines[insert_after + 1:insert_after + 1] = block
    return ("\ufeff" if bom else "").encode() + newline.join(lines).encode("utf-8")


def _item_node(text: str, item_line: int, list_key: str) -> yaml.MappingNode:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditError(f"the file cannot be parsed: {exc}") from None
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if key.value == list_key and isinstance(value, yaml.SequenceNode):
                for item in value.value:
                    if isinstance(item, yaml.MappingNode) and item.start_mark.line + 1 == item_line:
                        return item
    raise EditError(f"no award starts on line {item_line}")


def _last_line(node: yaml.Node, lines: list[str]) -> int:
    """0-based index of the last line holding `node`'s text (trailing comments excluded)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False) or not node.value:
        end = node.end_mark
        line = end.line if end.column > 0 else end.line - 1
        while line > node.start_mark.line and not lines[line].strip():
            line -= 1  # block scalars end after their trailing blank lines
        return line
    last = node.value[-1]
    return _last_line(last[1] if isinstance(last, tuple) else last, lines)
