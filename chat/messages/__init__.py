"""A room's messages over REST: history, post, read one, delete."""

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/api/rooms/<room_id>/messages")

from . import routes  # noqa: E402,F401
