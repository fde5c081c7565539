"""What every route needs: its blueprint class, the services and the signed-in user.

Routes are flask-smorest views: `@bp.arguments` validates (422 naming the fields),
`@bp.response` shapes, and the body is one service call. `authenticated` goes on top,
so a missing or bad token is 401 before the body is even parsed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import flask_smorest
from flask import current_app
from flask_jwt_extended import current_user, jwt_required

from ..domain.models import User
from ..schemas.viewer import viewing_as
from ..services import Services
from .openapi import bearer_security
from .parsing import RequestParser

F = TypeVar("F", bound=Callable[..., Any])


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint with our request parser (JSON whatever the type)."""

    ARGUMENTS_PARSER = RequestParser()


def services() -> Services:
    return current_app.extensions["chat"]


def me() -> User:
    """The user of the request's access token (the route is `@authenticated`)."""
    return current_user


def authenticated(view: F) -> F:
    """An access token is required, and its user is who sees the answer (a user's email
    is shown to that user only). Documented as bearer security, with its 401."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with viewing_as(me().id):
            return view(*args, **kwargs)

    checked = jwt_required()(guarded)
    return flask_smorest.Blueprint.doc(security=bearer_security())(checked)


def refresh_authenticated(view: F) -> F:
    """A refresh token is required (and an access token refused)."""
    checked = jwt_required(refresh=True)(view)
    return flask_smorest.Blueprint.doc(security=bearer_security())(checked)
