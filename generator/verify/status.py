"""Status checks for `verify`: revoked, suspended, and lapsed versus expired.

- OB 3.0: every `BitstringStatusListEntry` is followed to its status list credential, whose
  proof must verify with the issuer's published key and whose issuer and purpose must match;
  then the credential's bit is read. A `1EdTechRevocationList` entry is looked up too.
- Lapsed: for a credential that has expired, the issuer's `status/<issuer>/renewals.json`
  (next to its status lists, or to its OB 2.0 revocation list) says whether a CPD renewal
  replaced it ("expired, renewed by ...") or the badge lapsed ("lapsed on ...").

A status document that cannot be fetched is reported as not checked, never as a pass: with
no answer at all (network, server down) the whole verdict is UNVERIFIED. Findings are added
to report.Finding like the other checks.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..credentials import status_lists
from ..crypto import dataintegrity
from ..model.routes import award_slug_in
from ..validate.values import parse_datetime
from .fetch import FetchError
from .issuer_keys import issuer_id_of, resolve_ed25519, types_of


def _entries(doc: dict) -> list[dict]:
    status = doc.get("credentialStatus")
    items = status if isinstance(status, list) else [status] if status else []
    return [s for s in items if isinstance(s, dict)]


def check_ob3(doc: dict, fetcher, finding) -> None:
    """Add a "status" check: revoked / suspended / not, from every status entry of `doc`.

    The Badgekiln companions of a lone revocation entry (status_lists.companion_entries) are
    read too when they exist; one that cannot be fetched is skipped, not reported.
    """
    entries = _entries(doc)
    if not entries:
        return
    issuer_id = issuer_id_of(doc)
    flags: set[str] = set()
    reason: str | None = None
    unchecked, checked, unanswered = [], [], False
    optional = status_lists.companion_entries(entries)
    for entry in entries + optional:
        kind = entry.get("type")
        try:
            if kind == status_lists.ENTRY_TYPE:
                purpose, flagged = _bitstring(entry, issuer_id, fetcher)
                checked.append(f"{purpose} list")
                if flagged:
                    flags.add(purpose)
            elif kind == status_lists.ONEEDTECH_TYPE:
                listed_reason = _oneedtech(entry, doc.get("id"), fetcher)
                checked.append("1EdTech revocation list")
                if listed_reason is not None:
                    reason = listed_reason
                    flags.add("suspension" if listed_reason.startswith("Suspended: ") else "revocation")
            else:
                unchecked.append(f"unknown status type {kind!r}")
        except FetchError as exc:
            if entry not in optional:
                unchecked.append(f"{kind}: {exc}")
                unanswered = unanswered or exc.unreachable
        except (ValueError, KeyError, TypeError, status_lists.StatusListError) as exc:
            unchecked.append(f"{kind}: {exc}")
    if flags:
        kind = "revoked" if "revocation" in flags else "suspended" if "suspension" in flags else "flagged"
        why = (reason or "").removeprefix("Suspended: ")
        finding.add("status", False, f"{kind} by the issuer" + (f": {why}" if why else ""))
    elif unchecked and not checked:  # revoked or not is unknown: no verdict when the lists could not be fetched
        finding.add("status", False if unanswered else None, "status not checked: " + "; ".join(unchecked),
                    unreachable=unanswered)
    else:
        note = f" ({'; '.join(unchecked)} not checked)" if unchecked else ""
        finding.add("status", True, f"not revoked or suspended ({', '.join(checked)}){note}")


def _bitstring(entry: dict, issuer_id: str | None, fetcher) -> tuple[str, bool]:
    url, purpose = entry["statusListCredential"], entry["statusPurpose"]
    index = int(entry["statusListIndex"])
    listed = fetcher.json(url)
    if not isinstance(listed, dict) or "BitstringStatusListCredential" not in types_of(listed):
        raise ValueError(f"{url} is not a BitstringStatusListCredential")
    if issuer_id_of(listed) != issuer_id:
        raise ValueError(f"the status list {url} was not issued by the credential's issuer")
    subject = listed.get("credentialSubject") or {}
    if subject.get("statusPurpose") != purpose:
        raise ValueError(f"the status list {url} is for {subject.get('statusPurpose')!r}, not {purpose!r}")
    result = dataintegrity.verify(listed, lambda method: resolve_ed25519(method, issuer_id, fetcher)[0])
    if not result.ok:
        raise ValueError(f"the status list {url} is not signed by the issuer ({'; '.join(result.errors)[:200]})")
    bits = status_lists.decode(subject["encodedList"])
    if len(bits) * 8 < 131072:
        raise ValueError(f"the status list {url} is shorter than 131,072 entries")
    return purpose, status_lists.bit(bits, index)


def _oneedtech(entry: dict, credential_id: Any, fetcher) -> str | None:
    """The revocation reason ("" without one) if the list names the credential, else None."""
    listed = fetcher.json(entry["id"])
    items = listed.get("revokedCredential", listed.get("revokedCredentials", [])) if isinstance(listed, dict) else []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("id") == credential_id and item.get("revoked", True) is not False:
            return str(item.get("revocationReason") or "")
    return None


def check_renewal(doc_id: Any, status_url: str | None, now: datetime, fetcher, finding) -> None:
    """For an expired CPD credential, say whether it lapsed or was renewed (renewals.json)."""
    if not isinstance(doc_id, str) or not status_url or "/" not in status_url:
        return
    slug = award_slug_in(doc_id)
    if slug is None:
        return
    try:
        document = fetcher.json(status_url.rsplit("/", 1)[0] + "/renewals.json")
    except FetchError:
        return  # not a Badgekiln issuer, or no CPD badges: plain expiry stands
    chain = (document.get("credentials") or {}).get(status_lists.slug_key(slug)) \
        if isinstance(document, dict) else None
    if not isinstance(chain, dict):
        return
    rule = chain.get("rule") or {}
    if chain.get("renewedBy"):
        finding.add("renewal", None, f"renewed through CPD; the current credential is {chain['renewedBy']}")
        return
    lapses = chain.get("lapsesOn")
    if not lapses:
        return
    when = parse_datetime(lapses)
    need = f"{rule.get('amount')} CPD {rule.get('unit')} every {rule.get('every')}" if rule else "CPD"
    if when <= now:
        finding.add("renewal", False, f"lapsed on {when.date()}: the {need} needed to renew it were not logged")
    else:
        finding.add("renewal", None, f"renewable through CPD ({need}); lapses on {when.date()} unless renewed")


def status_url_of(doc: dict) -> str | None:
    """A status document URL of `doc` (OB 3.0 credentialStatus) next to which renewals.json lives."""
    for entry in _entries(doc):
        url = entry.get("statusListCredential") or entry.get("id")
        if isinstance(url, str):
            return url.split("#")[0]
    return None
