"""The application factory: settings, store, services, extensions, blueprints."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, cast

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from . import __version__
from .cli import register_cli
from .concurrency import hub
from .domain.store import Store
from .extensions import api, cors, jwt, socketio
from .http.bodies import BoundedBodies
from .http.errors import register_error_handlers
from .http.limits import init_limits
from .http.openapi import api_settings
from .http.security import install_security_headers
from .live import open_live
from .mail import LogMailer, SmtpMailer
from .ops.logs import install_request_logging
from .ops.metrics import TimedStore, install_metrics
from .realtime import LEGACY_NAMESPACE, NAMESPACE
from .realtime.control import control_for
from .realtime.frames import bound_websocket_messages
from .realtime.publisher import SocketPublisher
from .realtime.sessions import Sessions
from .services import AccountSettings, build_services
from .services.limits import Budgets
from .services.presence import Presence
from .services.verification import Mailer, VerificationSettings
from .store import open_store


class NoCookieSession(SecureCookieSessionInterface):
    """The server signs nobody in by cookie (bearer tokens only), so it never reads
    the cookie header: Flask would parse it for every request and, through
    Flask-SocketIO, for every Socket.IO event (a twentieth of an event's cost)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        return None  # Flask then uses a null session, which refuses writes


def create_app(config: type | Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` is a class or mapping laid over `config.Config`.

    Raises `config.ConfigError` naming every problem of the settings before anything
    is opened (wsgi.py turns it into a clean exit)."""
    app = Flask("chat", instance_relative_config=True)
    from config import Config, validate

    app.config.from_object(Config)
    app.config.from_mapping(api_settings(__version__))
    if isinstance(config, Mapping):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)
    validate(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    _load_secrets(app)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # keep the schemas' field order
    app.session_interface = NoCookieSession()

    store: Store = open_store(
        app.config["DATABASE_URL"], app.instance_path, app.config["SQLITE_SYNCHRONOUS"]
    )
    store.migrate()
    if app.config["METRICS_ENABLED"]:
        store = cast(Store, TimedStore(store))  # a proxy timing every call
    if hub() == "eventlet" and type(store).__name__ == "MongoStore":
        app.logger.warning("PyMongo does not support eventlet: set ASYNC_MODE=gevent")
    control = control_for(app.config.get("SOCKETIO_MESSAGE_QUEUE"))
    heartbeat = float(app.config["PRESENCE_HEARTBEAT"])
    presence = Presence(open_live(app.config.get("SOCKETIO_MESSAGE_QUEUE"), heartbeat))
    publisher = SocketPublisher(socketio, presence, control)
    services = build_services(
        store,
        publisher,
        presence,
        app.config["PASSWORD_HASH_METHOD"],
        _account_settings(app),
        *_budgets(app),
        typing_timeout=float(app.config["TYPING_TIMEOUT"]),
    )
    app.extensions["chat"] = services
    _init_extensions(app)
    _register_blueprints(app)
    init_limits(app)
    register_error_handlers(app)  # after flask-smorest's, which it replaces
    install_security_headers(app)
    install_request_logging(app)
    register_cli(app)
    if app.config["METRICS_ENABLED"]:
        install_metrics(app)
    if hub() != "threading":  # tests on plain threads drive these by hand
        if control:
            socketio.start_background_task(control.listen, publisher.obey)
        _every(app, min(1.0, float(app.config["TYPING_TIMEOUT"]) / 5), services.live.expire_typing)
        _every(app, heartbeat, services.live.heartbeat)
    return app


def _every(app: Flask, seconds: float, job: Callable[[], object]) -> None:
    """Run `job` every `seconds` on the hub for the process's life; a failure is logged
    and the loop goes on (a store or Redis hiccup must not end it)."""

    def loop() -> None:
        while True:
            socketio.sleep(seconds)
            try:
                with app.app_context():
                    job()
            except Exception:
                app.logger.exception("periodic %s failed", getattr(job, "__name__", job))

    socketio.start_background_task(loop)


def _budgets(app: Flask) -> tuple[Budgets, Budgets]:
    """The chat's own budgets, in Flask-Limiter's storage and notation; and a socket's
    event budget, kept in this process (a socket lives in one)."""
    enabled, strategy = app.config["RATELIMIT_ENABLED"], app.config["RATELIMIT_STRATEGY"]
    shared = Budgets(
        app.config["RATELIMIT_STORAGE_URI"],
        {
            "messages": app.config["RATELIMIT_MESSAGES"],
            "connect": app.config["RATELIMIT_CONNECT"],
        },
        strategy=strategy,
        enabled=enabled,
    )
    local = Budgets(
        "memory://",
        {"socket": app.config["RATELIMIT_SOCKET_EVENTS"]},
        strategy=strategy,
        enabled=enabled,
    )
    return shared, local


def _load_secrets(app: Flask) -> None:
    """Development makes its keys once and keeps them (production must be given its
    keys: `config.validate` has refused to start without them)."""
    missing = [k for k in ("SECRET_KEY", "JWT_SECRET_KEY") if not app.config.get(k)]
    if not missing:
        return
    path = os.path.join(app.instance_path, "secrets.json")
    kept = {}
    if os.path.exists(path):
        with open(path) as file:
            kept = json.load(file)
    for key in missing:
        kept.setdefault(key, secrets.token_urlsafe(48))
        app.config[key] = kept[key]
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(kept, file)


def _account_settings(app: Flask) -> AccountSettings:
    config = app.config
    verification = VerificationSettings(
        required=bool(config["EMAIL_VERIFICATION"]),
        code_ttl=int(config["VERIFICATION_CODE_TTL"]),
        secret=str(config["SECRET_KEY"]).encode(),
    )
    lifetime = config["JWT_REFRESH_TOKEN_EXPIRES"]
    if not isinstance(lifetime, timedelta):
        lifetime = timedelta(seconds=int(lifetime))
    return AccountSettings(_mailer(app), verification, lifetime)


def _mailer(app: Flask) -> Mailer:
    """SMTP when SMTP_HOST is set; else the log (production with verification on has
    been refused by `config.validate`)."""
    config = app.config
    if config.get("SMTP_HOST"):
        ssl, starttls = bool(config["SMTP_SSL"]), bool(config["SMTP_STARTTLS"])
        return SmtpMailer(
            host=config["SMTP_HOST"],
            port=int(config["SMTP_PORT"]) or (465 if ssl else 587 if starttls else 25),
            sender=config["MAIL_FROM"],
            user=config.get("SMTP_USER"),
            password=config.get("SMTP_PASSWORD"),
            starttls=starttls,
            use_ssl=ssl,
            timeout=float(config["SMTP_TIMEOUT"]),
        )
    return LogMailer()


def _origins(app: Flask) -> list[str] | str | None:
    raw = (app.config.get("CORS_ORIGINS") or "").strip()
    if raw == "*":
        return "*"
    return [o.strip() for o in raw.split(",") if o.strip()] or None


def _init_extensions(app: Flask) -> None:
    from .auth.identity import register_jwt_callbacks
    from .realtime.namespace import ChatNamespace, LegacyNamespace

    app.config["JWT_ERROR_MESSAGE_KEY"] = "message"
    jwt.init_app(app)
    register_jwt_callbacks(jwt)
    origins = _origins(app)
    if origins:
        cors.init_app(app, origins=origins)
    socketio.init_app(
        app,
        async_mode=hub(),
        message_queue=app.config.get("SOCKETIO_MESSAGE_QUEUE"),
        cors_allowed_origins=origins,
        max_http_buffer_size=app.config["MAX_CONTENT_LENGTH"],
        # Handle a socket's events one after another, as sent: concurrent handlers
        # would let a sender's second message overtake its first.
        async_handlers=False,
        # No cookie session to copy per socket (see NoCookieSession).
        manage_session=False,
    )
    socketio.on_namespace(ChatNamespace(NAMESPACE))
    socketio.on_namespace(LegacyNamespace(LEGACY_NAMESPACE))
    bound_websocket_messages(socketio.server.eio)
    sessions = Sessions(socketio.server, float(app.config["SOCKET_CONNECT_TIMEOUT"]))
    sessions.install(sweep=hub() != "threading")  # tests on plain threads sweep by hand
    app.extensions["sessions"] = sessions
    # Around Socket.IO's middleware: Engine.IO's POSTs are bounded before it reads them.
    app.wsgi_app = BoundedBodies(  # type: ignore[method-assign]
        app.wsgi_app, int(app.config["MAX_CONTENT_LENGTH"]), sessions.close
    )
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        # Outermost, around Socket.IO's middleware too: every request, HTTP or socket,
        # sees the client's address as the trusted proxies passed it on.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _register_blueprints(app: Flask) -> None:
    """The API's blueprints through flask-smorest (they are in the OpenAPI document),
    the documents' own pages directly."""
    from . import auth, conversations, health, legacy, messages, rooms, users
    from .http import docs

    # `//` in a path is a 404 like any unknown path, not a redirect to an HTML page.
    app.url_map.merge_slashes = False
    api.init_app(app)
    blueprints = (auth.bp, users.bp, rooms.bp, messages.bp, conversations.bp, legacy.bp, health.bp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    from .web import bp as web_bp  # the browser client at /

    app.register_blueprint(web_bp)
