from __future__ import annotations

from typing import Any

from flask_jwt_extended import jwt_required

from ..http import me, services
from ..schemas.outputs import me_out, user_out
from . import bp


@bp.get("/me")
@jwt_required()
def get_me() -> Any:
    return me_out.dump(me())


@bp.get("/<user_id>")
@jwt_required()
def get_user(user_id: str) -> Any:
    """Another user's public profile; your own comes with your email."""
    user = services().accounts.get(user_id)
    return me_out.dump(user) if user.id == me().id else user_out.dump(user)
