"""What the server sends: the one shape of each resource, for REST and sockets alike."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump

from .fast import FastDump
from .viewer import viewer


class ErrorOut(Schema):
    """Every error, over REST and in a failed acknowledgement."""

    code = fields.String(
        required=True,
        metadata={"description": "Machine-readable: invalid, unauthorized, forbidden, …"},
    )
    message = fields.String(required=True, metadata={"description": "For people."})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Per offending field, its messages (invalid input only)."},
    )
    retry_after = fields.Integer(
        metadata={"description": "Seconds to wait (`rate_limited` only; also `Retry-After`)."}
    )


class PublicUserOut(Schema):
    """A user as anybody may see them."""

    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    avatar_url = fields.String(allow_none=True)
    online = fields.Boolean()
    last_seen = fields.DateTime(format="iso", allow_none=True)
    created_at = fields.DateTime(format="iso")


class UserOut(PublicUserOut):
    """A user in an answer to one viewer: the email only when the viewer is that user."""

    email = fields.String(allow_none=True, metadata={"description": "Present to its owner only."})

    @post_dump
    def _email_to_its_owner(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data.get("id") is None or data["id"] != viewer():
            data.pop("email", None)
        return data


class MeOut(PublicUserOut):
    """A user as its owner sees it: with the email nobody else is shown."""

    email = fields.String(allow_none=True, required=True)


class AuthorOut(FastDump):
    class Meta:
        description = (
            'A message\'s author. A deleted account shows as `{id, username: "deleted", '
            'display_name: "Deleted account"}`: the id stays, so its messages still group.'
        )

    id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(allow_none=True)


class MessageOut(FastDump):
    id = fields.String(required=True)
    room_id = fields.String(required=True)
    seq = fields.Integer(required=True)
    author = fields.Nested(AuthorOut, allow_none=True)
    content = fields.String(required=True)
    type = fields.String()
    reply_to = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    edited_at = fields.DateTime(format="iso", allow_none=True)
    deleted = fields.Boolean()
    client_id = fields.String(allow_none=True)


class PublicRoomOut(Schema):
    """A room as anybody who may see it sees it (and as broadcasts carry it)."""

    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    description = fields.String()
    kind = fields.String()
    visibility = fields.String()
    has_password = fields.Boolean()
    owner_id = fields.String(allow_none=True)
    member_count = fields.Integer(allow_none=True)
    created_at = fields.DateTime(format="iso")
    last_activity_at = fields.DateTime(
        format="iso",
        allow_none=True,
        metadata={"description": "Its newest message's time, else its creation."},
    )
    last_message = fields.Nested(
        MessageOut,
        allow_none=True,
        metadata={"description": "The newest seq; a tombstone if it was deleted."},
    )


class RoomOut(PublicRoomOut):
    """A room in an answer to one viewer: with their read marker if they are a member."""

    unread_count = fields.Integer(
        metadata={"description": "Members only: messages past your marker, tombstones aside."}
    )
    last_read_seq = fields.Integer(metadata={"description": "Members only."})
    participant = fields.Nested(
        PublicUserOut,
        metadata={"description": "Direct rooms only: the other person."},
    )

    @post_dump
    def _member_only(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Read markers are a member's own; a non-member's view has none."""
        if data.get("last_read_seq") is None:
            data.pop("unread_count", None)
            data.pop("last_read_seq", None)
        if data.get("participant") is None:
            data.pop("participant", None)
        return data


class MemberOut(Schema):
    id = fields.String(attribute="user.id", required=True)
    username = fields.String(attribute="user.username", required=True)
    display_name = fields.String(attribute="user.display_name", allow_none=True)
    avatar_url = fields.String(attribute="user.avatar_url", allow_none=True)
    online = fields.Boolean(attribute="user.online")
    last_seen = fields.DateTime(format="iso", attribute="user.last_seen", allow_none=True)
    role = fields.String(required=True)
    joined_at = fields.DateTime(format="iso")


class PageOut(Schema):
    """A slice of history, oldest first; `has_more` says the range goes on."""

    messages = fields.List(fields.Nested(MessageOut), required=True)
    has_more = fields.Boolean(required=True)


class SearchPageOut(Schema):
    """Search results, newest first; `has_more`: page on with `before` the last seq."""

    messages = fields.List(fields.Nested(MessageOut), required=True)
    has_more = fields.Boolean(required=True)


class ReadStateOut(Schema):
    room_id = fields.String(required=True)
    last_read_seq = fields.Integer(required=True)
    unread_count = fields.Integer(required=True)


class OnlineOut(Schema):
    room_id = fields.String(required=True)
    users = fields.List(
        fields.Nested(UserOut),
        required=True,
        metadata={"description": "Members connected now and watching the room."},
    )


class ConversationsOut(Schema):
    conversations = fields.List(
        fields.Nested(RoomOut),
        required=True,
        attribute="rooms",
        metadata={"description": "Direct rooms, most recent activity first."},
    )
    next_cursor = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


class RoomsOut(Schema):
    rooms = fields.List(fields.Nested(RoomOut), required=True)


class MembersOut(Schema):
    members = fields.List(fields.Nested(MemberOut), required=True)


class UsersOut(Schema):
    users = fields.List(fields.Nested(UserOut), required=True)


class UserSearchOut(UsersOut):
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as `cursor` for the next page; null at the end."},
    )


class TokensOut(Schema):
    access_token = fields.String(required=True)
    refresh_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})
    user = fields.Nested(MeOut, required=True)


class AccessTokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds."})


class HealthOut(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "degraded"]})
    database = fields.String(required=True, metadata={"enum": ["ok", "down"]})
