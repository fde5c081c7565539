"""Graceful shutdown on SIGTERM (a dyno restart, a deploy), for `make run` and gunicorn.

The server stops accepting first (its own doing, see serve() and gunicorn's workers).
Then `drain` waits, up to SHUTDOWN_TIMEOUT, for the Socket.IO handlers running now to
finish (their acks are queued before the handler returns), and closes every
Engine.IO session. Closing the transport, not the namespace, is deliberate:
Socket.IO clients reconnect after "transport close" and would stay away after the
server's namespace DISCONNECT ("io server disconnect"). In-flight HTTP requests are
waited for by the server itself, which then exits 0.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)


def drain(app: Any, timeout: float) -> None:
    sessions = app.extensions.get("sessions")
    if sessions is None:  # an app without them (bench/relay.py): nothing to drain
        return
    deadline = time.monotonic() + timeout
    while sessions.handling and time.monotonic() < deadline:
        sessions.server.sleep(0.02)
    closed = sessions.close_all()
    log.info("shutting down: closed %d socket session(s); clients will reconnect", closed)


def on_sigterm_in_gunicorn(worker: Any) -> None:
    """Chain `drain` after the gunicorn worker's own SIGTERM handling (`post_worker_init`).

    The worker stops accepting and waits up to graceful_timeout for its connections;
    WebSockets and long-polling GETs end only once their sessions are closed.
    """
    import signal

    from chat.extensions import socketio

    previous = signal.getsignal(signal.SIGTERM)
    app = worker.wsgi  # wsgi:app, the Flask app, as gunicorn loaded it
    timeout = float(app.config["SHUTDOWN_TIMEOUT"])

    def handler(signum: int, frame: Any) -> None:
        if callable(previous):
            previous(signum, frame)
        socketio.start_background_task(drain, app, timeout)

    signal.signal(signal.SIGTERM, handler)
