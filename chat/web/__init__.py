"""The browser client at `/`: one page, its own scripts and styles, no build step.

The Socket.IO browser script is third-party: it is installed by npm from
`package-lock.json` into `node_modules/` and served from there, never committed.
Where it is missing (no Node.js on the machine), the page still loads and says what
it needs, and the API is unaffected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, send_file

from ..domain.errors import NotFound

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/web",
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOCKETIO_SCRIPT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
NEEDS = (
    "The web client needs the Socket.IO browser script from npm: install Node.js and "
    "npm, then run `make run` (or `npm ci`) in the project directory. The API works "
    "without it."
)

# Stricter than the app-wide policy for HTML (chat/http/security.py, which only fills in
# what a response lacks): nothing at all unless named, then own scripts, styles and
# connections only. CSP3's 'self' covers ws:/wss: to this host; a browser without that
# falls back to Socket.IO's long-polling, which is same-origin HTTP.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "font-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)


def socketio_script() -> Path:
    """Where the installed script is; `SOCKETIO_CLIENT_JS` overrides (tests use it)."""
    return Path(current_app.config.get("SOCKETIO_CLIENT_JS") or SOCKETIO_SCRIPT)


@bp.get("/")
def index() -> Any:
    response = current_app.make_response(
        render_template("web/index.html", missing=None if socketio_script().is_file() else NEEDS)
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The page is the same for everyone (data come from the API), but a stale copy
    # could name scripts that no longer exist.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/static/vendor/socket.io.min.js")
def socketio_client() -> Any:
    path = socketio_script()
    if not path.is_file():
        raise NotFound(NEEDS)
    return send_file(path, mimetype="text/javascript", max_age=3600)


@bp.record_once
def _warn_if_incomplete(state: Any) -> None:
    """Say at start-up what the web client lacks (the API runs regardless)."""
    app: Flask = state.app
    with app.app_context():
        if not socketio_script().is_file():
            app.logger.warning("web client: %s", NEEDS)
