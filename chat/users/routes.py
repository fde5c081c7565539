from __future__ import annotations

from ..domain.models import User
from ..http import authenticated, me, services
from ..schemas.outputs import MeOut, UserOut
from . import bp


@bp.get("/me")
@authenticated
@bp.response(200, MeOut)
def get_me() -> User:
    return me()


@bp.get("/<user_id>")
@authenticated
@bp.response(200, UserOut)
def get_user(user_id: str) -> User:
    """Another user's public profile; your own comes with your email."""
    return services().accounts.get(user_id)
