"""The REST contract: flask-smorest's Api, set up so the OpenAPI document is complete.

Routes declare their input and output with `@bp.arguments` / `@bp.response`, and the
refusals only they know with `@bp.alt_response`; the refusals that follow from the
declaration itself are added here, once, for every operation:

- a body may be malformed (400), too large (413) or invalid (422), and so may a query;
- a route behind a bearer token may answer 401, one with an id in its path 404;
- any route may be rate limited (429) or find the store down (503).
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from flask_smorest import Api

from ..schemas.outputs import ErrorOut

BEARER = "bearerAuth"


class ChatApi(Api):
    ERROR_SCHEMA = ErrorOut


def api_settings(version: str) -> dict[str, Any]:
    """The app settings flask-smorest reads: where the document is, and its header."""
    return {
        "API_TITLE": "Chat server",
        "API_VERSION": version,
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "REST API of the chat server. Every error is JSON `{code, message, "
                    "errors?}`; `errors` names each invalid field. The Socket.IO events "
                    "are described by the AsyncAPI document at /asyncapi.json."
                )
            },
            "components": {
                "securitySchemes": {
                    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    }


def bearer_security() -> list[dict[str, list[str]]]:
    return [{BEARER: []}]


class StandardRefusals(BasePlugin):
    """Adds the error responses every operation may give, from what it declares."""

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = {429, 503}
            if "requestBody" in operation:
                statuses |= {400, 413, 422}
            if any(p.get("in") == "query" for p in _inline(operation.get("parameters"))):
                statuses.add(422)
            if operation.get("security"):
                statuses.add(401)
            if path and "{" in path:
                statuses.add(404)
            for status in sorted(statuses):
                if status not in responses and str(status) not in responses:
                    responses[str(status)] = _REFS[status]


def _inline(parameters: Any) -> list[dict[str, Any]]:
    return [p for p in parameters or [] if isinstance(p, dict)]


# smorest registers a response component per HTTP status, named as HTTPStatus names it,
# each with ERROR_SCHEMA as its body.
_REFS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    413: "REQUEST_ENTITY_TOO_LARGE",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}
