"""Who is connected, in which sign-in session, and who watches which room.

This process's sockets (their sessions, what each watches) are kept here in memory:
they die with the process anyway, and closing a socket needs its id here. What other
processes must see too (who is online, who watches, which online users are members of
which room) goes through `live`, the shared live state (in memory for one process, in
Redis for several: see `chat.domain.live`). When the shared state cannot answer, each
question falls back to this process's own view, and the failure is logged: a Redis
hiccup may cost a notification or a presence event, never a sign-in or a post.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TypeVar

from ..domain.errors import LiveStateError
from ..domain.live import Fanout, LiveState

log = logging.getLogger(__name__)
T = TypeVar("T")


def _shared(ask: Callable[[], T], fallback: Callable[[], T]) -> T:
    try:
        return ask()
    except LiveStateError as error:
        log.warning("live state unavailable, this process's view only: %s", error)
        return fallback()


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Session:
    """Who a socket is, fixed at connect: Flask's request hooks never run for events.
    `session_id` is the sign-in session its token named (the `sid` claim)."""

    user_id: str
    session_id: str


class Presence:
    def __init__(self, live: LiveState | None = None) -> None:
        if live is None:
            from ..live.memory import MemoryLive

            live = MemoryLive()
        self.live = live
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}  # sid -> session
        self._sockets: dict[str, set[str]] = defaultdict(set)  # user -> sids
        self._watching: dict[str, dict[str, str]] = defaultdict(dict)  # room -> sid -> user
        self._legacy: set[str] = set()  # sids on the original namespace

    def connect(self, sid: str, session: Session, legacy: bool = False) -> bool:
        """Record a socket; True when it is the user's first anywhere (came online)."""
        with self._lock:
            self._sessions[sid] = session
            self._sockets[session.user_id].add(sid)
            if legacy:
                self._legacy.add(sid)
            first_here = len(self._sockets[session.user_id]) == 1
        return _shared(lambda: self.live.socket_opened(sid, session.user_id), lambda: first_here)

    def disconnect(self, sid: str) -> Session | None:
        """Forget a socket and what it watched; the session it had, if any. Whether
        its user is still online anywhere is `is_online` afterwards."""
        with self._lock:
            session = self._sessions.pop(sid, None)
            watched = [room for room, sids in self._watching.items() if sid in sids]
            for room_id in watched:
                self._watching[room_id].pop(sid, None)
                if not self._watching[room_id]:
                    del self._watching[room_id]
            self._legacy.discard(sid)
            if session:
                sockets = self._sockets.get(session.user_id, set())
                sockets.discard(sid)
                if not sockets:
                    self._sockets.pop(session.user_id, None)
        for room_id in watched:
            _shared(functools.partial(self.live.unwatch, room_id, sid), _nothing)
        if session:
            user_id = session.user_id
            _shared(lambda: self.live.socket_closed(sid, user_id), lambda: False)
        return session

    def session(self, sid: str) -> Session | None:
        return self._sessions.get(sid)

    def watch(self, room_id: str, user_id: str, sid: str) -> None:
        with self._lock:
            self._watching[room_id][sid] = user_id
            legacy = sid in self._legacy
        _shared(lambda: self.live.watch(room_id, user_id, sid, legacy), _nothing)

    def unwatch(self, room_id: str, sid: str) -> None:
        with self._lock:
            watchers = self._watching.get(room_id, {})
            if watchers.pop(sid, None) is None:
                return
            if not watchers:
                del self._watching[room_id]
        _shared(lambda: self.live.unwatch(room_id, sid), _nothing)

    def is_legacy(self, sid: str) -> bool:
        """Whether the socket is on the original namespace (SPEC 3.1)."""
        return sid in self._legacy

    def watches(self, sid: str, room_id: str) -> bool:
        return sid in self._watching.get(room_id, {})

    def is_online(self, user_id: str) -> bool:
        """A socket here settles it without asking the shared state."""
        return bool(self._sockets.get(user_id)) or _shared(
            lambda: self.live.is_online(user_id), lambda: False
        )

    def online_among(self, user_ids: Iterable[str]) -> set[str]:
        ids = set(user_ids)
        here = {u for u in ids if self._sockets.get(u)}
        return here | _shared(lambda: self.live.online_among(ids - here), set)

    def all_sockets_of(self, user_id: str) -> set[str]:
        """The user's sockets on every process (`sockets_of`: this one's only)."""
        return self.sockets_of(user_id) | _shared(lambda: self.live.sockets_of(user_id), set)

    def sockets_of(self, user_id: str) -> set[str]:
        with self._lock:
            return set(self._sockets.get(user_id, ()))

    def sockets_of_sessions(self, session_ids: Iterable[str]) -> set[str]:
        wanted = set(session_ids)
        with self._lock:
            return {sid for sid, s in self._sessions.items() if s.session_id in wanted}

    def forget_room(self, room_id: str) -> None:
        """Nobody watches a deleted room any more, here or in the shared state (every
        process is told, and each unwatches its own sockets)."""
        with self._lock:
            sids = list(self._watching.pop(room_id, {}))
        for sid in sids:
            _shared(functools.partial(self.live.unwatch, room_id, sid), _nothing)
        _shared(lambda: self.live.forget_room(room_id), _nothing)

    def watching_count(self, room_id: str) -> int:
        """How many of this process's sockets watch the room (O(1): for metrics)."""
        return len(self._watching.get(room_id, ()))

    def watchers(self, room_id: str) -> set[str]:
        """User ids with at least one socket watching the room, on any process."""
        return _shared(lambda: self.live.watchers(room_id), lambda: self._local_watchers(room_id))

    def _local_watchers(self, room_id: str) -> set[str]:
        with self._lock:
            return set(self._watching.get(room_id, {}).values())

    # -- the shared view: rooms of online users, per-message fan-out ---------------
    def came_online(self, user_id: str, room_ids: Iterable[str]) -> None:
        _shared(lambda: self.live.came_online(user_id, room_ids), _nothing)

    def went_offline(self, user_id: str) -> None:
        _shared(lambda: self.live.went_offline(user_id), _nothing)

    def member_added(self, room_id: str, user_id: str) -> None:
        _shared(lambda: self.live.member_added(room_id, user_id), _nothing)

    def member_removed(self, room_id: str, user_id: str) -> None:
        _shared(lambda: self.live.member_removed(room_id, user_id), _nothing)

    def co_members(self, user_id: str) -> set[str]:
        return _shared(lambda: self.live.co_members(user_id), set)

    def posting(self, room_ids: Collection[str]) -> AbstractContextManager[None]:
        # Without it: this process's posts still go out in order; only the turns that
        # order them against other processes' are lost.
        return _shared(lambda: self.live.posting(room_ids), nullcontext)

    def fanout(self, room_id: str) -> Fanout:
        # Without it: no notifications, and `/` gets the message in case it watches.
        return _shared(lambda: self.live.fanout(room_id), lambda: Fanout(set(), True))

    def resend(self, rooms_of: Callable[[str], list[str]]) -> None:
        """Send this process's sockets and watches to a shared state that lost them
        (Redis restarted, or this process was taken for dead); `rooms_of` reads a
        user's rooms from the store."""
        with self._lock:
            sessions = dict(self._sessions)
            watches = [
                (room_id, user_id, sid)
                for room_id, sids in self._watching.items()
                for sid, user_id in sids.items()
            ]
            legacy = set(self._legacy)
        for sid, session in sessions.items():
            self.live.socket_opened(sid, session.user_id)
        for user_id in {session.user_id for session in sessions.values()}:
            self.live.came_online(user_id, rooms_of(user_id))
        for room_id, user_id, sid in watches:
            self.live.watch(room_id, user_id, sid, sid in legacy)
