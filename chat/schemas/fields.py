"""Field types shared by the REST and Socket.IO schemas, so one rule bounds both."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate

CONTENT_MAX = 4000
USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_.-]{3,32}$",
    error="3 to 32 letters, digits, '_', '.' or '-'.",
)


class Id(fields.String):
    """An id is a string; old clients send numbers, which are taken as their text."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Length(min=1, max=64))
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValidationError("Must be an id string.")
        return str(value).strip()  # its length is checked by the validator


class Trimmed(fields.String):
    """A string stripped of surrounding white space before its length is checked."""

    def __init__(self, *, min_len: int = 1, max_len: int, **kwargs: Any):
        super().__init__(validate=validate.Length(min=min_len, max=max_len), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def content(**kwargs: Any) -> Trimmed:
    """Message text: 1–4000 characters once trimmed; stored as text, never HTML."""
    return Trimmed(max_len=CONTENT_MAX, **kwargs)


def password(**kwargs: Any) -> fields.String:
    # The upper bound keeps one login from costing the hasher megabytes.
    return fields.String(validate=validate.Length(min=8, max=1024), **kwargs)


def avatar_url(**kwargs: Any) -> fields.URL:
    """An http(s) address of an image, kept as given (never fetched by the server)."""
    return fields.URL(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2048),
        **kwargs,
    )


def display_name(**kwargs: Any) -> Trimmed:
    return Trimmed(max_len=64, allow_none=True, **kwargs)


def seq(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=False, validate=validate.Range(min=0, max=2**53), **kwargs)
