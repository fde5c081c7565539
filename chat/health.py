"""/health: what a load balancer or dyno manager polls."""

from __future__ import annotations

from typing import Any

from .domain.errors import StoreError
from .http import Blueprint, services
from .schemas.outputs import HealthOut

bp = Blueprint("health", __name__, description="Operations.")


@bp.get("/health")
@bp.response(200, HealthOut)
@bp.alt_response(503, schema=HealthOut, description="The store does not answer.")
def health() -> Any:
    try:
        services().store.ping()
    except StoreError:
        return {"status": "degraded", "database": "down"}, 503
    return {"status": "ok", "database": "ok"}
