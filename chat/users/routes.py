from __future__ import annotations

from typing import Any

from ..auth import tokens
from ..domain.models import User
from ..http import authenticated, me, services
from ..schemas.inputs import (
    AccountDeleteIn,
    PasswordChangeIn,
    ProfilePatchIn,
    ProfilePutIn,
    UserSearchQuery,
)
from ..schemas.outputs import MeOut, TokensOut, UserOut, UserSearchOut
from . import bp


@bp.get("")
@authenticated
@bp.arguments(UserSearchQuery, location="query", as_kwargs=True)
@bp.response(200, UserSearchOut)
def search(q: str, limit: int, cursor: str | None) -> Any:
    """Search users by a prefix of their username or display name.

    Ignoring case, ordered by the name matched; `next_cursor` pages on, stable while
    users sign up meanwhile. Deleted accounts are never listed."""
    return services().accounts.search(q, limit, cursor)


@bp.get("/me")
@authenticated
@bp.response(200, MeOut)
def get_me() -> User:
    return me()


@bp.patch("/me")
@authenticated
@bp.arguments(ProfilePatchIn, required=False)
@bp.response(200, MeOut)
@bp.alt_response(409, "CONFLICT")
def update_me(changes: dict[str, Any]) -> User:
    """Change your username (unique ignoring case), display name or avatar URL."""
    return services().accounts.update_profile(me(), me().id, changes)


@bp.delete("/me")
@authenticated
@bp.arguments(AccountDeleteIn)
@bp.response(204)
@bp.alt_response(403, "FORBIDDEN", description="The password is wrong.")
def delete_me(password: dict[str, Any]) -> None:
    """Delete your account.

    Your password is required. Every session ends and every socket closes, on every process;
    rooms you owned pass to their longest-standing admin, else member (else they stay
    ownerless); your username and email are free again; your messages stay in history under the
    author `{id, username: "deleted", display_name: "Deleted account"}`."""
    services().accounts.delete_account(me(), me().id, password["password"])


@bp.put("/me/password")
@authenticated
@bp.arguments(PasswordChangeIn, as_kwargs=True)
@bp.response(200, TokensOut)
@bp.alt_response(403, "FORBIDDEN", description="The current password is wrong.")
def change_password(password: str, new_password: str) -> dict[str, Any]:
    """Change your password.

    Every older access and refresh token of yours stops working and your open sockets are
    closed, on every process; the answer carries the tokens of a new session, so the client that
    asked stays signed in."""
    return tokens.change_password(password, new_password)


@bp.get("/<user_id>")
@authenticated
@bp.response(200, UserOut)
def get_user(user_id: str) -> User:
    """Another user's public profile; your own comes with your email."""
    return services().accounts.get(user_id)


@bp.put("/<user_id>")
@authenticated
@bp.arguments(ProfilePutIn)
@bp.response(200, MeOut)
@bp.alt_response(403, "FORBIDDEN", description="Not your account.")
@bp.alt_response(409, "CONFLICT")
def replace_user(profile: dict[str, Any], user_id: str) -> User:
    """Replace your profile: a display name or avatar left out is cleared. Yours only."""
    return services().accounts.update_profile(me(), user_id, profile)


@bp.patch("/<user_id>")
@authenticated
@bp.arguments(ProfilePatchIn, required=False)
@bp.response(200, MeOut)
@bp.alt_response(403, "FORBIDDEN", description="Not your account.")
@bp.alt_response(409, "CONFLICT")
def update_user(changes: dict[str, Any], user_id: str) -> User:
    """As `PATCH /api/users/me`; anyone else's account is 403."""
    return services().accounts.update_profile(me(), user_id, changes)


@bp.delete("/<user_id>")
@authenticated
@bp.arguments(AccountDeleteIn)
@bp.response(204)
@bp.alt_response(403, "FORBIDDEN", description="Not your account, or a wrong password.")
def delete_user(password: dict[str, Any], user_id: str) -> None:
    """As `DELETE /api/users/me`; anyone else's account is 403."""
    services().accounts.delete_account(me(), user_id, password["password"])
