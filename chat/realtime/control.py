"""Orders between server processes that Socket.IO's message queue cannot carry.

The queue relays emits, but a process can only disconnect sockets it can name, and the
sockets of a session ended on process B may be connected to process A. So B publishes
an order on a Redis channel beside the queue, and every process carries it out on its
own sockets (`SocketPublisher.obey`):

- `{"close_sessions": [session ids]}`: sign-outs and password changes;
- `{"close_user": user id}`: a deleted account;
- `{"leave_room": {"room_id", "user_id"}}`: a member left or was removed, so their
  sockets stop watching the room;
- `{"forget_room": room id}`: a deleted room (its Socket.IO room is closed through the
  queue itself, which can name it).

Without a Redis queue there is one process and nothing to tell.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "chat-control"


class ControlChannel:
    def __init__(self, redis_url: str, channel: str = CHANNEL):
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.channel = channel

    def publish(self, order: dict[str, Any]) -> None:
        self.redis.publish(self.channel, json.dumps(order))

    def listen(self, handle: Callable[[dict[str, Any]], None]) -> None:
        """Run forever (as a background task), handing each order to `handle`."""
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel)
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        handle(json.loads(message["data"]))
            except Exception:  # a dropped connection must not end the listener
                log.exception("control channel lost; resubscribing")
                time.sleep(1)


def control_for(queue_url: str | None) -> ControlChannel | None:
    if queue_url and queue_url.startswith(("redis://", "rediss://", "unix://")):
        return ControlChannel(queue_url)
    if queue_url:
        log.warning(
            "SOCKETIO_MESSAGE_QUEUE is not Redis: a sign-out closes only the sockets of "
            "its own process (others are refused at their next event), and a removal "
            "stops only its own process's sockets watching the room"
        )
    return None
