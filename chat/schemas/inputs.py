"""What clients may send. Unknown fields are refused (422), so a typo is not ignored."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import InputSchema
from .fields import USERNAME, Id, Trimmed, avatar_url, content, display_name, password, seq


class RegisterIn(InputSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = password(required=True)
    email = fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "Required when the server verifies emails."},
    )
    display_name = display_name(load_default=None)


class LoginIn(InputSchema):
    username = fields.String(load_default=None, validate=validate.Length(max=254))
    email = fields.String(load_default=None, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(max=1024))

    @validates_schema
    def _one_login(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not (data.get("username") or data.get("email")):
            raise ValidationError("Give a username or an email.", "username")


class LogoutIn(InputSchema):
    refresh_token = fields.String(load_default=None, validate=validate.Length(max=4096))


# -- accounts (issue 6) -------------------------------------------------------------


def _current_password() -> fields.String:
    return fields.String(required=True, validate=validate.Length(max=1024))


class VerifyIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    code = fields.String(
        required=True, validate=validate.Regexp(r"^[0-9]{6}$", error="The 6 digits mailed to you.")
    )


class ResendIn(InputSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class ProfilePatchIn(InputSchema):
    """Only the fields given change; null clears a display name or an avatar."""

    username = fields.String(validate=USERNAME)
    display_name = display_name()
    avatar_url = avatar_url(allow_none=True)


class ProfilePutIn(InputSchema):
    """The whole editable profile: a field left out is cleared."""

    username = fields.String(required=True, validate=USERNAME)
    display_name = display_name(load_default=None)
    avatar_url = avatar_url(load_default=None, allow_none=True)


class PasswordChangeIn(InputSchema):
    new_password = password(required=True)  # before `password` below shadows the helper
    password = _current_password()


class AccountDeleteIn(InputSchema):
    password = _current_password()


class UserSearchQuery(InputSchema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=64),
        metadata={"description": "A prefix of the username or display name, any case."},
    )
    limit = fields.Integer(strict=False, load_default=20, validate=validate.Range(min=1, max=50))
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=512),
        metadata={"description": "`next_cursor` of the previous page."},
    )


class RoomCreateIn(InputSchema):
    name = Trimmed(max_len=64, required=True)
    description = Trimmed(min_len=0, max_len=500, load_default="")
    visibility = fields.String(
        load_default="public", validate=validate.OneOf(["public", "private"])
    )
    password = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=128)
    )


class RoomJoinIn(InputSchema):
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))


class RoomUpdateIn(InputSchema):
    """Only the fields given change; a null password removes it."""

    name = Trimmed(max_len=64)
    description = Trimmed(min_len=0, max_len=500)
    visibility = fields.String(validate=validate.OneOf(["public", "private"]))
    password = fields.String(allow_none=True, validate=validate.Length(min=1, max=128))


class InviteIn(InputSchema):
    user_id = Id(required=True)


class RoleIn(InputSchema):
    role = fields.String(
        required=True,
        validate=validate.OneOf(["owner", "admin", "member"]),
        metadata={"description": "`owner` hands ownership over; you become an admin."},
    )


class RoomListQuery(InputSchema):
    scope = fields.String(
        load_default="joined", validate=validate.OneOf(["joined", "public", "all"])
    )


class MessageIn(InputSchema):
    content = content(required=True)
    reply_to = Id(load_default=None, allow_none=True)
    client_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )


class MessageEditIn(InputSchema):
    content = content(required=True)


class ReadIn(InputSchema):
    seq = seq(required=True, metadata={"description": "Past the room's last: its last."})


class SearchQuery(InputSchema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Words, all of which a message must contain."},
    )
    before = seq(load_default=None, metadata={"description": "Only seqs below this one."})
    limit = fields.Integer(strict=False, load_default=20, validate=validate.Range(min=1, max=100))


class ConversationOpenIn(InputSchema):
    """The other person: exactly one of username, email or user id."""

    username = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    email = fields.String(load_default=None, validate=validate.Length(min=1, max=254))
    user_id = Id(load_default=None)

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        given = [k for k in ("username", "email", "user_id") if data.get(k)]
        if len(given) != 1:
            raise ValidationError("Give exactly one of username, email or user_id.", "_schema")


class ConversationListQuery(InputSchema):
    limit = fields.Integer(strict=False, load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class HistoryQuery(InputSchema):
    before = seq(load_default=None)
    after = seq(load_default=None)
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(min=1, max=100))


# -- Socket.IO payloads: the REST bodies plus the room they name ------------------


class RoomRef(InputSchema):
    room_id = Id(required=True)


class SocketJoinIn(RoomRef):
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    after_seq = seq(load_default=None, allow_none=True)


class SocketMessageIn(RoomRef, MessageIn):
    pass


class MessageRef(RoomRef):
    message_id = Id(required=True)


class SocketFetchIn(RoomRef, HistoryQuery):
    pass


class SocketEditIn(MessageRef, MessageEditIn):
    pass


class SocketTypingIn(RoomRef):
    typing = fields.Boolean(required=True)


class SocketReadIn(RoomRef, ReadIn):
    pass
