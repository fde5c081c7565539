"""A WebSocket message's size bounded while its frames are assembled (close 1009).

Engine.IO checks a packet's size only once the message is whole (`websocket_wait` in
engineio/socket.py), and the installed WebSocket layers assemble fragmented messages
without a total bound:

- eventlet 0.41.3 (eventlet/websocket.py): `max_frame_length` bounds each frame,
  but `RFC6455WebSocket.Message.push` appends continuation frames without limit;
- gevent, through python-engineio's `SimpleWebSocketWSGI`
  (engineio/async_drivers/_websocket_wsgi.py): simple-websocket 1.1.0 bounds the
  total with `max_message_size`, but Engine.IO never passes it.

So a client could make the server buffer any amount in frames of 64 KB each. Here the
Engine.IO server's WebSocket class is replaced, for this server only, by a subclass
that applies the packet limit to the whole message.
"""

from __future__ import annotations

from typing import Any


def bound_websocket_messages(eio: Any) -> None:
    """Give `eio` (an engineio.Server) a WebSocket class bounding whole messages."""
    base = eio._async.get("websocket")
    if base is None:
        return
    from engineio.async_drivers._websocket_wsgi import SimpleWebSocketWSGI

    if eio.async_mode == "eventlet":
        bounded = _eventlet(base)
    elif issubclass(base, SimpleWebSocketWSGI):
        bounded = _simple_websocket(base)
    else:
        return
    eio._async = {**eio._async, "websocket": bounded}  # not the module's shared dict


def _eventlet(base: type) -> type:
    from eventlet.websocket import FailedConnectionError, RFC6455WebSocket

    class BoundedMessage(RFC6455WebSocket.Message):
        size = 0

        def push(self, data: bytes, final: bool = False) -> None:
            self.size += len(data)
            if self.size > self.max_frame_length:  # max_frame_length: the packet limit
                raise FailedConnectionError(1009, "Message is too big")
            super().push(data, final=final)

    class BoundedWebSocketWSGI(base):
        def _handle_hybi_request(self, environ: dict[str, Any]) -> Any:
            ws = super()._handle_hybi_request(environ)
            if isinstance(ws, RFC6455WebSocket):
                ws.Message = BoundedMessage
            return ws

    return BoundedWebSocketWSGI


def _simple_websocket(base: type) -> type:
    class BoundedWebSocketWSGI(base):
        def __init__(self, handler: Any, server: Any) -> None:
            super().__init__(handler, server)
            self.server_args["max_message_size"] = int(server.max_http_buffer_size)

    return BoundedWebSocketWSGI
