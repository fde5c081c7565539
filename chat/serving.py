"""The development/`make run` server: the app on eventlet's or gevent's WSGI server.

Unlike `socketio.run`, the listening socket has TCP_NODELAY (inherited by accepted
sockets on Linux). Without it, a sender watching its own room gets the broadcast and
then the ack as two small writes, and Nagle holds the ack until the client's delayed
ACK: 40 ms per message (bench/messages.py measured 46 ms per ack before, 3 ms after).
Gunicorn (the Procfile) sets TCP_NODELAY itself.
"""

from __future__ import annotations

import logging
import socket

from flask import Flask

from .concurrency import hub

log = logging.getLogger(__name__)


def listener(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve(app: Flask) -> None:
    """Serve until interrupted; the process must already be monkey-patched."""
    host, port = app.config["HOST"], app.config["PORT"]
    sock = listener(host, port)
    mode = hub()
    print(f" * Chat server ({mode}) on http://{host}:{port}", flush=True)
    if mode == "eventlet":
        import eventlet.wsgi

        eventlet.wsgi.server(sock, app, log_output=False)
    elif mode == "gevent":
        from gevent.pywsgi import WSGIServer

        WSGIServer(sock, app, log=None).serve_forever()
    else:
        raise RuntimeError("serve() needs a monkey-patched process: run wsgi.py")
