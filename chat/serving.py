"""The development/`make run` server: the app on eventlet's or gevent's WSGI server.

Unlike `socketio.run`, the listening socket has TCP_NODELAY (inherited by accepted
sockets on Linux). Without it, a sender watching its own room gets the broadcast and
then the ack as two small writes, and Nagle holds the ack until the client's delayed
ACK: 40 ms per message. `WATCHERS=1 SENDERS=1 make bench`: 22 messages/s acked
before, 258 after.
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

        WSGIServer(sock, app, log=None, handler_class=_gevent_handler()).serve_forever()
    else:
        raise RuntimeError("serve() needs a monkey-patched process: run wsgi.py")


def _gevent_handler() -> type:
    """gevent's handler, but closing the connection once a WebSocket ends.

    Otherwise pywsgi reads on after the WebSocket as if for a keep-alive request, finds
    the client's close frame, and logs it as an invalid HTTP request with a traceback.
    """
    from gevent.pywsgi import WSGIHandler

    class Handler(WSGIHandler):
        def handle_one_response(self) -> None:
            super().handle_one_response()
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    return Handler
