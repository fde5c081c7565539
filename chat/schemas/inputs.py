"""What clients may send. Unknown fields are refused (422), so a typo is not ignored."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from .base import InputSchema
from .fields import USERNAME, Id, Trimmed, content, password, seq


class RegisterIn(InputSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = password(required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    display_name = Trimmed(max_len=64, load_default=None, allow_none=True)


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
