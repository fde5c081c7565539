"""The API's documents and their reader: /openapi.json (flask-smorest serves it),
/asyncapi.json, and Swagger UI at /docs.

Swagger UI's files come from the installed `flask-swagger-ui` package (Swagger UI 5,
which reads OpenAPI 3.1) and are served from here: no CDN. The page has no inline
script, so it works under the strict Content-Security-Policy of HTML pages.
"""

from __future__ import annotations

import os
from typing import Any

import flask_swagger_ui
from flask import Blueprint, render_template, send_from_directory
from werkzeug.wrappers import Response

from ..realtime.asyncapi import asyncapi_document

SWAGGER_UI = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")

bp = Blueprint(
    "docs",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/docs/static",
)


@bp.get("/docs")
def swagger_ui() -> str:
    return render_template("docs.html")


@bp.get("/docs/swagger-ui/<path:filename>")
def swagger_ui_files(filename: str) -> Response:
    return send_from_directory(SWAGGER_UI, filename, max_age=3600)


@bp.get("/asyncapi.json")
def asyncapi() -> dict[str, Any]:
    """The Socket.IO namespace's events, generated from their schemas."""
    return asyncapi_document()
