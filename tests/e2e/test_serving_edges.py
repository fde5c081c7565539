"""The server's edges, on `make run`'s servers and gunicorn's workers, both hubs:
slow request heads, sockets that never sign in, oversized Engine.IO POSTs, WebSocket
messages fragmented past the packet limit, and chunked REST bodies."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import websocket

from .harness import MODES, WAIT, Api, ServerProcess, wait_until
from .wire import (
    EIO_POLL,
    closed_by_server,
    connect,
    engineio_websocket,
    frames_until_close,
    hang_up,
    json_of,
    polling_sid,
    read_response,
)

SERVERS = [
    pytest.param(mode, gunicorn, id=f"{'gunicorn' if gunicorn else 'wsgi'}-{mode}")
    for gunicorn in (False, True)
    for mode in MODES
]
LIMIT = 64 * 1024


@pytest.fixture
def apis() -> Iterator[Callable[[ServerProcess], Api]]:
    """`apis(server)` → an Api whose HTTP session is closed at teardown."""
    opened: list[Api] = []

    def open_api(server: ServerProcess) -> Api:
        opened.append(Api(server.url))
        return opened[-1]

    yield open_api
    for api in opened:
        api.http.close()


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_a_request_head_trickled_byte_by_byte_is_cut_off(
    mode, gunicorn, server_factory, apis
) -> None:
    server = server_factory(mode, gunicorn=gunicorn, REQUEST_HEADER_TIMEOUT="1")
    idle = connect(server.port)  # sends nothing at all
    slow = connect(server.port)
    slow.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
    cut_off = False
    deadline = time.monotonic() + 3 * WAIT
    while not cut_off and time.monotonic() < deadline:
        try:  # a header byte every 0.2 s: never idle long enough for a read timeout
            slow.sendall(b"X")
            cut_off = closed_by_server(slow, timeout=0.2)
        except (BrokenPipeError, ConnectionResetError):
            cut_off = True
    assert cut_off, "a slowloris head was never cut off"
    assert closed_by_server(idle), "an idle connection stays open"
    slow.close()
    idle.close()
    assert apis(server).request("GET", "/health").status_code == 200


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_long_polls_and_websockets_outlive_the_head_deadline(
    mode, gunicorn, server_factory, apis, sockets
) -> None:
    server = server_factory(mode, gunicorn=gunicorn, REQUEST_HEADER_TIMEOUT="1")
    api = apis(server)
    alice = api.user("alice")
    room_id = api.create_room(alice, "r")["id"]
    polling = sockets(server, alice.token, transports=["polling"])
    ws = sockets(server, alice.token, transports=["websocket"])
    time.sleep(3)  # three head deadlines of quiet: a poll is held, a WebSocket idle
    for sock in (polling, ws):
        assert sock.sio.connected and not sock.disconnected.is_set()
        sock.ok("join", {"room_id": room_id})
    sent = polling.ok("message", {"room_id": room_id, "content": "still here"})["message"]
    assert ws.wait_messages(room_id, 1) == [sent]


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_a_socket_that_never_signs_in_is_closed(
    mode, gunicorn, server_factory, apis, sockets
) -> None:
    server = server_factory(mode, gunicorn=gunicorn, SOCKET_CONNECT_TIMEOUT="1")
    api = apis(server)
    alice = api.user("alice")
    room_id = api.create_room(alice, "r")["id"]
    signed_in = sockets(server, alice.token, transports=["websocket"])
    ws, _ = engineio_websocket(server.url)  # Engine.IO open, but no Socket.IO connect
    texts, _ = frames_until_close(ws)
    hang_up(ws)
    assert not any(t.startswith("4") for t in texts), texts  # no Socket.IO traffic at all
    sid = polling_sid(server.port)  # the same over long-polling: its session ends
    wait_until(
        lambda: api.http.get(f"{server.url}{EIO_POLL}&sid={sid}", timeout=WAIT).status_code == 400,
        what="the unsigned polling session to be closed",
    )
    assert signed_in.sio.connected and not signed_in.disconnected.is_set()
    signed_in.ok("join", {"room_id": room_id})


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_a_polling_post_over_the_limit_is_413_and_frees_its_slot(
    mode, gunicorn, server_factory, apis
) -> None:
    server = server_factory(mode, gunicorn=gunicorn)
    sid = polling_sid(server.port)
    with connect(server.port) as sock:
        sock.sendall(
            f"POST {EIO_POLL}&sid={sid} HTTP/1.1\r\nHost: t\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {LIMIT + 4464}\r\n\r\nx".encode()
        )
        status, headers, body = read_response(sock)
    assert status == 413
    assert headers["content-type"] == "application/json"
    error = json_of(body)
    assert error["code"] == "payload_too_large" and error["message"]
    # The session was closed, not left waiting on a queue nobody drains.
    api = apis(server)
    poll = api.http.get(f"{server.url}{EIO_POLL}&sid={sid}", timeout=WAIT)
    assert poll.status_code == 400 or poll.text.startswith("1"), poll.text
    assert api.request("GET", "/health").status_code == 200


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_a_websocket_message_fragmented_past_the_limit_is_closed_1009(
    mode, gunicorn, server_factory, apis
) -> None:
    server = server_factory(mode, gunicorn=gunicorn)
    ws, _ = engineio_websocket(server.url)
    piece = "x" * (16 * 1024)  # each frame far under the limit
    frames = [websocket.ABNF.create_frame("4" + piece[1:], websocket.ABNF.OPCODE_TEXT, 0)]
    frames += [websocket.ABNF.create_frame(piece, websocket.ABNF.OPCODE_CONT, 0)] * 3
    # 64 KB so far, the limit exactly; one byte more is over it (and nothing follows it
    # that the server would leave unread, which would turn its close into a reset).
    frames.append(websocket.ABNF.create_frame("x", websocket.ABNF.OPCODE_CONT, 0))
    assert sum(len(f.data) for f in frames) == LIMIT + 1
    for frame in frames:
        ws.send_frame(frame)
    _, status = frames_until_close(ws)
    hang_up(ws)
    assert status == 1009
    assert apis(server).request("GET", "/health").status_code == 200


@pytest.mark.parametrize(("mode", "gunicorn"), SERVERS)
def test_a_chunked_rest_body_is_read_within_the_limit(mode, gunicorn, server_factory, apis) -> None:
    server = server_factory(mode, gunicorn=gunicorn)
    api = apis(server)
    alice = api.user("alice")

    def chunked(body: bytes, size: int = 1000):
        return (body[i : i + size] for i in range(0, len(body), size))

    headers = {**alice.headers, "Content-Type": "application/json"}
    made = api.http.post(
        f"{server.url}/api/rooms", data=chunked(b'{"name": "chunked"}', 5), headers=headers
    )
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "chunked"
    big = b'{"name": "' + b"x" * (2 * LIMIT) + b'"}'
    refused = api.http.post(f"{server.url}/api/rooms", data=chunked(big), headers=headers)
    assert refused.status_code == 413, refused.text
    assert refused.json()["code"] == "payload_too_large"
