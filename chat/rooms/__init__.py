"""Rooms over REST: listing, creating, joining, leaving, members."""

from flask import Blueprint

bp = Blueprint("rooms", __name__, url_prefix="/api/rooms")

from . import routes  # noqa: E402,F401
