"""Direct conversations over REST: open one, list yours."""

from ..http import Blueprint

bp = Blueprint(
    "conversations",
    __name__,
    url_prefix="/api/conversations",
    description="Direct conversations: one private room per pair of users.",
)

from . import routes  # noqa: E402,F401
