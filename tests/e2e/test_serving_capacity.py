"""One process holds far more than 1,024 sockets (eventlet's default pool, the usual
open-files soft limit), under `make run`'s server and under gunicorn, and still
answers. The 10,000 figure is measured by `make bench` (workload I), not here."""

from __future__ import annotations

import resource
import socket

import pytest

from .harness import MODES, Api
from .wire import EIO_WS, connect

HELD = 2000
UPGRADE = (
    f"GET {EIO_WS} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()


def _our_open_files_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed <= hard or (hard == resource.RLIM_INFINITY and soft < needed):
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        pytest.fail(f"this test needs {needed} open files; the hard limit is {hard}")


def _upgraded(sock: socket.socket) -> bool:
    """Did the server answer 101 and send Engine.IO's OPEN packet?"""
    data = b""
    while b"\r\n\r\n" not in data or b'0{"sid"' not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    return data.startswith(b"HTTP/1.1 101")


@pytest.mark.parametrize("gunicorn", [False, True], ids=["wsgi", "gunicorn"])
@pytest.mark.parametrize("mode", MODES)
def test_one_process_holds_thousands_of_sockets(mode, gunicorn, server_factory) -> None:
    _our_open_files_limit(HELD + 200)
    server = server_factory(mode, gunicorn=gunicorn, SOCKET_CONNECT_TIMEOUT="0")
    held: list[socket.socket] = []
    api = Api(server.url)
    try:
        for _ in range(HELD):  # all asked first, then all read: the server works at once
            sock = connect(server.port)
            sock.sendall(UPGRADE)
            held.append(sock)
        upgraded = sum(_upgraded(sock) for sock in held)
        assert upgraded == HELD  # > 1024: no pool or file limit stopped at the default
        assert api.request("GET", "/health").json()["status"] == "ok"
    finally:
        for sock in held:
            sock.close()
        api.http.close()
