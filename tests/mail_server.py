"""A real SMTP server of the test-suite's own: aiosmtpd on a free local port.

The server keeps every message it accepts; tests read the verification code out of
the mail exactly as a user would. `silent_server` is the other kind of mail server a
deployment meets: one that accepts the connection and never says a word.
"""

from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

CODE = re.compile(r"\b(\d{6})\b")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: stores each accepted message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._arrived:
            self.messages.append(message_from_bytes(envelope.original_content))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def code_for(self, address: str) -> str:
        """The code in the newest mail to `address` (the server sends before answering,
        so the mail is here by the time the request returned)."""
        mails = self.to(address)
        assert mails, f"no mail to {address}; got mail to {[m['To'] for m in self.messages]}"
        found = CODE.search(mails[-1].get_payload(decode=True).decode())
        assert found, mails[-1].as_string()
        return found.group(1)


class MailServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        """Serve on `self.port` (again, after `stop`: a controller runs only once)."""
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> MailServer:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class SilentServer:
    """Accepts TCP connections and never answers: a mail server that hangs.
    `connected` is set once a client is in, waiting for a greeting that never comes."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)  # so the accepting thread notices the end
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self._held.append(conn)
            self.connected.set()

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.sock.close()
