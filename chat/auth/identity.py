"""How a token becomes a user, and how a refused token is answered (always 401 JSON)."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import JWTManager

from ..http import services
from ..http.errors import json_error


def _refuse(message: str) -> Any:
    return json_error(401, message, "unauthorized")


def register_jwt_callbacks(jwt: JWTManager) -> None:
    @jwt.user_lookup_loader
    def _user(_header: dict, payload: dict) -> Any:
        return services().accounts.active_user(payload["sub"])

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return services().accounts.is_revoked(payload["jti"])

    @jwt.unauthorized_loader
    def _missing(reason: str) -> Any:
        return _refuse(f"Sign in first: {reason}.")

    @jwt.invalid_token_loader
    def _invalid(reason: str) -> Any:
        return _refuse(f"The token is not valid: {reason}.")

    @jwt.expired_token_loader
    def _expired(_header: dict, _payload: dict) -> Any:
        return _refuse("The token has expired.")

    @jwt.revoked_token_loader
    def _was_revoked(_header: dict, _payload: dict) -> Any:
        return _refuse("The token has been revoked.")

    @jwt.user_lookup_error_loader
    def _gone(_header: dict, _payload: dict) -> Any:
        return _refuse("The account of this token no longer exists.")
