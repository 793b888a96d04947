#!/usr/bin/env python3
"""Benchmark: build synthetic rosters of 1k / 10k / 100k awards and report cost and weight.

    python bench/bench.py                          # 1k and 10k
    python bench/bench.py 1000 10000 100000
    python bench/bench.py --art 547k 10000         # realistic badge art: a 600x600 PNG of ~547 KB
    python bench/bench.py --outputs full 10000     # per-award baked images too (site.yaml outputs: full)
    python bench/bench.py --host github-pages 1000

For each size it generates a project (5 badges, an awards file per badge) in a temporary folder and
runs, each in a fresh process so peak memory is per build (as `badgekiln build` runs it:
incremental, into one output folder):
  first     a full build that mints every award into the ledger (and signs, with a key),
  rebuild   the same content again: nothing changed,
  add-one   one more award appended to the roster,
  keyless   one more award appended, built without the signing key (a colleague's machine, a
            fork's CI without the secret): the frozen credentials are republished, the new award
            is left unsigned (W501),
  revoke    one award revoked,
  deploy    what CI runs on every push: a fresh clone of the project (ledger committed, no
            .badgekiln-cache/), built `--frozen` into an empty folder,
  restyle   the award page's template changed in the project's templates/: every award's
            files are made again and replace the published ones, in one journalled update,
A phase may be repeated (--phases first,add-one,add-one,add-one): on a busy machine one run says
little. And, when asked for (--phases ...,preview,preview-save), what `serve` does:
  preview       a preview build (its own base URL and DID, the ledger untouched) into another folder,
  preview-save  one more award appended, and the preview built again (as a save in `serve`).
It prints wall time, awards per second, CPU time (the build process and its workers: on a
machine shared with other work, wall time says more about the neighbours than the build),
peak RSS, how many files were written, and the site's weight: files and bytes per award and
the fullest folder. With a key in BADGEKILN_SIGNING_KEYS (for example the test key,
tests/keys/TEST-ONLY-signing-key.json) it also reports how many credentials were signed and
at what rate. Timings are measurements, never asserted. bench/signing_costs.py breaks the
signing of one credential down step by step.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_RUN = """
import importlib.util, os, resource, sys, time
spec = importlib.util.spec_from_file_location("_badgekiln_build_py", {build_py!r})
loader = importlib.util.module_from_spec(spec)
spec.loader.exec_module(loader)
loader._load_badgekiln()  # this clone's generator/ as `badgekiln`
import badgekiln
from pathlib import Path
out = Path({out!r})
preview = {preview!r}  # a preview build, as `serve` makes it
frozen = {frozen!r}  # a deploy: the ledger as committed
start = time.perf_counter()  # importing badgekiln.api (on first use of badgekiln.BuildOptions) is part of a build
options = (badgekiln.BuildOptions(out=out, base_url="http://127.0.0.1:8000/", record_ledger=False,
                                  minter=badgekiln.api.preview_minter(Path({project!r})))
           if preview else badgekiln.BuildOptions(out=out, frozen=frozen))
result = badgekiln.build({project!r}, options)
elapsed = time.perf_counter() - start
for note in (result.checked.notices if result.checked else []):
    print("note:", note, file=sys.stderr)
size = result.size
own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print("BENCH", json.dumps({{"ok": result.ok, "seconds": elapsed, "peak_mb": own.ru_maxrss / 1024,
      "cpu_s": own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime,
      "unchanged": result.unchanged, "reused": result.reused,
      "files": result.files, "bytes": size.bytes if size else None,
      "award_files": size.award_files if size else None, "award_bytes": size.award_bytes if size else None,
      "fullest": list(size.fullest) if size else None,
      "report": result.size_report() if size else ""}}), file=sys.stderr)
""".replace("import importlib.util, os", "import importlib.util, json, os")

_SIGNED = re.compile(r"signed (?P<count>\d+) credential\(s\)(?: in [\d.]+ s \((?P<rate>\d+) credentials/s"
                     r"(, (?P<cpu_ms>[\d.]+) ms CPU each)?\))?")


def load_badgekiln() -> None:
    """Import this clone's generator/ as `badgekiln`, as build.py does (for in-process benchmarks)."""
    spec = importlib.util.spec_from_file_location("_badgekiln_build_py", REPO / "build.py")
    loader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loader)
    loader._load_badgekiln()


def realistic_art(target: int = 547 * 1024, seed: int = 547) -> bytes:
    """A 600x600 PNG of about `target` bytes: the size of real badge art exported from a design tool.

    Noise limited to a few bits per channel compresses to a predictable size (no two runs differ:
    the generator is seeded)."""
    from PIL import Image

    rng = random.Random(seed)
    bits = 4
    for _ in range(8):
        raw = bytes(rng.getrandbits(bits) << (8 - bits) for _ in range(600 * 600 * 3))
        image = Image.frombytes("RGB", (600, 600), raw)

        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=False, compress_level=9)
        data = buffer.getvalue()
        if len(data) > target * 1.15:
            bits -= 1
        elif len(data) < target * 0.85:
            bits += 1
        else:
            return data
    return data


def make_project(root: Path, awards: int, *, art: bytes | None = None, outputs: str = "minimal",
                 host: str = "none") -> Path:
    content = root / "content"
    for folder in ("issuers", "badges", "awards", "images"):
        (content / folder).mkdir(parents=True)
    (content / "site.yaml").write_text(f"title: Bench Academy\nbase_url: https://bench.example/\n"
                                       f"outputs: {outputs}\nhost: {host}\n")
    (content / "issuers/bench.yaml").write_text("name: Bench Academy\nurl: https://bench.example/\n"
                                                "email: badges@bench.example\n")
    images = [p for p in sorted((REPO / "content/images").glob("*")) if "logo" not in p.name][:5]
    badges = []
    for i, image in enumerate(images):
        slug = f"badge-{i}"
        name = f"art-{i}.png" if art else image.name
        (content / "images" / name).write_bytes(art if art else image.read_bytes())
        (content / f"badges/{slug}.yaml").write_text(
            f"name: Badge {i}\ndescription: Synthetic badge {i}.\nimage: images/{name}\n"
            f"criteria: Did the thing number {i}.\nvalid_for: 3y\ncredits: 5\n")
        badges.append(slug)
    for b, slug in enumerate(badges):  # one awards file per badge, as `badgekiln import` writes them
        with open(content / f"awards/{slug}.yaml", "w") as fh:
            fh.write(f"badge: {slug}\nawards:\n")
            for n in range(b, awards, len(badges)):
                fh.write(f"  - name: Learner {n}\n    email: learner{n}@example.com\n"
                         f"    issued_on: 2026-0{1 + n % 9}-1{n % 10}\n")
    return root


def _written_since(out: Path, start_ns: int) -> int:
    return sum(os.stat(os.path.join(root, name)).st_mtime_ns >= start_ns
               for root, _, files in os.walk(out) for name in files)


def run_build(project: Path, out: Path, preview: bool = False, frozen: bool = False, keyless: bool = False) -> dict:
    """One build in a fresh process. The files it wrote are counted here afterwards, by mtime,
    and not by a list held before it: a child's peak memory on Linux starts at its parent's."""
    code = _RUN.format(build_py=str(REPO / "build.py"), project=str(project), out=str(out), preview=preview,
                        frozen=frozen)
    # modules byte-compiled, as a wheel's are once pip installs it (this machine sets PYTHONDONTWRITEBYTECODE,
    # which would add compiling them again to every build: about 0.1 s)
    dropped = {"PYTHONDONTWRITEBYTECODE"} | ({"BADGEKILN_SIGNING_KEYS"} if keyless else set())
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    start_ns = time.time_ns()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH ")), None)
    if line is None or proc.returncode:
        raise SystemExit(f"build failed:\n{proc.stdout}\n{proc.stderr}")
    result = json.loads(line[len("BENCH "):])
    if not result["ok"]:
        raise SystemExit(f"build failed:\n{proc.stderr}")
    result["written"] = _written_since(out, start_ns)
    signed = _SIGNED.search(proc.stderr)  # the build's own note (signing.py), when it signed anything
    result.update(signed=int(signed["count"]) if signed else 0,
                  signed_per_s=float(signed["rate"]) if signed and signed["rate"] else None,
                  signing_cpu_ms=float(signed["cpu_ms"]) if signed and signed["cpu_ms"] else None)
    return result


def revoke_one(project: Path, nth: int = 0) -> None:
    """The way a provider revokes: `badgekiln revoke`, which edits the content for them (the
    `nth` revoke of a run takes another award of badge-1: learner 1, 6, 11, ...).

    In its own process: the next build's peak memory is read from its rusage, which on Linux
    keeps the high-water mark of the process it was forked from (this one) across exec."""
    proc = subprocess.run([sys.executable, str(REPO / "build.py"), "--project", str(project), "revoke",
                           f"badge-1/learner{1 + 5 * nth}@example.com", "--reason", "Issued in error"],
                          capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"revoke failed:\n{proc.stdout}\n{proc.stderr}")


def restyle(project: Path, nth: int = 0) -> None:
    """A provider's own award page (templates/award.html, over the shipped one) with a class
    added: every award page differs, so an update re-renders and replaces every award's files."""
    page = (REPO / "templates/award.html").read_text(encoding="utf-8")
    (project / "templates").mkdir(exist_ok=True)
    (project / "templates/award.html").write_text(
        page.replace('<div class="wrap award">', f'<div class="wrap award restyled-{nth}">', 1), encoding="utf-8")


def fresh_clone(project: Path, clone: Path) -> Path:
    """What a CI runner checks out: the project's content/ (the ledger committed with it) and
    templates, none of the git-ignored build state (.badgekiln-cache/, _site/)."""
    shutil.rmtree(clone, ignore_errors=True)
    for folder in ("content", "templates"):
        if (project / folder).is_dir():
            shutil.copytree(project / folder, clone / folder)
    return clone


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--art", choices=["example", "547k"], default="example",
                        help="badge art: the example's small images, or a realistic 600x600 PNG of ~547 KB")
    parser.add_argument("--outputs", choices=["minimal", "full"], default="minimal")
    parser.add_argument("--host", default="none")
    parser.add_argument("--phases", default="first,rebuild,add-one,revoke")
    args = parser.parse_args(argv)
    art = realistic_art() if args.art == "547k" else None
    if art:
        print(f"badge art: a 600x600 PNG of {len(art) / 1024:.0f} KB", flush=True)
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"badgekiln-bench-{size}-") as tmp:
            project = make_project(Path(tmp) / "project", size, art=art, outputs=args.outputs, host=args.host)
            out = Path(tmp) / "site"
            done: dict[str, int] = {}  # a phase may be repeated (add-one,add-one,...): each adds or revokes another
            for phase in args.phases.split(","):
                nth = done[phase] = done.get(phase, -1) + 1
                if phase in ("add-one", "keyless", "preview-save"):
                    with open(project / "content/awards/badge-0.yaml", "a") as fh:
                        fh.write(f"  - name: Late Learner\n    email: late-{phase}-{nth}@example.com\n"
                                 "    issued_on: 2026-05-05\n")
                elif phase == "revoke":
                    revoke_one(project, nth)
                elif phase == "restyle":
                    restyle(project, nth)
                preview = phase.startswith("preview")
                if phase == "deploy":
                    clone = fresh_clone(project, Path(tmp) / "clone")
                    result = run_build(clone, clone / "_site", frozen=True)
                else:
                    result = run_build(project, Path(tmp) / "preview" if preview else out, preview,
                                       keyless=phase == "keyless")
                rows.append({"awards": size, "phase": phase, **result})
                _print_row(size, phase, result)
            shutil.rmtree(out, ignore_errors=True)
    print(json.dumps(rows, indent=1), file=sys.stderr)


def _print_row(size: int, phase: str, r: dict) -> None:
    rate = f" at {r['signed_per_s']:.0f} credentials/s" if r["signed_per_s"] else ""
    signing = f"  signed {r['signed']}{rate}" if r["signed"] else ""
    if r["signing_cpu_ms"] is not None:
        signing += f" ({r['signing_cpu_ms']:.2f} ms CPU each)"
    weight = ""
    if r["award_files"]:
        weight = (f"  {r['award_files'] / size:.1f} files, {r['award_bytes'] / size / 1024:.1f} KB per award; "
                  f"site {r['files']} files, {r['bytes'] / 1e6:.1f} MB; fullest {r['fullest'][0]}/ "
                  f"({r['fullest'][1]})")
    state = "  (nothing changed)" if r["unchanged"] else f"  wrote {r['written']} files"
    print(f"{size:>7} awards  {phase:<12} {r['seconds']:8.2f} s  {size / r['seconds']:9.0f} awards/s  "
          f"cpu {r['cpu_s']:7.2f} s  peak {r['peak_mb']:7.1f} MB{state}{weight}{signing}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
