"""Message throughput and fan-out latency of a real server process.

Starts `wsgi.py` (ASYNC_MODE from the environment, eventlet by default) on a free port
with a throw-away SQLite file, connects WATCHERS Socket.IO clients to one room, has
SENDERS clients post MESSAGES each as fast as acks come back, and prints:
the posting rate, and the delay from a post to its arrival at every watcher
(median / 95th percentile / max). Bounded in count and time; loopback only.

    make bench                       # defaults
    WATCHERS=50 MESSAGES=200 make bench
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
WATCHERS = int(os.environ.get("WATCHERS", "20"))
SENDERS = int(os.environ.get("SENDERS", "4"))
MESSAGES = int(os.environ.get("MESSAGES", "100"))  # per sender
MODE = os.environ.get("ASYNC_MODE", "eventlet")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(tmp: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "ASYNC_MODE": MODE,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "APP_ENV": "development",
        "SECRET_KEY": "bench-secret",
        "JWT_SECRET_KEY": "bench-jwt-secret-0123456789abcdef",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    log = open(f"{tmp}/server.log", "w")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [sys.executable, "wsgi.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).ok:
                return proc, base
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start; see " + f"{tmp}/server.log")


def cpu_seconds(pid: int) -> float:
    """User+system CPU the server process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def account(base: str, name: str) -> str:
    requests.post(base + "/api/auth/register", json={"username": name, "password": "password1"})
    body = requests.post(
        base + "/api/auth/login", json={"username": name, "password": "password1"}
    ).json()
    return body["access_token"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start_server(tmp)
        try:
            run(base, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run(base: str, pid: int) -> None:
    owner = account(base, "owner")
    room = requests.post(
        base + "/api/rooms", json={"name": "bench"}, headers={"Authorization": f"Bearer {owner}"}
    ).json()["id"]
    total = SENDERS * MESSAGES
    sent_at: dict[str, float] = {}
    delays: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    received = [0]

    def on_message(message: dict) -> None:
        arrived = time.perf_counter()
        with lock:
            delays.append(arrived - sent_at.get(message["client_id"], arrived))
            received[0] += 1
            if received[0] == total * WATCHERS:
                done.set()

    watchers = []
    for n in range(WATCHERS):
        client = socketio.Client()
        client.on("new_message", on_message, namespace="/chat")
        client.connect(
            base,
            namespaces=["/chat"],
            auth={"token": account(base, f"watcher{n}")},
            transports=["websocket"],
        )
        assert client.call("join", {"room_id": room}, namespace="/chat")["ok"]
        watchers.append(client)

    def sender(n: int) -> None:
        client = socketio.Client()
        client.connect(
            base,
            namespaces=["/chat"],
            auth={"token": account(base, f"sender{n}")},
            transports=["websocket"],
        )
        client.call("join", {"room_id": room}, namespace="/chat")
        for i in range(MESSAGES):
            client_id = f"{n}-{i}"
            sent_at[client_id] = time.perf_counter()
            ack = client.call(
                "message",
                {"room_id": room, "content": f"hello {i}", "client_id": client_id},
                namespace="/chat",
            )
            assert ack["ok"], ack
        client.disconnect()

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posting = time.perf_counter() - started
    complete = done.wait(timeout=60)
    cpu = cpu_seconds(pid) - cpu_before
    for client in watchers:
        client.disconnect()

    ms = sorted(d * 1000 for d in delays)
    print(f"server: {MODE}, SQLite; {WATCHERS} watchers, {SENDERS} senders x {MESSAGES} messages")
    print(f"posted {total} messages in {posting:.2f} s: {total / posting:.0f} messages/s acked")
    print(
        f"server CPU: {cpu:.2f} s, {cpu / total * 1000:.2f} ms per message "
        f"({cpu / max(len(delays), 1) * 1000:.3f} ms per delivery)"
    )
    print(f"deliveries {len(ms)} of {total * WATCHERS}{'' if complete else ' (TIMED OUT)'}")
    if ms:
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(
            f"post-to-delivery ms: median {statistics.median(ms):.1f}, p95 {p95:.1f}, "
            f"max {ms[-1]:.1f}"
        )


if __name__ == "__main__":
    main()
