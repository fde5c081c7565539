"""Who is connected, in which sign-in session, and who watches which room, here.

Kept in memory: it describes live sockets, which die with the process anyway. With
several processes each knows only its own sockets (see README, Limits).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Session:
    """Who a socket is, fixed at connect: Flask's request hooks never run for events.
    `session_id` is the sign-in session its token named (the `sid` claim)."""

    user_id: str
    session_id: str


class Presence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}  # sid -> session
        self._sockets: dict[str, set[str]] = defaultdict(set)  # user -> sids
        self._watching: dict[str, dict[str, str]] = defaultdict(dict)  # room -> sid -> user

    def connect(self, sid: str, session: Session) -> bool:
        """Record a socket; True when it is the user's first, i.e. they came online."""
        with self._lock:
            self._sessions[sid] = session
            first = not self._sockets[session.user_id]
            self._sockets[session.user_id].add(sid)
            return first

    def disconnect(self, sid: str) -> Session | None:
        """Forget a socket and what it watched; the session it had, if any."""
        with self._lock:
            session = self._sessions.pop(sid, None)
            for watchers in self._watching.values():
                watchers.pop(sid, None)
            if session:
                sockets = self._sockets.get(session.user_id, set())
                sockets.discard(sid)
                if not sockets:
                    self._sockets.pop(session.user_id, None)
            return session

    def session(self, sid: str) -> Session | None:
        return self._sessions.get(sid)

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

    def sockets_of_sessions(self, session_ids: Iterable[str]) -> set[str]:
        wanted = set(session_ids)
        with self._lock:
            return {sid for sid, s in self._sessions.items() if s.session_id in wanted}

    def forget_room(self, room_id: str) -> None:
        """Nobody watches a deleted room any more."""
        with self._lock:
            self._watching.pop(room_id, None)

    def watching_count(self, room_id: str) -> int:
        """How many of this process's sockets watch the room (O(1): for metrics)."""
        return len(self._watching.get(room_id, ()))

    def watchers(self, room_id: str) -> set[str]:
        """User ids with at least one socket watching the room."""
        with self._lock:
            return set(self._watching.get(room_id, {}).values())
