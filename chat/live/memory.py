"""Live state of one process, in memory: what a single server needs.

Every set is kept up to date as sockets come and go, so that the per-message question,
"which online members are not watching?", is a set already made: `idle[room]` changes
when someone connects, disconnects, joins, leaves, watches or stops watching, never
when a message is posted.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

from ..domain.live import Fanout, Heartbeat, LiveState


class MemoryLive(LiveState):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: dict[str, set[str]] = {}  # user -> sids
        self._rooms: dict[str, set[str]] = {}  # online user -> their rooms
        self._online: dict[str, set[str]] = defaultdict(set)  # room -> online members
        self._watching: dict[str, dict[str, tuple[str, bool]]] = defaultdict(dict)
        # room -> user -> how many of their sockets watch it
        self._watch_counts: dict[str, dict[str, int]] = defaultdict(dict)
        self._idle: dict[str, set[str]] = defaultdict(set)  # room -> online, not watching
        self._legacy: dict[str, int] = defaultdict(int)  # room -> legacy sockets watching

    # -- sockets ---------------------------------------------------------
    def socket_opened(self, sid: str, user_id: str) -> bool:
        with self._lock:
            sids = self._sockets.setdefault(user_id, set())
            first = not sids
            sids.add(sid)
            return first

    def socket_closed(self, sid: str, user_id: str) -> bool:
        with self._lock:
            sids = self._sockets.get(user_id)
            if sids is None or sid not in sids:
                return False
            sids.discard(sid)
            if sids:
                return False
            del self._sockets[user_id]
            return True

    def is_online(self, user_id: str) -> bool:
        return bool(self._sockets.get(user_id))

    def online_among(self, user_ids: Iterable[str]) -> set[str]:
        with self._lock:
            return {u for u in user_ids if self._sockets.get(u)}

    def sockets_of(self, user_id: str) -> set[str]:
        with self._lock:
            return set(self._sockets.get(user_id, ()))

    # -- the rooms of online users ------------------------------------------
    def came_online(self, user_id: str, room_ids: Iterable[str]) -> None:
        with self._lock:
            if not self._sockets.get(user_id):
                return
            for room_id in room_ids:
                self._add_member(room_id, user_id)

    def went_offline(self, user_id: str) -> None:
        with self._lock:
            if self._sockets.get(user_id):
                return
            for room_id in self._rooms.pop(user_id, set()):
                self._drop(self._online, room_id, user_id)
                self._drop(self._idle, room_id, user_id)

    def member_added(self, room_id: str, user_id: str) -> None:
        with self._lock:
            if self._sockets.get(user_id):
                self._add_member(room_id, user_id)

    def member_removed(self, room_id: str, user_id: str) -> None:
        with self._lock:
            rooms = self._rooms.get(user_id)
            if rooms is not None:
                rooms.discard(room_id)
            self._drop(self._online, room_id, user_id)
            self._drop(self._idle, room_id, user_id)

    def forget_room(self, room_id: str) -> None:
        with self._lock:
            for user_id in self._online.pop(room_id, set()):
                self._rooms.get(user_id, set()).discard(room_id)
            for table in (self._idle, self._watching, self._watch_counts, self._legacy):
                table.pop(room_id, None)

    def co_members(self, user_id: str) -> set[str]:
        with self._lock:
            found: set[str] = set()
            for room_id in self._rooms.get(user_id, ()):
                found |= self._online.get(room_id, set())
            found.discard(user_id)
            return found

    def _add_member(self, room_id: str, user_id: str) -> None:
        self._rooms.setdefault(user_id, set()).add(room_id)
        self._online[room_id].add(user_id)
        if not self._watch_counts.get(room_id, {}).get(user_id):
            self._idle[room_id].add(user_id)

    @staticmethod
    def _drop(sets: dict[str, set[str]], room_id: str, user_id: str) -> None:
        members = sets.get(room_id)
        if members is not None:
            members.discard(user_id)
            if not members:
                del sets[room_id]

    # -- watching ----------------------------------------------------------
    def watch(self, room_id: str, user_id: str, sid: str, legacy: bool = False) -> None:
        with self._lock:
            if sid in self._watching[room_id]:
                return
            self._watching[room_id][sid] = (user_id, legacy)
            counts = self._watch_counts[room_id]
            counts[user_id] = counts.get(user_id, 0) + 1
            self._drop(self._idle, room_id, user_id)
            if legacy:
                self._legacy[room_id] += 1

    def unwatch(self, room_id: str, sid: str) -> None:
        with self._lock:
            watching = self._watching.get(room_id, {})
            if sid not in watching:
                return
            user_id, legacy = watching.pop(sid)
            if not watching:
                del self._watching[room_id]
            counts = self._watch_counts[room_id]
            counts[user_id] -= 1
            if counts[user_id] <= 0:
                del counts[user_id]
                if user_id in self._online.get(room_id, ()):
                    self._idle[room_id].add(user_id)
            if not counts:
                del self._watch_counts[room_id]
            if legacy:
                self._legacy[room_id] -= 1
                if self._legacy[room_id] <= 0:
                    del self._legacy[room_id]

    def watchers(self, room_id: str) -> set[str]:
        with self._lock:
            return set(self._watch_counts.get(room_id, {}))

    def fanout(self, room_id: str) -> Fanout:
        with self._lock:
            return Fanout(set(self._idle.get(room_id, ())), self._legacy.get(room_id, 0) > 0)

    # -- liveness ----------------------------------------------------------
    def heartbeat(self) -> Heartbeat:
        return Heartbeat()  # one process: it is alive if it asks

    def close(self) -> None:
        pass
