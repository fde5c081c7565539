"""What the server sends: the one shape of each resource, for REST and sockets alike."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_dump


class UserOut(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String(allow_none=True)
    avatar_url = fields.String(allow_none=True)
    online = fields.Boolean()
    last_seen = fields.DateTime(format="iso", allow_none=True)
    created_at = fields.DateTime(format="iso")


class MeOut(UserOut):
    """A user as its owner sees it: with the email nobody else is shown."""

    email = fields.String(allow_none=True)


class AuthorOut(Schema):
    id = fields.String()
    username = fields.String()
    display_name = fields.String(allow_none=True)


class MessageOut(Schema):
    id = fields.String()
    room_id = fields.String()
    seq = fields.Integer()
    author = fields.Nested(AuthorOut, allow_none=True)
    content = fields.String()
    type = fields.String()
    reply_to = fields.String(allow_none=True)
    created_at = fields.DateTime(format="iso")
    edited_at = fields.DateTime(format="iso", allow_none=True)
    deleted = fields.Boolean()
    client_id = fields.String(allow_none=True)


class RoomOut(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    description = fields.String()
    kind = fields.String()
    visibility = fields.String()
    has_password = fields.Boolean()
    owner_id = fields.String(allow_none=True)
    member_count = fields.Integer(allow_none=True)
    created_at = fields.DateTime(format="iso")
    last_message = fields.Nested(MessageOut, allow_none=True)
    unread_count = fields.Integer(allow_none=True)
    last_read_seq = fields.Integer(allow_none=True)

    @post_dump
    def _member_only(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Read markers are a member's own; a non-member's view has none."""
        if data.get("last_read_seq") is None:
            data.pop("unread_count", None)
            data.pop("last_read_seq", None)
        return data


class MemberOut(Schema):
    id = fields.String(attribute="user.id")
    username = fields.String(attribute="user.username")
    display_name = fields.String(attribute="user.display_name", allow_none=True)
    avatar_url = fields.String(attribute="user.avatar_url", allow_none=True)
    online = fields.Boolean(attribute="user.online")
    last_seen = fields.DateTime(format="iso", attribute="user.last_seen", allow_none=True)
    role = fields.String()
    joined_at = fields.DateTime(format="iso")


user_out = UserOut()
users_out = UserOut(many=True)
me_out = MeOut()
message_out = MessageOut()
messages_out = MessageOut(many=True)
room_out = RoomOut()
rooms_out = RoomOut(many=True)
members_out = MemberOut(many=True)


def page_out(page: Any) -> dict[str, Any]:
    return {"messages": messages_out.dump(page.messages), "has_more": page.has_more}
