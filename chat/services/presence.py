"""Who is connected and who watches which room, in this process.

Kept in memory: it describes live sockets, which die with the process anyway. With
several processes each knows only its own sockets (see README, Limits).
"""

from __future__ import annotations

import threading
from collections import defaultdict


class Presence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[str, set[str]] = defaultdict(set)  # user -> sids
        self._watching: dict[str, dict[str, str]] = defaultdict(dict)  # room -> sid -> user

    def connect(self, user_id: str, sid: str) -> bool:
        """Record a socket; True when it is the user's first, i.e. they came online."""
        with self._lock:
            first = not self._sockets[user_id]
            self._sockets[user_id].add(sid)
            return first

    def disconnect(self, user_id: str, sid: str) -> bool:
        """Forget a socket and what it watched; True when the user has no socket left."""
        with self._lock:
            for watchers in self._watching.values():
                watchers.pop(sid, None)
            sockets = self._sockets.get(user_id, set())
            sockets.discard(sid)
            if sockets:
                return False
            self._sockets.pop(user_id, None)
            return True

    def watch(self, room_id: str, user_id: str, sid: str) -> None:
        with self._lock:
            self._watching[room_id][sid] = user_id

    def unwatch(self, room_id: str, sid: str) -> None:
        with self._lock:
            self._watching.get(room_id, {}).pop(sid, None)

    def is_online(self, user_id: str) -> bool:
        return bool(self._sockets.get(user_id))

    def sockets_of(self, user_id: str) -> set[str]:
        with self._lock:
            return set(self._sockets.get(user_id, ()))

    def watchers(self, room_id: str) -> set[str]:
        """User ids with at least one socket watching the room."""
        with self._lock:
            return set(self._watching.get(room_id, {}).values())
