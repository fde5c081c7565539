from __future__ import annotations

from typing import Any

from flask_jwt_extended import create_access_token, get_jwt

from ..domain.models import User
from ..http import authenticated, me, refresh_authenticated, services
from ..schemas.inputs import LoginIn, LogoutIn, RegisterIn
from ..schemas.outputs import AccessTokenOut, MeOut, TokensOut
from . import bp, tokens


@bp.post("/register")
@bp.arguments(RegisterIn, as_kwargs=True)
@bp.response(201, MeOut)
@bp.alt_response(409, "CONFLICT")
def register(**account: Any) -> User:
    """Create an account; the name is checked for uniqueness by the store's index."""
    return services().accounts.register(**account)


@bp.post("/login")
@bp.arguments(LoginIn)
@bp.response(200, TokensOut)
@bp.alt_response(401, "UNAUTHORIZED")
def login(credentials: dict[str, Any]) -> dict[str, Any]:
    """Sign in with a username or an email; the answer is the same whichever was wrong."""
    return tokens.sign_in(credentials)


@bp.route("/refresh", methods=["GET", "POST"])
@refresh_authenticated
@bp.response(200, AccessTokenOut)
def refresh() -> dict[str, Any]:
    """A new access token for the refresh token sent as Bearer."""
    return {"access_token": create_access_token(identity=me().id)}


@bp.post("/logout")
@authenticated
@bp.arguments(LogoutIn, required=False)
@bp.response(204)
def logout(data: dict[str, Any]) -> None:
    """Revoke this access token and, if given, the refresh token beside it."""
    revoked = [get_jwt()]
    if data["refresh_token"]:
        revoked.append(tokens.refresh_claims(data["refresh_token"], me().id))
    tokens.revoke(me().id, *revoked)
