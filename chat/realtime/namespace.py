"""The /chat namespace. Each handler authenticates, validates, calls one service
function and shapes its answer; the rules themselves live in the services."""

from __future__ import annotations

import functools
from collections.abc import Callable
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
from marshmallow import Schema

from ..domain.errors import ChatError, Unauthorized
from ..domain.models import User
from ..extensions import socketio
from ..http import services
from ..schemas.inputs import MessageRef, RoomRef, SocketFetchIn, SocketJoinIn, SocketMessageIn
from ..schemas.outputs import message_out, page_out, room_out, users_out
from ..services.presence import Session
from . import NAMESPACE, room_channel, user_channel
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
    """The socket's token was revoked or its account is gone since it connected."""

    def __init__(self) -> None:
        super().__init__("unauthorized")


def _close_after_reply(sid: str) -> None:
    """Close a socket once its pending reply is out: a task that runs after this handler
    returns, so the ack and `error` event leave before the disconnect."""

    def close() -> None:
        socketio.sleep(0)
        socketio.server.disconnect(sid, namespace=NAMESPACE)

    socketio.start_background_task(close)


def event(schema: type[Schema]) -> Callable:
    """Wrap a handler: re-check the session, validate the payload, turn errors into acks.

    A failure is acknowledged `{ok: false, error}` and also sent as an `error` event,
    because the server cannot tell whether the client asked for an acknowledgement.
    """

    def wrap(handler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        @functools.wraps(handler)
        def run(self: ChatNamespace, data: Any = None) -> dict[str, Any]:
            try:
                user = self.current_user()
                if not isinstance(data, dict):
                    raise ChatError("The payload must be an object.")
                return {"ok": True, **handler(self, user, **schema().load(data))}
            except Exception as error:  # every failure becomes an ack, none kills the socket
                ack = failed(error)
                emit("error", {"event": handler.__name__.removeprefix("on_"), **ack["error"]})
                if isinstance(error, SessionEnded):
                    _close_after_reply(current_sid())
                return ack

        return run

    return wrap


class ChatNamespace(Namespace):
    # -- connection ------------------------------------------------------
    def on_connect(self, auth: Any = None) -> None:
        """Refuse a bad, expired, revoked or non-access token with `unauthorized`."""
        session = self._authenticate(_token(auth))
        if session is None:
            raise ConnectionRefusedError("unauthorized")
        join_room(user_channel(session.user_id))
        services().presence.connect(current_sid(), session)

    def _authenticate(self, token: str | None) -> Session | None:
        if not token:
            return None
        try:
            claims = decode_token(token)
            if claims.get("type") != "access":
                return None
            user = services().accounts.session_user(claims["sub"], claims["jti"])
        except Exception:  # any decoding or checking failure is just "unauthorized"
            return None
        return Session(user.id, claims["jti"])

    def on_disconnect(self, reason: Any = None) -> None:
        services().presence.disconnect(current_sid())

    def current_user(self) -> User:
        """The socket's user, re-checked: a token revoked since connect ends the socket."""
        session = services().presence.session(current_sid())
        if session is None:
            raise SessionEnded()
        try:
            return services().accounts.session_user(session.user_id, session.jti)
        except Unauthorized as refused:
            raise SessionEnded() from refused

    # -- events ----------------------------------------------------------
    @event(SocketJoinIn)
    def on_join(self, user: User, room_id: str, password: str | None, after_seq: int | None):
        """Watch a room live (joining it if public) and get what was missed.

        The socket enters the room before history is read, so nothing falls between
        the two; a message may then come both ways, and clients drop repeats by seq.
        """
        room, _ = services().rooms.join(user, room_id, password)
        join_room(room_channel(room.id))
        services().presence.watch(room.id, user.id, current_sid())
        page = services().messages.history(user, room.id, after=after_seq)
        return {"room": room_out.dump(room), "last_read_seq": room.last_read_seq, **page_out(page)}

    @event(RoomRef)
    def on_leave(self, user: User, room_id: str):
        """Stop watching; the membership stays."""
        leave_room(room_channel(room_id))
        services().presence.unwatch(room_id, current_sid())
        return {"room_id": room_id}

    @event(SocketMessageIn)
    def on_message(self, user: User, room_id: str, **message: Any):
        """Acknowledged only once stored; the broadcast comes from the service."""
        stored, created = services().messages.post(user, room_id, **message)
        return {"message": message_out.dump(stored), "created": created}

    @event(MessageRef)
    def on_delete_message(self, user: User, room_id: str, message_id: str):
        return {"message": message_out.dump(services().messages.delete(user, room_id, message_id))}

    @event(SocketFetchIn)
    def on_fetch(self, user: User, room_id: str, **query: Any):
        return page_out(services().messages.history(user, room_id, **query))

    @event(RoomRef)
    def on_online(self, user: User, room_id: str):
        return {"room_id": room_id, "users": users_out.dump(services().rooms.online(user, room_id))}
