"""Memory of the objects that live until the archive changes (a frame, its facts, its
index): made without the cyclic garbage collector and kept out of its passes, and the heap
given back when they are dropped (`analytics.frame`'s cache)."""

from __future__ import annotations

import ctypes
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def release_memory() -> None:
    """Give freed heap memory back to the system (glibc's `malloc_trim`): a dropped frame's
    large lists and dicts come from the C heap, which otherwise keeps them as free space and
    the worker's RSS does not go down.  Nothing where the C library has no such call."""
    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


_GC_LOCK = threading.Lock()
_GC_HELD = [0, False, False]  # loads under way, the collector on before the first, thawed


@contextmanager
def long_lived() -> Iterator[None]:
    """Make objects that live until the archive changes (a frame, its facts, its index)
    without the cyclic garbage collector, and take them out of its passes afterwards
    (`gc.freeze`).  Once a frame is loaded, a full collection walks its million objects:
    0.4-0.55 s at 300k messages, paid by most warm requests; frozen, they are never walked.
    Reference counting still frees them when they are dropped (posts, facts and indexes hold
    no reference cycles).  Garbage is collected first (cheap: what lives long is frozen
    already), so that none is kept frozen; the collector is off during the load (fewer
    passes over the objects being made) and back on when the last load ends."""
    with _GC_LOCK:
        if _GC_HELD[0] == 0:
            gc.collect()
            _GC_HELD[1] = gc.isenabled()
            gc.disable()
        _GC_HELD[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_HELD[0] -= 1
            if _GC_HELD[0] == 0 and _GC_HELD[2]:  # frames were dropped during the load
                _GC_HELD[2] = False
                gc.collect()
            gc.freeze()
            if _GC_HELD[0] == 0 and _GC_HELD[1]:
                gc.enable()


def thaw() -> None:
    """Give every frozen object back to the collector (`gc.unfreeze`), when frames (or facts)
    are dropped: an object frozen while alive that became garbage in a reference cycle (an
    application, a request's objects) is collected again; the next `long_lived` freezes what
    still lives.  Costs one full collection over the live frames, once per drop."""
    with _GC_LOCK:
        gc.unfreeze()
        if _GC_HELD[0]:  # during a load: collected before its end freezes again
            _GC_HELD[2] = True
