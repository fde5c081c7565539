"""Engine.IO sessions seen from above python-socketio: closing them, timing out the
ones that never sign in, and knowing when no event handler is running.

A session is closed here with `Socket.close(wait=False)`: python-engineio's own
`Server.disconnect(sid)` waits for the session's packet queue to drain, which for a
long-polling session with no GET pending never happens (see chat/http/bodies.py).
Closing the Engine.IO session (not the Socket.IO namespace) is what makes clients
reconnect: Socket.IO clients reconnect after a transport close, but not after the
server's namespace DISCONNECT ("io server disconnect").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Sessions:
    """Wraps one python-socketio `Server`; `install()` hooks it, once, at start."""

    def __init__(self, server: Any, connect_timeout: float):
        self.server = server
        self.connect_timeout = connect_timeout
        self.pending: dict[str, float] = {}  # Engine.IO sid -> when it connected
        self.handling = 0  # event handlers running now (connect, events, disconnect)

    @property
    def eio(self) -> Any:
        return self.server.eio

    def install(self, sweep: bool = True) -> None:
        """Note each Engine.IO connect and count running handlers.

        One sweeping loop does the timeouts for every session: a timer or greenthread per
        socket would cost memory at 10,000 sockets.
        """
        on_connect: Callable[..., Any] = self.eio.handlers["connect"]
        trigger: Callable[..., Any] = self.server._trigger_event

        def connected(eio_sid: str, environ: dict[str, Any], *args: Any) -> Any:
            if self.connect_timeout > 0:
                self.pending[eio_sid] = time.monotonic()
            return on_connect(eio_sid, environ, *args)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.handling += 1
            try:
                return trigger(*args, **kwargs)
            finally:
                self.handling -= 1

        self.eio.on("connect", connected)
        self.server._trigger_event = counted
        if sweep and self.connect_timeout > 0:
            self.server.start_background_task(self._sweep_forever)

    def close(self, eio_sid: str) -> None:
        """End one Engine.IO session now: its client sees a transport close."""
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None and not socket.closed:
            socket.close(wait=False, reason=self.eio.reason.SERVER_DISCONNECT)

    def close_all(self) -> int:
        sids = list(self.eio.sockets)
        for sid in sids:
            self.close(sid)
        return len(sids)

    def signed_in(self, eio_sid: str) -> bool:
        manager = self.server.manager
        return any(manager.sid_from_eio_sid(eio_sid, ns) for ns in manager.get_namespaces())

    def sweep(self, now: float) -> int:
        """Close the sessions older than the timeout that joined no namespace."""
        closed = 0
        for eio_sid, since in list(self.pending.items()):
            if now - since < self.connect_timeout:
                continue
            del self.pending[eio_sid]
            if eio_sid in self.eio.sockets and not self.signed_in(eio_sid):
                self.close(eio_sid)
                closed += 1
        return closed

    def _sweep_forever(self) -> None:
        interval = min(1.0, self.connect_timeout / 4)
        while True:
            self.server.sleep(interval)
            try:
                closed = self.sweep(time.monotonic())
                if closed:
                    log.info("closed %d socket(s) that did not sign in in time", closed)
            except Exception:
                log.exception("connect-timeout sweep failed")
