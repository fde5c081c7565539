"""The /chat namespace, and the original events on `/` (SPEC 3.1). Each handler
authenticates, validates, calls one service function and shapes its answer; the rules
themselves live in the services.

The original namespace is the same handlers under the original key names: its own
contract table (`LEGACY_CLIENT_EVENTS`) loads `roomID`, `messageID` and `message` into
what the /chat handlers take, so both run the same code."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import request
from flask_jwt_extended import decode_token
from flask_socketio import (
    ConnectionRefusedError,
    Namespace,
    emit,
    join_room,
    leave_room,
)

from ..domain.errors import ChatError, RateLimited, Unauthorized
from ..domain.models import User
from ..extensions import socketio
from ..http import services
from ..ops.logs import log_event
from ..ops.metrics import SOCKET_CONNECTIONS, SOCKET_EVENTS
from ..schemas.events import (
    CLIENT_EVENTS,
    LEGACY_CLIENT_EVENTS,
    ClientEvent,
    ErrorEvent,
    shared,
)
from ..schemas.viewer import viewing_as
from ..services.presence import Session
from . import LEGACY_NAMESPACE, room_channel, user_channel
from .acks import failed


def current_sid() -> str:
    """The socket of the event being handled (Flask-SocketIO sets it on the request)."""
    return str(request.sid)  # type: ignore[attr-defined]


def _token(auth: Any) -> str | None:
    """From `auth: {token}` or `?token=`, with or without a `Bearer ` prefix."""
    token = auth.get("token") if isinstance(auth, dict) else None
    token = token or request.args.get("token")
    if not isinstance(token, str):
        return None
    return token.removeprefix("Bearer ").strip() or None


class SessionEnded(Unauthorized):
    """The socket's sign-in session ended or its account is gone since it connected."""

    def __init__(self) -> None:
        super().__init__("unauthorized")


def _close_after_reply(sid: str, namespace: str) -> None:
    """Close a socket once its pending reply is out: a task that runs after this handler
    returns, so the ack and `error` event leave before the disconnect."""

    def close() -> None:
        socketio.sleep(0)
        socketio.server.disconnect(sid, namespace=namespace)

    socketio.start_background_task(close)


def event(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Wrap a handler: re-check the session, validate the payload with the event's
    schema, shape the ack with its ack schema, and turn any failure into an ack.

    The event is the handler's name without `on_`; its schemas are in the namespace's
    table (`EVENTS`, from `chat.schemas.events`). A failure is acknowledged `{ok:
    false, error}` and also sent as an `error` event, because the server cannot tell
    whether the client asked for an acknowledgement.
    """
    name = handler.__name__.removeprefix("on_")

    @functools.wraps(handler)
    def run(self: SocketNamespace, *args: Any) -> dict[str, Any]:
        contract = self.EVENTS[name]
        started = time.perf_counter()
        user: User | None = None
        try:
            services().socket_budget.spend(
                "socket", current_sid(), "This socket is sending events too fast."
            )
            user = self.current_user()
            if len(args) != 1 or not isinstance(args[0], dict):
                raise ChatError("Send one payload, an object, with the event.")
            with viewing_as(user.id):
                result = handler(self, user, **contract.load(args[0]))
                ack = contract.dump_ack({"ok": True, **result})
        except Exception as error:  # every failure becomes an ack, none kills the socket
            ack = failed(error)
            emit("error", shared(ErrorEvent).dump({"event": contract.name, **ack["error"]}))
            if isinstance(error, SessionEnded):
                _close_after_reply(current_sid(), self.namespace)
        code = None if ack["ok"] else ack["error"]["code"]
        SOCKET_EVENTS.labels(contract.name, code or "ok").inc()
        user_id = user.id if user else None
        log_event(
            contract.name, self.namespace, current_sid(), user_id, code or "ok", started, code
        )
        return ack

    return run


class SocketNamespace(Namespace):
    """What both namespaces share: signing in, the session, and the live layer."""

    EVENTS: dict[str, ClientEvent] = CLIENT_EVENTS

    @property
    def legacy(self) -> bool:
        return self.namespace == LEGACY_NAMESPACE

    # -- connection ------------------------------------------------------
    def on_connect(self, auth: Any = None) -> None:
        """Refuse a bad, expired or non-access token, or one whose session ended, with
        `unauthorized`."""
        try:  # a client reconnecting in a loop slows itself down, nobody else
            services().budgets.spend("connect", request.remote_addr or "")
        except RateLimited as limited:
            raise ConnectionRefusedError("rate_limited") from limited
        session = self._authenticate(_token(auth))
        if session is None:
            raise ConnectionRefusedError("unauthorized")
        join_room(user_channel(session.user_id))
        services().live.connected(current_sid(), session, self.legacy)
        SOCKET_CONNECTIONS.inc()

    def _authenticate(self, token: str | None) -> Session | None:
        if not token:
            return None
        try:
            claims = decode_token(token)
            if claims.get("type") != "access":
                return None
            user = services().accounts.session_user(claims["sub"], claims.get("sid"))
        except Exception:  # any decoding or checking failure is just "unauthorized"
            return None
        return Session(user.id, claims["sid"])

    def on_disconnect(self, reason: Any = None) -> None:
        if services().live.disconnected(current_sid()) is not None:
            SOCKET_CONNECTIONS.dec()

    def current_user(self) -> User:
        """The socket's user, re-checked: a session ended since connect (on any process)
        ends the socket."""
        session = services().presence.session(current_sid())
        if session is None:
            raise SessionEnded()
        try:
            return services().accounts.session_user(session.user_id, session.session_id)
        except Unauthorized as refused:
            raise SessionEnded() from refused


class ChatNamespace(SocketNamespace):
    """/chat: every client event of SPEC 3."""

    EVENTS = CLIENT_EVENTS

    # -- events ----------------------------------------------------------
    @event
    def on_join(
        self, user: User, room_id: str, password: str | None, after_seq: int | None
    ) -> dict[str, Any]:
        """Watch a room live (joining it if public) and get what was missed.

        The socket enters the room before history is read, so nothing falls between
        the two; a message may then come both ways, and clients drop repeats by seq.
        """
        room, _ = services().rooms.join(user, room_id, password)
        join_room(room_channel(room.id))
        services().live.watch(user, current_sid(), room.id)
        page = services().messages.history(user, room.id, after=after_seq)
        return {
            "room": room,
            "last_read_seq": room.last_read_seq,
            "messages": page.messages,
            "has_more": page.has_more,
        }

    @event
    def on_leave(self, user: User, room_id: str) -> dict[str, Any]:
        """Stop watching (and typing there); the membership stays."""
        leave_room(room_channel(room_id))
        services().live.unwatch(current_sid(), room_id)
        return {"room_id": room_id}

    @event
    def on_message(self, user: User, room_id: str, **message: Any) -> dict[str, Any]:
        """Acknowledged only once stored; the broadcast comes from the service."""
        stored, created = services().messages.post(user, room_id, **message)
        return {"message": stored, "created": created}

    @event
    def on_delete_message(self, user: User, room_id: str, message_id: str) -> dict[str, Any]:
        return {"message": services().messages.delete(user, room_id, message_id)}

    @event
    def on_edit_message(
        self, user: User, room_id: str, message_id: str, content: str
    ) -> dict[str, Any]:
        return {"message": services().messages.edit(user, room_id, message_id, content)}

    @event
    def on_typing(self, user: User, room_id: str, typing: bool) -> dict[str, Any]:
        services().live.typing(user, current_sid(), room_id, typing)
        return {"room_id": room_id, "typing": typing}

    @event
    def on_read(self, user: User, room_id: str, seq: int) -> dict[str, Any]:
        return asdict(services().messages.mark_read(user, room_id, seq))

    @event
    def on_fetch(self, user: User, room_id: str, **query: Any) -> dict[str, Any]:
        page = services().messages.history(user, room_id, **query)
        return {"messages": page.messages, "has_more": page.has_more}

    @event
    def on_online(self, user: User, room_id: str) -> dict[str, Any]:
        return {"room_id": room_id, "users": services().live.online(user, room_id)}


class LegacyNamespace(SocketNamespace):
    """`/` (SPEC 3.1): the original four events, under their original key names, run by
    the /chat handlers themselves. Its sockets hear every /chat event of the rooms they
    watch, and `message` in the original flat shape."""

    EVENTS = LEGACY_CLIENT_EVENTS

    on_join = ChatNamespace.on_join
    on_leave = ChatNamespace.on_leave
    on_message = ChatNamespace.on_message
    on_delete_message = ChatNamespace.on_delete_message
