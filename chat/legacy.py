"""The eight original routes, kept exactly for existing curl scripts.

Each is a thin adapter onto the same service call as its /api twin. A `userID` in a
body is optional: the acting user is always the token's, and naming anyone else is 403.
"""

from __future__ import annotations

from typing import Any

from .auth import tokens
from .domain.errors import Forbidden
from .domain.models import Message, Page, Room, User
from .http import Blueprint, authenticated, me, services
from .http.limits import login_limits, register_limit
from .schemas.inputs import HistoryQuery
from .schemas.legacy import (
    LegacyCreateRoomIn,
    LegacyDeleteIn,
    LegacyJoinIn,
    LegacyLoginIn,
    LegacyRegisterIn,
    LegacySendIn,
)
from .schemas.outputs import MeOut, MessageOut, PageOut, RoomOut, RoomsOut, TokensOut

bp = Blueprint(
    "legacy",
    __name__,
    description=(
        "The original routes, kept exactly: bodies are JSON whatever the Content-Type, "
        "unknown fields are ignored and numeric ids are taken as their text."
    ),
)


def _acting(data: dict[str, Any]) -> dict[str, Any]:
    """Refuse a body that claims to act for somebody other than the token's user."""
    if data.pop("userID", None) not in (None, me().id):
        raise Forbidden("userID names another user; you may act only as yourself.")
    return data


@bp.post("/register")
@register_limit
@bp.arguments(LegacyRegisterIn, as_kwargs=True)
@bp.response(201, MeOut)
@bp.alt_response(409, "CONFLICT")
def register(**account: Any) -> User:
    return services().accounts.register(**account)


@bp.post("/login")
@login_limits
@bp.arguments(LegacyLoginIn)
@bp.response(200, TokensOut)
@bp.alt_response(401, "UNAUTHORIZED")
def login(credentials: dict[str, Any]) -> dict[str, Any]:
    return tokens.sign_in(credentials)


@bp.post("/create_room")
@authenticated
@bp.arguments(LegacyCreateRoomIn)
@bp.response(201, RoomOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def create_room(data: dict[str, Any]) -> Room:
    return services().rooms.create(me(), _acting(data)["roomname"])


@bp.post("/join_room")
@authenticated
@bp.arguments(LegacyJoinIn)
@bp.response(200, RoomOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(404, "NOT_FOUND")
def join_room(data: dict[str, Any]) -> Room:
    data = _acting(data)
    room, _ = services().rooms.join(me(), data["roomID"], data["password"])
    return room


@bp.post("/send_message")
@authenticated
@bp.arguments(LegacySendIn)
@bp.response(201, MessageOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(404, "NOT_FOUND")
def send_message(data: dict[str, Any]) -> tuple[Message, int]:
    data = _acting(data)
    message, created = services().messages.post(me(), data["roomID"], data["message"])
    return message, 201 if created else 200


@bp.post("/delete_message")
@authenticated
@bp.arguments(LegacyDeleteIn)
@bp.response(200, MessageOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(404, "NOT_FOUND")
def delete_message(data: dict[str, Any]) -> Message:
    data = _acting(data)
    return services().messages.delete(me(), data["roomID"], data["messageID"])


@bp.get("/get_messages/<room_id>")
@authenticated
@bp.arguments(HistoryQuery, location="query", as_kwargs=True)
@bp.response(200, PageOut)
@bp.alt_response(403, "FORBIDDEN")
def get_messages(room_id: str, **query: Any) -> Page:
    return services().messages.history(me(), room_id, **query)


@bp.get("/get_rooms")
@authenticated
@bp.response(200, RoomsOut)
def get_rooms() -> dict[str, Any]:
    return {"rooms": services().rooms.listing(me(), "all")}
