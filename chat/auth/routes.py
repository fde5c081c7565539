from __future__ import annotations

from typing import Any

from ..domain.models import User
from ..http import authenticated, refresh_authenticated, services
from ..http.limits import login_limits, register_limit, verify_limits
from ..schemas.inputs import LoginIn, LogoutIn, RegisterIn, ResendIn, VerifyIn
from ..schemas.outputs import AccessTokenOut, MeOut, TokensOut
from . import bp, tokens


@bp.post("/register")
@register_limit
@bp.arguments(RegisterIn, as_kwargs=True)
@bp.response(201, MeOut)
@bp.alt_response(409, "CONFLICT")
def register(**account: Any) -> User:
    """Create an account.

    The name is checked for uniqueness by the store's index. When the server verifies
    emails (`EMAIL_VERIFICATION`), `email` is required and a
    6-digit code is mailed to it; sign-in is refused (403 `unverified`) until
    `POST /api/auth/verify`. If the mail cannot be sent, no account is kept: 503
    `mail_unavailable`."""
    return services().accounts.register(**account)


@bp.post("/verify")
@verify_limits
@bp.arguments(VerifyIn, as_kwargs=True)
@bp.response(200, MeOut)
@bp.alt_response(409, "CONFLICT")
def verify(email: str, code: str) -> User:
    """Verify an email with the code mailed to it.

    A code lasts `VERIFICATION_CODE_TTL` seconds and allows 5 attempts (422 when wrong
    or spent); 409 when the address is already verified."""
    return services().verification.verify(email, code)


@bp.post("/verify/resend")
@verify_limits
@bp.arguments(ResendIn, as_kwargs=True)
@bp.response(204)
def resend(email: str) -> None:
    """Mail a new verification code.

    The old code stops working. At most once a minute per address (429 with
    `Retry-After`). The answer is the same for an address with no account waiting, so
    it does not tell who has one."""
    services().verification.resend(email)


@bp.post("/login")
@login_limits
@bp.arguments(LoginIn)
@bp.response(200, TokensOut)
@bp.alt_response(401, "UNAUTHORIZED")
@bp.alt_response(403, "FORBIDDEN", description="`unverified`: the email code is pending.")
def login(credentials: dict[str, Any]) -> dict[str, Any]:
    """Sign in with a username or an email.

    Starts a session, whose access and refresh tokens end together. The answer is the
    same whichever credential was wrong; 403 `unverified` while the email code is
    pending."""
    return tokens.sign_in(credentials)


@bp.route("/refresh", methods=["GET", "POST"])
@refresh_authenticated
@bp.response(200, AccessTokenOut)
def refresh() -> dict[str, Any]:
    """A new access token of the session of the refresh token sent as Bearer."""
    return tokens.refreshed()


@bp.post("/logout")
@authenticated
@bp.arguments(LogoutIn, required=False)
@bp.response(204)
def logout(data: dict[str, Any]) -> None:
    """Sign out.

    Ends this token's session (its access and refresh tokens stop working, and its
    sockets close, on every process) and the session of a `refresh_token` given."""
    tokens.sign_out(data["refresh_token"])
