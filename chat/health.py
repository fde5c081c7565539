"""/health: what a load balancer or dyno manager polls."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .domain.errors import StoreError
from .http import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Any:
    try:
        services().store.ping()
    except StoreError:
        return {"status": "degraded", "database": "down"}, 503
    return {"status": "ok", "database": "ok"}
