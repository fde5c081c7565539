"""Accounts over REST: register, login, refresh, logout."""

from ..http import Blueprint

bp = Blueprint(
    "auth", __name__, url_prefix="/api/auth", description="Accounts: sign up, sign in, tokens."
)

from . import routes  # noqa: E402,F401
