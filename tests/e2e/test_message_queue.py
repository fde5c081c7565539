"""Two server processes, one SQLite file, one Redis message queue: a message posted to
one process reaches sockets connected to the other (SPEC 1, SOCKETIO_MESSAGE_QUEUE).

The Redis server is the test-suite's own (tests/redis_server.py), so the default
channel on db 0 is ours alone.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest

from .harness import MODES, WAIT, Api, ServerProcess


def two_processes(
    mode: str, server_factory, tmp_path, queue: str, **env: str
) -> tuple[ServerProcess, ServerProcess]:
    """Processes A and B on one SQLite file and one Redis queue."""
    shared = tmp_path / "shared.db"
    one = server_factory(
        mode, db_path=shared, name=f"A-{mode}", SOCKETIO_MESSAGE_QUEUE=queue, **env
    )
    two = server_factory(
        mode, db_path=shared, name=f"B-{mode}", SOCKETIO_MESSAGE_QUEUE=queue, **env
    )
    return one, two


@pytest.mark.parametrize("mode", MODES)
def test_message_reaches_socket_on_another_process(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    one, two = two_processes(mode, server_factory, tmp_path, redis_url)
    api_a, api_b = Api(one.url), Api(two.url)

    alice = api_b.user("alice")
    bob = api_a.user("bob")  # one store: an account made on A signs in on B
    room_id = api_b.create_room(alice, "everywhere")["id"]

    alice_on_b = sockets(two, alice.token)
    alice_on_b.ok("join", {"room_id": room_id})
    bob_on_a = sockets(one, bob.token)
    bob_on_a.ok("join", {"room_id": room_id})  # bob becomes a member on A
    # Joining on A is announced to the watcher on B.
    alice_on_b.wait_for(
        lambda s: any(e["user"]["id"] == bob.id for e in s.received("user_joined", room_id)),
        what="user_joined from the other process",
    )

    # Posted over REST to B, received live on A, as the REST body said.
    posted = api_b.post_message(alice, room_id, "from B over REST")
    assert bob_on_a.wait_messages(room_id, 1) == [posted]

    # Sent over a socket on A, received on B (and by the sender's own socket once).
    sent = bob_on_a.ok("message", {"room_id": room_id, "content": "from A over a socket"})
    got_b = alice_on_b.wait_messages(room_id, 2)
    assert got_b == [posted, sent["message"]]
    assert bob_on_a.wait_messages(room_id, 2) == [posted, sent["message"]]

    # A logout on B holds on A at once (the revocation is in the shared store).
    response = api_b.request("POST", "/api/auth/logout", bob)
    assert response.status_code == 204
    assert api_a.request("GET", "/api/users/me", bob).status_code == 401
    sockets(one, bob.token, connect=False).refused()
    assert api_a.history(alice, room_id).json()["messages"] == [posted, sent["message"]]


def _watching_on_a_then_logout_on_b(mode, server_factory, sockets, tmp_path, redis_url):
    """alice watches a room from a socket on A, then logs that token out on B."""
    one, two = two_processes(mode, server_factory, tmp_path, redis_url)
    api_a, api_b = Api(one.url), Api(two.url)
    alice = api_a.user("alice")
    room_id = api_a.create_room(alice, "revoked")["id"]
    on_a = sockets(one, alice.token)
    on_a.ok("join", {"room_id": room_id})
    response = api_b.request("POST", "/api/auth/logout", alice)
    assert response.status_code == 204
    assert api_a.request("GET", "/api/users/me", alice).status_code == 401
    return one, api_a, alice, room_id, on_a


@pytest.mark.parametrize("mode", MODES)
def test_logout_on_one_process_closes_sockets_on_another(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    """B revokes; A closes its socket of that token (the control channel), and only
    that one: alice's socket signed in with another token keeps receiving."""
    one, api_a, alice, room_id, on_a = _watching_on_a_then_logout_on_b(
        mode, server_factory, sockets, tmp_path, redis_url
    )
    assert on_a.disconnected.wait(WAIT), "the socket on A outlived its token's logout on B"
    again = sockets(one, api_a.login("alice").token)
    again.ok("join", {"room_id": room_id})
    bob = api_a.user("bob")
    assert api_a.request("POST", f"/api/rooms/{room_id}/join", bob).status_code == 200
    posted = api_a.post_message(bob, room_id, "for live tokens only")
    assert again.wait_messages(room_id, 1) == [posted]
    assert not again.disconnected.is_set()


@pytest.mark.parametrize("mode", MODES)
def test_a_removed_members_sockets_stop_receiving_on_every_process(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    """bob watches from a socket on A and one on B; the owner removes him through B.
    Both his sockets hear `member_removed` and then nothing more of the room, at once
    (posts right after the removal, through either process), while carol's socket on A
    keeps receiving. Sentinels in another room bob watches, posted through each
    process after those posts, prove the absence without sleeping."""
    one, two = two_processes(mode, server_factory, tmp_path, redis_url)
    api_a, api_b = Api(one.url), Api(two.url)
    owner, bob, carol = api_b.user("owner"), api_a.user("bob"), api_a.user("carol")
    room_id = api_b.create_room(owner, "moderated")["id"]
    elsewhere = api_b.create_room(owner, "elsewhere")["id"]
    bob_on_a, bob_on_b = sockets(one, bob.token), sockets(two, bob.token)
    carol_on_a = sockets(one, carol.token)
    for sock in (bob_on_a, bob_on_b):
        sock.ok("join", {"room_id": room_id})
        sock.ok("join", {"room_id": elsewhere})
    carol_on_a.ok("join", {"room_id": room_id})
    before = api_b.post_message(owner, room_id, "before")
    for sock in (bob_on_a, bob_on_b, carol_on_a):
        assert sock.wait_messages(room_id, 1) == [before]

    removed = api_b.request("DELETE", f"/api/rooms/{room_id}/members/{bob.id}", owner)
    assert removed.status_code == 204, removed.text
    after_b = api_b.post_message(owner, room_id, "after, through B")
    after_a = api_a.post_message(owner, room_id, "after, through A")
    sentinels = [api.post_message(owner, elsewhere, "sentinel") for api in (api_a, api_b)]

    for sock in (bob_on_a, bob_on_b):
        got = sock.wait_messages(elsewhere, 2)  # through two processes: in either order
        assert sorted(got, key=lambda m: m["seq"]) == sentinels
        assert sock.messages(room_id) == [before]
        [event] = sock.wait_for(lambda s: s.received("member_removed", room_id))
        assert event["user"]["id"] == bob.id
        assert not sock.disconnected.is_set()
    got = carol_on_a.wait_messages(room_id, 3)
    assert sorted(m["seq"] for m in got) == [1, 2, 3]
    assert {m["id"] for m in got} == {before["id"], after_b["id"], after_a["id"]}
    assert [e["user"]["id"] for e in carol_on_a.received("member_removed", room_id)] == [bob.id]
    # And he may not come back on his own, through either process.
    for api in (api_a, api_b):
        assert api.request("POST", f"/api/rooms/{room_id}/join", bob).status_code == 403
    ack = bob_on_a.call("join", {"room_id": room_id})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"


@pytest.mark.parametrize("mode", MODES)
def test_a_password_change_on_one_process_closes_sockets_on_another(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    one, two = two_processes(mode, server_factory, tmp_path, redis_url)
    api_a, api_b = Api(one.url), Api(two.url)
    alice = api_a.user("alice")
    on_a = sockets(one, api_a.login("alice").token)
    changed = api_b.request(
        "PUT",
        "/api/users/me/password",
        alice,
        json={"password": "password123", "new_password": "another-password"},
    )
    assert changed.status_code == 200, changed.text
    assert on_a.disconnected.wait(WAIT), "the socket on A outlived the password change on B"
    fresh = sockets(one, changed.json()["access_token"])
    assert fresh.sio.connected


# -- the live state across processes ---------------------------------------------------


def _presence(sock, user_id):
    return [e["online"] for e in sock.received("presence") if e["user_id"] == user_id]


@pytest.mark.parametrize("mode", MODES)
def test_presence_online_typing_and_notifications_across_processes(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    """The live state is in Redis: what one process knows of its sockets, the other
    sees."""
    one, two = two_processes(mode, server_factory, tmp_path, redis_url, TYPING_TIMEOUT="1")
    api_a, api_b = Api(one.url), Api(two.url)
    alice, bob, carol = api_a.user("alice"), api_a.user("bob"), api_a.user("carol")
    room_id = api_a.create_room(alice, "across")["id"]
    for member in (bob, carol):
        assert api_a.request("POST", f"/api/rooms/{room_id}/join", member).status_code == 200

    alice_on_a = sockets(one, alice.token)
    alice_on_a.ok("join", {"room_id": room_id})
    carol_on_a = sockets(one, carol.token)  # connected, not watching the room
    bob_on_b = sockets(two, bob.token)
    # A user connected to B is online for a user on A: the event, the flag, `online`.
    alice_on_a.wait_for(lambda s: _presence(s, bob.id) == [True], what="bob online, from B")
    assert api_a.request("GET", f"/api/users/{bob.id}", alice).json()["online"] is True
    bob_on_b.ok("join", {"room_id": room_id})
    watching = alice_on_a.ok("online", {"room_id": room_id})["users"]
    assert sorted(u["id"] for u in watching) == sorted([alice.id, bob.id])
    over_rest = api_b.request("GET", f"/api/rooms/{room_id}/online", carol).json()["users"]
    assert sorted(u["id"] for u in over_rest) == sorted([alice.id, bob.id])

    # Posted on B: alice, watching on A, gets the message and no notification; carol,
    # connected to A but not watching, gets the notification.
    first = api_b.post_message(bob, room_id, "from B")
    got = carol_on_a.wait_for(lambda s: s.received("notification"), what="carol's notification")
    assert got == [{"room_id": room_id, "message": first}]
    sentinel = api_b.post_message(bob, room_id, "sentinel")
    assert alice_on_a.wait_messages(room_id, 2) == [first, sentinel]
    assert alice_on_a.received("notification") == []  # the sentinel came after any

    # bob types on B: alice hears it on A, then its lapse (timed on B).
    bob_on_b.ok("typing", {"room_id": room_id, "typing": True})
    alice_on_a.wait_for(lambda s: len(s.received("typing")) >= 2, timeout=5, what="typing")
    assert [(e["user"]["id"], e["typing"]) for e in alice_on_a.received("typing")] == [
        (bob.id, True),
        (bob.id, False),
    ]
    assert bob_on_b.received("typing") == []

    # bob's one socket closes on B: alice on A hears him go offline.
    bob_on_b.close()
    alice_on_a.wait_for(lambda s: _presence(s, bob.id) == [True, False], what="bob offline")


@pytest.mark.parametrize("mode", MODES)
def test_a_crashed_processs_users_go_offline(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    """A is killed (no disconnect handler runs there): once its heartbeat key expires,
    B takes its sockets out of the shared state and announces their users offline."""
    one, two = two_processes(mode, server_factory, tmp_path, redis_url, PRESENCE_HEARTBEAT="0.5")
    api_b = Api(two.url)
    alice, bob = api_b.user("alice"), api_b.user("bob")
    room_id = api_b.create_room(alice, "crash")["id"]
    assert api_b.request("POST", f"/api/rooms/{room_id}/join", bob).status_code == 200
    alice_on_b = sockets(two, alice.token)
    bob_on_a = sockets(one, bob.token)
    bob_on_a.ok("join", {"room_id": room_id})
    alice_on_b.wait_for(lambda s: _presence(s, bob.id) == [True], what="bob online")
    assert api_b.request("GET", f"/api/rooms/{room_id}/online", alice).json()["users"]

    one.proc.kill()
    one.proc.wait(timeout=10)
    alice_on_b.wait_for(
        lambda s: _presence(s, bob.id) == [True, False], timeout=15, what="bob offline"
    )
    assert api_b.request("GET", f"/api/users/{bob.id}", alice).json()["online"] is False
    assert api_b.request("GET", f"/api/rooms/{room_id}/online", alice).json()["users"] == []


SENDERS_PER_PROCESS = 3
MESSAGES_PER_SENDER = 60


@pytest.mark.parametrize("mode", MODES)
def test_two_processes_posting_at_once_deliver_in_seq_order(
    mode, server_factory, sockets, tmp_path, redis_url
) -> None:
    """Senders on both processes post to one room as fast as acks allow: a watcher on
    each process hears every message exactly once, in seq order, with no gap."""
    one, two = two_processes(mode, server_factory, tmp_path, redis_url)
    api = Api(one.url)
    owner = api.user("owner")
    room_id = api.create_room(owner, "busy")["id"]
    senders = []
    for process in (one, two):
        for n in range(SENDERS_PER_PROCESS):
            account = Api(process.url).user(f"s{n}{process.name}".replace("-", "")[:30])
            sock = sockets(process, account.token)
            sock.ok("join", {"room_id": room_id})
            senders.append(sock)
    watchers = []
    for process in (one, two):
        watcher = sockets(process, owner.token)
        watcher.ok("join", {"room_id": room_id})
        watchers.append(watcher)

    def send(sock) -> list[int]:
        return [
            sock.ok("message", {"room_id": room_id, "content": f"m{i}"})["message"]["seq"]
            for i in range(MESSAGES_PER_SENDER)
        ]

    with ThreadPoolExecutor(len(senders)) as pool:
        acked = [seq for seqs in pool.map(send, senders) for seq in seqs]
    total = len(senders) * MESSAGES_PER_SENDER
    assert sorted(acked) == list(range(1, total + 1))
    for watcher in watchers:
        seqs = [m["seq"] for m in watcher.wait_messages(room_id, total, timeout=60)]
        assert seqs == list(range(1, total + 1)), f"out of order: {_first_disorder(seqs)}"


def _first_disorder(seqs: list[int]) -> str:
    for i, (a, b) in enumerate(itertools.pairwise(seqs)):
        if b != a + 1:
            return f"seq {b} after {a} at position {i + 1}"
    return "none"
