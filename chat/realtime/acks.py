"""How a failed Socket.IO event is answered: the ack twin of `chat/http/errors.py`."""

from __future__ import annotations

import logging
from typing import Any

from marshmallow import ValidationError

from ..domain.errors import ChatError, Internal, StoreError, Unavailable
from ..schemas.validation import invalid

log = logging.getLogger(__name__)


def failed(error: Exception) -> dict[str, Any]:
    """The acknowledgement `{ok: false, error: {code, message, errors?}}` of a failure."""
    if isinstance(error, ValidationError):
        error = invalid(error)
    if isinstance(error, StoreError):
        log.error("store unavailable: %s", error)
        error = Unavailable()
    if not isinstance(error, ChatError):
        log.exception("unexpected error in a Socket.IO handler", exc_info=error)
        error = Internal()
    return {"ok": False, "error": error.to_dict()}
