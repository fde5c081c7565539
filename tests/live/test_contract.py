"""The live-state contract: what every implementation must do, run on each.

`memory` is one process's state; `redis` runs against the suite's own redis-server
(each test under a prefix of its own). The tests at the end, on two RedisLive objects
sharing a prefix, stand for two processes sharing one Redis.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from chat.domain.errors import LiveStateError
from chat.domain.live import Fanout, LiveState
from chat.live.memory import MemoryLive
from chat.live.redis import RedisLive


@pytest.fixture
def make_redis_live(request) -> Iterator[Callable[..., RedisLive]]:
    """RedisLive objects sharing one prefix: each stands for one server process."""
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    made: list[RedisLive] = []

    def make(heartbeat: float = 5.0) -> RedisLive:
        live = RedisLive(url, heartbeat=heartbeat, prefix=prefix)
        made.append(live)
        return live

    yield make
    if made:
        keys = list(made[0].redis.scan_iter(match=prefix + "*"))
        if keys:
            made[0].redis.delete(*keys)
    for live in made:
        live.close()


@pytest.fixture(params=["memory", "redis"])
def live(request) -> LiveState:
    if request.param == "memory":
        return MemoryLive()
    return request.getfixturevalue("make_redis_live")()


def test_the_first_socket_brings_a_user_online_and_the_last_takes_them_off(live):
    assert live.is_online("ann") is False
    assert live.socket_opened("s1", "ann") is True
    assert live.socket_opened("s2", "ann") is False  # a second tab
    assert live.is_online("ann") is True
    assert live.sockets_of("ann") == {"s1", "s2"}
    assert live.socket_closed("s1", "ann") is False
    assert live.is_online("ann") is True
    assert live.socket_closed("s2", "ann") is True
    assert live.is_online("ann") is False
    assert live.sockets_of("ann") == set()
    assert live.socket_closed("s2", "ann") is False  # closing twice says nothing new


def test_online_among(live):
    live.socket_opened("s1", "ann")
    live.socket_opened("s2", "bob")
    assert live.online_among(["ann", "bob", "cid", "ann"]) == {"ann", "bob"}
    assert live.online_among([]) == set()


def online(live: LiveState, user: str, sid: str, rooms: list[str]) -> None:
    """A user's socket connects and, being their first, their rooms are recorded."""
    if live.socket_opened(sid, user):
        live.came_online(user, rooms)


def test_idle_members_are_the_online_ones_not_watching(live):
    online(live, "ann", "a1", ["r1", "r2"])
    online(live, "bob", "b1", ["r1"])
    assert live.fanout("r1") == Fanout({"ann", "bob"}, False)
    live.watch("r1", "ann", "a1")
    assert live.fanout("r1").idle == {"bob"}
    assert live.fanout("r2").idle == {"ann"}  # watching r1 does not count for r2
    assert live.watchers("r1") == {"ann"}
    live.unwatch("r1", "a1")
    assert live.fanout("r1").idle == {"ann", "bob"}
    assert live.watchers("r1") == set()
    assert live.fanout("nowhere") == Fanout(set(), False)


def test_a_user_watches_while_any_of_their_sockets_does(live):
    online(live, "ann", "a1", ["r1"])
    online(live, "ann", "a2", ["r1"])
    live.watch("r1", "ann", "a1")
    live.watch("r1", "ann", "a1")  # again: still one watch
    live.watch("r1", "ann", "a2")
    live.unwatch("r1", "a1")
    assert live.watchers("r1") == {"ann"}
    assert live.fanout("r1").idle == set()
    live.unwatch("r1", "a2")
    live.unwatch("r1", "a2")  # again: nothing
    assert live.watchers("r1") == set()
    assert live.fanout("r1").idle == {"ann"}


def test_going_offline_leaves_every_room(live):
    online(live, "ann", "a1", ["r1", "r2"])
    online(live, "bob", "b1", ["r1"])
    assert live.co_members("bob") == {"ann"}
    assert live.socket_closed("a1", "ann") is True
    live.went_offline("ann")
    assert live.fanout("r1").idle == {"bob"}
    assert live.fanout("r2").idle == set()
    assert live.co_members("bob") == set()


def test_rooms_change_only_for_users_who_are_in_the_state_they_claim(live):
    """came_online after the user went offline, or went_offline after they came back,
    change nothing: the check and the change are one step."""
    live.socket_opened("a1", "ann")
    live.socket_closed("a1", "ann")
    live.came_online("ann", ["r1"])  # too late: she is gone
    assert live.fanout("r1").idle == set()
    online(live, "ann", "a2", ["r1"])
    live.went_offline("ann")  # too late: she is back
    assert live.fanout("r1").idle == {"ann"}


def test_membership_changes_of_online_users(live):
    online(live, "ann", "a1", ["r1"])
    online(live, "bob", "b1", ["r1"])
    live.member_added("r2", "ann")
    live.member_added("r2", "cid")  # offline: not counted
    assert live.fanout("r2").idle == {"ann"}
    assert live.co_members("bob") == {"ann"}
    live.watch("r2", "ann", "a1")
    live.member_added("r2", "ann")  # already in and watching: still not idle
    assert live.fanout("r2").idle == set()
    live.member_removed("r1", "ann")
    assert live.fanout("r1").idle == {"bob"}
    assert live.co_members("bob") == set()
    live.unwatch("r2", "a1")
    assert live.fanout("r2").idle == {"ann"}
    live.member_removed("r2", "ann")
    live.unwatch("r2", "a1")
    assert live.fanout("r2").idle == set()


def test_a_removed_member_still_watching_does_not_come_back_idle(live):
    online(live, "ann", "a1", ["r1"])
    live.watch("r1", "ann", "a1")
    live.member_removed("r1", "ann")
    live.unwatch("r1", "a1")
    assert live.fanout("r1").idle == set()


def test_legacy_watchers_are_flagged(live):
    online(live, "ann", "a1", ["r1"])
    online(live, "bob", "b1", ["r1"])
    live.watch("r1", "ann", "a1")
    assert live.fanout("r1").legacy is False
    live.watch("r1", "bob", "b1", legacy=True)
    assert live.fanout("r1") == Fanout(set(), True)
    live.unwatch("r1", "b1")
    assert live.fanout("r1") == Fanout({"bob"}, False)


def test_a_heartbeat_of_a_lone_process_reports_nothing(live):
    online(live, "ann", "a1", ["r1"])
    beat = live.heartbeat()
    assert beat.offline == [] and beat.rejoined is False
    assert live.is_online("ann")


# -- several processes sharing one Redis ------------------------------------------


def test_processes_see_each_others_sockets(make_redis_live):
    a, b = make_redis_live(), make_redis_live()
    online(a, "ann", "a1", ["r1"])
    assert b.is_online("ann")
    assert b.socket_opened("a2", "ann") is False  # her second tab, on B
    online(b, "bob", "b1", ["r1"])
    assert a.co_members("bob") == {"ann"}
    a.watch("r1", "ann", "a1")
    assert b.fanout("r1").idle == {"bob"}  # ann watches on A: not notified by B
    assert b.watchers("r1") == {"ann"}
    assert b.socket_closed("a2", "ann") is False  # still on A
    assert a.socket_closed("a1", "ann") is True


def test_a_dead_processs_sockets_vanish(make_redis_live):
    a, b = make_redis_live(heartbeat=0.4), make_redis_live(heartbeat=0.4)
    online(a, "ann", "a1", ["r1"])
    a.watch("r1", "ann", "a1", legacy=True)
    online(a, "bob", "a2", ["r1"])
    online(b, "bob", "b1", ["r1"])  # bob also has a socket on B
    assert b.fanout("r1") == Fanout({"bob"}, True)
    # A stops beating (crashed). B's heartbeats reap it once its key has expired.
    deadline = time.monotonic() + 10
    offline: list[str] = []
    while not offline and time.monotonic() < deadline:
        offline = b.heartbeat().offline
        time.sleep(0.2)
    assert offline == ["ann"]  # bob still has B's socket
    b.went_offline("ann")
    assert not b.is_online("ann") and b.is_online("bob")
    assert b.sockets_of("bob") == {"b1"}
    assert b.watchers("r1") == set()
    assert b.fanout("r1") == Fanout({"bob"}, False)
    assert b.heartbeat().offline == []  # reaped once, by one process


def test_a_process_whose_registration_was_lost_is_told_to_rejoin(make_redis_live):
    a = make_redis_live()
    online(a, "ann", "a1", ["r1"])
    assert a.heartbeat().rejoined is False
    for key in a.redis.scan_iter(match=a.prefix + "*"):  # Redis restarted empty
        a.redis.delete(key)
    assert a.heartbeat().rejoined is True
    assert a.heartbeat().rejoined is False


def test_a_redis_that_does_not_answer_is_a_live_state_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there once closed
    with pytest.raises(LiveStateError):
        RedisLive(f"redis://127.0.0.1:{port}/0")


def test_a_deleted_room_is_forgotten(live):
    online(live, "ann", "a1", ["r1", "r2"])
    online(live, "bob", "b1", ["r1"])
    live.watch("r1", "ann", "a1", legacy=True)
    live.unwatch("r1", "a1")  # each process unwatches its own sockets first
    live.forget_room("r1")
    assert live.fanout("r1") == Fanout(set(), False)
    assert live.watchers("r1") == set()
    assert live.co_members("bob") == set()
    assert live.co_members("ann") == set()
    assert live.fanout("r2").idle == {"ann"}
    live.forget_room("r1")  # again: nothing
