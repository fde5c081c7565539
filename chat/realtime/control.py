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

An order that stops delivery (the first three) is also waited for: each process
replies on the sender's own reply channel once it has carried the order out, and the
sender waits for as many replies as Redis counted receivers, for at most
`WAIT_SECONDS`. So when a removal, a sign-out or a deletion answers, no process will
deliver that user anything more of that room or session. (The order and the message
queue are two channels: without the wait, a message posted right after a removal could
overtake the order on another process.) A process that does not reply in time is
logged and the sender goes on.

Without a Redis queue there is one process and nothing to tell.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

CHANNEL = "chat-control"
WAIT_SECONDS = 2.0


class _Replies:
    """Counts the replies to one order; `done` is set once `expected` have come."""

    def __init__(self) -> None:
        self.count = 0
        self.expected: int | None = None
        self.lock = threading.Lock()
        self.done = threading.Event()

    def add(self) -> None:
        with self.lock:
            self.count += 1
            self._check()

    def expect(self, receivers: int) -> None:
        with self.lock:
            self.expected = receivers
            self._check()

    def _check(self) -> None:
        if self.expected is not None and self.count >= self.expected:
            self.done.set()


class ControlChannel:
    def __init__(self, redis_url: str, channel: str = CHANNEL):
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.channel = channel
        self.replies = f"{channel}:replies:{uuid.uuid4().hex}"  # this process's
        self.listening = threading.Event()
        self._waiting: dict[str, _Replies] = {}

    def publish(self, order: dict[str, Any]) -> None:
        self.redis.publish(self.channel, json.dumps(order))

    def publish_and_wait(self, order: dict[str, Any], timeout: float = WAIT_SECONDS) -> bool:
        """Publish, then wait until every subscribed process (this one included) has
        carried the order out; False if some did not within `timeout`."""
        if not self.listening.is_set():  # nobody here would collect the replies
            self.publish(order)
            return False
        ticket = uuid.uuid4().hex
        replies = self._waiting[ticket] = _Replies()
        try:
            receivers = self.redis.publish(
                self.channel, json.dumps({**order, "reply": [self.replies, ticket]})
            )
            replies.expect(int(receivers))
            if replies.done.wait(timeout):
                return True
            log.warning(
                "control order %s: %d of %d processes replied within %.1f s",
                sorted(order),
                replies.count,
                receivers,
                timeout,
            )
            return False
        finally:
            self._waiting.pop(ticket, None)

    def listen(self, handle: Callable[[dict[str, Any]], None]) -> None:
        """Run forever (as a background task), handing each order to `handle` and
        replying to those that ask for it."""
        while True:
            try:
                pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(self.channel, self.replies)
                self.listening.set()
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._receive(message, handle)
            except Exception:  # a dropped connection must not end the listener
                self.listening.clear()
                log.exception("control channel lost; resubscribing")
                time.sleep(1)

    def _receive(self, message: dict[str, Any], handle: Callable[[dict[str, Any]], None]) -> None:
        channel, data = _text(message["channel"]), message["data"]
        if channel == self.replies:
            waiting = self._waiting.get(_text(data))
            if waiting is not None:
                waiting.add()
            return
        order = json.loads(data)
        try:
            handle(order)
        finally:
            reply = order.get("reply")
            if isinstance(reply, list) and len(reply) == 2:
                self.redis.publish(str(reply[0]), str(reply[1]))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
