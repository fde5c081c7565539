"""Users over REST: yourself and others' public profiles."""

from ..http import Blueprint

bp = Blueprint("users", __name__, url_prefix="/api/users", description="Users and profiles.")

from . import routes  # noqa: E402,F401
