"""SIGTERM (a dyno restart): the server stops accepting, lets an in-flight request
finish, closes every socket's transport (so Socket.IO clients reconnect, which they
would not after a namespace DISCONNECT), and exits 0; as `make run` and as gunicorn."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest

from .harness import MODES, NAMESPACE, WAIT, Api
from .wire import (
    connect,
    engineio_websocket,
    frames_until_close,
    hang_up,
    read_interim,
    read_response,
)


@pytest.mark.parametrize("gunicorn", [False, True], ids=["wsgi", "gunicorn"])
@pytest.mark.parametrize("mode", MODES)
def test_sigterm_finishes_requests_closes_transports_and_exits_0(
    mode, gunicorn, server_factory
) -> None:
    server = server_factory(mode, gunicorn=gunicorn, SHUTDOWN_TIMEOUT="5")
    api = Api(server.url)
    alice = api.user("alice")
    api.http.close()
    ws, _ = engineio_websocket(server.url)
    ws.send(f"40{NAMESPACE}," + json.dumps({"token": alice.token}))
    assert ws.recv().startswith(f"40{NAMESPACE},")  # signed in
    request = connect(server.port)  # a request in flight: its body half sent
    request.sendall(
        f"POST /api/rooms HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {alice.token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\n\r\n".encode()
    )
    # The server says 100 Continue once the app reads the body: the request is in flight.
    assert read_interim(request).startswith(b"HTTP/1.1 100")
    request.sendall(b'9\r\n{"name": \r\n')
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)

    texts, _ = frames_until_close(ws)
    hang_up(ws)
    # The Engine.IO session was closed (its CLOSE packet, "1"): clients reconnect. No
    # Socket.IO DISCONNECT for the namespace came first (after which they would not).
    assert "1" in texts, texts
    assert not [t for t in texts if t.startswith("41")], texts
    request.sendall(b'9\r\n"closing"\r\n1\r\n}\r\n0\r\n\r\n')
    status, _, body = read_response(request)
    request.close()
    assert status == 201, body
    assert json.loads(body)["name"] == "closing"
    assert server.proc.wait(timeout=4 * WAIT) == 0


@pytest.mark.parametrize("gunicorn", [False, True], ids=["wsgi", "gunicorn"])
@pytest.mark.parametrize("mode", MODES)
def test_sigterm_lets_an_event_in_flight_be_stored_and_acknowledged(
    mode, gunicorn, server_factory, tmp_path
) -> None:
    """A `message` event is held in its store write (the test holds SQLite's write
    lock) when SIGTERM comes: it is stored and acknowledged before the transport
    closes and the process exits 0. (The socket's CLOSE waits for the handler anyway:
    with `async_handlers=False` it runs in the socket's own reading loop.)"""
    db_path = tmp_path / "inflight.db"
    server = server_factory(mode, gunicorn=gunicorn, db_path=db_path, SHUTDOWN_TIMEOUT="5")
    api = Api(server.url)
    alice = api.user("alice")
    room_id = api.create_room(alice, "last words")["id"]
    api.http.close()
    ws, _ = engineio_websocket(server.url)
    ws.send(f"40{NAMESPACE}," + json.dumps({"token": alice.token}))
    assert ws.recv().startswith(f"40{NAMESPACE},")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # every write of the server now waits
    payload = {"room_id": room_id, "content": "in flight", "client_id": "last-1"}
    ws.send(f"42{NAMESPACE},7" + json.dumps(["message", payload]))
    time.sleep(0.5)  # the handler reaches the store and waits for the lock
    assert server.proc is not None
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the server is draining, the event still in flight
    holder.execute("ROLLBACK")
    holder.close()

    texts, _ = frames_until_close(ws)
    hang_up(ws)
    acks = [t for t in texts if t.startswith(f"43{NAMESPACE},7")]
    assert len(acks) == 1, texts
    ack = json.loads(acks[0].removeprefix(f"43{NAMESPACE},7"))[0]
    assert ack["ok"] is True and ack["message"]["content"] == "in flight", ack
    assert texts.index(acks[0]) < texts.index("1"), texts  # acknowledged, then closed
    assert server.proc.wait(timeout=4 * WAIT) == 0
    with sqlite3.connect(db_path) as db:
        stored = db.execute(
            "SELECT content FROM messages WHERE client_id = ?", ("last-1",)
        ).fetchall()
    assert stored == [("in flight",)]
