"""Rooms over REST: listing, creating, joining, leaving, members, moderation."""

from ..http import Blueprint

bp = Blueprint("rooms", __name__, url_prefix="/api/rooms", description="Rooms and membership.")

from . import routes  # noqa: E402,F401
