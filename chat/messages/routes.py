from __future__ import annotations

from typing import Any

from flask_jwt_extended import jwt_required

from ..http import load_body, load_query, me, services
from ..schemas.inputs import HistoryQuery, MessageIn
from ..schemas.outputs import message_out, page_out
from . import bp


@bp.get("")
@jwt_required()
def history(room_id: str) -> Any:
    return page_out(services().messages.history(me(), room_id, **load_query(HistoryQuery())))


@bp.post("")
@jwt_required()
def post_message(room_id: str) -> Any:
    """201 with the new message; 200 with the first one when `client_id` repeats."""
    message, created = services().messages.post(me(), room_id, **load_body(MessageIn()))
    return message_out.dump(message), 201 if created else 200


@bp.get("/<message_id>")
@jwt_required()
def get_message(room_id: str, message_id: str) -> Any:
    return message_out.dump(services().messages.get(me(), room_id, message_id))


@bp.delete("/<message_id>")
@jwt_required()
def delete_message(room_id: str, message_id: str) -> Any:
    return message_out.dump(services().messages.delete(me(), room_id, message_id))
