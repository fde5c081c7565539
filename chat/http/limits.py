"""Per-route abuse limits, with Flask-Limiter, in its notation and storage.

- every route: `RATELIMIT_DEFAULT` per client address (health, metrics, the documents
  and the web client's files are exempt);
- sign-up: `RATELIMIT_REGISTER` per address;
- sign-in: `RATELIMIT_LOGIN` *failed* attempts per account and, separately, per
  address: many addresses cannot guess one password, and one address cannot lock
  everyone out (it runs out of tries first);
- email verification and resends: `RATELIMIT_VERIFY` per address and per email.

Routes are only tagged here (`@register_limit`, …); `init_limits` gives each app a
Limiter of its own and wraps the tagged views with it, because one module-level
Limiter keeps the settings of the first app it meets (the test-suite builds hundreds).

The client address is the connection's, or `X-Forwarded-For`'s only as far as
`TRUSTED_PROXIES` says (chat/app.py applies werkzeug's ProxyFix). A limited call is the
JSON 429 `rate_limited` with `Retry-After`. The message budget, shared by REST and
sockets, is a rule of the chat, so it lives in the services (`chat/services/limits.py`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

F = TypeVar("F", bound=Callable[..., Any])
TAG = "_chat_limits"
EXEMPT_BLUEPRINTS = ("health", "metrics", "docs", "web", "api-docs")


def _tag(kind: str) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, TAG, (*getattr(view, TAG, ()), kind))
        return view

    return mark


register_limit = _tag("register")
login_limits = _tag("login")
verify_limits = _tag("verify")


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _failed_sign_in(response: Response) -> bool:
    return response.status_code == 401


def _body_field(*names: str) -> str:
    """The first of `names` in the JSON body, case-folded (the account a sign-in or a
    verification is about); "" when the body says none."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        return ""
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value.strip().casefold()[:254]
    return ""


def _login_account() -> str:
    return "account:" + _body_field("username", "email")


def _verify_email() -> str:
    return "email:" + _body_field("email")


def _wrap(limiter: Limiter, kind: str, view: Callable[..., Any]) -> Callable[..., Any]:
    """One kind of limit around a view; shared scopes count both routes of a kind (the
    original /login and /api/auth/login, say) together."""
    if kind == "register":
        return limiter.shared_limit(_setting("RATELIMIT_REGISTER"), scope="register")(view)
    if kind == "login":
        login = _setting("RATELIMIT_LOGIN")
        by_address = limiter.shared_limit(login, scope="login-address", deduct_when=_failed_sign_in)
        by_account = limiter.shared_limit(
            login, scope="login-account", key_func=_login_account, deduct_when=_failed_sign_in
        )
        return by_account(by_address(view))
    if kind == "verify":
        verify = _setting("RATELIMIT_VERIFY")
        by_address = limiter.shared_limit(verify, scope="verify-address")
        by_email = limiter.shared_limit(verify, scope="verify-email", key_func=_verify_email)
        return by_email(by_address(view))
    raise ValueError(f"no limit called {kind!r}")


def init_limits(app: Flask) -> Limiter:
    """This app's Limiter (RATELIMIT_* from its config), around its tagged views."""
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    for endpoint, view in list(app.view_functions.items()):
        for kind in getattr(view, TAG, ()):
            app.view_functions[endpoint] = view = _wrap(limiter, kind, view)
    for name in EXEMPT_BLUEPRINTS:
        blueprint = app.blueprints.get(name)
        if blueprint is not None:
            limiter.exempt(cast(Blueprint, blueprint))
    app.extensions["chat_limiter"] = limiter
    return limiter


def retry_after() -> int:
    """Seconds until the limit this request broke lets it through again."""
    broken = current_app.extensions["chat_limiter"].current_limit
    if broken is None:
        return 1
    return max(math.ceil(broken.reset_at - time.time()), 1)
