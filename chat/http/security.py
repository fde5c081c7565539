"""Security headers on every response the app makes.

- `X-Content-Type-Options: nosniff`, so a JSON answer is never sniffed into HTML;
- `Referrer-Policy: no-referrer`, so room and message ids in URLs do not leak;
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`, so no page frames ours;
- on HTML, a Content-Security-Policy allowing only this server's own scripts, styles
  and connections (the Socket.IO connection is same-origin: CSP's `'self'` covers ws:
  and wss: to this host), and images from here, `data:` and https (avatars);
- `Strict-Transport-Security` when `PREFER_HTTPS` is on (only behind TLS: a browser
  keeps it for a year).
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"


def install_security_headers(app: Flask) -> None:
    https = bool(app.config.get("PREFER_HTTPS"))

    @app.after_request
    def _secure(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
