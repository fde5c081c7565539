"""Issuing JWTs for sign-in sessions; shared by /api/auth, /api/users and /login.

Both tokens of a sign-in carry its session's id as the `sid` claim; whether a token is
still good is whether its session is (`AccountService.session_user`), so ending the
session in the store ends both tokens at once, on every process.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jwt
from jwt import PyJWTError

from ..domain.errors import Invalid
from ..domain.models import LoginSession, User
from ..http import me, services


def issue(user: User, session: LoginSession) -> dict[str, Any]:
    """The sign-in answer: both tokens of the session, their type and lifetime, the user."""
    claims = {"sid": session.id}
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(identity=user.id, additional_claims=claims),
        "refresh_token": create_refresh_token(identity=user.id, additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
        "user": user,
    }


def sign_in(credentials: dict[str, Any]) -> dict[str, Any]:
    """Check a login body (`username` or `email`, `password`) and start a session."""
    accounts = services().accounts
    user = accounts.authenticate(
        credentials["username"] or credentials["email"], credentials["password"]
    )
    return issue(user, accounts.start_session(user))


def refreshed() -> dict[str, Any]:
    """A new access token of the refresh token's session (the request's token), with
    its type and lifetime, as at sign-in, so a client can schedule the next refresh."""
    expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(
            identity=me().id, additional_claims={"sid": get_jwt()["sid"]}
        ),
        "token_type": "Bearer",
        "expires_in": int(expires.total_seconds()),
    }


def sign_out(refresh_token: str | None) -> None:
    """End the session of the request's token, and that of `refresh_token` if given."""
    other = _refresh_session(refresh_token, me().id) if refresh_token else None
    services().accounts.logout(me(), get_jwt()["sid"], other)


def change_password(password: str, new_password: str) -> dict[str, Any]:
    """Every session of the user ends; the answer is a new session's tokens."""
    user = me()
    return issue(user, services().accounts.change_password(user, password, new_password))


def _refresh_session(token: str, user_id: str) -> str | None:
    """The session of a refresh token the caller holds; refused unless it is theirs."""
    try:
        claims = decode_token(token)
    except PyJWTError as error:
        raise Invalid(errors={"refresh_token": ["Not a valid refresh token."]}) from error
    if claims.get("type") != "refresh" or claims.get("sub") != user_id:
        raise Invalid(errors={"refresh_token": ["Not a refresh token of yours."]})
    return claims.get("sid")
