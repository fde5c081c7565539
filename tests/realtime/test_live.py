"""The live layer on /chat: edits, typing, read, presence, notifications, online."""

from __future__ import annotations

import pytest

from chat.domain.errors import LiveStateError
from chat.domain.live import Heartbeat
from chat.live.memory import MemoryLive
from tests.realtime.test_namespace import NS, call, events, watching  # noqa: F401


@pytest.fixture
def live(app):
    return app.extensions["chat"].live


def user_of(event):
    return event["user"]["id"]


# -- edits ---------------------------------------------------------------------------


def test_edit_message_is_acked_and_broadcast(watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    posted = call(bob_sock, "message", {"room_id": room_id, "content": "helo"})["message"]
    events(owner_sock), events(bob_sock)
    ack = call(
        bob_sock,
        "edit_message",
        {"room_id": room_id, "message_id": posted["id"], "content": "hello"},
    )
    assert ack["ok"] is True
    edited = ack["message"]
    assert (edited["id"], edited["content"]) == (posted["id"], "hello")
    assert edited["edited_at"] is not None
    assert events(owner_sock) == [("message_edited", edited)]
    assert events(bob_sock) == [("message_edited", edited)]
    assert api.history(owner, room_id)["messages"] == [edited]


def test_a_rest_edit_reaches_sockets(client, watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    posted = api.post(owner, room_id, "draft")
    events(bob_sock)
    response = client.patch(
        f"/api/rooms/{room_id}/messages/{posted['id']}",
        json={"content": "final"},
        headers=owner.headers,
    )
    assert events(bob_sock) == [("message_edited", response.json)]


@pytest.mark.parametrize(
    "whose, deleted, code", [("owner", False, "forbidden"), ("bob", True, "conflict")]
)
def test_a_refused_edit_changes_nothing(client, watching, api, whose, deleted, code):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    author = owner if whose == "owner" else bob
    posted = api.post(author, room_id, "as it was")
    if deleted:
        client.delete(f"/api/rooms/{room_id}/messages/{posted['id']}", headers=bob.headers)
    events(owner_sock), events(bob_sock)
    ack = call(
        bob_sock, "edit_message", {"room_id": room_id, "message_id": posted["id"], "content": "x"}
    )
    assert ack["ok"] is False and ack["error"]["code"] == code
    assert events(owner_sock) == []
    assert api.history(owner, room_id)["messages"][0]["edited_at"] is None


# -- typing ----------------------------------------------------------------------------


def test_typing_reaches_the_others_never_the_typist(sio, watching):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    bob_other_tab = sio(bob.token)
    call(bob_other_tab, "join", {"room_id": room_id})
    events(owner_sock), events(bob_sock), events(bob_other_tab)
    ack = call(bob_sock, "typing", {"room_id": room_id, "typing": True})
    assert ack == {"ok": True, "room_id": room_id, "typing": True}
    got = events(owner_sock, "typing")
    assert [(e["room_id"], user_of(e), e["typing"]) for e in got] == [(room_id, bob.id, True)]
    assert got[0]["user"]["username"] == "bob" and "email" not in got[0]["user"]
    assert events(bob_sock) == [] and events(bob_other_tab) == []
    call(bob_sock, "typing", {"room_id": room_id, "typing": False})
    assert [e["typing"] for e in events(owner_sock, "typing")] == [False]
    call(bob_sock, "typing", {"room_id": room_id, "typing": False})  # was not typing
    assert events(owner_sock) == []


def test_typing_lapses_without_renewal(app, live, watching, monkeypatch):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    clock = [1000.0]
    monkeypatch.setattr(live, "clock", lambda: clock[0])
    call(bob_sock, "typing", {"room_id": room_id, "typing": True})
    clock[0] += 4
    call(bob_sock, "typing", {"room_id": room_id, "typing": True})  # renewed at 4 s
    events(owner_sock)
    clock[0] += 4.9
    assert live.expire_typing() == 0
    assert events(owner_sock) == []
    clock[0] += 0.2  # 5.1 s since the renewal
    with app.app_context():
        assert live.expire_typing() == 1
    got = events(owner_sock, "typing")
    assert [(user_of(e), e["typing"]) for e in got] == [(bob.id, False)]
    assert live.expire_typing() == 0


@pytest.mark.parametrize("how", ["leave", "disconnect"])
def test_leaving_or_disconnecting_ends_typing(watching, how):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    call(bob_sock, "typing", {"room_id": room_id, "typing": True})
    events(owner_sock)
    if how == "leave":
        call(bob_sock, "leave", {"room_id": room_id})
    else:
        bob_sock.disconnect(NS)
    got = events(owner_sock, "typing")
    assert [(user_of(e), e["typing"]) for e in got] == [(bob.id, False)]


def test_typing_is_for_members(sio, auth, watching):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    eve = sio(auth.user("eve").token)
    ack = call(eve, "typing", {"room_id": room_id, "typing": True})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    bad = call(bob_sock, "typing", {"room_id": room_id, "typing": "yes please"})
    assert bad["ok"] is False and "typing" in bad["error"]["errors"]
    assert events(owner_sock, "typing") == []


# -- read ------------------------------------------------------------------------------


def test_read_moves_the_marker_and_tells_the_room_and_the_readers_sockets(sio, watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    for n in range(4):
        api.post(owner, room_id, f"m{n}")
    bob_elsewhere = sio(bob.token)  # not watching: it still hears bob's marker move
    events(owner_sock), events(bob_sock)
    ack = call(bob_sock, "read", {"room_id": room_id, "seq": 3})
    assert ack == {"ok": True, "room_id": room_id, "last_read_seq": 3, "unread_count": 1}
    told = {"room_id": room_id, "user_id": bob.id, "seq": 3}
    assert events(owner_sock) == [("read", told)]
    assert events(bob_sock) == [("read", told)]
    assert events(bob_elsewhere) == [("read", told)]
    again = call(bob_sock, "read", {"room_id": room_id, "seq": 2})
    assert again["last_read_seq"] == 3
    assert events(owner_sock) == []  # nothing moved, nothing said
    assert api.room(bob, room_id)["unread_count"] == 1


# -- presence --------------------------------------------------------------------------


def presence_of(sock):
    return [(e["user_id"], e["online"]) for e in events(sock, "presence")]


def test_presence_follows_the_first_and_the_last_socket(client, sio, chat, auth):
    owner, bob, room_id = chat
    loner = sio(auth.user("loner").token)  # shares no room with bob
    owner_sock = sio(owner.token)
    first = sio(bob.token)
    assert presence_of(owner_sock) == [(bob.id, True)]
    second = sio(bob.token)  # another tab: no news
    first.disconnect(NS)  # one tab left: no news
    assert presence_of(owner_sock) == []
    assert client.get(f"/api/users/{bob.id}", headers=owner.headers).json["online"] is True
    second.disconnect(NS)
    got = events(owner_sock, "presence")
    assert [(e["user_id"], e["online"]) for e in got] == [(bob.id, False)]
    profile = client.get(f"/api/users/{bob.id}", headers=owner.headers).json
    assert profile["online"] is False
    assert profile["last_seen"] == got[0]["last_seen"] is not None
    assert events(loner, "presence") == []
    sio(bob.token)  # back: last_seen is what was stored
    back = events(owner_sock, "presence")
    assert [(e["online"], e["last_seen"]) for e in back] == [(True, profile["last_seen"])]


def test_presence_reaches_new_room_mates(client, sio, auth, api):
    alice, carol = auth.user("alice"), auth.user("carol")
    alice_sock, carol_sock = sio(alice.token), sio(carol.token)
    assert presence_of(alice_sock) == []  # no room in common
    room_id = api.create_room(alice, "meet")["id"]
    api.join(carol, room_id)
    carol_sock.disconnect(NS)
    assert presence_of(alice_sock) == [(carol.id, False)]


def test_a_deleted_room_no_longer_links_its_members(client, sio, chat):
    owner, bob, room_id = chat
    owner_sock = sio(owner.token)
    bob_sock = sio(bob.token)
    call(bob_sock, "join", {"room_id": room_id})
    assert presence_of(owner_sock) == [(bob.id, True)]
    assert client.delete(f"/api/rooms/{room_id}", headers=owner.headers).status_code == 204
    events(owner_sock)
    bob_sock.disconnect(NS)  # no room in common any more: the owner hears nothing
    assert presence_of(owner_sock) == []


# -- notifications ---------------------------------------------------------------------


def test_members_not_watching_are_notified(client, sio, auth, watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    carol, dave = auth.user("carol"), auth.user("dave")
    api.join(carol, room_id)
    elsewhere = api.create_room(carol, "elsewhere")["id"]
    carol_sock = sio(carol.token)
    call(carol_sock, "join", {"room_id": elsewhere})  # watching another room
    dave_sock = sio(dave.token)  # not a member
    for sock in (owner_sock, bob_sock, carol_sock, dave_sock):
        events(sock)
    sent = call(bob_sock, "message", {"room_id": room_id, "content": "news"})["message"]
    assert events(carol_sock) == [("notification", {"room_id": room_id, "message": sent})]
    assert events(owner_sock) == [("new_message", sent)]  # watching: the message itself
    assert events(bob_sock) == [("new_message", sent)]
    assert events(dave_sock) == []
    rest = api.post(owner, room_id, "over rest")  # REST posts notify alike
    assert events(carol_sock) == [("notification", {"room_id": room_id, "message": rest})]


def test_a_user_watching_in_one_tab_is_not_notified_in_another(sio, auth, watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    bob_idle_tab = sio(bob.token)
    events(bob_idle_tab)
    seen = api.post(owner, room_id, "seen in the other tab")
    assert events(bob_idle_tab) == []
    assert events(bob_sock) == [("new_message", seen)]
    call(bob_sock, "leave", {"room_id": room_id})  # now no tab of bob's watches
    posted = api.post(owner, room_id, "now notified")
    expected = ("notification", {"room_id": room_id, "message": posted})
    assert events(bob_idle_tab) == [expected]
    assert events(bob_sock) == [expected]


def test_the_author_is_not_notified_of_their_own_post(sio, chat, api):
    owner, bob, room_id = chat
    owner_sock = sio(owner.token)  # connected, not watching
    api.post(owner, room_id, "mine")
    assert events(owner_sock) == []


def test_a_former_member_is_not_notified(client, sio, watching, api):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    assert client.post(f"/api/rooms/{room_id}/leave", headers=bob.headers).status_code == 204
    events(bob_sock)
    api.post(owner, room_id, "bob is gone")
    assert events(bob_sock) == []


def test_direct_messages_notify_the_other_person(client, sio, auth, api):
    alice, bob = auth.user("alice"), auth.user("bob")
    bob_sock = sio(bob.token)
    dm = client.post("/api/conversations", json={"user_id": bob.id}, headers=alice.headers).json
    posted = api.post(alice, dm["id"], "psst")
    assert events(bob_sock) == [("notification", {"room_id": dm["id"], "message": posted})]
    call(bob_sock, "join", {"room_id": dm["id"]})
    events(bob_sock)
    again = api.post(alice, dm["id"], "here?")
    assert events(bob_sock) == [("new_message", again)]


# -- online ----------------------------------------------------------------------------


def test_online_over_rest_matches_the_event(client, sio, watching):  # noqa: F811
    owner, owner_sock, bob, bob_sock, room_id = watching
    ack = call(owner_sock, "online", {"room_id": room_id})
    response = client.get(f"/api/rooms/{room_id}/online", headers=owner.headers)
    assert response.status_code == 200
    assert response.json == {"room_id": room_id, "users": ack["users"]}
    assert sorted(u["id"] for u in response.json["users"]) == sorted([owner.id, bob.id])
    bob_sock.disconnect(NS)
    users = client.get(f"/api/rooms/{room_id}/online", headers=owner.headers).json["users"]
    assert [u["id"] for u in users] == [owner.id]


# -- when the shared live state fails ----------------------------------------------------


class Unavailable:
    """A live state whose every call fails, as RedisLive does when Redis is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise LiveStateError("connection refused")

        return fail


def test_a_live_state_failure_costs_neither_a_sign_in_nor_a_post(app, client, sio, auth, chat, api):
    """Each question falls back to this process's own view: messages still arrive,
    users on this process are still online, only the cross-process extras are lost."""
    owner, bob, room_id = chat
    app.extensions["chat"].presence.live = Unavailable()
    owner_sock, bob_sock = sio(owner.token), sio(bob.token)
    assert call(owner_sock, "join", {"room_id": room_id})["ok"] is True
    assert client.get("/api/users/me", headers=bob.headers).status_code == 200
    posted = api.post(bob, room_id, "still delivered")
    assert events(owner_sock, "new_message") == [posted]
    assert client.get(f"/api/users/{owner.id}", headers=bob.headers).json["online"] is True
    online = client.get(f"/api/rooms/{room_id}/online", headers=bob.headers).json["users"]
    assert [u["id"] for u in online] == [owner.id]
    assert call(bob_sock, "typing", {"room_id": room_id, "typing": True})["ok"] is True
    bob_sock.disconnect(NS)
    assert api.history(owner, room_id)["messages"] == [posted]


def test_a_lost_shared_state_is_sent_again(app, sio, auth, watching, api):  # noqa: F811
    """Redis restarted empty (or took this process for dead): the next heartbeat says
    so, and this process sends its sockets, their rooms and their watches again."""
    owner, owner_sock, bob, bob_sock, room_id = watching
    carol = auth.user("carol")
    api.join(carol, room_id)
    carol_sock = sio(carol.token)  # online, not watching

    class Restarted(MemoryLive):
        told = False

        def heartbeat(self):
            first, self.told = not self.told, True
            return Heartbeat(rejoined=first)

    fresh = Restarted()
    services = app.extensions["chat"]
    services.presence.live = fresh
    assert fresh.watchers(room_id) == set()
    services.live.heartbeat()
    assert fresh.watchers(room_id) == {owner.id, bob.id}
    assert fresh.online_among([owner.id, bob.id, carol.id]) == {owner.id, bob.id, carol.id}
    assert fresh.fanout(room_id).idle == {carol.id}
    events(carol_sock)
    posted = api.post(owner, room_id, "after the restart")
    assert events(carol_sock) == [("notification", {"room_id": room_id, "message": posted})]
