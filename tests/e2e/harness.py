"""The end-to-end harness: the real server as a subprocess, and real clients.

`server_factory(mode, ...)` starts `python wsgi.py` (or gunicorn, as the Procfile does)
with ASYNC_MODE=eventlet|gevent on a free port and waits for GET /health. `server` is
the same, parametrised over both modes. Every server started for a test is stopped at
its teardown, and a failing test gets the tail of each server's output in its report.

Nothing here sleeps to synchronise: waits are on events or polled with a deadline.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]  # the project: where wsgi.py lives
NAMESPACE = "/chat"
MODES = ["eventlet", "gevent"]
STARTUP_DEADLINE = 20.0
WAIT = 10.0  # default deadline for anything the server should do promptly
PASSWORD = "password123"

# Settings the server reads; blanked so neither the caller's environment nor a `.env`
# file (python-dotenv never overrides a variable that is set, even to "") leaks in.
_BLANKED = (
    "DATABASE_URL",
    "MONGODB_URI",
    "SOCKETIO_MESSAGE_QUEUE",
    "CORS_ORIGINS",
)

SERVERS = pytest.StashKey[list]()


# -- polling ----------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], Any],
    timeout: float = WAIT,
    what: str = "condition",
    interval: float = 0.02,
) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the server process -------------------------------------------------------------


class ServerExited(Exception):
    """The server process ended before it answered /health."""


@dataclass
class ServerProcess:
    name: str
    mode: str
    port: int
    command: list[str]
    env: dict[str, str]
    workdir: Path
    proc: subprocess.Popen | None = None
    _files: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.workdir / f"{self.name}.stdout.log"

    @property
    def stderr_path(self) -> Path:
        return self.workdir / f"{self.name}.stderr.log"

    def start(self) -> ServerProcess:
        out = open(self.stdout_path, "wb")  # noqa: SIM115 - closed in stop()
        err = open(self.stderr_path, "wb")  # noqa: SIM115
        self._files = [out, err]
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own group: gunicorn + worker
        )
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_DEADLINE
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()  # closes the log files
                raise ServerExited(
                    f"{self.name} exited with {self.proc.returncode} before "
                    f"answering /health\n{self.log_tail()}"
                )
            try:
                response = requests.get(f"{self.url}/health", timeout=1)
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as error:
                last = repr(error)
            time.sleep(0.05)
        self.stop()
        pytest.fail(
            f"{self.name} did not answer /health with 200 within {STARTUP_DEADLINE}s "
            f"(last: {last})\n{self.log_tail()}",
            pytrace=False,
        )

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL to the group if it hangs.

        The group is the one `start_new_session` made for this server (gunicorn's
        master and its worker), signalled while its leader is still unreaped.
        """
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for file in self._files:
            file.close()
        self._files = []

    def log_tail(self, lines: int = 60) -> str:
        parts = [f"$ {' '.join(self.command)}  (ASYNC_MODE={self.mode}, port {self.port})"]
        for path in (self.stderr_path, self.stdout_path):
            text = path.read_text(errors="replace") if path.exists() else ""
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"--- {path.name} (last {lines} lines) ---\n{tail}")
        return "\n".join(parts)


def _gunicorn() -> list[str]:
    script = Path(sys.executable).with_name("gunicorn")
    if script.exists():
        return [str(script)]
    found = shutil.which("gunicorn")
    return [found] if found else [sys.executable, "-m", "gunicorn"]


def server_env(
    mode: str, port: int, db_path: Path, *, production: bool = False, **extra: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update({key: "" for key in _BLANKED})
    env.update(
        ASYNC_MODE=mode,
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{db_path}",
        APP_ENV="production" if production else "development",
        PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        SECRET_KEY="e2e-secret-key-0123456789abcdef0123456789abcdef",
        JWT_SECRET_KEY="e2e-jwt-secret-key-0123456789abcdef0123456789abcdef",
        # The tests send bursts far above the default message limit; the limits have
        # tests of their own (tests/limits/, and an end-to-end one that turns them on).
        RATELIMIT_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class Account:
    id: str
    username: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """requests against one server: `api.user("alice")`, `api.post_message(...)`."""

    def __init__(self, base_url: str):
        self.url = base_url
        self.http = requests.Session()

    def request(
        self, method: str, path: str, account: Account | None = None, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if account is not None:
            headers.update(account.headers)
        return self.http.request(method, self.url + path, headers=headers, timeout=WAIT, **kwargs)

    def user(self, username: str, password: str = PASSWORD) -> Account:
        response = self.request(
            "POST", "/api/auth/register", json={"username": username, "password": password}
        )
        assert response.status_code == 201, response.text
        return self.login(username, password)

    def login(self, username: str, password: str = PASSWORD) -> Account:
        response = self.request(
            "POST", "/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Account(body["user"]["id"], username, body["access_token"], body["refresh_token"])

    def create_room(self, owner: Account, name: str, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", "/api/rooms", owner, json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def post_message(self, author: Account, room_id: str, content: str) -> dict[str, Any]:
        response = self.request(
            "POST", f"/api/rooms/{room_id}/messages", author, json={"content": content}
        )
        assert response.status_code == 201, response.text
        return response.json()

    def history(self, account: Account, room_id: str, **query: Any) -> requests.Response:
        return self.request("GET", f"/api/rooms/{room_id}/messages", account, params=query)


# -- Socket.IO ----------------------------------------------------------------------


class _WireOrder(logging.Handler):
    """Sees each Engine.IO packet as the client's read loop takes it off the wire.

    python-socketio's threaded client runs every event handler in a thread of its own
    (engineio triggers "message" with run_async=True), so handlers, acks included, may
    run out of the order the server sent them. To check the server's order, events are
    recorded from engineio's "Received packet" log record instead, which is written
    synchronously in wire order. (If that record ever changes, nothing is recorded and
    the tests fail on a timeout, never falsely pass.)
    """

    def __init__(self, on_packet: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.on_packet = on_packet

    def emit(self, record: logging.LogRecord) -> None:
        if (
            record.msg == "Received packet %s data %s"
            and isinstance(record.args, tuple)
            and record.args[0] == "MESSAGE"
            and isinstance(record.args[1], str)
        ):
            self.on_packet(record.args[1])


class ChatSocket:
    """A python-socketio client on /chat that records every event it receives, in the
    order they came over the wire (see `_WireOrder`)."""

    def __init__(self, url: str, token: str | None, transports: list[str] | None = None):
        self.url = url
        self.token = token
        self.transports = transports
        wire = logging.Logger(f"e2e.engineio.{id(self)}", logging.INFO)  # not registered
        wire.propagate = False
        wire.addHandler(_WireOrder(self._on_packet))
        # Our own HTTP session, closed in close(): python-engineio's client drops the one
        # it makes without closing it, which leaks its socket (a ResourceWarning).
        self.http = requests.Session()
        self.sio = socketio.Client(reconnection=False, engineio_logger=wire, http_session=self.http)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self.acks: list[Any] = []  # every ack, in wire order
        self.handled = 0  # events that reached a handler (out of order, possibly)
        self.connect_errors: list[Any] = []
        self.disconnected = threading.Event()
        self._cond = threading.Condition()
        self.sio.on("*", self._handled, namespace=NAMESPACE)
        self.sio.on("connect_error", self._connect_error, namespace=NAMESPACE)
        self.sio.on("disconnect", self._disconnect, namespace=NAMESPACE)

    def _on_packet(self, encoded: str) -> None:
        pkt = socketio.packet.Packet(encoded_packet=encoded)
        if (pkt.namespace or "/") != NAMESPACE:
            return
        with self._cond:
            if pkt.packet_type == socketio.packet.EVENT:
                event, *args = pkt.data
                self.events[event].append(args[0] if len(args) == 1 else tuple(args))
            elif pkt.packet_type == socketio.packet.ACK:
                self.acks.append(pkt.data[0] if len(pkt.data) == 1 else tuple(pkt.data))
            self._cond.notify_all()

    def _handled(self, event: str, *args: Any) -> None:
        with self._cond:
            self.handled += 1

    def _connect_error(self, data: Any = None) -> None:
        with self._cond:
            self.connect_errors.append(data)
            self._cond.notify_all()

    def _disconnect(self, *args: Any) -> None:
        with self._cond:
            self.disconnected.set()
            self._cond.notify_all()

    def connect(self) -> ChatSocket:
        auth = {"token": self.token} if self.token is not None else None
        self.sio.connect(
            self.url,
            namespaces=[NAMESPACE],
            auth=auth,
            transports=self.transports,
            wait_timeout=WAIT,
        )
        return self

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()
        # After the server vanished (a crash), engineio's read loop ends without closing
        # its WebSocket; close it here so its socket does not leak.
        ws = getattr(self.sio.eio, "ws", None)
        if ws is not None:
            ws.close()
        self.http.close()

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        return self.sio.call(event, data, namespace=NAMESPACE, timeout=WAIT)

    def refused(self) -> Any:
        """Connect, expect a refusal, and return the message of the connect_error."""
        with pytest.raises(socketio.exceptions.ConnectionError):
            self.connect()
        assert not self.sio.connected
        assert self.connect_errors, "refused without a connect_error"
        error = self.connect_errors[-1]
        return error.get("message") if isinstance(error, dict) else error

    def ok(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        ack = self.call(event, data)
        assert isinstance(ack, dict) and ack.get("ok") is True, f"{event} {data} -> {ack}"
        return ack

    def received(self, event: str, room_id: str | None = None) -> list[Any]:
        with self._cond:
            items = list(self.events[event])
        if room_id is not None:
            items = [item for item in items if item.get("room_id") == room_id]
        return items

    def messages(self, room_id: str) -> list[dict[str, Any]]:
        return self.received("new_message", room_id)

    def wait_for(
        self, predicate: Callable[[ChatSocket], Any], timeout: float = WAIT, what: str = "an event"
    ) -> Any:
        with self._cond:
            if self._cond.wait_for(lambda: predicate(self), timeout):
                return predicate(self)
        raise AssertionError(
            f"timed out after {timeout:.1f}s waiting for {what}; received on the wire: "
            f"{ {k: len(v) for k, v in self.events.items()} }, handled: {self.handled}"
        )

    def wait_messages(self, room_id: str, count: int, timeout: float = WAIT) -> list[dict]:
        self.wait_for(
            lambda s: len(s.messages(room_id)) >= count,
            timeout,
            f"{count} new_message events in room {room_id}",
        )
        return self.messages(room_id)
