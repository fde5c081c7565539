"""How a token becomes a user, and how a refused token is answered (always 401 JSON).

flask-jwt-extended checks the signature, expiry and token type; whether the token is
still good (its sign-in session, the `sid` claim, has not ended) and whose it is comes
from `AccountService.session_user`, the call the Socket.IO namespace makes too. It
runs in the blocklist callback (the first hook after decoding) and raises
`Unauthorized` with the reason; the user it found is kept for the user-lookup
callback, so a request costs one check.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_jwt_extended import JWTManager

from ..domain.models import User
from ..http import services
from ..http.errors import json_error


def _refuse(message: str) -> Any:
    return json_error(401, message, "unauthorized")


def register_jwt_callbacks(jwt: JWTManager) -> None:
    @jwt.token_in_blocklist_loader
    def _check(_header: dict, payload: dict) -> bool:
        g.chat_token_user = services().accounts.session_user(payload["sub"], payload.get("sid"))
        return False

    @jwt.user_lookup_loader
    def _user(_header: dict, _payload: dict) -> User:
        return g.chat_token_user

    @jwt.unauthorized_loader
    def _missing(reason: str) -> Any:
        return _refuse(f"Sign in first: {reason}.")

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> Any:
        return _refuse(f"The token is not valid: {reason}.")

    @jwt.expired_token_loader
    def _expired(_header: dict, _payload: dict) -> Any:
        return _refuse("The token has expired.")
