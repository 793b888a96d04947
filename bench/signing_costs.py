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

import hashlib
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
from badgekiln.crypto import jsonld, keys, multikey, shapes  # noqa: E402
from badgekiln.diagnostics import Report  # noqa: E402
from badgekiln.model.routes import Routes  # noqa: E402

CREATED = "2026-01-01T00:00:00Z"


def per_item(label: str, items: list, step) -> tuple[str, float, list]:
    """CPU milliseconds per item of `step(item)`, and its results."""
    started = time.process_time()
    results = [step(item) for item in items]
    return label, (time.process_time() - started) * 1000 / len(items), results


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

    def proof_around(nquads: str) -> str:  # Signer.proof without its canonicalisation
        options = signing.dataintegrity.proof_options(signer.ed25519_method, CREATED)
        config = signing.canonical.dumps({**options, "@context": model_context})
        config_hash = hashlib.sha256(config.encode()).digest()  # stands in for the cached config hash
        digest = hashlib.sha256(nquads.encode("utf-8")).digest()
        return multikey.encode_base58btc(signer.key.ed25519.sign(config_hash + digest))

    rows = []
    label, ms, docs = per_item("JSON building", list(model.awards), unsigned)
    rows.append((label, ms, ms))
    model_context = docs[0]["@context"]
    label, ms, _ = per_item("string check", docs, jsonld.check_strings)
    rows.append((label, ms, ms))
    sample = docs[: min(len(docs), 500)]  # the plain path is slow: a sample is enough
    _, expand_ms, _ = per_item("", sample, jsonld.expand)
    _, plain_ms, plain = per_item("", sample, jsonld.canonize)
    rows.append(("  PyLD expansion", expand_ms, 0.0))
    rows.append(("  toRdf + URDNA2015", plain_ms - expand_ms, 0.0))
    canonicalizer = shapes.ShapeCanonicalizer()
    _, shape_ms, nquads = per_item("", docs, canonicalizer.canonize)
    if nquads[: len(plain)] != plain:
        raise SystemExit("the shape path differs from plain PyLD")
    rows.append(("canonical form", plain_ms, shape_ms))
    label, ms, _ = per_item("proof (hashes, Ed25519, base58)", nquads, proof_around)
    rows.append((label, ms, ms))
    _, one_ms, records = per_item("", docs, lambda doc: signing.sign_one(signer, doc, CREATED))
    _, proof_ms, _ = per_item("", docs, lambda doc: signer.proof(doc, CREATED))
    rows.append(("record (digests)", one_ms - proof_ms, one_ms - proof_ms))
    label, ms, _ = per_item("pool transfer (pickle both ways)", list(zip(docs, records)),
                            lambda pair: pickle.loads(pickle.dumps(pair[0])) and pickle.loads(pickle.dumps(pair[1])))
    rows.append((label, ms, ms))
    total_plain = sum(plain for name, plain, _ in rows if not name.startswith("  "))
    total_shape = sum(shape for name, _, shape in rows if not name.startswith("  "))
    print(f"signing cost per credential, CPU ms ({len(docs)} credentials, {canonicalizer.fast} from "
          f"{canonicalizer.templates} shape templates, {canonicalizer.slow} plain)")
    print(f"  {'step':<36} {'plain':>8} {'shape':>8}")
    for name, plain_cost, shape_cost in rows:
        print(f"  {name:<36} {plain_cost:8.3f} {shape_cost:8.3f}")
    print(f"  {'total':<36} {total_plain:8.3f} {total_shape:8.3f}   "
          f"(one core: {1000 / total_plain:.0f} vs {1000 / total_shape:.0f} credentials/s)")
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
