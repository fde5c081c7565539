"""Domain errors, raised by services, and their two renderings: JSON and Socket.IO ack.

Services raise these knowing nothing of HTTP; one handler maps them to a status and one
to an ack, so a rule refused over REST is refused the same way over a socket.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .store import StoreError

log = logging.getLogger(__name__)


class ChatError(Exception):
    status = 400
    code = "bad_request"
    default_message = "Bad request."

    def __init__(self, message: str | None = None, errors: dict[str, Any] | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.errors = errors

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class Invalid(ChatError):
    status = 422
    code = "invalid"
    default_message = "The input is not valid."


class Unauthorized(ChatError):
    status = 401
    code = "unauthorized"
    default_message = "Sign in first."


class Forbidden(ChatError):
    status = 403
    code = "forbidden"
    default_message = "You are not allowed to do that."


class NotFound(ChatError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(ChatError):
    status = 409
    code = "conflict"
    default_message = "That conflicts with what exists."


class Unavailable(ChatError):
    status = 503
    code = "unavailable"
    default_message = "The database is not answering; try again shortly."


def from_validation(error: ValidationError) -> Invalid:
    """Marshmallow's messages become `errors`, keyed by the offending field."""
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    return Invalid(errors=messages)


def as_ack(error: Exception) -> dict[str, Any]:
    """The failed acknowledgement of a Socket.IO event."""
    if isinstance(error, ValidationError):
        error = from_validation(error)
    if isinstance(error, StoreError):
        log.error("store unavailable: %s", error)
        error = Unavailable()
    if not isinstance(error, ChatError):
        log.exception("unexpected error in a Socket.IO handler", exc_info=error)
        error = ChatError("Something went wrong on the server.")
        error.code = "internal"
    return {"ok": False, "error": error.to_dict()}


def json_error(status: int, message: str, code: str, errors: Any = None) -> Any:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    """Every error leaves as JSON with its status, never as an HTML page."""

    @app.errorhandler(ChatError)
    def _chat_error(error: ChatError) -> Any:
        return json_error(error.status, error.message, error.code, error.errors)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> Any:
        return _chat_error(from_validation(error))

    @app.errorhandler(StoreError)
    def _store_down(error: StoreError) -> Any:
        log.error("store unavailable: %s", error)
        return _chat_error(Unavailable())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = (error.name or "error").lower().replace(" ", "_")
        return json_error(error.code or 500, error.description or error.name, code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error", exc_info=error)
        return json_error(500, "Something went wrong on the server.", "internal")
