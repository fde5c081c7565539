"""Clients below Socket.IO, for tests of the server's edges: raw HTTP over a socket, and
raw Engine.IO over a WebSocket (websocket-client), frame by frame."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import websocket

from .harness import WAIT

EIO_WS = "/socket.io/?EIO=4&transport=websocket"
EIO_POLL = "/socket.io/?EIO=4&transport=polling"


def connect(port: int, timeout: float = WAIT) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def closed_by_server(sock: socket.socket, timeout: float = WAIT) -> bool:
    """Wait for the server to close `sock` (EOF or reset); False if it stays open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def read_interim(sock: socket.socket) -> bytes:
    """A 1xx response's head (it has no body), read byte by byte to leave what follows."""
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise AssertionError(f"connection closed mid-head: {data!r}")
        data += byte
    return data


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response, its body by Content-Length or chunked (gunicorn's)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    status = int(status_line.split()[1])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return status, headers, _dechunk(sock, body)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _dechunk(sock: socket.socket, data: bytes) -> bytes:
    while not data.endswith(b"0\r\n\r\n"):
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-body: {data!r}")
        data += chunk
    body = b""
    while True:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return body
        body, data = body + data[:size], data[size + 2 :]


def polling_sid(port: int) -> str:
    """An Engine.IO session opened by a polling handshake (never signed in)."""
    with connect(port) as sock:
        sock.sendall(f"GET {EIO_POLL} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode())
        status, _, body = read_response(sock)
    assert status == 200, body
    assert body.startswith(b"0"), body
    return str(json.loads(body[1:])["sid"])


def engineio_websocket(url: str, timeout: float = WAIT) -> tuple[websocket.WebSocket, dict]:
    """A WebSocket-only Engine.IO session: the socket and the server's OPEN packet."""
    ws = websocket.create_connection(url.replace("http", "ws", 1) + EIO_WS, timeout=timeout)
    opened = ws.recv()
    assert isinstance(opened, str) and opened.startswith("0"), opened
    return ws, json.loads(opened[1:])


def frames_until_close(ws: websocket.WebSocket) -> tuple[list[str], int | None]:
    """Every text frame until the server closes; and the close status, if it sent one."""
    texts: list[str] = []
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return texts, None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            status = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return texts, status
        if opcode == websocket.ABNF.OPCODE_TEXT:
            texts.append(data.decode())


def json_of(body: bytes) -> Any:
    return json.loads(body.decode())


def hang_up(ws: websocket.WebSocket) -> None:
    """Close `ws` and its socket, also when the server closed first (then
    websocket-client's close() leaves the socket open)."""
    with contextlib.suppress(OSError, websocket.WebSocketException):
        ws.close(timeout=1)
    ws.shutdown()
