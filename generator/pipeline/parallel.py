"""Per-award work spread over the CPU cores, with results in input order.

Every award's files depend only on the model, so forked workers (which inherit the build
context instead of pickling it) can render, bake and sign them in any order; `imap` hands the
results back in input order, so the output, and the write order, never depend on scheduling.
Small sites stay in one process, where forking costs more than it saves.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Callable, Iterable, Iterator, TypeVar

C = TypeVar("C")
R = TypeVar("R")

SERIAL_BELOW = 200  # items; below this a pool is slower than a loop
_shared: object = None  # the context, inherited by forked workers


def _call(job: tuple[Callable, int]):
    func, item = job
    return func(_shared, item)


def jobs_from_env() -> int:
    value = os.environ.get("BADGEKILN_JOBS", "")
    return int(value) if value.isdigit() and int(value) > 0 else (os.cpu_count() or 1)


def map_ordered(func: Callable[[C, int], R], ctx: C, items: Iterable[int], jobs: int | None = None) -> Iterator[R]:
    """`func(ctx, item)` for each item, in order; `func` must be a module-level function."""
    items = list(items)
    jobs = jobs or jobs_from_env()
    if jobs <= 1 or len(items) < SERIAL_BELOW or "fork" not in multiprocessing.get_all_start_methods():
        for item in items:
            yield func(ctx, item)
        return
    global _shared
    _shared = ctx
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap(_call, ((func, item) for item in items), chunksize=16)
    finally:
        _shared = None
