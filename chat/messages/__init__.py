"""A room's messages over REST: history, post, read one, delete."""

from ..http import Blueprint

bp = Blueprint(
    "messages",
    __name__,
    url_prefix="/api/rooms/<room_id>/messages",
    description="A room's messages: members only.",
)

from . import routes  # noqa: E402,F401
