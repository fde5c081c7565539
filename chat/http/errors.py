"""Every error leaves as JSON `{code, message, errors?}` with its status, never HTML."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from flask_limiter.errors import RateLimitExceeded
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from ..domain.errors import ChatError, Internal, RateLimited, StoreError, Unavailable
from ..schemas.validation import invalid

log = logging.getLogger(__name__)


def json_error(status: int, message: str, code: str, errors: Any = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def render(error: ChatError) -> tuple[Response, int]:
    response = jsonify(error.to_dict())
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response, error.status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ChatError)
    def _chat_error(error: ChatError) -> Any:
        return render(error)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError) -> Any:
        return render(invalid(error))

    @app.errorhandler(StoreError)
    def _store_down(error: StoreError) -> Any:
        log.error("store unavailable: %s", error)
        return render(Unavailable())

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Any:
        from .limits import retry_after

        message = f"Too many requests ({error.description}); try again later."
        return render(RateLimited(message, retry_after=retry_after()))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = (error.name or "error").lower().replace(" ", "_")
        if error.code == 413:  # as the server's own 413s (chat/http/bodies.py) say it
            code = "payload_too_large"
        return json_error(error.code or 500, error.description or error.name, code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        log.exception("unhandled error", exc_info=error)
        return render(Internal())
