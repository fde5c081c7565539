"""What every route needs: the services, the signed-in user, and validated input."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_jwt_extended import current_user
from marshmallow import Schema
from werkzeug.exceptions import BadRequest

from ..domain.errors import ChatError
from ..domain.models import User
from ..services import Services


def services() -> Services:
    return current_app.extensions["chat"]


def me() -> User:
    """The user of the request's access token (routes are guarded by @jwt_required)."""
    return current_user


def json_body() -> dict[str, Any]:
    """The JSON object sent, whatever the Content-Type said; `{}` for an empty body."""
    if not request.get_data(cache=True):
        return {}
    try:
        data = request.get_json(force=True)
    except BadRequest as error:
        raise ChatError("The body must be valid JSON.") from error
    if not isinstance(data, dict):
        raise ChatError("The body must be a JSON object.")
    return data


def load_body(schema: Schema) -> dict[str, Any]:
    return schema.load(json_body())


def load_query(schema: Schema) -> dict[str, Any]:
    return schema.load(request.args.to_dict())
