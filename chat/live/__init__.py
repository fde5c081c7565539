"""The live-state implementations, picked from the message queue setting: Redis when
processes share one, memory otherwise. Only the application factory imports this."""

from __future__ import annotations

from ..domain.live import LiveState

__all__ = ["open_live"]


def open_live(queue_url: str | None, heartbeat: float = 5.0) -> LiveState:
    if queue_url and queue_url.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisLive

        return RedisLive(queue_url, heartbeat=heartbeat)
    from .memory import MemoryLive

    return MemoryLive()
