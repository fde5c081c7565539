"""Domain errors: raised by services and stores, rendered by the faces.

A service refuses with one of these knowing nothing of HTTP; the HTTP layer
(`chat/http/errors.py`) maps it to a status and a JSON body, the namespace
(`chat/realtime/acks.py`) to a failed acknowledgement, so a rule refused over REST is
refused the same way over a socket.
"""

from __future__ import annotations

from typing import Any


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


class Unverified(Forbidden):
    code = "unverified"
    default_message = "Verify your email first: enter the code we sent (or ask for a new one)."


class RateLimited(ChatError):
    """Too soon: `retry_after` seconds until it may be asked again (the Retry-After header)."""

    status = 429
    code = "rate_limited"
    default_message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = max(int(retry_after), 1)

    def to_dict(self) -> dict[str, Any]:
        """With `retry_after`, so a socket client, which sees no header, knows too."""
        return {**super().to_dict(), "retry_after": self.retry_after}


class Unavailable(ChatError):
    status = 503
    code = "unavailable"
    default_message = "The database is not answering; try again shortly."


class MailUnavailable(Unavailable):
    code = "mail_unavailable"
    default_message = "The mail server is not answering, so no code was sent; try again shortly."


class Internal(ChatError):
    """What a client is told of a failure it did not cause; the detail goes to the log."""

    status = 500
    code = "internal"
    default_message = "Something went wrong on the server."


class StoreError(Exception):
    """The store could not be reached or failed; /health reports it, callers get 503."""


class LiveStateError(StoreError):
    """The shared live state (Redis) could not answer. A store error to the faces (503,
    `unavailable`); services that can do without it carry on without it."""


class DuplicateError(Exception):
    """A unique index refused a write; `field` names what clashed."""

    def __init__(self, field: str):
        super().__init__(f"duplicate {field}")
        self.field = field
