"""The live layer end to end: `python wsgi.py` under eventlet and gevent, real clients.

Typing and presence between two users, the typing state lapsing on the server's own
clock, and a notification to a member watching another room.
"""

from __future__ import annotations

import pytest

from .harness import MODES, Api


def presence(sock, user_id):
    return [
        (e["online"], e["last_seen"]) for e in sock.received("presence") if e["user_id"] == user_id
    ]


@pytest.mark.parametrize("mode", MODES)
def test_typing_presence_and_notifications(mode, server_factory, sockets) -> None:
    server = server_factory(mode, TYPING_TIMEOUT="1")
    api = Api(server.url)
    alice, bob = api.user("alice"), api.user("bob")
    room_id = api.create_room(alice, "live")["id"]
    other_id = api.create_room(bob, "elsewhere")["id"]
    assert api.request("POST", f"/api/rooms/{room_id}/join", bob).status_code == 200

    a = sockets(server, alice.token)
    a.ok("join", {"room_id": room_id})
    b = sockets(server, bob.token)  # bob's first socket: alice hears him come online
    a.wait_for(lambda s: presence(s, bob.id), what="bob's presence")
    assert presence(a, bob.id) == [(True, None)]
    b.ok("join", {"room_id": other_id})  # bob watches another room

    # A message in alice's room reaches bob, who is not watching it, as a notification.
    posted = api.post_message(alice, room_id, "are you there?")
    got = b.wait_for(lambda s: s.received("notification"), what="a notification")
    assert got == [{"room_id": room_id, "message": posted}]
    assert b.messages(room_id) == []

    # bob watches it now and types; alice hears it, bob's own socket does not; unrenewed,
    # it lapses after TYPING_TIMEOUT (1 s) and alice hears `typing: false`.
    b.ok("join", {"room_id": room_id})
    assert b.ok("typing", {"room_id": room_id, "typing": True})["typing"] is True
    a.wait_for(lambda s: len(s.received("typing")) >= 2, timeout=5, what="typing, then its lapse")
    assert [(e["user"]["id"], e["typing"]) for e in a.received("typing")] == [
        (bob.id, True),
        (bob.id, False),
    ]
    assert b.received("typing") == []

    # bob's last socket closes: alice hears him go offline, with the time stored.
    b.close()
    a.wait_for(lambda s: len(presence(s, bob.id)) == 2, what="bob going offline")
    online, last_seen = presence(a, bob.id)[1]
    assert online is False and last_seen
    profile = api.request("GET", f"/api/users/{bob.id}", alice).json()
    assert (profile["online"], profile["last_seen"]) == (False, last_seen)
