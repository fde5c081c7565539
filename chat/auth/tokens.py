"""Issuing and revoking JWTs; shared by /api/auth and the original /login."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from jwt import PyJWTError

from ..domain.errors import Invalid
from ..domain.models import User
from ..http import services


def issue(user: User) -> dict[str, Any]:
    """The login answer: both tokens, their type and lifetime, and the user."""
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(identity=user.id),
        "refresh_token": create_refresh_token(identity=user.id),
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
        "user": user,
    }


def sign_in(credentials: dict[str, Any]) -> dict[str, Any]:
    """Check a login body (`username` or `email`, `password`) and issue tokens."""
    login = credentials["username"] or credentials["email"]
    return issue(services().accounts.authenticate(login, credentials["password"]))


def revoke(user_id: str, *claims: dict[str, Any]) -> None:
    """Revoke the tokens these claims describe, each until it would have expired."""
    services().accounts.logout(
        user_id, [(c["jti"], datetime.fromtimestamp(c["exp"], UTC)) for c in claims]
    )


def refresh_claims(token: str, user_id: str) -> dict[str, Any]:
    """Claims of a refresh token the caller holds; refused unless it is theirs."""
    try:
        claims = decode_token(token)
    except PyJWTError as error:
        raise Invalid(errors={"refresh_token": ["Not a valid refresh token."]}) from error
    if claims.get("type") != "refresh" or claims.get("sub") != user_id:
        raise Invalid(errors={"refresh_token": ["Not a refresh token of yours."]})
    return claims
