#!/usr/bin/env python3
"""Benchmark: build synthetic rosters of 1k / 10k / 100k awards and report throughput.

    python bench/bench.py                 # 1k and 10k
    python bench/bench.py 1000 10000 100000

For each size it generates a project (5 badges, one CSV roster) in a temporary folder and
runs, each in a fresh process so peak memory is per build:
  first    - a full build that mints every award into the ledger,
  rebuild  - the same content again (no change),
  add-one  - one more award appended to the roster.
It prints awards per second, wall time, CPU time (the build process and its worker processes:
on a machine shared with other work, wall time says more about the neighbours than about the
build), peak RSS and, when a key is available (for example
BADGEKILN_SIGNING_KEYS="$(cat tests/keys/TEST-ONLY-signing-key.json)"), how many credentials the
build signed and at what rate. Timings are measurements, never asserted.
bench/signing_costs.py breaks the signing of one credential down step by step.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_RUN = """
import importlib.util, resource, sys, time
spec = importlib.util.spec_from_file_location("_badgekiln_build_py", {build_py!r})
loader = importlib.util.module_from_spec(spec)
spec.loader.exec_module(loader)
loader._load_badgekiln()  # this clone's generator/ as `badgekiln`
import badgekiln
start = time.perf_counter()
result = badgekiln.build({project!r}, badgekiln.BuildOptions(out=__import__("pathlib").Path({out!r})))
elapsed = time.perf_counter() - start
for note in result.checked.notices:
    print("note:", note, file=sys.stderr)
own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("BENCH", 0 if result.ok else 1, elapsed, own.ru_maxrss, own.ru_utime + own.ru_stime,
      workers.ru_utime + workers.ru_stime, file=sys.stderr)
"""


_SIGNED = re.compile(r"signed (?P<count>\d+) credential\(s\)(?: in [\d.]+ s \((?P<rate>\d+) credentials/s"
                     r"(, (?P<cpu_ms>[\d.]+) ms CPU each)?\))?")


def load_badgekiln() -> None:
    """Import this clone's generator/ as `badgekiln`, as build.py does (for in-process benchmarks)."""
    spec = importlib.util.spec_from_file_location("_badgekiln_build_py", REPO / "build.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    loader._load_badgekiln()


def make_project(root: Path, awards: int) -> Path:
    content = root / "content"
    for folder in ("issuers", "badges", "awards", "images"):
        (content / folder).mkdir(parents=True)
    (content / "site.yaml").write_text("title: Bench Academy\nbase_url: https://bench.example/\n")
    (content / "issuers/bench.yaml").write_text("name: Bench Academy\nurl: https://bench.example/\n"
                                                "email: badges@bench.example\n")
    images = sorted((REPO / "content/images").glob("*"))
    badges = []
    for i, image in enumerate([p for p in images if "logo" not in p.name]):
        slug = f"badge-{i}"
        shutil.copy(image, content / "images" / image.name)
        (content / f"badges/{slug}.yaml").write_text(
            f"name: Badge {i}\ndescription: Synthetic badge {i}.\nimage: images/{image.name}\n"
            f"criteria: Did the thing number {i}.\nvalid_for: 3y\ncredits: 5\n")
        badges.append(slug)
    with open(content / "awards/roster.csv", "w") as fh:
        fh.write("badge,name,email,issued_on\n")
        for n in range(awards):
            fh.write(f"{badges[n % len(badges)]},Learner {n},learner{n}@example.com,2026-0{1 + n % 9}-1{n % 10}\n")
    return root


def run_build(project: Path, out: Path) -> dict:
    code = _RUN.format(build_py=str(REPO / "build.py"), project=str(project), out=str(out))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH")), None)
    if line is None or proc.returncode:
        raise SystemExit(f"build failed:\n{proc.stdout}\n{proc.stderr}")
    _, status, seconds, maxrss_kb, cpu_own, cpu_workers = line.split()
    if status != "0":
        raise SystemExit(f"build failed:\n{proc.stderr}")
    signed = _SIGNED.search(proc.stderr)  # the build's own note (signing.py), when it signed anything
    return {"seconds": float(seconds), "peak_mb": int(maxrss_kb) / 1024,
            "cpu_s": float(cpu_own) + float(cpu_workers), "cpu_workers_s": float(cpu_workers),
            "signed": int(signed["count"]) if signed else 0,
            "signed_per_s": float(signed["rate"]) if signed and signed["rate"] else None,
            "signing_cpu_ms": float(signed["cpu_ms"]) if signed and signed["cpu_ms"] else None}


def main(sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"badgekiln-bench-{size}-") as tmp:
            project = make_project(Path(tmp) / "project", size)
            out = Path(tmp) / "site"
            for phase in ("first", "rebuild", "add-one"):
                if phase == "add-one":
                    with open(project / "content/awards/roster.csv", "a") as fh:
                        fh.write("badge-0,Late Learner,late@example.com,2026-05-05\n")
                result = run_build(project, out)
                files = sum(1 for p in out.rglob("*") if p.is_file())
                rows.append({"awards": size, "phase": phase, **result,
                             "awards_per_s": size / result["seconds"], "files": files})
                rate = f" at {result['signed_per_s']:.0f} credentials/s" if result["signed_per_s"] else ""
                signing = f"  signed {result['signed']}{rate}" if result["signed"] else ""
                if result["signing_cpu_ms"] is not None:
                    signing += f" ({result['signing_cpu_ms']:.2f} ms CPU each)"
                print(f"{size:>7} awards  {phase:<8} {result['seconds']:8.2f} s  "
                      f"{size / result['seconds']:9.0f} awards/s  cpu {result['cpu_s']:7.2f} s "
                      f"({result['cpu_s'] * 1000 / size:5.2f} ms/award)  peak {result['peak_mb']:7.1f} MB  "
                      f"{files} files{signing}", flush=True)
    print(json.dumps(rows, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
