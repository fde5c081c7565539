"""A deadline on each request head, for `make run`'s eventlet and gevent servers.

A connection that has not sent a complete request line and headers within
REQUEST_HEADER_TIMEOUT seconds of the server starting to wait for them is closed
(slowloris, and idle keep-alive connections). The deadline is one hub timer per
request head, cancelled once the headers are parsed: it never applies to a request
being served, so a long-polling GET (held up to the 25 s ping interval) and a
WebSocket (which Engine.IO gives its own 45 s read timeout) are untouched.

eventlet's own `socket_timeout` is not used for this: it is a per-read timeout (a
client sending a byte every few seconds never trips it), and it stays on the socket
while the request is served. Gunicorn needs none of this: its async workers read
each request head under `keepalive` seconds (gunicorn.conf.py sets it).
"""

from __future__ import annotations

from typing import Any


def eventlet_protocol(seconds: float) -> type:
    import eventlet
    from eventlet.wsgi import HttpProtocol

    class Protocol(HttpProtocol):
        _deadline: Any = None

        def handle_one_request(self) -> None:
            self._deadline = eventlet.Timeout(seconds)
            try:
                super().handle_one_request()
            except eventlet.Timeout as expired:
                if expired is not self._deadline:
                    raise
                self.close_connection = 1
            finally:
                self._deadline.cancel()

        def parse_request(self) -> bool:
            try:
                return bool(super().parse_request())
            finally:
                self._deadline.cancel()  # the head is in: the request is served unbounded

    return Protocol


def gevent_handler(seconds: float) -> type:
    import gevent
    from gevent.pywsgi import WSGIHandler

    class Handler(WSGIHandler):
        _deadline: Any = None

        def handle_one_request(self) -> Any:
            self._deadline = gevent.Timeout.start_new(seconds)
            try:
                return super().handle_one_request()
            except gevent.Timeout as expired:
                if expired is not self._deadline:
                    raise
                return None  # close the connection
            finally:
                self._deadline.cancel()

        def read_request(self, raw_requestline: str) -> Any:
            try:
                return super().read_request(raw_requestline)
            finally:
                self._deadline.cancel()

        def handle_one_response(self) -> None:
            super().handle_one_response()
            # Otherwise pywsgi reads on after a WebSocket as if for a keep-alive request,
            # finds the client's close frame and logs it as an invalid HTTP request.
            if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                self.close_connection = True

    return Handler
