"""Taking turns at a room across processes, so that its messages are announced in seq
order everywhere.

Every process subscribes to the one Redis channel of the message queue, so each
delivers in the order the messages were published. A post allocates its seq and is
published a moment later; two processes posting to the same room at once could
publish seq 7 before seq 6. Holding the room's turn from before the seq is allocated
until after the message is published makes publish order seq order.

A turn is a Redis key per room (`order:<room>`) holding the holder's token, set for
all the rooms of a batch at once or for none (one Lua script), and expiring after
`ttl` so a process that dies holding it delays the room by that much, no more. A
process refused a turn leaves its token in `next:<room>`, renewed at each try and
lapsing soon after it stops trying: the holder, coming back for the room, steps
aside, so two busy processes alternate instead of one starving the other.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_TAKE = """
local token, ttl, wait = ARGV[1], ARGV[2], ARGV[3]
local n = #KEYS / 2
for i = 1, n do
  local held = redis.call('GET', KEYS[i])
  local next = redis.call('GET', KEYS[n + i])
  if held or (next and next ~= token) then
    if not next or next == token then redis.call('SET', KEYS[n + i], token, 'PX', wait) end
    return 0
  end
end
for i = 1, n do
  redis.call('SET', KEYS[i], token, 'PX', ttl)
  if redis.call('GET', KEYS[n + i]) == token then redis.call('DEL', KEYS[n + i]) end
end
return 1
"""

_GIVE_BACK = """
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
"""


class RoomTurns:
    def __init__(self, redis: Any, prefix: str, ttl: float = 5.0, patience: float = 0.05):
        self.redis = redis
        self.prefix = prefix
        self.ttl_ms = int(ttl * 1000)
        self.patience_ms = int(patience * 1000)  # how long a waiter's claim lasts
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    @contextmanager
    def hold(self, room_ids: Collection[str]) -> Iterator[None]:
        rooms = sorted(set(room_ids))
        held = [f"{self.prefix}order:{room}" for room in rooms]
        waiting = [f"{self.prefix}next:{room}" for room in rooms]
        token = uuid.uuid4().hex
        try:
            self._wait_for_turn(held + waiting, token)
        except RedisError as error:  # the queue is down too: nothing to order
            log.warning("no turn taken at %d room(s): %s", len(rooms), error)
            yield
            return
        try:
            yield
        finally:
            try:
                self._give_back(keys=held, args=[token])
            except RedisError as error:  # the turn lapses on its own
                log.warning("turn not given back: %s", error)

    def _wait_for_turn(self, keys: list[str], token: str) -> None:
        started = time.monotonic()
        pause = 0.0005
        while not self._take(keys=keys, args=[token, self.ttl_ms, self.patience_ms]):
            time.sleep(pause)  # a green sleep where the process is monkey-patched
            pause = min(pause * 2, 0.01)
        waited = time.monotonic() - started
        if waited > 1.0:
            log.warning("waited %.1f s for a turn at %d room(s)", waited, len(keys) // 2)
