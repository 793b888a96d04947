#!/usr/bin/env python3
"""Benchmark: what signing one credential costs, step by step, on the plain and the shape path.

    BADGEKILN_SIGNING_KEYS="$(cat tests/keys/TEST-ONLY-signing-key.json)" python bench/signing_costs.py [awards]

It checks a synthetic project (bench.py's, 2,000 awards by default) with the key, rebuilds
every award's unsigned credential, and times each step of signing it in this one process, in
CPU time (so a busy machine skews the figures less than wall time would):

  JSON building     credentials.signing.unsigned_credential
  string check      crypto.jsonld.check_strings (control characters)
  plain canonical   crypto.jsonld.canonize: PyLD expansion, then toRdf + URDNA2015
  shape canonical   crypto.shapes: one expansion per shape, then substitute + URDNA2015
  proof             hashes, Ed25519 and base58 around the canonical form
  record            the ledger record (digests of the credential and its parts)
  pool transfer     pickling each task to a signing worker and its record back

then signs them all with `sign_many` (the build's pool) for wall time. Timings are
measurements, never asserted.
"""
from __future__ import annotations

import os
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the synthetic project and this clone's badgekiln)

bench.load_badgekiln()
import badgekiln  # noqa: E402
from badgekiln.credentials import signing  # noqa: E402
from badgekiln.crypto import jsonld, keys, shapes  # noqa: E402
from badgekiln.diagnostics import Report  # noqa: E402
from badgekiln.model.routes import Routes  # noqa: E402

CREATED = "2026-01-01T00:00:00Z"


def cpu_ms(items: list, step) -> tuple[float, list]:
    """CPU milliseconds per item of `step(item)`, and the results."""
    started = time.process_time()
    results = [step(item) for item in items]
    return (time.process_time() - started) * 1000 / len(items), results


def main(awards: int) -> None:
    with tempfile.TemporaryDirectory(prefix="badgekiln-signing-") as tmp:
        keyring = keys.load_keyring(Path(tmp), os.environ, Report())
        if not keyring.keys:
            raise SystemExit(f"no key: set {keys.ENV_VAR} (see the docstring)")
        project = bench.make_project(Path(tmp) / "project", awards)
        checked = badgekiln.check(project, badgekiln.BuildOptions(keyring=keyring), render=False)
    model = checked.model
    if model is None:
        raise SystemExit("the synthetic project did not check")
    signer = signing.Signer(keyring.keys[0], checked.signing.did)
    routes = Routes(model.site.base_url)

    def unsigned(award):
        badge = model.badge(award.badge)
        return signing.unsigned_credential(award, badge, model.issuer(badge.issuer), model.site, routes, signer.did)

    building_ms, docs = cpu_ms(list(model.awards), unsigned)
    check_ms, _ = cpu_ms(docs, jsonld.check_strings)
    sample = docs[: min(len(docs), 500)]  # the plain path is slow: a sample is enough
    expand_ms, _ = cpu_ms(sample, jsonld.expand)
    plain_ms, plain = cpu_ms(sample, jsonld.canonize)
    shared = shapes.canonicalizer()  # the one Signer.proof uses
    shape_ms, nquads = cpu_ms(docs, shared.canonize)
    if nquads[: len(plain)] != plain:
        raise SystemExit("the shape path differs from plain PyLD")
    proof_ms, _ = cpu_ms(docs, lambda doc: signer.proof(doc, CREATED))  # shape canonical form + the rest
    one_ms, records = cpu_ms(docs, lambda doc: signing.sign_one(signer, doc, CREATED))  # proof + record
    transfer_ms, _ = cpu_ms(list(zip(docs, records)),
                            lambda pair: (pickle.loads(pickle.dumps(pair[0])), pickle.loads(pickle.dumps(pair[1]))))
    rows = [("JSON building", building_ms, building_ms), ("string check", check_ms, check_ms),
            ("canonical form", plain_ms, shape_ms), ("  PyLD expansion", expand_ms, None),
            ("  toRdf + URDNA2015", plain_ms - expand_ms, None),
            ("proof (hashes, Ed25519, base58)", proof_ms - shape_ms, proof_ms - shape_ms),
            ("record (digests)", one_ms - proof_ms, one_ms - proof_ms),
            ("pool transfer (pickle both ways)", transfer_ms, transfer_ms)]
    totals = [sum(row[column] for row in rows if not row[0].startswith(" ")) for column in (1, 2)]
    print(f"signing cost per credential, CPU ms ({len(docs)} credentials; shape path: {shared.fast} from "
          f"{shared.templates} templates, {shared.slow} plain)")
    print(f"  {'step':<36} {'plain':>8} {'shape':>8}")
    for name, plain_cost, shape_cost in rows:
        print(f"  {name:<36} {plain_cost:8.3f} {'' if shape_cost is None else f'{shape_cost:8.3f}'}")
    print(f"  {'total':<36} {totals[0]:8.3f} {totals[1]:8.3f}   "
          f"(one core: {1000 / totals[0]:.0f} vs {1000 / totals[1]:.0f} credentials/s)")
    work = [(str(i), signer, doc) for i, doc in enumerate(docs)]
    before = cpu_seconds()
    started = time.perf_counter()
    signing.sign_many(work, CREATED)
    seconds = time.perf_counter() - started
    own, workers = (after - start for after, start in zip(cpu_seconds(), before))
    print(f"sign_many on {os.cpu_count()} cores: {len(docs)} credentials in {seconds:.2f} s wall "
          f"({len(docs) / seconds:.0f} credentials/s); CPU {own:.2f} s here + {workers:.2f} s in workers "
          f"({(own + workers) * 1000 / len(docs):.3f} ms per credential)")


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and of its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, workers.ru_utime + workers.ru_stime


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
