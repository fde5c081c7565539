"""The one place that emits. With a message queue configured, `socketio.emit` goes
through Redis, so an announcement made in one process reaches sockets on all of them.

Every payload is shaped by its event's schema in `chat.schemas.events` (the AsyncAPI
document is made from the same table), with nobody as the viewer: a broadcast is seen
by many, so it never carries what only one of them may see.

Every event goes to the original namespace (`/`, SPEC 3.1) as well as to `/chat`, so
its watchers hear what `/chat` watchers hear; a new message also goes there in the
original flat shape, `message`. The hot path, `new_message`, is sent to `/` only when
the live state says a socket there watches the room.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask_socketio import SocketIO

from ..domain.models import Message, Role, Room, User
from ..ops.metrics import FANOUT, MESSAGES_STORED
from ..schemas.events import LEGACY_SERVER_EVENTS, SERVER_EVENTS
from ..schemas.viewer import viewing_as
from ..services.presence import Presence
from . import LEGACY_NAMESPACE, NAMESPACE, room_channel, user_channel
from .control import ControlChannel


class SocketPublisher:
    def __init__(
        self, socketio: SocketIO, presence: Presence, control: ControlChannel | None = None
    ):
        self.socketio = socketio
        self.presence = presence
        self.control = control

    def _emit(
        self,
        event: str,
        data: Any,
        to: str | list[str],
        *,
        legacy: bool = True,
        skip: Iterable[str] = (),
    ) -> None:
        with viewing_as(None):
            payload = SERVER_EVENTS[event].dump(data)
        skip_sid = list(skip) or None
        self.socketio.emit(event, payload, to=to, namespace=NAMESPACE, skip_sid=skip_sid)
        if legacy:
            self.socketio.emit(event, payload, to=to, namespace=LEGACY_NAMESPACE, skip_sid=skip_sid)

    def _namespace_of(self, sid: str) -> str:
        return LEGACY_NAMESPACE if self.presence.is_legacy(sid) else NAMESPACE

    def _emit_legacy(self, event: str, data: Any, to: str) -> None:
        """An event only the original namespace has."""
        with viewing_as(None):
            payload = LEGACY_SERVER_EVENTS[event].dump(data)
        self.socketio.emit(event, payload, to=to, namespace=LEGACY_NAMESPACE)

    def message_created(self, message: Message, legacy: bool = True) -> None:
        to = room_channel(message.room_id)
        self._emit("new_message", message, to, legacy=legacy)
        if legacy:
            self._emit_legacy("message", message, to)
        MESSAGES_STORED.inc()
        FANOUT.observe(self.presence.watching_count(message.room_id))

    def message_deleted(self, message: Message) -> None:
        payload = {"room_id": message.room_id, "message_id": message.id, "seq": message.seq}
        self._emit("message_deleted", payload, room_channel(message.room_id))

    def member_joined(self, room: Room, user: User) -> None:
        self._emit("user_joined", {"room_id": room.id, "user": user}, room_channel(room.id))

    def member_left(self, room: Room, user: User) -> None:
        """Announce, then stop the former member's sockets watching the room."""
        self._emit("user_left", {"room_id": room.id, "user": user}, room_channel(room.id))
        self._stop_watching(room.id, user.id)

    # -- accounts and moderation (issue 6) -------------------------------
    def member_invited(self, room: Room, user: User) -> None:
        """`user_joined` to the room, and to the invitee's sockets, which are not
        watching it yet: that is how their client learns of the room."""
        to = [room_channel(room.id), user_channel(user.id)]
        self._emit("user_joined", {"room_id": room.id, "user": user}, to)

    def member_removed(self, room: Room, user: User) -> None:
        """To the room and to the removed user's sockets (one copy each), then those
        sockets stop watching it, here and on every other process."""
        to = [room_channel(room.id), user_channel(user.id)]
        self._emit("member_removed", {"room_id": room.id, "user": user}, to)
        self._stop_watching(room.id, user.id)

    def _room_and_members(self, room_id: str) -> list[str]:
        """The room's watchers and its connected members who are not watching it (one
        look-up in the live state): a room's own news reaches everyone whose client
        lists it. Socket.IO sends each socket one copy, whatever channels it is in."""
        idle = self.presence.fanout(room_id).idle
        return [room_channel(room_id), *(user_channel(u) for u in sorted(idle))]

    def room_updated(self, room: Room) -> None:
        payload = {"room_id": room.id, "room": room}
        self._emit("room_updated", payload, self._room_and_members(room.id))

    def member_updated(self, room: Room, user: User, role: Role) -> None:
        payload = {"room_id": room.id, "user": user, "role": role}
        self._emit("member_updated", payload, [room_channel(room.id), user_channel(user.id)])

    def room_deleted(self, room: Room) -> None:
        """Announce, then empty the room's channel on every process: the queue carries
        `close_room` after the announcement, in order."""
        self._emit("room_deleted", {"room_id": room.id}, self._room_and_members(room.id))
        for namespace in (NAMESPACE, LEGACY_NAMESPACE):
            self.socketio.close_room(room_channel(room.id), namespace=namespace)
        self.presence.forget_room(room.id)
        self._order({"forget_room": room.id})

    def sessions_ended(self, user_id: str, session_ids: list[str]) -> None:
        """Close the sockets signed in with sessions that just ended: here at once, and
        on the other processes through the control channel."""
        if session_ids:
            self.close_sessions(session_ids)
            self._order({"close_sessions": session_ids}, wait=True)

    def account_closed(self, user_id: str) -> None:
        self.close_user(user_id)
        self._order({"close_user": user_id}, wait=True)

    # -- this process's sockets, and orders to the others ----------------
    def _order(self, order: dict[str, Any], wait: bool = False) -> None:
        """Tell the other processes; an order that stops delivery is waited for, so the
        request that caused it answers only once every process has carried it out."""
        if self.control is None:
            return
        if wait:
            self.control.publish_and_wait(order)
        else:
            self.control.publish(order)

    def _stop_watching(self, room_id: str, user_id: str) -> None:
        self.stop_watching(room_id, user_id)
        self._order({"leave_room": {"room_id": room_id, "user_id": user_id}}, wait=True)

    def stop_watching(self, room_id: str, user_id: str) -> None:
        for sid in self.presence.sockets_of(user_id):
            self.socketio.server.leave_room(
                sid, room_channel(room_id), namespace=self._namespace_of(sid)
            )
            self.presence.unwatch(room_id, sid)

    def _disconnect(self, sids: set[str]) -> None:
        for sid in sids:
            self.socketio.server.disconnect(
                sid, namespace=self._namespace_of(sid), ignore_queue=True
            )

    def close_sessions(self, session_ids: list[str]) -> None:
        self._disconnect(self.presence.sockets_of_sessions(session_ids))

    def close_user(self, user_id: str) -> None:
        self._disconnect(self.presence.sockets_of(user_id))

    def obey(self, order: dict[str, Any]) -> None:
        """Carry out an order from another process's control channel."""
        sessions = order.get("close_sessions")
        if isinstance(sessions, list):
            self.close_sessions([str(sid) for sid in sessions])
        if isinstance(order.get("close_user"), str):
            self.close_user(order["close_user"])
        leave = order.get("leave_room")
        if isinstance(leave, dict) and all(
            isinstance(leave.get(k), str) for k in ("room_id", "user_id")
        ):
            self.stop_watching(leave["room_id"], leave["user_id"])
        if isinstance(order.get("forget_room"), str):
            self.presence.forget_room(order["forget_room"])

    # -- messages and read state -------------------------------------------
    def message_edited(self, message: Message) -> None:
        self._emit("message_edited", message, room_channel(message.room_id))

    def notify(self, message: Message, user_ids: Iterable[str]) -> None:
        """One emit to every recipient's user channel, whatever their number."""
        to = [user_channel(user_id) for user_id in sorted(user_ids)]
        if to:
            self._emit("notification", {"room_id": message.room_id, "message": message}, to)

    def read_moved(self, room_id: str, user_id: str, seq: int) -> None:
        """To the room, and to the reader's other sockets (their unread counts)."""
        payload = {"room_id": room_id, "user_id": user_id, "seq": seq}
        self._emit("read", payload, [room_channel(room_id), user_channel(user_id)])

    # -- live --------------------------------------------------------------
    def typing(self, room_id: str, user: User, typing: bool, skip: Iterable[str]) -> None:
        payload = {"room_id": room_id, "user": user, "typing": typing}
        self._emit("typing", payload, room_channel(room_id), skip=skip)

    def presence_changed(
        self, user_id: str, online: bool, last_seen: datetime | None, to: Iterable[str]
    ) -> None:
        channels = [user_channel(u) for u in sorted(to)]
        if channels:
            payload = {"user_id": user_id, "online": online, "last_seen": last_seen}
            self._emit("presence", payload, channels)
