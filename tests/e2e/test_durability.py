"""An acknowledged message survives a crash: the real server on a SQLite file, socket
clients sending as fast as acks allow, SIGKILL to the server's process group mid-load,
a restart on the same file, and then every acknowledged message is in the history
exactly once, seqs have no gap, and resending an acknowledged `client_id` returns the
original. Three crashes in a row, on the same file."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

from .harness import Api, ChatSocket, wait_until

SENDERS = 4
ROUNDS = 3
ACKS_BEFORE_KILL = 150


def _send_until_gone(sock: ChatSocket, room_id: str, prefix: str, acked: dict, lock) -> None:
    """Send one message after another until the server stops answering."""
    n = 0
    while True:
        client_id = f"{prefix}-{n}"
        try:
            ack = sock.call(
                "message", {"room_id": room_id, "content": client_id, "client_id": client_id}
            )
        except Exception:  # killed mid-call: a timeout or a dropped connection
            return
        if not (isinstance(ack, dict) and ack.get("ok")):
            return
        with lock:
            acked[client_id] = ack["message"]
        n += 1


def _history(api: Api, account, room_id: str) -> list[dict]:
    messages, after = [], 0
    while True:
        page = api.history(account, room_id, after=after, limit=100).json()
        messages += page["messages"]
        if not page["has_more"]:
            return messages
        after = page["messages"][-1]["seq"]


def test_acknowledged_messages_survive_sigkill(server_factory, tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    server = server_factory("eventlet", db_path=db, name="durable-0")
    api = Api(server.url)
    alice = api.user("alice")
    room_id = api.create_room(alice, "durable")["id"]
    acked: dict[str, dict] = {}
    lock = threading.Lock()

    for round_ in range(ROUNDS):
        sockets = [ChatSocket(server.url, api.login("alice").token) for _ in range(SENDERS)]
        for sock in sockets:
            sock.connect().ok("join", {"room_id": room_id})
        target = len(acked) + ACKS_BEFORE_KILL
        threads = [
            threading.Thread(
                target=_send_until_gone, args=(s, room_id, f"r{round_}s{i}", acked, lock)
            )
            for i, s in enumerate(sockets)
        ]
        for thread in threads:
            thread.start()
        wait_until(lambda t=target: len(acked) >= t, what="acks under load")
        os.killpg(server.proc.pid, signal.SIGKILL)  # mid-load, no warning
        for thread in threads:
            thread.join(timeout=30)
        for sock in sockets:
            sock.close()
        server.stop()
        api.http.close()

        server = server_factory("eventlet", db_path=db, name=f"durable-{round_ + 1}")
        api = Api(server.url)
        alice = api.login("alice")
        history = _history(api, alice, room_id)
        seqs = [m["seq"] for m in history]
        assert seqs == list(range(1, len(history) + 1)), "a gap or a repeat in seqs"
        stored = {m["client_id"]: m for m in history}
        assert len(stored) == len(history), "a client_id stored twice"
        missing = [cid for cid in acked if cid not in stored]
        assert missing == [], f"acknowledged but lost: {missing[:5]}"
        for cid, message in acked.items():
            assert stored[cid]["id"] == message["id"] and stored[cid]["seq"] == message["seq"]

        again = ChatSocket(server.url, alice.token).connect()
        some = next(iter(acked))
        resent = again.ok("message", {"room_id": room_id, "content": some, "client_id": some})
        assert resent["created"] is False and resent["message"]["id"] == acked[some]["id"]
        again.close()
        assert len(_history(api, alice, room_id)) == len(history)  # nothing new stored
    api.http.close()
