"""How request bodies and query strings become arguments: webargs, with our rules.

- A body is JSON whatever its Content-Type says (the original curl scripts send none).
- Malformed JSON, JSON nested past Python's recursion limit, or a body that is not an
  object is 400; invalid fields are 422 naming each field, wherever it came from.
- Unknown query parameters are refused like unknown body fields, so a typo is not
  silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NoReturn

import marshmallow as ma
from flask import Request
from webargs import core
from webargs.flaskparser import FlaskParser

from ..domain.errors import ChatError, Invalid


class RequestParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,  # None: the schema's own setting, RAISE unless it says otherwise
        "querystring": None,
    }

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        body = req.get_data(cache=True)
        if not body:
            return core.missing
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise ChatError("The body must be valid JSON.") from error
        if not isinstance(data, Mapping):
            raise ChatError("The body must be a JSON object.")
        return data

    def handle_error(
        self,
        error: ma.ValidationError,
        req: Request,
        schema: ma.Schema,
        *,
        error_status_code: int | None,
        error_headers: Mapping[str, str] | None,
    ) -> NoReturn:
        raise Invalid(errors=_by_field(error.messages)) from error


def _by_field(messages: Any) -> dict[str, Any]:
    """webargs keys errors by location first (`{"json": {"name": [...]}}`); clients
    want them by field, as before."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    merged: dict[str, Any] = {}
    for per_location in messages.values():
        merged.update(per_location if isinstance(per_location, dict) else {"_schema": per_location})
    return merged
