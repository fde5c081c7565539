"""The eight original routes, kept exactly for existing curl scripts.

Each is a thin adapter onto the same service call as its /api twin. A `userID` in a
body is optional: the acting user is always the token's, and naming anyone else is 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_jwt_extended import jwt_required

from .auth import tokens
from .domain.errors import Forbidden
from .http import load_body, load_query, me, services
from .schemas.inputs import HistoryQuery
from .schemas.legacy import (
    LegacyCreateRoomIn,
    LegacyDeleteIn,
    LegacyJoinIn,
    LegacyLoginIn,
    LegacyRegisterIn,
    LegacySendIn,
)
from .schemas.outputs import me_out, message_out, page_out, room_out, rooms_out

bp = Blueprint("legacy", __name__)


def _acting(data: dict[str, Any]) -> dict[str, Any]:
    """Refuse a body that claims to act for somebody other than the token's user."""
    if data.pop("userID", None) not in (None, me().id):
        raise Forbidden("userID names another user; you may act only as yourself.")
    return data


@bp.post("/register")
def register() -> Any:
    return me_out.dump(services().accounts.register(**load_body(LegacyRegisterIn()))), 201


@bp.post("/login")
def login() -> Any:
    return tokens.sign_in(load_body(LegacyLoginIn()))


@bp.post("/create_room")
@jwt_required()
def create_room() -> Any:
    data = _acting(load_body(LegacyCreateRoomIn()))
    return room_out.dump(services().rooms.create(me(), data["roomname"])), 201


@bp.post("/join_room")
@jwt_required()
def join_room() -> Any:
    data = _acting(load_body(LegacyJoinIn()))
    room, _ = services().rooms.join(me(), data["roomID"], data["password"])
    return room_out.dump(room)


@bp.post("/send_message")
@jwt_required()
def send_message() -> Any:
    data = _acting(load_body(LegacySendIn()))
    message, created = services().messages.post(me(), data["roomID"], data["message"])
    return message_out.dump(message), 201 if created else 200


@bp.post("/delete_message")
@jwt_required()
def delete_message() -> Any:
    data = _acting(load_body(LegacyDeleteIn()))
    return message_out.dump(services().messages.delete(me(), data["roomID"], data["messageID"]))


@bp.get("/get_messages/<room_id>")
@jwt_required()
def get_messages(room_id: str) -> Any:
    return page_out(services().messages.history(me(), room_id, **load_query(HistoryQuery())))


@bp.get("/get_rooms")
@jwt_required()
def get_rooms() -> Any:
    return {"rooms": rooms_out.dump(services().rooms.listing(me(), "all"))}
