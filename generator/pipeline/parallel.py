"""Per-award work spread over the CPU cores, with results in input order.

Every award's files depend only on the model, so forked workers (which inherit the build
context instead of pickling it) can render, bake and sign them in any order; `imap` hands the
results back in input order, so the output, and the write order, never depend on scheduling.
Small sites stay in one process, where forking costs more than it saves.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Callable, Iterable, Iterator, TypeVar

C = TypeVar("C")
R = TypeVar("R")

SERIAL_BELOW = 200  # items; below this a pool is slower than a loop
CHUNK = 16  # items sent to a worker at a time
IN_FLIGHT_PER_WORKER = 4 * CHUNK  # items handed out but not yet taken by the caller, per worker
_shared: object = None  # the context, inherited by forked workers


def _call(job: tuple[Callable, int]):
    func, item = job
    return func(_shared, item)


JOBS_ENV = "BADGEKILN_JOBS"


def jobs_from_env() -> int:
    """$BADGEKILN_JOBS, else the cores this process may run on (fewer than the machine has when
    a container or `taskset` pins it to some)."""
    value = os.environ.get(JOBS_ENV, "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def unusable_jobs() -> str | None:
    """$BADGEKILN_JOBS when it is set but is no number of processes (`jobs_from_env` ignores it)."""
    value = os.environ.get(JOBS_ENV, "").strip()
    return None if not value or (value.isdigit() and int(value) > 0) else value


class Background:
    """`func(*args)` in a forked process while the build goes on; its answer (pickled back) is
    taken when the build needs it. For work on the core a build leaves idle, whose answer only
    saves time: `result()` is None when the process failed or died, and the caller then does the
    work itself. `nice` lowers the process's priority (work with slack: other work on that core
    goes first)."""

    def __init__(self, func: Callable[..., R], *args, nice: int = 0):
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_answer, args=(send, func, args, nice), daemon=True)
        self._process.start()
        send.close()

    @staticmethod
    def possible(jobs: int) -> bool:
        """A second process can run beside the build (and processes fork)."""
        return jobs > 1 and "fork" in multiprocessing.get_all_start_methods()

    def result(self):
        try:
            answer = self._receive.recv()
        except (EOFError, OSError):  # the process died (killed, out of memory)
            answer = None
        self.cancel()
        return answer

    def cancel(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receive.close()


def _answer(send, func: Callable, args: tuple, nice: int) -> None:
    if nice:
        os.nice(nice)
    try:
        answer = func(*args)
    except BaseException:  # noqa: BLE001 - failed, or interrupted (Ctrl-C reaches it too): the build does the work
        answer = None
    try:
        send.send(answer)
    except OSError:  # the build stopped (killed, or it failed before it needed the answer)
        pass


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
    # results wait for the caller (the writer) in the parent: at most this many, so a slow disk
    # never piles up a whole site's files in memory
    window, stopped = threading.Semaphore(jobs * IN_FLIGHT_PER_WORKER), threading.Event()

    def tasks() -> Iterator[tuple[Callable, int]]:
        for item in items:  # runs in the pool's feeder thread: blocks while the window is full
            window.acquire()
            if stopped.is_set():
                return
            yield func, item
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            try:
                for result in pool.imap(_call, tasks(), chunksize=CHUNK):
                    window.release()
                    yield result
            finally:  # before the pool's exit joins the feeder: a caller that stopped early must not leave it waiting
                stopped.set()
                window.release(len(items) + 1)
    finally:
        _shared = None
