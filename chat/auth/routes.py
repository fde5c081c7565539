from __future__ import annotations

from typing import Any

from flask_jwt_extended import create_access_token, get_jwt, jwt_required

from ..http import load_body, me, services
from ..schemas.inputs import LoginIn, LogoutIn, RegisterIn
from ..schemas.outputs import me_out
from . import bp, tokens


@bp.post("/register")
def register() -> Any:
    """Create an account; the name is checked for uniqueness by the store's index."""
    return me_out.dump(services().accounts.register(**load_body(RegisterIn()))), 201


@bp.post("/login")
def login() -> Any:
    return tokens.sign_in(load_body(LoginIn()))


@bp.route("/refresh", methods=["GET", "POST"])
@jwt_required(refresh=True)
def refresh() -> Any:
    return {"access_token": create_access_token(identity=me().id)}


@bp.post("/logout")
@jwt_required()
def logout() -> Any:
    """Revoke this access token and, if given, the refresh token beside it."""
    data = load_body(LogoutIn())
    revoked = [get_jwt()]
    if data["refresh_token"]:
        revoked.append(tokens.refresh_claims(data["refresh_token"], me().id))
    tokens.revoke(me().id, *revoked)
    return "", 204
