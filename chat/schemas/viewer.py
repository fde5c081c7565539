"""Who is looking at what is being dumped, so a user's email is shown to them only.

The HTTP layer sets it for an authenticated request, the namespace for an event's ack;
the publisher clears it, since a broadcast is seen by many.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_viewer: ContextVar[str | None] = ContextVar("chat_viewer", default=None)


@contextmanager
def viewing_as(user_id: str | None) -> Iterator[None]:
    token = _viewer.set(user_id)
    try:
        yield
    finally:
        _viewer.reset(token)


def viewer() -> str | None:
    return _viewer.get()
