"""Security headers on every kind of answer the app makes."""

from __future__ import annotations

import pytest

from chat.http.security import CONTENT_SECURITY_POLICY
from tests.conftest import make_app

COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    "path, status",
    [("/health", 200), ("/api/users/me", 401), ("/nope", 404), ("/openapi.json", 200)],
)
def test_json_answers_carry_the_common_headers_and_no_csp(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    for name, value in COMMON.items():
        assert response.headers[name] == value
    assert "Content-Security-Policy" not in response.headers
    assert "Strict-Transport-Security" not in response.headers


def test_html_pages_carry_a_strict_csp(client):
    response = client.get("/docs")
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"  # no inline script, no other origin
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    for name, value in COMMON.items():
        assert response.headers[name] == value


def test_hsts_only_when_https_is_preferred(tmp_path):
    app = make_app(tmp_path, PREFER_HTTPS=True)
    try:
        response = app.test_client().get("/health")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    finally:
        app.extensions["chat"].store.close()
