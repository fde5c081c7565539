"""Live state shared by every server process, in Redis.

Keys (all under a prefix, `chat:live:` by default):

    procs                 SET    process ids that registered
    proc:<P>              STRING the process's heartbeat, expiring after `ttl` seconds
    p:<P>:socks           HASH   sid -> user: the sockets process P holds
    p:<P>:watch           HASH   "room\\nsid" -> "user\\nlegacy": what they watch
    u:<user>:socks        SET    the user's sids, every process
    u:<user>:rooms        SET    the user's rooms, while online
    r:<room>:online       SET    online members
    r:<room>:watch        HASH   user -> sockets watching
    r:<room>:idle         SET    online members with no socket watching
    r:<room>:legacy       STRING sockets on the original namespace watching
                                 (a deleted room's r:<room>:* keys are dropped)

Every change is one Lua script, so the checks and the writes it makes are atomic across
processes (a user connecting on A while their last socket closes on B ends online, and
in the right rooms). The per-message question is one round trip: `r:<room>:idle` is
kept up to date as sockets come and go, so a post reads an answer already made.

A process proves it is alive by refreshing `proc:<P>` every heartbeat. When that key
has expired, whichever live process notices first removes the dead process from
`procs` (only one succeeds), takes its sockets and watches out of the shared sets, and
reports the users left with no socket, whom the caller announces offline: a crashed
process's sockets vanish within `ttl` plus one heartbeat. The per-process hashes do not
expire: they are what the reaping needs.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from ..domain.errors import LiveStateError
from ..domain.live import Fanout, Heartbeat, LiveState
from .turns import RoomTurns

log = logging.getLogger(__name__)

# Shared Lua: the bookkeeping of one watch ending (used by unwatch and by reaping).
_END_WATCH = """
local function end_watch(px, room, u, legacy)
  local n = redis.call('HINCRBY', px..'r:'..room..':watch', u, -1)
  if n <= 0 then
    redis.call('HDEL', px..'r:'..room..':watch', u)
    if redis.call('SISMEMBER', px..'r:'..room..':online', u) == 1 then
      redis.call('SADD', px..'r:'..room..':idle', u)
    end
  end
  if legacy == '1' and redis.call('DECR', px..'r:'..room..':legacy') <= 0 then
    redis.call('DEL', px..'r:'..room..':legacy')
  end
end
local function add_member(px, room, u)
  redis.call('SADD', px..'u:'..u..':rooms', room)
  redis.call('SADD', px..'r:'..room..':online', u)
  if redis.call('HEXISTS', px..'r:'..room..':watch', u) == 0 then
    redis.call('SADD', px..'r:'..room..':idle', u)
  end
end
"""

_OPEN = """
local px, P, sid, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HSET', px..'p:'..P..':socks', sid, u)
local added = redis.call('SADD', px..'u:'..u..':socks', sid)
if added == 1 and redis.call('SCARD', px..'u:'..u..':socks') == 1 then return 1 end
return 0
"""

_CLOSE = """
local px, P, sid, u = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
redis.call('HDEL', px..'p:'..P..':socks', sid)
local removed = redis.call('SREM', px..'u:'..u..':socks', sid)
if removed == 1 and redis.call('SCARD', px..'u:'..u..':socks') == 0 then return 1 end
return 0
"""

_CAME_ONLINE = (
    _END_WATCH
    + """
local px, u = ARGV[1], ARGV[2]
if redis.call('SCARD', px..'u:'..u..':socks') == 0 then return 0 end
for i = 3, #ARGV do add_member(px, ARGV[i], u) end
return 1
"""
)

_WENT_OFFLINE = """
local px, u = ARGV[1], ARGV[2]
if redis.call('SCARD', px..'u:'..u..':socks') > 0 then return 0 end
for _, room in ipairs(redis.call('SMEMBERS', px..'u:'..u..':rooms')) do
  redis.call('SREM', px..'r:'..room..':online', u)
  redis.call('SREM', px..'r:'..room..':idle', u)
end
redis.call('DEL', px..'u:'..u..':rooms')
return 1
"""

_MEMBER_ADDED = (
    _END_WATCH
    + """
local px, room, u = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SCARD', px..'u:'..u..':socks') == 0 then return 0 end
add_member(px, room, u)
return 1
"""
)

_MEMBER_REMOVED = """
local px, room, u = ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', px..'u:'..u..':rooms', room)
redis.call('SREM', px..'r:'..room..':online', u)
redis.call('SREM', px..'r:'..room..':idle', u)
return 1
"""

_FORGET_ROOM = """
local px, room = ARGV[1], ARGV[2]
for _, u in ipairs(redis.call('SMEMBERS', px..'r:'..room..':online')) do
  redis.call('SREM', px..'u:'..u..':rooms', room)
end
redis.call('DEL', px..'r:'..room..':online', px..'r:'..room..':idle',
           px..'r:'..room..':watch', px..'r:'..room..':legacy')
return 1
"""

_CO_MEMBERS = """
local px, u = ARGV[1], ARGV[2]
local keys = {}
for _, room in ipairs(redis.call('SMEMBERS', px..'u:'..u..':rooms')) do
  table.insert(keys, px..'r:'..room..':online')
end
if #keys == 0 then return {} end
return redis.call('SUNION', unpack(keys))
"""

_WATCH = """
local px, P, room, u, sid, legacy = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if redis.call('HSETNX', px..'p:'..P..':watch', room..'\\n'..sid, u..'\\n'..legacy) == 0 then
  return 0
end
redis.call('HINCRBY', px..'r:'..room..':watch', u, 1)
redis.call('SREM', px..'r:'..room..':idle', u)
if legacy == '1' then redis.call('INCR', px..'r:'..room..':legacy') end
return 1
"""

_UNWATCH = (
    _END_WATCH
    + """
local px, P, room, sid = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local field = room..'\\n'..sid
local value = redis.call('HGET', px..'p:'..P..':watch', field)
if not value then return 0 end
redis.call('HDEL', px..'p:'..P..':watch', field)
local u, legacy = string.match(value, '^(.-)\\n(.*)$')
end_watch(px, room, u, legacy)
return 1
"""
)

# Refresh this process; reap the dead. Returns {rejoined, user, user, ...}: the users
# left with no socket once the dead processes' sockets are gone.
_HEARTBEAT = (
    _END_WATCH
    + """
local px, P, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
redis.call('SET', px..'proc:'..P, '1', 'EX', ttl)
local rejoined = redis.call('SADD', px..'procs', P)
local offline = {rejoined}
for _, dead in ipairs(redis.call('SMEMBERS', px..'procs')) do
  local gone = redis.call('EXISTS', px..'proc:'..dead) == 0
  if gone and redis.call('SREM', px..'procs', dead) == 1 then
    local watch = redis.call('HGETALL', px..'p:'..dead..':watch')
    for i = 1, #watch, 2 do
      local room = string.match(watch[i], '^(.-)\\n')
      local u, legacy = string.match(watch[i + 1], '^(.-)\\n(.*)$')
      end_watch(px, room, u, legacy)
    end
    local socks = redis.call('HGETALL', px..'p:'..dead..':socks')
    for i = 1, #socks, 2 do
      local u = socks[i + 1]
      if redis.call('SREM', px..'u:'..u..':socks', socks[i]) == 1
          and redis.call('SCARD', px..'u:'..u..':socks') == 0 then
        table.insert(offline, u)
      end
    end
    redis.call('DEL', px..'p:'..dead..':watch', px..'p:'..dead..':socks')
  end
end
return offline
"""
)


F = TypeVar("F", bound=Callable[..., Any])


def _guarded(method: F) -> F:
    """Redis failures become LiveStateError, as the stores' become StoreError."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import redis

        try:
            return method(*args, **kwargs)
        except redis.RedisError as error:
            raise LiveStateError(str(error)) from error

    return wrapper  # type: ignore[return-value]


class RedisLive(LiveState):
    def __init__(self, url: str, *, heartbeat: float = 5.0, prefix: str = "chat:live:"):
        import redis

        self.redis: Any = redis.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix
        self.process = uuid.uuid4().hex
        # Missing three heartbeats in a row means dead.
        self.ttl = max(1, round(heartbeat * 3))
        self._scripts = {
            name: self.redis.register_script(source)
            for name, source in {
                "open": _OPEN,
                "close": _CLOSE,
                "came_online": _CAME_ONLINE,
                "went_offline": _WENT_OFFLINE,
                "member_added": _MEMBER_ADDED,
                "member_removed": _MEMBER_REMOVED,
                "co_members": _CO_MEMBERS,
                "forget_room": _FORGET_ROOM,
                "watch": _WATCH,
                "unwatch": _UNWATCH,
                "heartbeat": _HEARTBEAT,
            }.items()
        }
        self.turns = RoomTurns(self.redis, prefix)
        self.heartbeat()  # registered before the first socket arrives

    def _run(self, script: str, *args: Any) -> Any:
        return self._scripts[script](args=[self.prefix, *args])

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def posting(self, room_ids: Collection[str]) -> AbstractContextManager[None]:
        return self.turns.hold(room_ids)

    # -- sockets ---------------------------------------------------------
    @_guarded
    def socket_opened(self, sid: str, user_id: str) -> bool:
        return self._run("open", self.process, sid, user_id) == 1

    @_guarded
    def socket_closed(self, sid: str, user_id: str) -> bool:
        return self._run("close", self.process, sid, user_id) == 1

    @_guarded
    def is_online(self, user_id: str) -> bool:
        return bool(self.redis.exists(self._key("u", user_id, "socks")))

    @_guarded
    def online_among(self, user_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return set()
        pipe = self.redis.pipeline(transaction=False)
        for user_id in ids:
            pipe.exists(self._key("u", user_id, "socks"))
        return {u for u, there in zip(ids, pipe.execute(), strict=True) if there}

    @_guarded
    def sockets_of(self, user_id: str) -> set[str]:
        return set(self.redis.smembers(self._key("u", user_id, "socks")))

    # -- the rooms of online users ------------------------------------------
    @_guarded
    def came_online(self, user_id: str, room_ids: Iterable[str]) -> None:
        self._run("came_online", user_id, *room_ids)

    @_guarded
    def went_offline(self, user_id: str) -> None:
        self._run("went_offline", user_id)

    @_guarded
    def member_added(self, room_id: str, user_id: str) -> None:
        self._run("member_added", room_id, user_id)

    @_guarded
    def member_removed(self, room_id: str, user_id: str) -> None:
        self._run("member_removed", room_id, user_id)

    @_guarded
    def forget_room(self, room_id: str) -> None:
        self._run("forget_room", room_id)

    @_guarded
    def co_members(self, user_id: str) -> set[str]:
        return set(self._run("co_members", user_id)) - {user_id}

    # -- watching ----------------------------------------------------------
    @_guarded
    def watch(self, room_id: str, user_id: str, sid: str, legacy: bool = False) -> None:
        self._run("watch", self.process, room_id, user_id, sid, "1" if legacy else "0")

    @_guarded
    def unwatch(self, room_id: str, sid: str) -> None:
        self._run("unwatch", self.process, room_id, sid)

    @_guarded
    def watchers(self, room_id: str) -> set[str]:
        return set(self.redis.hkeys(self._key("r", room_id, "watch")))

    @_guarded
    def fanout(self, room_id: str) -> Fanout:
        pipe = self.redis.pipeline(transaction=False)
        pipe.smembers(self._key("r", room_id, "idle"))
        pipe.get(self._key("r", room_id, "legacy"))
        idle, legacy = pipe.execute()
        return Fanout(set(idle), int(legacy or 0) > 0)

    # -- liveness ----------------------------------------------------------
    @_guarded
    def heartbeat(self) -> Heartbeat:
        rejoined, *offline = self._run("heartbeat", self.process, self.ttl)
        return Heartbeat(offline=list(offline), rejoined=rejoined == 1)

    def close(self) -> None:
        self.redis.close()
