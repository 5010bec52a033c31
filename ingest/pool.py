"""The parser workers' pool (`make_executor`): processes that end with the sync process, or
inline for one worker."""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
import sys
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor


class _InlineExecutor(Executor):
    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[object] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - parse_volume catches its own errors
            future.set_exception(exc)
        return future


def make_executor(workers: int) -> Executor:
    if workers <= 1:
        return _InlineExecutor()
    methods = multiprocessing.get_all_start_methods()
    # fork is cheapest, but only safe while this process has one thread (the CLI); under the
    # scheduler, jobs run in threads, so workers come from a fork server instead
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_die_with_parent
    )


def _die_with_parent() -> None:
    """In a parser worker: ask Linux to end this process when the sync process dies, even by
    SIGKILL (otherwise orphaned workers wait on their task queue forever).  Elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # no prctl: workers end with their queue as before
        return


_PR_SET_PDEATHSIG = 1
