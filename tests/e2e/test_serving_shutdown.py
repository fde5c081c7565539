"""SIGTERM (a dyno restart): the server stops accepting, lets an in-flight request
finish, closes every socket's transport (so Socket.IO clients reconnect, which they
would not after a namespace DISCONNECT), and exits 0; as `make run` and as gunicorn."""

from __future__ import annotations

import json
import signal

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
