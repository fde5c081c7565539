"""The bare stack: Flask-SocketIO on the same hub and listener as `make run`, relaying only.

`make bench` drives this and the chat server with the same load generator, so the ratio
between the two is the cost of what the chat server adds (auth, validation, storage,
presence), not of the stack both stand on. It speaks the chat server's /chat namespace
with the same event names, payloads and Socket.IO settings, and does nothing else:
any token is accepted, nothing is validated or stored, and a room's `seq` is a counter
in memory (in Redis when SOCKETIO_MESSAGE_QUEUE is set, so that several relays behind
the queue still number a room's messages once).

    ASYNC_MODE=eventlet|gevent HOST=127.0.0.1 PORT=5001 python bench/relay.py

RELAY_FAULT=drop:N|dup:N|swap:N misbehaves on purpose, on every room seq divisible by N
(not broadcast; broadcast twice; broadcast after the next one), so that a test can check
that the load generator counts lost, duplicated and reordered deliveries exactly.
"""

import os
import sys
import warnings

ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":  # patched first, exactly as wsgi.py does
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
else:
    raise SystemExit(f"ASYNC_MODE must be eventlet or gevent, not {ASYNC_MODE!r}")

import itertools  # noqa: E402
import secrets  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from flask import Flask, request  # noqa: E402
from flask_socketio import Namespace, SocketIO, join_room, leave_room  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from chat.concurrency import hub  # noqa: E402
from chat.serving import serve  # noqa: E402

NAMESPACE = "/chat"
QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None

app = Flask(__name__)
app.config.update(
    HOST=os.environ.get("HOST", "127.0.0.1"),
    PORT=int(os.environ.get("PORT", "5001")),
)
# The chat server's Socket.IO settings (chat/__init__.py), so both stacks do the same
# framing and handle one socket's events one after another. Its own channel, so a relay
# never hears a chat server that shares the Redis.
socketio = SocketIO(
    app,
    async_mode=hub(),
    message_queue=QUEUE,
    channel="bench-relay",
    max_http_buffer_size=64 * 1024,
    async_handlers=False,
)


class Sequencer:
    """Numbers each room's messages 1, 2, 3…: in memory, or in Redis behind a queue."""

    def __init__(self, queue: str | None):
        self._local: dict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._redis = None
        if queue:
            import redis

            self._redis = redis.Redis.from_url(queue)
            self._prefix = "bench-relay:seq:"

    def next(self, room_id: str) -> int:
        if self._redis is not None:
            return int(self._redis.incr(self._prefix + room_id))
        return next(self._local[room_id])


class Faults:
    """RELAY_FAULT=drop:N|dup:N|swap:N; none by default."""

    def __init__(self, spec: str):
        kind, _, every = spec.partition(":")
        self.kind = kind if spec else ""
        self.every = int(every or 0)
        self.held: dict[str, dict[str, Any]] = {}

    def broadcast(self, message: dict[str, Any]) -> None:
        room = message["room_id"]
        hit = self.kind and message["seq"] % self.every == 0
        if hit and self.kind == "drop":
            return
        if hit and self.kind == "swap":
            self.held[room] = message
            return
        _emit(message)
        if hit and self.kind == "dup":
            _emit(message)
        if room in self.held:
            _emit(self.held.pop(room))


def _emit(message: dict[str, Any]) -> None:
    socketio.emit("new_message", message, to=message["room_id"], namespace=NAMESPACE)


sequencer = Sequencer(QUEUE)
faults = Faults(os.environ.get("RELAY_FAULT", ""))


class Relay(Namespace):
    def on_connect(self, auth: Any = None) -> None:
        """Everyone is welcome: the bare stack has no accounts."""

    def on_join(self, data: dict[str, Any]) -> dict[str, Any]:
        join_room(data["room_id"])
        return {"ok": True, "room": {"id": data["room_id"]}, "messages": [], "has_more": False}

    def on_leave(self, data: dict[str, Any]) -> dict[str, Any]:
        leave_room(data["room_id"])
        return {"ok": True, "room_id": data["room_id"]}

    def on_message(self, data: dict[str, Any]) -> dict[str, Any]:
        """The chat server's `new_message` shape, so both put the same bytes on the wire."""
        room = data["room_id"]
        sid = str(request.sid)  # type: ignore[attr-defined]
        message = {
            "id": secrets.token_hex(12),
            "room_id": room,
            "seq": sequencer.next(room),
            "author": {"id": sid, "username": "bench", "display_name": None},
            "content": data["content"],
            "type": "text",
            "reply_to": None,
            "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "edited_at": None,
            "deleted": False,
            "client_id": data.get("client_id"),
        }
        faults.broadcast(message)
        return {"ok": True, "message": message, "created": True}


socketio.on_namespace(Relay(NAMESPACE))


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok", "server": "bare relay"}


if __name__ == "__main__":
    serve(app)
