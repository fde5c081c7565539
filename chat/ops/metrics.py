"""Prometheus metrics, off unless `METRICS_ENABLED`.

Counted where each thing happens: requests in an `after_request` hook, Socket.IO
connections and events in the namespace, stored messages and their fan-out in the
publisher, store calls by a timing proxy around the store. With
`PROMETHEUS_MULTIPROC_DIR` set (several processes on one host, e.g. gunicorn workers),
prometheus_client's multi-process mode aggregates the processes' files at scrape time.

`/metrics` answers only with the bearer `METRICS_TOKEN` when one is set, else only to
loopback and private addresses, so turning metrics on never publishes them.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from ..domain.store import Store

HTTP_REQUESTS = Counter(
    "chat_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
SOCKET_CONNECTIONS = Gauge(
    "chat_socket_connections", "Socket.IO connections open now.", multiprocess_mode="livesum"
)
SOCKET_EVENTS = Counter(
    "chat_socket_events_total", "Socket.IO client events handled.", ["event", "outcome"]
)
MESSAGES_STORED = Counter("chat_messages_stored_total", "Messages stored and announced.")
FANOUT = Histogram(
    "chat_message_fanout_sockets",
    "Sockets of this process watching a room when a message to it is announced.",
    buckets=(0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000),
)
STORE_SECONDS = Histogram(
    "chat_store_call_seconds",
    "Duration of store calls, by method.",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)


class TimedStore:
    """The store, with every call's duration observed; a proxy, so both stores get it."""

    def __init__(self, store: Store):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        histogram = STORE_SECONDS.labels(name)

        @functools.wraps(attribute)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                histogram.observe(time.perf_counter() - started)

        setattr(self, name, timed)  # built once per method
        return timed


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return address.is_loopback or address.is_private


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def scrape() -> Response:
    if not _allowed():
        abort(403, "Metrics are for the operator: send the METRICS_TOKEN as a bearer token.")
    registry: Any = None
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    from prometheus_client import REGISTRY

    return Response(generate_latest(registry or REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def install_metrics(app: Flask) -> None:
    """Count requests and serve /metrics; the counters elsewhere count regardless (an
    increment costs about a microsecond), but nothing is exposed unless enabled."""

    @app.after_request
    def _count(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else "(unmatched)"
        HTTP_REQUESTS.labels(request.method, rule, str(response.status_code)).inc()
        return response

    app.register_blueprint(bp)
