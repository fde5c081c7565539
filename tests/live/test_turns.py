"""Turns at rooms across processes (`chat.live.turns`), on the test-suite's Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

from chat.live.turns import RoomTurns


@pytest.fixture
def turns(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    prefix = f"test:turns:{uuid.uuid4().hex}:"

    def make(ttl: float = 5.0) -> RoomTurns:
        return RoomTurns(client, prefix, ttl=ttl)

    yield make
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_a_room_held_by_one_process_waits_for_it(turns):
    """B, wanting a room that A holds among others, goes only once A gives it back."""
    a, b = turns(), turns()
    order: list[str] = []
    with a.hold(["r1", "r2"]):
        waiter = threading.Thread(target=lambda: _hold(b, ["r2"], order, "B"))
        waiter.start()
        time.sleep(0.2)
        order.append("A done")
    waiter.join(5)
    assert order == ["A done", "B"]


def test_rooms_not_held_are_free(turns):
    a, b = turns(), turns()
    order: list[str] = []
    with a.hold(["r1"]):
        _hold(b, ["r2"], order, "B")
    assert order == ["B"]


def test_a_waiter_goes_before_the_holder_comes_back(turns):
    """A gives the room back and asks again at once: B, who was waiting, goes first."""
    a, b = turns(), turns()
    order: list[str] = []
    with a.hold(["r"]):
        waiter = threading.Thread(target=lambda: _hold(b, ["r"], order, "B", pause=0.2))
        waiter.start()
        time.sleep(0.1)  # B has asked and been refused
    _hold(a, ["r"], order, "A again")
    waiter.join(5)
    assert order == ["B", "A again"]


def test_a_turn_lapses_when_its_holder_never_gives_it_back(turns):
    a, b = turns(ttl=0.3), turns()
    dying = a.hold(["r"])  # a process that dies holding the room
    dying.__enter__()
    started = time.monotonic()
    order: list[str] = []
    _hold(b, ["r"], order, "B")
    assert order == ["B"] and time.monotonic() - started >= 0.2
    del dying


def _hold(turns: RoomTurns, rooms: list[str], order: list[str], name: str, pause=0.0):
    with turns.hold(rooms):
        order.append(name)
        time.sleep(pause)
