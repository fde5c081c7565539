"""The one place that emits. With a message queue configured, `socketio.emit` goes
through Redis, so an announcement made in one process reaches sockets on all of them.

Every payload is shaped by its event's schema in `chat.schemas.events` (the AsyncAPI
document is made from the same table), with nobody as the viewer: a broadcast is seen
by many, so it never carries what only one of them may see.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIO

from ..domain.models import Message, Room, User
from ..ops.metrics import FANOUT, MESSAGES_STORED
from ..schemas.events import SERVER_EVENTS
from ..schemas.viewer import viewing_as
from ..services.presence import Presence
from . import NAMESPACE, room_channel
from .control import ControlChannel


class SocketPublisher:
    def __init__(
        self, socketio: SocketIO, presence: Presence, control: ControlChannel | None = None
    ):
        self.socketio = socketio
        self.presence = presence
        self.control = control

    def _emit(self, event: str, data: Any, to: str) -> None:
        with viewing_as(None):
            payload = SERVER_EVENTS[event].payload().dump(data)
        self.socketio.emit(event, payload, to=to, namespace=NAMESPACE)

    def message_created(self, message: Message) -> None:
        self._emit("new_message", message, room_channel(message.room_id))
        MESSAGES_STORED.inc()
        FANOUT.observe(self.presence.watching_count(message.room_id))

    def message_deleted(self, message: Message) -> None:
        payload = {"room_id": message.room_id, "message_id": message.id, "seq": message.seq}
        self._emit("message_deleted", payload, room_channel(message.room_id))

    def member_joined(self, room: Room, user: User) -> None:
        self._emit("user_joined", {"room_id": room.id, "user": user}, room_channel(room.id))

    def member_left(self, room: Room, user: User) -> None:
        """Announce, then stop the former member's sockets from watching the room."""
        self._emit("user_left", {"room_id": room.id, "user": user}, room_channel(room.id))
        for sid in self.presence.sockets_of(user.id):
            self.socketio.server.leave_room(sid, room_channel(room.id), namespace=NAMESPACE)
            self.presence.unwatch(room.id, sid)

    def tokens_revoked(self, user_id: str, jtis: list[str]) -> None:
        """Close the sockets that signed in with a token that was just revoked: here at
        once, and on the other processes through the control channel."""
        self.close_sessions(jtis)
        if self.control:
            self.control.publish({"close_tokens": jtis})

    def close_sessions(self, jtis: list[str]) -> None:
        for sid in self.presence.sockets_with_tokens(jtis):
            self.socketio.server.disconnect(sid, namespace=NAMESPACE, ignore_queue=True)

    def obey(self, order: dict[str, Any]) -> None:
        """Carry out an order from another process's control channel."""
        if isinstance(order.get("close_tokens"), list):
            self.close_sessions([str(jti) for jti in order["close_tokens"]])
