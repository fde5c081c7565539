"""Bodies of the eight original routes, kept as their curl scripts send them.

These tolerate unknown fields (old scripts send extras) and accept numeric ids.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import EXCLUDE, ValidationError, fields, post_load, pre_load, validate

from .base import InputSchema
from .fields import Id, Trimmed, content, seq
from .inputs import LoginIn, RegisterIn


class _Legacy(InputSchema):
    class Meta:
        unknown = EXCLUDE

    userID = Id(load_default=None, allow_none=True)  # noqa: N815 - the original field name


class LegacyRegisterIn(RegisterIn):
    class Meta:
        unknown = EXCLUDE


class LegacyLoginIn(LoginIn):
    class Meta:
        unknown = EXCLUDE


class LegacyCreateRoomIn(_Legacy):
    roomname = Trimmed(max_len=64, required=True)


class LegacyRoomIn(_Legacy):
    roomID = Id(required=True)  # noqa: N815


class LegacyJoinIn(LegacyRoomIn):
    password = fields.String(load_default=None, allow_none=True)


class LegacySendIn(LegacyRoomIn):
    message = content(required=True)

    @pre_load
    def _content_alias(self, data: Any, **kwargs: Any) -> Any:
        """`content` is accepted for `message`, as the newer clients call it."""
        if isinstance(data, dict) and "message" not in data and "content" in data:
            data = {**data, "message": data["content"]}
            del data["content"]
        return data


class LegacyDeleteIn(LegacyRoomIn):
    messageID = Id(required=True)  # noqa: N815


# -- SPEC 3.1: the original Socket.IO events on the default namespace `/` ---------------
#
# They take the original key names (`roomID`, `messageID`, `message`) or the new ones,
# ignore keys they do not know (old clients send `userID`, `username`…: the acting user
# is always the socket's), and load into exactly what the /chat handlers take.


def _either(data: dict[str, Any], old: str, new: str, required: bool = True) -> Any:
    original, newer = data.pop(old, None), data.pop(new, None)
    value = original if original is not None else newer
    if value is None and required:
        raise ValidationError(f"Give {old} (or {new}).", old)
    return value


class _LegacySocketRoom(InputSchema):
    class Meta:
        unknown = EXCLUDE

    roomID = Id(load_default=None)  # noqa: N815 - the original field name
    room_id = Id(load_default=None)

    @post_load
    def _new_names(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["room_id"] = _either(data, "roomID", "room_id")
        return data


class LegacySocketRoomIn(_LegacySocketRoom):
    pass


class LegacySocketJoinIn(_LegacySocketRoom):
    password = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    after_seq = seq(load_default=None, allow_none=True)


class LegacySocketMessageIn(_LegacySocketRoom):
    message = content(load_default=None)
    content = content(load_default=None)
    reply_to = Id(load_default=None, allow_none=True)
    client_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=64)
    )

    @post_load
    def _content(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["content"] = _either(data, "message", "content")
        return data


class LegacySocketDeleteIn(_LegacySocketRoom):
    messageID = Id(load_default=None)  # noqa: N815
    message_id = Id(load_default=None)

    @post_load
    def _message(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["message_id"] = _either(data, "messageID", "message_id")
        return data


class LegacyMessageOut(ma.Schema):
    """A new message in the original flat shape, sent on `/` as `message`."""

    messageID = fields.String(attribute="id", required=True)  # noqa: N815
    roomID = fields.String(attribute="room_id", required=True)  # noqa: N815
    userID = fields.String(attribute="author_id", allow_none=True, required=True)  # noqa: N815
    username = fields.Method("_username", allow_none=True, required=True)
    content = fields.String(required=True)
    created_at = fields.DateTime(format="iso", required=True)

    def _username(self, message: Any) -> str | None:
        author = getattr(message, "author", None)
        return author.username if author else None
