"""Socket.IO: the /chat namespace, and the publisher services announce through."""

NAMESPACE = "/chat"
# SPEC 3.1: the original events, kept for clients of the first backend.
LEGACY_NAMESPACE = "/"


def room_channel(room_id: str) -> str:
    """The Socket.IO room of sockets watching a chat room."""
    return f"room:{room_id}"


def user_channel(user_id: str) -> str:
    """The Socket.IO room of all of one user's sockets."""
    return f"user:{user_id}"
