"""Frame snapshots written after the request that loaded the frame, not inside it (issue 14,
task PR).

A web worker that loads a frame from the messages (nothing kept for this state: a sync run
without the preparation, a first start) used to encode and write its snapshot before
answering: ~3 s more at 1M on a request that already took ~7.  Now `analytics.frame_snapshot`
hands the write to this module (`submit`): inside a web request (`hold`, from the web app's
`before_request`) the write waits until the request is torn down (`release`), then goes to
this process's one writer thread through a bounded queue (`QUEUE_SIZE`); a write that finds
the queue full is dropped (the next worker, or the next preparation, keeps the snapshot), and
the write itself never waits for the store's writer (`store.frame_snapshots.put`: while a sync
writes, it is dropped too).  Outside a request (the scheduler's preparation, `inline`, scripts
and tests) the write is done at once by the caller, as before.

The writer thread shares the interpreter's lock with the worker's next request: the encoding
(~1.6 s of Python at 1M) slows a request served meanwhile, the SQLite write (which releases
the lock) does not.  One thread per process: a forked worker starts its own on first use.
The thread is a daemon: a process that exits (a worker restarted, the server stopped) does not
wait for it, and a write queued or under way then is lost (an interrupted SQLite transaction
is rolled back when the store is next opened); the next worker, or the next preparation,
keeps the snapshot.  A failing write is logged with its traceback and the thread goes on.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1
"""Snapshot writes waiting for the writer thread (besides the one it writes): a frame waiting
holds its memory, and a second large frame is rarely loaded while the first is written."""

Job = Callable[[], bool]

_LOCAL = threading.local()  # .held: jobs of the request in this thread; .inline: run at once
_LOCK = threading.Lock()
_WRITER: list[tuple[int, queue.Queue[Job]]] = []  # (pid, its queue): one thread per process


def _after_fork() -> None:
    """A forked worker starts with no writer (its parent's thread is not in it) and a lock
    no thread of its own holds."""
    global _LOCK
    _LOCK = threading.Lock()
    _WRITER.clear()
    _LOCAL.__dict__.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def submit(job: Job) -> bool:
    """Write now (outside a request, or `inline`: the write's answer, False when not kept),
    or after the request (True: handed; dropped then if the writer's queue is full)."""
    held: list[Job] | None = getattr(_LOCAL, "held", None)
    if held is None or getattr(_LOCAL, "inline", False):
        return job()
    held.append(job)
    return True


def hold() -> None:
    """The current thread serves a request: writes handed from now on wait for `release`."""
    _LOCAL.held = []


def release(_error: BaseException | None = None) -> None:
    """The request is done: its writes go to the writer thread (those the queue has no room
    for are dropped)."""
    held: list[Job] | None = getattr(_LOCAL, "held", None)
    _LOCAL.held = None
    for job in held or ():
        _enqueue(job)


@contextmanager
def inline() -> Iterator[None]:
    """Writes handed in this thread are done at once, in a request too (the scheduler's
    preparation: nobody waits for its pages, and it forgets each frame after its scope)."""
    before = getattr(_LOCAL, "inline", False)
    _LOCAL.inline = True
    try:
        yield
    finally:
        _LOCAL.inline = before


def _enqueue(job: Job) -> bool:
    try:
        _queue().put_nowait(job)
    except queue.Full:
        logger.info("frame snapshot not kept: the writer is busy with another")
        return False
    return True


def _queue() -> queue.Queue[Job]:
    with _LOCK:
        pid = os.getpid()
        if _WRITER and _WRITER[0][0] == pid:
            return _WRITER[0][1]
        jobs: queue.Queue[Job] = queue.Queue(maxsize=QUEUE_SIZE)
        _WRITER[:] = [(pid, jobs)]
        thread = threading.Thread(
            target=_run, args=(jobs,), name="frame-snapshot-writer", daemon=True
        )
        thread.start()
        return jobs


def _run(jobs: queue.Queue[Job]) -> None:
    while True:
        job = jobs.get()
        try:
            job()
        except Exception:  # a snapshot not kept costs speed only
            logger.exception("frame snapshot not kept")
        finally:
            del job  # the frame it holds, before waiting for the next
            jobs.task_done()


def wait() -> None:
    """Until the writes queued in this process are done (tests, benchmarks)."""
    with _LOCK:
        found = _WRITER[0][1] if _WRITER and _WRITER[0][0] == os.getpid() else None
    if found is not None:
        found.join()
