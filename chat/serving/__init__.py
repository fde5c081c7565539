"""The development/`make run` server: the app on eventlet's or gevent's WSGI server.

Unlike `socketio.run`, the listening socket has TCP_NODELAY (inherited by accepted
sockets on Linux). Without it, a sender watching its own room gets the broadcast and
then the ack as two small writes, and Nagle holds the ack until the client's delayed
ACK: 40 ms per message (one sender watching its room, measured by the first
benchmark, since replaced: 22 messages/s acknowledged before, 258 after).
Gunicorn (the Procfile) sets TCP_NODELAY itself, and takes the rest of this from
gunicorn.conf.py: the open-files limit, MAX_CONNECTIONS, the request-head deadline and
the SIGTERM drain.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from typing import Any

from flask import Flask

from ..concurrency import hub
from .deadline import eventlet_protocol, gevent_handler
from .fdlimit import raise_open_files_limit
from .shutdown import drain

log = logging.getLogger(__name__)


def listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(4096)  # the kernel caps it at net.core.somaxconn
    return sock


def serve(app: Flask) -> None:
    """Serve until SIGTERM or Ctrl-C; the process must already be monkey-patched."""
    host, port = app.config["HOST"], app.config["PORT"]
    files = raise_open_files_limit()
    sock = listener(host, port)
    mode = hub()
    print(f" * Chat server ({mode}) on http://{host}:{port}", flush=True)
    log.info("open-files limit %d, up to %d connections", files, _setting(app, "MAX_CONNECTIONS"))
    if mode == "eventlet":
        _serve_eventlet(app, sock)
    elif mode == "gevent":
        _serve_gevent(app, sock)
    else:
        raise RuntimeError("serve() needs a monkey-patched process: run wsgi.py")


def _setting(app: Flask, name: str) -> Any:
    """The app's setting, or config.Config's for an app without it (bench/relay.py)."""
    from config import Config

    return app.config.get(name, getattr(Config, name))


def _serve_eventlet(app: Flask, sock: socket.socket) -> None:
    """The server runs in a greenthread. On SIGTERM the handlers running finish and the
    sessions are closed first; then its accept loop is killed, after which eventlet.wsgi
    shuts the idle connections (WebSockets count as idle) and waits for the requests
    in flight; `serve` returns when they are done, or after SHUTDOWN_TIMEOUT."""
    import eventlet
    import eventlet.event
    import eventlet.wsgi

    grace = _setting(app, "SHUTDOWN_TIMEOUT")
    server = eventlet.spawn(
        eventlet.wsgi.server,
        sock,
        app,
        log_output=False,
        max_size=_setting(app, "MAX_CONNECTIONS"),
        protocol=eventlet_protocol(_setting(app, "REQUEST_HEADER_TIMEOUT")),
    )
    finished = eventlet.event.Event()
    server.link(lambda *_: finished.ready() or finished.send())

    def stop() -> None:
        drain(app, grace)  # before the kill, which would cut the WebSockets' acks off
        eventlet.sleep(0.05)  # the WebSockets' writers send the CLOSE packets
        server.kill(SystemExit)  # eventlet.wsgi.server's own way out of accept()
        eventlet.sleep(grace)  # the requests in flight end sooner, as a rule
        if not finished.ready():
            log.warning("shutdown: requests still running after %.0f s", grace)
            finished.send()

    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn(stop))
    with contextlib.suppress(KeyboardInterrupt):
        finished.wait()


def _serve_gevent(app: Flask, sock: socket.socket) -> None:
    import gevent
    from gevent.pool import Pool
    from gevent.pywsgi import WSGIServer

    grace = _setting(app, "SHUTDOWN_TIMEOUT")
    server = WSGIServer(
        sock,
        app,
        log=None,
        spawn=Pool(_setting(app, "MAX_CONNECTIONS")),
        handler_class=gevent_handler(_setting(app, "REQUEST_HEADER_TIMEOUT")),
    )

    def stop() -> None:
        server.close()  # stop accepting
        drain(app, grace)
        server.stop(timeout=grace)  # wait for the connections, then end serve_forever

    gevent.signal_handler(signal.SIGTERM, stop)  # runs `stop` in a greenlet of its own
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
