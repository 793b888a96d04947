"""The ledger in files (format 2): what a build writes file by file equals what it would write whole.

A build rewrites only the award files whose records changed and deletes those left empty; the
ledger it leaves must be byte for byte the ledger a build would write from nothing with the same
records, and must read back as those records. Property-tested over random histories: awards
added, credentials signed, expiry corrected, emails corrected (a record moving to a new key).
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from badgekiln.diagnostics import Report
from badgekiln.model import ledger
from hypothesis import given, settings
from hypothesis import strategies as st

DAY = datetime(2026, 1, 1, tzinfo=timezone.utc)
# award keys in three award files only, so that files hold several records (and moving one leaves others)
POOL = [k for k in (f"safety/{n:016x}" for n in range(6000)) if ledger.bucket_of(k) in ("00", "01", "02")]
KEYS = [{"id": "k1", "issuer": None, "created": "2026-01-01T00:00:00Z", "publicKeyMultibase": "z6Mk"}]


def _entry(n: int) -> ledger.Entry:
    return ledger.Entry("safety", f"slug{n:020d}", f"{n:032x}", DAY + timedelta(days=n % 40), None, n)


def _signed(entry: ledger.Entry, n: int) -> ledger.Entry:
    return replace(entry, credential={"created": "2026-02-01T00:00:00Z", "digest": f"{n:064x}",
                                      "proofValue": f"z{n}", "verificationMethod": "did:web:x#key-k1"})


def _apply(files: dict[str, bytes], update: ledger.Update) -> dict[str, bytes]:
    """What the build does with an update: write its files, then delete the emptied ones."""
    files = {**files, **dict(update.files())}
    return {p: d for p, d in files.items() if p not in update.emptied}


def _read(files: dict[str, bytes]) -> ledger.Ledger:
    report = Report()
    read = ledger.read(files, report)
    assert not report.items, report.items
    return read


steps = st.lists(st.tuples(st.sampled_from(["add", "sign", "expires", "move"]), st.integers(0, 10**6)),
                 min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(first=st.integers(0, 30), history=steps)
def test_a_ledger_changed_file_by_file_equals_one_written_whole(first: int, history):
    entries = {POOL[n]: _entry(n) for n in range(first)}
    files = _apply({}, ledger.update(ledger.Ledger(), entries, KEYS))
    for what, n in history:
        before = _read(files)
        assert before.entries == entries
        entries = dict(before.entries)
        keys, free = sorted(entries), [k for k in POOL if k not in entries]
        if (what == "add" or not keys) and free:
            entries[free[n % len(free)]] = _entry(n)
        elif what == "sign" and keys:
            key = keys[n % len(keys)]
            entries[key] = _signed(entries[key], n)
        elif what == "expires" and keys:
            key = keys[n % len(keys)]
            entries[key] = replace(entries[key], expires=DAY + timedelta(days=400 + n % 9))
        elif keys and free:  # an email corrected: the record moves to the key of the new address
            entries[free[n % len(free)]] = entries.pop(keys[n % len(keys)])
        update = ledger.update(before, entries, KEYS)
        assert update.changed == update.minted == (entries != before.entries)  # the same signature again: no change
        files = _apply(files, update)
        whole = _apply({}, ledger.update(ledger.Ledger(), entries, KEYS))
        assert files == whole
        unchanged = ledger.update(_read(files), entries, KEYS)
        assert not unchanged.changed and not unchanged.minted and list(unchanged.files()) == []
        assert unchanged.digest == update.digest
    assert _read(files).entries == entries


def test_a_one_file_ledger_reads_as_the_same_records_and_is_rewritten_in_files():
    entries = {f"safety/{n:016x}": _signed(_entry(n), n) for n in range(300)}  # in most of the 256 files
    one_file = ledger.seal({"format": 1, "layout": 2, "keys": KEYS,
                            "awards": {k: entries[k].as_json() for k in sorted(entries)}})
    before = _read({ledger.LEDGER_PATH: one_file})
    assert before.entries == entries and before.outdated
    update = ledger.update(before, before.entries, ledger.parse_keys(before.sections))
    assert update.changed and not update.minted  # rewritten, nothing new: --frozen accepts it
    assert _apply({ledger.LEDGER_PATH: one_file}, update) == _apply({}, ledger.update(ledger.Ledger(), entries, KEYS))


def test_a_preview_minter_draws_the_same_for_one_award_and_draws_again_on_a_clash():
    secret = bytes(range(32))
    one, again = ledger.PreviewMinter(secret).for_award("b/k"), ledger.PreviewMinter(secret).for_award("b/k")
    drawn = [one.slug(), one.salt(), one.index(ledger.STATUS_LIST_SIZE)]
    assert drawn == [again.slug(), again.salt(), again.index(ledger.STATUS_LIST_SIZE)]
    slug, salt, index = drawn
    assert re.fullmatch(r"[a-z0-9]{24}", slug) and re.fullmatch(r"[0-9a-f]{32}", salt)
    assert 0 <= index < ledger.STATUS_LIST_SIZE
    taken = {slug}
    assert ledger._unique(ledger.PreviewMinter(secret).for_award("b/k").slug, taken) not in (slug, None)
    assert ledger.PreviewMinter(secret).for_award("b/other").slug() != slug
    assert ledger.PreviewMinter(bytes(32)).for_award("b/k").slug() != slug
