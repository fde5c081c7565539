"""Request bodies bounded before anything reads them: a WSGI middleware, outermost.

Two holes it closes, both below Flask:

- An Engine.IO polling POST declaring more than the packet limit is never answered by
  python-engineio 4.15.1: `Socket.handle_post_request` (engineio/socket.py) raises
  `ContentTooLongError`, and `Server.handle_request` (engineio/server.py, its POST
  branch) answers it by calling `Server.disconnect(sid)`, which calls
  `Socket.close()` with `wait=True`; that joins the socket's packet queue, which only a
  long-polling GET drains. With no GET pending the request waits forever and holds its
  connection and greenthread. Here such a POST is answered 413 before Engine.IO sees it,
  and its session is closed without waiting (the client's pending GET, if any, gets the
  CLOSE packet and reconnects).
- A chunked body (`Transfer-Encoding: chunked`, no Content-Length) reads as empty under
  eventlet's server, which does not set `wsgi.input_terminated`: Werkzeug takes the
  body for empty and the REST routes answer 422 "Missing data". Under gevent's and
  gunicorn's, which do set it, a body over MAX_CONTENT_LENGTH came out truncated (a
  400 "not valid JSON" instead of a 413). Here every chunked body is read, up to the
  limit (413 beyond), and handed on with its length.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wsgi import get_content_length

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
SOCKET_PATH = "/socket.io"


class BoundedBodies:
    """Answer 413 for bodies over `limit` bytes; make chunked bodies readable.

    `close_session(sid)` ends an Engine.IO session without waiting on its queue.
    """

    def __init__(self, app: WSGIApp, limit: int, close_session: Callable[[str], None]):
        self.app = app
        self.limit = limit
        self.close_session = close_session

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = get_content_length(environ)
        if length is not None and length > self.limit and _is_socket_post(environ):
            self._close_polling_session(environ)
            return self._too_large(start_response)
        if _is_chunked(environ):
            body = _read_at_most(environ["wsgi.input"], self.limit + 1)
            if len(body) > self.limit:
                return self._too_large(start_response)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["wsgi.input_terminated"] = True  # Werkzeug reads it to its end
            environ["CONTENT_LENGTH"] = str(len(body))  # for Engine.IO, which reads this
        return self.app(environ, start_response)

    def _close_polling_session(self, environ: dict[str, Any]) -> None:
        from urllib.parse import parse_qs

        sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
        if sid:
            self.close_session(sid)

    def _too_large(self, start_response: StartResponse) -> list[bytes]:
        message = f"The request body is larger than the limit of {self.limit} bytes."
        body = json.dumps({"code": "payload_too_large", "message": message}).encode()
        start_response(
            "413 Request Entity Too Large",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                # The unread body is still on the wire: the connection cannot be reused.
                ("Connection", "close"),
            ],
        )
        return [body]


def _is_socket_post(environ: dict[str, Any]) -> bool:
    path = environ.get("PATH_INFO", "")
    return environ.get("REQUEST_METHOD") == "POST" and path.rstrip("/") == SOCKET_PATH


def _is_chunked(environ: dict[str, Any]) -> bool:
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_at_most(stream: Any, size: int) -> bytes:
    """Read until the end of the body or `size` bytes, whichever comes first."""
    chunks: list[bytes] = []
    left = size
    while left > 0:
        chunk = stream.read(min(left, 16384))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
