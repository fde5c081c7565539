"""The live layer's rules: presence, typing, and who is watching.

Presence: a user comes online with their first socket anywhere and goes offline with
their last (several tabs keep them online); each change is told to the online users who
share a room with them, found in the live state, not by a query per member. Going
offline stores `last_seen`.

Typing: `typing: true` lasts `typing_timeout` seconds unless renewed; then, or when the
typist says `false`, stops watching the room or disconnects, the room hears `typing:
false`. Never the typist's own sockets. A typing state lives in the process of the
socket that set it, whose expiry loop (`expire_typing`) ends it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..domain.models import User, now
from ..domain.store import Store
from .events import Publisher
from .presence import Presence, Session
from .rooms import RoomService


@dataclass(frozen=True)
class _Typing:
    deadline: float
    sid: str
    user: User


class LiveService:
    def __init__(
        self,
        store: Store,
        rooms: RoomService,
        presence: Presence,
        publisher: Publisher,
        typing_timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.rooms = rooms
        self.presence = presence
        self.publisher = publisher
        self.typing_timeout = typing_timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._typing: dict[tuple[str, str], _Typing] = {}  # (room, user) -> state
        self._resend = False  # the shared state lost ours, and it is not back yet

    # -- presence ----------------------------------------------------------
    def connected(self, sid: str, session: Session, legacy: bool = False) -> None:
        """A socket signed in. Its user's first anywhere brings them online: their
        rooms are read once (one indexed query) into the live state."""
        if self.presence.connect(sid, session, legacy):
            self._came_online(session.user_id)

    def disconnected(self, sid: str) -> Session | None:
        """A socket closed; the session it had, if it had signed in."""
        self._stop_typing(lambda state: state.sid == sid)
        session = self.presence.disconnect(sid)
        if session and not self.presence.is_online(session.user_id):
            self._went_offline(session.user_id)
        return session

    def _came_online(self, user_id: str) -> None:
        self.presence.came_online(user_id, self.store.member_room_ids(user_id))
        user = self.store.get_user(user_id)
        last_seen = user.last_seen if user else None
        self.publisher.presence_changed(user_id, True, last_seen, self.presence.co_members(user_id))

    def _went_offline(self, user_id: str) -> None:
        to = self.presence.co_members(user_id)
        moment = now()
        self.store.set_last_seen(user_id, moment)
        self.presence.went_offline(user_id)
        self.publisher.presence_changed(user_id, False, moment, to)

    def heartbeat(self) -> None:
        """Keep this process alive in the shared state; announce the users who went
        offline with a dead process; re-send this process's state if it was lost."""
        beat = self.presence.live.heartbeat()
        for user_id in beat.offline:
            self._went_offline(user_id)
        if beat.rejoined or self._resend:
            self._resend = True  # until it succeeds: a failure is retried next beat
            self.presence.resend(self.store.member_room_ids)
            self._resend = False

    # -- watching ----------------------------------------------------------
    def watch(self, user: User, sid: str, room_id: str) -> None:
        self.presence.watch(room_id, user.id, sid)

    def unwatch(self, sid: str, room_id: str) -> None:
        """The socket stops watching the room: its typing there ends too."""
        self.presence.unwatch(room_id, sid)
        self._stop_typing(lambda state: state.sid == sid, room_id)

    def online(self, user: User, room_id: str) -> list[User]:
        return self.rooms.online(user, room_id)

    # -- typing ------------------------------------------------------------
    def typing(self, user: User, sid: str, room_id: str, typing: bool) -> None:
        """Members only. A renewal is announced again, so late watchers learn of it."""
        room, _ = self.rooms.require_member(user, room_id)
        key = (room.id, user.id)
        with self._lock:
            if typing:
                self._typing[key] = _Typing(self.clock() + self.typing_timeout, sid, user)
                announce = True
            else:
                announce = self._typing.pop(key, None) is not None
        if announce:
            self.publisher.typing(room.id, user, typing, self.presence.all_sockets_of(user.id))

    def expire_typing(self) -> int:
        """End every typing state past its deadline; the number ended. Called by the
        app's expiry loop a few times a second."""
        moment = self.clock()
        return self._stop_typing(lambda state: state.deadline <= moment)

    def _stop_typing(self, which: Callable[[_Typing], bool], room_id: str | None = None) -> int:
        with self._lock:
            ended = [
                (key, state)
                for key, state in self._typing.items()
                if (room_id is None or key[0] == room_id) and which(state)
            ]
            for key, _ in ended:
                del self._typing[key]
        for (room, user_id), state in ended:
            skip = self.presence.all_sockets_of(user_id)
            self.publisher.typing(room, state.user, False, skip)
        return len(ended)
