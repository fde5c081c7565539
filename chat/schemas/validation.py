"""Marshmallow's refusals in the domain's terms, for both faces alike."""

from __future__ import annotations

from marshmallow import ValidationError

from ..domain.errors import Invalid


def invalid(error: ValidationError) -> Invalid:
    """Marshmallow's messages become `errors`, keyed by the offending field."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return Invalid(errors=messages)
