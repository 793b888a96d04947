"""`correct-email AWARD --to ADDRESS`: fix a published learner's email without breaking their link.

An award's ledger key is built from its email (model/resolve.award_key), so a changed address
reads as a removed award plus a new one. This command writes the supported correction instead:
the new address in place of the old one, and `previous_email:` with the old one beside it,
where the address lives (on the award, or on its recipient in content/recipients/, which
corrects every award of that person). The next build moves the award's ledger record to the
new address, so its slug, page, salt and status-list position stay; the OB 2.0 assertion is
hashed for the new address and the OB 3.0 credential is signed again for it.

Like `revoke`, the edit keeps comments and layout, and the whole project is checked again
afterwards; if anything is wrong, the file is put back as it was.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from .. import api
from ..atomic_write import write_file_atomic
from ..diagnostics import Location, Report
from ..load.files import read_sources
from ..model import ledger
from ..model.lifecycle import root_of
from ..project_lock import project_lock
from ..validate.entities import load_recipients
from ..validate.values import normalise_email
from .editing import EditError, find

_WHERE = Location("command line")
_PLAIN = re.compile(r"[A-Za-z0-9._%+@-]+\Z")


def add_arguments(sub) -> None:
    p = sub.add_parser("correct-email", help="correct a published award's email, keeping its page and link")
    p.add_argument("award", help="page slug or URL, ledger key, or BADGE/RECIPIENT (id, email or name)")
    p.add_argument("--to", required=True, help="the correct email address")


def run(project: Path, ref: str, to: str) -> tuple[Report, str]:
    with project_lock(project):
        return _correct(project, ref, to, Report())


def _correct(project: Path, ref: str, to: str, report: Report) -> tuple[Report, str]:
    try:
        new = normalise_email(to)
    except ValueError as exc:
        report.error("E205", f"--to: {exc}", _WHERE)
        return report, ""
    prepared = api.check(project, api.BuildOptions(sign=False), render=False)
    if prepared.model is None:
        report.extend(prepared.diagnostics)
        report.error("E311", "cannot correct an email: fix the errors in content first", _WHERE)
        return report, ""
    award = find(prepared.model, ref, project, report)
    if award is None:
        return report, ""
    root_key = root_of(award.key)[0]
    root = next(a for a in prepared.model.awards if a.key == root_key)
    if root.email == new:
        report.error("E311", f"{root.recipient_name}'s award already has the address {new}", _WHERE)
        return report, ""
    if root.location.path.lower().endswith(".csv"):
        report.error("E311", f"award is a row of the roster {root.location.path}", root.location,
                     f"turn the roster into YAML with `badgekiln import {root.location.path} --badge {root.badge}`, "
                     "delete the CSV, then run correct-email again")
        return report, ""
    published = root_key in prepared.ledger_read.entries
    try:
        path, line, whose = _where_the_email_is(project, root.location)
        original = (project / path).read_bytes()
        edited = edit_email(original, line, new, root.email if published else None)
    except EditError as exc:
        report.error("E311", str(exc), root.location, "edit the file by hand: see README, Correcting an email")
        return report, ""
    write_file_atomic(project / path, edited)
    after = api.check(project, api.BuildOptions(sign=False), render=False)
    if after.model is None or after.report.has_errors():
        write_file_atomic(project / path, original)
        report.extend(after.diagnostics)
        report.error("E311", f"the correction would make content invalid; {path} was left as it was", _WHERE)
        return report, ""
    moved = "" if not published else (
        f"\nThe next build keeps its page {root.slug} and link, hashes the Open Badges 2.0 identity for the new "
        "address and signs its credential again (it needs the signing key). Run `badgekiln build`, commit "
        f"{path} and {ledger.LEDGER_PATH}, and deploy.")
    return report, f"corrected the email of {whose} in {path}:{line} to {new}.{moved}"


def _where_the_email_is(project: Path, award_at: Location) -> tuple[str, int, str]:
    """(file, line of the mapping holding `email:`, whose address it is) for the award at `award_at`."""
    text = (project / award_at.path).read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    item = _mapping_at(text, award_at.line)
    recipient = next((v.value for k, v in item.value if k.value == "recipient"), None)
    if recipient is None:
        return award_at.path, award_at.line, "the award"
    people, _ = load_recipients(read_sources(project), Report())
    person = people[recipient]
    return person.loc.path, person.loc.line, f"recipient '{recipient}' (every award of theirs)"


def edit_email(data: bytes, item_line: int, new: str, previous: str | None) -> bytes:
    """`data` with `email:` of the mapping starting on `item_line` set to `new`, and `previous_email:` added.

    `previous` is the published address; an existing `previous_email:` is kept (it already names
    the published one, if this is a second correction before a build), and none is written for
    an award that was never published.
    """
    text = data.decode("utf-8-sig")
    bom = data.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    item = _mapping_at(text, item_line)
    keys = {k.value: (k, v) for k, v in item.value}
    if "email" not in keys:
        raise EditError(f"no `email:` in the entry on line {item_line}")
    key, value = keys["email"]
    if not isinstance(value, yaml.ScalarNode):
        raise EditError("`email:` is not a single value")
    written = new if _PLAIN.match(new) else json.dumps(new)
    text = text[:value.start_mark.index] + written + text[value.end_mark.index:]
    if previous is not None and "previous_email" not in keys:
        lines = text.split("\n")
        at = value.end_mark.line if value.end_mark.column > 0 else value.end_mark.line - 1
        lines.insert(at + 1, f"{' ' * key.start_mark.column}previous_email: "
                             f"{previous if _PLAIN.match(previous) else json.dumps(previous)}")
        text = "\n".join(lines)
    return ("\ufeff" if bom else "").encode() + text.replace("\n", newline).encode("utf-8")


def _mapping_at(text: str, line: int) -> yaml.MappingNode:
    """The block mapping that is a list item starting on `line` (an award, or a recipient)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise EditError(f"the file cannot be parsed: {exc}") from None
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                if isinstance(item, yaml.MappingNode) and item.start_mark.line + 1 == line:
                    if item.flow_style:
                        raise EditError("the entry is written in flow style ({...}); the tool only edits block style")
                    return item
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(v for _, v in node.value)
    raise EditError(f"no list entry starts on line {line}")
