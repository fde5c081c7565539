"""Logs an operator can search: one line per request and per Socket.IO event.

Each line carries a request id (the client's `X-Request-ID` when it is a sane token,
else a new one, and sent back in the response), the user id where known, the status or
outcome and the duration. With `LOG_FORMAT=json` every line is one JSON object. Nothing
that could identify a session or hold private text is logged: no bodies, no query
strings (Socket.IO's `?token=`), no headers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from flask import Flask, Response, g, request

log = logging.getLogger("chat.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# The fields a line may carry besides its message; `extra=` keys outside this set are
# not written, so a careless call cannot log something private by accident.
FIELDS = (
    "request_id",
    "user_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "event",
    "namespace",
    "sid",
    "outcome",
    "code",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(
            f"{name}={getattr(record, name)}"
            for name in FIELDS
            if getattr(record, name, None) is not None
        )
        return f"{text} {extra}" if extra else text


def configure_logging(log_format: str, level: str) -> None:
    """One handler on the root logger, writing to stderr (what dynos and containers keep)."""
    formatter: logging.Formatter
    if log_format == "json":
        formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "chat_handler", False)]:
        root.removeHandler(old)
    handler.chat_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


def new_request_id(given: str | None = None) -> str:
    if given and REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


def install_request_logging(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = new_request_id(request.headers.get("X-Request-ID"))
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id") or new_request_id()
        response.headers["X-Request-ID"] = request_id
        if not log.isEnabledFor(logging.INFO):
            return response
        user = g.get("chat_token_user")
        log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "request_id": request_id,
                "user_id": user.id if user is not None else None,
                "method": request.method,
                "path": request.path,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.get("started", 0.0)) * 1000, 2),
            },
        )
        return response


def log_event(
    event: str,
    namespace: str,
    sid: str,
    user_id: str | None,
    outcome: str,
    started: float,
    code: str | None = None,
) -> None:
    """One line per Socket.IO event: what, whose, how it ended and how long it took."""
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "event %s %s",
        event,
        outcome,
        extra={
            "request_id": new_request_id(),
            "event": event,
            "namespace": namespace,
            "sid": sid,
            "user_id": user_id,
            "outcome": outcome,
            "code": code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
