from __future__ import annotations

from typing import Any

from ..domain.models import Conversations, Room
from ..http import authenticated, me, services
from ..schemas.inputs import ConversationListQuery, ConversationOpenIn
from ..schemas.outputs import ConversationsOut, RoomOut
from . import bp


@bp.post("")
@authenticated
@bp.arguments(ConversationOpenIn, as_kwargs=True)
@bp.response(201, RoomOut)
@bp.alt_response(200, schema=RoomOut, description="The pair's conversation already existed.")
def open_conversation(**other: Any) -> tuple[Room, int]:
    """The one direct room of you and the user named (by exactly one of username, email
    or user_id): 201 when new, 200 when it exists. Not with yourself (422); a deleted
    or unknown account is 404."""
    room, created = services().conversations.open(me(), **other)
    return room, 201 if created else 200


@bp.get("")
@authenticated
@bp.arguments(ConversationListQuery, location="query", as_kwargs=True)
@bp.response(200, ConversationsOut)
def list_conversations(**query: Any) -> Conversations:
    """Yours, most recent activity first, each with the other `participant`,
    `last_message` and `unread_count`; `next_cursor` fetches the next page."""
    return services().conversations.listing(me(), **query)
