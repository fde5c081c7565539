"""Budgets that are rules of the chat, not of one route: how many messages a user may
post (REST and Socket.IO together), how often an address may open sockets.

Counted with the `limits` library, the one under Flask-Limiter, in the same storage
(`RATELIMIT_STORAGE_URI`): `memory://` counts per process, `redis://…` shares the counts
between processes. Per-route limits (sign-up, failed sign-ins, verification, the
default) are Flask-Limiter's, declared on the routes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

from limits import RateLimitItem, parse, storage, strategies

from ..domain.errors import RateLimited

STRATEGIES: dict[str, Callable[[storage.Storage], strategies.RateLimiter]] = {
    "fixed-window": strategies.FixedWindowRateLimiter,
    "moving-window": strategies.MovingWindowRateLimiter,
    "sliding-window-counter": strategies.SlidingWindowCounterRateLimiter,
}


class Budgets:
    def __init__(
        self,
        storage_uri: str,
        limits: Mapping[str, str],
        *,
        strategy: str = "fixed-window",
        enabled: bool = True,
    ):
        self.enabled = enabled
        self._items: dict[str, RateLimitItem] = {name: parse(spec) for name, spec in limits.items()}
        counts = storage.storage_from_string(storage_uri)
        assert isinstance(counts, storage.Storage)  # not an asyncio one: this is sync code
        self._limiter = STRATEGIES[strategy](counts)

    def spend(self, name: str, key: str, message: str | None = None) -> None:
        """Count one against `name` for `key`; RateLimited (with the seconds until it may
        be tried again) when the budget is spent."""
        if not self.enabled:
            return
        item = self._items[name]
        if self._limiter.hit(item, "chat", name, key):
            return
        reset, _remaining = self._limiter.get_window_stats(item, "chat", name, key)
        raise RateLimited(message, retry_after=math.ceil(reset - time.time()))
