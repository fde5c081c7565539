"""The base of every schema that reads client input, over REST and sockets alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma

NOT_TEXT = "Must be valid Unicode text: lone surrogates (such as \\ud800) are not allowed."


def _has_lone_surrogate(value: Any, depth: int = 0) -> bool:
    """JSON may carry `\\ud800`, which no store or encoder can take as text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if depth > 32:  # deeper than any schema of ours: the schema refuses it anyway
        return False
    if isinstance(value, Mapping):
        return any(_has_lone_surrogate(k, depth + 1) for k in value) or any(
            _has_lone_surrogate(v, depth + 1) for v in value.values()
        )
    if isinstance(value, list | tuple):
        return any(_has_lone_surrogate(v, depth + 1) for v in value)
    return False


def _printable(key: Any) -> str:
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


class InputSchema(ma.Schema):
    """Refuses, field by field, text that is not valid Unicode, before any field sees it.

    Without this a lone surrogate reached the store or the JSON encoder and became a
    500; now it is a 422 (or an `invalid` ack) naming the field. Unknown fields are
    refused (marshmallow's RAISE) unless a schema says otherwise.
    """

    @ma.pre_load
    def _valid_text(self, data: Any, **kwargs: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {
                _printable(key): [NOT_TEXT]
                for key, value in data.items()
                if _has_lone_surrogate(key) or _has_lone_surrogate(value)
            }
            if errors:
                raise ma.ValidationError(errors)
        return data
