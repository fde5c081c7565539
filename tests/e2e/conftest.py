"""Fixtures for end-to-end tests; the machinery they use is in `harness.py`.

`server_factory(mode, ...)` starts `python wsgi.py` (or gunicorn, as the Procfile does)
with ASYNC_MODE=eventlet|gevent on a free port and waits for GET /health. `server` is
the same, parametrised over both modes. Every server started for a test is stopped at
its teardown, and a failing test gets the tail of each server's output in its report.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .harness import (
    MODES,
    SERVERS,
    Api,
    ChatSocket,
    ServerExited,
    ServerProcess,
    _gunicorn,
    free_port,
    server_env,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failing test's report carries the output of every server it started."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for server in item.stash.get(SERVERS, []):
            report.sections.append((f"server output: {server.name}", server.log_tail()))


@pytest.fixture
def server_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable]:
    """`server_factory(mode, gunicorn=False, db_path=None, name=None, **env)` → ServerProcess.

    Servers given the same `db_path` share one SQLite file.
    """
    started: list[ServerProcess] = []
    request.node.stash[SERVERS] = started

    def start(
        mode: str,
        *,
        gunicorn: bool = False,
        db_path: Path | None = None,
        name: str | None = None,
        **extra_env: str,
    ) -> ServerProcess:
        base = name or f"{'gunicorn' if gunicorn else 'wsgi'}-{mode}-{len(started)}"
        for attempt in range(3):  # the free port may be taken before the server binds it
            port = free_port()
            label = base if attempt == 0 else f"{base}-retry{attempt}"
            env = server_env(
                mode, port, db_path or tmp_path / "chat.db", production=gunicorn, **extra_env
            )
            if gunicorn:  # exactly as the Procfile runs it
                # gunicorn 25 opens a control socket in $XDG_RUNTIME_DIR (else
                # ~/.gunicorn/): give each its own, so parallel servers never share one.
                run_dir = tmp_path / f"run-{label}"
                run_dir.mkdir(mode=0o700, exist_ok=True)
                env["XDG_RUNTIME_DIR"] = str(run_dir)
                command = [
                    *_gunicorn(),
                    "--worker-class",
                    mode,
                    "--workers",
                    "1",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "wsgi:app",
                ]
            else:
                command = [sys.executable, "wsgi.py"]
            server = ServerProcess(label, mode, port, command, env, tmp_path)
            started.append(server)
            try:
                return server.start()
            except ServerExited as exited:
                if attempt < 2 and "Address already in use" in server.log_tail():
                    continue
                pytest.fail(str(exited), pytrace=False)
        raise AssertionError("unreachable")

    yield start
    for server in reversed(started):
        server.stop()


@pytest.fixture(params=MODES)
def server(request: pytest.FixtureRequest, server_factory: Callable) -> ServerProcess:
    return server_factory(request.param)


# -- REST ---------------------------------------------------------------------------


@pytest.fixture
def sockets(server_factory: Callable) -> Iterator[Callable[..., ChatSocket]]:
    """`sockets(server, token)` → a connected ChatSocket, closed at teardown.

    With `connect=False` the socket is returned unconnected (to test refusals). It
    depends on `server_factory` so that sockets close before their servers stop.
    """
    opened: list[ChatSocket] = []

    def open_socket(
        server: ServerProcess,
        token: str | None,
        *,
        connect: bool = True,
        transports: list[str] | None = None,
    ) -> ChatSocket:
        sock = ChatSocket(server.url, token, transports)
        opened.append(sock)
        return sock.connect() if connect else sock

    yield open_socket
    for sock in opened:
        with contextlib.suppress(Exception):  # one the server already dropped
            sock.close()


@pytest.fixture
def api(server: ServerProcess) -> Api:
    return Api(server.url)


# -- Redis --------------------------------------------------------------------------
