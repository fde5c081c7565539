"""The web client's blueprint, through Flask's test client: the page, its security
headers, the Socket.IO script served from node_modules, and what happens without it.

The client itself is exercised in a real browser by tests/browser.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from chat.web import SOCKETIO_SCRIPT
from tests.conftest import make_app

STATIC = Path(__file__).resolve().parents[2] / "chat" / "web"


@pytest.fixture
def web(tmp_path: Any):
    app = make_app(tmp_path)
    yield app.test_client()
    app.extensions["chat"].store.close()


def directives(csp: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in csp.split(";"))


def test_the_page_is_served_with_a_strict_content_security_policy(web) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["connect-src"] == "'self'"  # the socket is same-origin
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.get_data(as_text=True)
    assert 'src="/static/vendor/socket.io.min.js"' in page
    assert 'src="/static/web/js/main.js"' in page


def test_the_api_keeps_its_json_errors_beside_the_page(web) -> None:
    response = web.get("/no/such/page")
    assert response.status_code == 404 and response.is_json
    assert "Content-Security-Policy" not in web.get("/health").headers


def test_the_socketio_script_comes_from_node_modules(web) -> None:
    if not SOCKETIO_SCRIPT.is_file():
        reason = f"{SOCKETIO_SCRIPT} is missing: needs Node.js and `npm ci`"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason} (CI=true)", pytrace=False)
        pytest.skip(reason)
    response = web.get("/static/vendor/socket.io.min.js")
    try:
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"
        assert response.get_data() == SOCKETIO_SCRIPT.read_bytes()
    finally:
        response.close()  # a file response holds the file open until closed


def test_without_the_socketio_script_the_page_says_what_it_needs(tmp_path: Any) -> None:
    app = make_app(tmp_path, SOCKETIO_CLIENT_JS=str(tmp_path / "absent.js"))
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    banner = re.search(r'<p id="needs-banner"[^>]*>([^<]*)</p>', text)
    assert banner and "Node.js" in banner.group(1) and "npm" in banner.group(1)
    assert 'id="needs-banner" class="banner banner-error" role="alert" hidden' not in text
    script = client.get("/static/vendor/socket.io.min.js")
    assert script.status_code == 404 and script.is_json
    assert "Node.js" in script.json["message"]
    signed_up = client.post("/api/auth/register", json={"username": "ann", "password": "x" * 8})
    assert signed_up.status_code == 201  # the API does not need the script
    app.extensions["chat"].store.close()


def test_own_scripts_and_styles_are_served(web) -> None:
    for path in ("/static/web/js/main.js", "/static/web/css/app.css"):
        response = web.get(path)
        response.close()
        assert response.status_code == 200, path


# -- the rules the client's source keeps ------------------------------------------

SCRIPTS = sorted((STATIC / "static").rglob("*.js"))
UNSAFE_SINKS = re.compile(
    r"\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write|\beval\(|new Function\("
)


def test_no_script_writes_html_strings_into_the_page() -> None:
    assert SCRIPTS, "no scripts found"
    offenders = [
        f"{path.relative_to(STATIC)}:{number}: {line.strip()}"
        for path in SCRIPTS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if UNSAFE_SINKS.search(line)
    ]
    assert offenders == []


def test_the_template_has_no_inline_script_style_or_handlers() -> None:
    template = (STATIC / "templates" / "web" / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", template) == []
    assert re.findall(r"<style\b", template) == []
    assert re.findall(r"\sstyle=", template) == []
    assert re.findall(r"\son[a-z]+=", template) == []
    assert "http://" not in template and "https://" not in template  # no CDN


def test_every_form_field_has_a_label() -> None:
    template = (STATIC / "templates" / "web" / "index.html").read_text()
    ids = re.findall(r"<(?:input|select|textarea)\b[^>]*\bid=\"([^\"]+)\"", template)
    fields = re.findall(r"<(?:input|select|textarea)\b", template)
    assert len(ids) == len(fields), "every field needs an id for its label"
    labelled = set(re.findall(r'<label for="([^"]+)"', template))
    assert set(ids) <= labelled, set(ids) - labelled
