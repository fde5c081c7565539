from __future__ import annotations

from typing import Any

from ..domain.models import Message, Page
from ..http import authenticated, me, services
from ..schemas.inputs import HistoryQuery, MessageEditIn, MessageIn, SearchQuery
from ..schemas.outputs import MessageOut, PageOut, SearchPageOut
from . import bp


@bp.get("")
@authenticated
@bp.arguments(HistoryQuery, location="query", as_kwargs=True)
@bp.response(200, PageOut)
@bp.alt_response(403, "FORBIDDEN")
def history(room_id: str, **query: Any) -> Page:
    """A page of history, oldest first: after `after` (catching up), else before
    `before` or the newest."""
    return services().messages.history(me(), room_id, **query)


@bp.post("")
@authenticated
@bp.arguments(MessageIn, as_kwargs=True)
@bp.response(201, MessageOut)
@bp.alt_response(200, schema=MessageOut, description="A repeated `client_id`: the first one.")
@bp.alt_response(403, "FORBIDDEN")
def post_message(room_id: str, **message: Any) -> tuple[Message, int]:
    """Store and broadcast; 200 with the first message when `client_id` repeats."""
    stored, created = services().messages.post(me(), room_id, **message)
    return stored, 201 if created else 200


@bp.get("/search")
@authenticated
@bp.arguments(SearchQuery, location="query", as_kwargs=True)
@bp.response(200, SearchPageOut)
@bp.alt_response(403, "FORBIDDEN")
def search(room_id: str, **query: Any) -> Page:
    """Messages with every word of `q`, newest first; page on with `before` the last
    seq. Words are letters and digits: quotes, `*`, `-` or `NEAR` are plain text."""
    return services().messages.search(me(), room_id, **query)


@bp.get("/<message_id>")
@authenticated
@bp.response(200, MessageOut)
@bp.alt_response(403, "FORBIDDEN")
def get_message(room_id: str, message_id: str) -> Message:
    return services().messages.get(me(), room_id, message_id)


@bp.delete("/<message_id>")
@authenticated
@bp.response(200, MessageOut)
@bp.alt_response(403, "FORBIDDEN")
def delete_message(room_id: str, message_id: str) -> Message:
    """The author or a room admin; the message stays as a tombstone."""
    return services().messages.delete(me(), room_id, message_id)


@bp.patch("/<message_id>")
@authenticated
@bp.arguments(MessageEditIn, as_kwargs=True)
@bp.response(200, MessageOut)
@bp.alt_response(403, "FORBIDDEN")
@bp.alt_response(409, "CONFLICT")
def edit_message(room_id: str, message_id: str, content: str) -> Message:
    """The author only; a deleted message cannot be edited (409)."""
    return services().messages.edit(me(), room_id, message_id, content)
