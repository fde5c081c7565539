"""Cooperation with whichever hub the process runs on: eventlet, gevent or none.

The server monkey-patches in `wsgi.py`; tests run plain threads. Code here asks what
is actually patched instead of trusting a setting, so the same store works in both.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")


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


class GroupCommit(Generic[T, R]):
    """Many callers, one batch at a time: the group commit of a database log.

    `submit(item)` queues the item and waits for its result. Whoever finds no batch in
    progress becomes the leader: it takes everything queued, hands the batch to `run`
    (one call: one transaction, one commit, one hop to the thread pool), gives each
    caller its result, and goes on while more queued up meanwhile, until its own item
    is done; then it hands the lead to the next waiting caller. Under load, a burst of
    posts costs one commit instead of one each; alone, a post costs what it did.

    Batches never overlap, so their effects (and what `run` announces) happen in the
    order the items were queued. Works on green threads and OS threads alike: it uses
    whatever `threading` is at the time (patched or not).
    """

    def __init__(self, run: Callable[[list[T]], list[R]], max_batch: int = 256):
        self._run = run
        self._max = max_batch
        self._lock: Any = None
        self._queue: list[_Ticket[T, R]] = []
        self._leading = False

    def submit(self, item: T) -> R:
        if self._lock is None:
            self._lock = threading.Lock()
        ticket: _Ticket[T, R] = _Ticket(item)
        with self._lock:
            self._queue.append(ticket)
            lead = not self._leading
            self._leading = True
        if not lead:
            ticket.done.wait()
            if not ticket.lead:
                return ticket.outcome()
        self._lead(ticket)
        return ticket.outcome()

    def _lead(self, mine: _Ticket[T, R]) -> None:
        while not mine.finished:
            with self._lock:
                batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            self._commit(batch)
        with self._lock:
            if self._queue:  # the next in line leads; it is waiting on its event
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._leading = False

    def _commit(self, batch: list[_Ticket[T, R]]) -> None:
        try:
            results = self._run([ticket.item for ticket in batch])
        except BaseException as error:  # the whole batch failed: everyone hears of it
            for ticket in batch:
                ticket.error = error
                ticket.finish()
            return
        for ticket, result in zip(batch, results, strict=True):
            ticket.result = result
            ticket.finish()


class _Ticket(Generic[T, R]):
    def __init__(self, item: T):
        self.item = item
        self.done = threading.Event()
        self.finished = False
        self.lead = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self) -> None:
        self.finished = True
        self.done.set()

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return cast(R, self.result)
