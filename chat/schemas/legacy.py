"""Bodies of the eight original routes, kept as their curl scripts send them.

These tolerate unknown fields (old scripts send extras) and accept numeric ids.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, fields, pre_load

from .base import InputSchema
from .fields import Id, Trimmed, content
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
