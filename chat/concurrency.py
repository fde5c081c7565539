"""Cooperation with whichever hub the process runs on: eventlet, gevent or none.

The server monkey-patches in `wsgi.py`; tests run plain threads. Code here asks what
is actually patched instead of trusting a setting, so the same store works in both.
"""

from __future__ import annotations

import sys
import threading
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def hub() -> str:
    """'eventlet', 'gevent' or 'threading': what socket is patched with in this process."""
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"


def offload(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking or CPU-heavy call on a real OS thread, so the hub keeps serving.

    Under plain threads there is no hub to protect: the call runs where it is.
    """
    mode = hub()
    if mode == "eventlet":
        from eventlet import tpool

        return tpool.execute(fn, *args, **kwargs)
    if mode == "gevent":
        import gevent

        return gevent.get_hub().threadpool.apply(fn, args, kwargs)
    return fn(*args, **kwargs)


def os_lock() -> Any:
    """A lock that holds between real OS threads even when `threading` is patched.

    Work offloaded to the thread pool runs on OS threads, where a green lock means
    nothing; guarding a shared sqlite3 connection needs the original.
    """
    mode = hub()
    if mode == "eventlet":
        from eventlet import patcher

        return patcher.original("threading").Lock()
    if mode == "gevent":
        from gevent import monkey

        return monkey.get_original("threading", "Lock")()
    return threading.Lock()


class StripedLock:
    """A fixed set of locks picked by key: per-room ordering without a growing dict.

    Created lazily with the patched `threading.Lock`, so under eventlet/gevent it is a
    green lock that parks only the greenlet waiting for it.
    """

    def __init__(self, stripes: int = 64):
        self._stripes = stripes
        self._locks: list[Any] | None = None

    def __call__(self, key: str) -> Any:
        if self._locks is None:
            self._locks = [threading.Lock() for _ in range(self._stripes)]
        return self._locks[zlib.crc32(key.encode()) % self._stripes]
