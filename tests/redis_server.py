"""A Redis server of the test-suite's own, so the Redis tests need no running service.

`redis-server` is started on a free port with persistence off, for the whole session;
`TEST_REDIS_URL` names an existing server instead. Without either, a test that needs
Redis skips on a developer machine and fails when `CI=true` (`.ci/run` installs
Debian's redis-server, so CI always has one).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def unavailable(reason: str) -> None:
    """Skip, or fail when CI=true: in CI the Redis tests must run."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true: the Redis tests must run)", pytrace=False)
    pytest.skip(reason)


class RedisServer:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, binary: str) -> str:
        port = _free_port()
        self.url = f"redis://127.0.0.1:{port}/0"
        log = open(self.workdir / "redis.log", "wb")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while not _answers(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                text = (self.workdir / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start:\n{text[-2000:]}")
            time.sleep(0.05)
        return self.url

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """Generator behind the session fixture: yields a URL, or None when there is none."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given if _answers(given) else None
        return
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server.start(binary)
    finally:
        server.stop()
