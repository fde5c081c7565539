"""Settings, all read from the environment (and a `.env` file, if present).

`Config` is what `make run` and the Procfile use; `TestConfig` is what the test-suite
builds apps from. Every setting is listed in the README's configuration table.
"""

from __future__ import annotations

import os
from datetime import timedelta

from dotenv import load_dotenv

load_dotenv()


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    value = _env(name)
    return default if value is None else int(value)


def _seconds(name: str, default: int) -> timedelta:
    return timedelta(seconds=_int(name, default))


class Config:
    APP_ENV = _env("APP_ENV", "development")
    # None means: generated and kept in instance/ in development, an error in production.
    SECRET_KEY = _env("SECRET_KEY")
    JWT_SECRET_KEY = _env("JWT_SECRET_KEY")

    # sqlite:///path, mongodb://..., mongodb+srv://...; unset = SQLite in instance/chat.db
    DATABASE_URL = _env("DATABASE_URL") or _env("MONGODB_URI")
    # NORMAL survives a crash of the process; FULL a power loss too (README, Durability).
    SQLITE_SYNCHRONOUS = _env("SQLITE_SYNCHRONOUS", "NORMAL")
    ASYNC_MODE = _env("ASYNC_MODE", "eventlet")
    SOCKETIO_MESSAGE_QUEUE = _env("SOCKETIO_MESSAGE_QUEUE")
    CORS_ORIGINS = _env("CORS_ORIGINS", "")

    # Only this algorithm is accepted when a token is read (never `none`, never another).
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ACCESS_TOKEN_EXPIRES = _seconds("JWT_ACCESS_TOKEN_EXPIRES", 15 * 60)
    JWT_REFRESH_TOKEN_EXPIRES = _seconds("JWT_REFRESH_TOKEN_EXPIRES", 30 * 24 * 3600)

    # Email verification (issue 6): off unless EMAIL_VERIFICATION=on. Codes are mailed by
    # SMTP; with no SMTP_HOST they are logged in development (production refuses to start).
    EMAIL_VERIFICATION = _flag("EMAIL_VERIFICATION", False)
    VERIFICATION_CODE_TTL = _int("VERIFICATION_CODE_TTL", 600)
    SMTP_HOST = _env("SMTP_HOST")
    SMTP_PORT = _int("SMTP_PORT", 0)  # 0: 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25
    SMTP_USER = _env("SMTP_USER")
    SMTP_PASSWORD = _env("SMTP_PASSWORD")
    SMTP_STARTTLS = _flag("SMTP_STARTTLS", False)
    SMTP_SSL = _flag("SMTP_SSL", False)
    SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 10)
    MAIL_FROM = _env("MAIL_FROM", "chat@localhost")

    # werkzeug.security method; scrypt is the slow, memory-hard default.
    PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt")
    # Bounds one HTTP body and one Socket.IO packet; message content is bounded by schema.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 64 * 1024)
    # Logs: one line per request and Socket.IO event; `json` for one object per line.
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    LOG_LEVEL = _env("LOG_LEVEL", "INFO")
    # Prometheus metrics at /metrics, for METRICS_TOKEN bearers (else private addresses).
    METRICS_ENABLED = _flag("METRICS_ENABLED", False)
    METRICS_TOKEN = _env("METRICS_TOKEN")
    # Behind TLS: send Strict-Transport-Security (browsers then refuse plain HTTP).
    PREFER_HTTPS = _flag("PREFER_HTTPS", False)
    # Seconds a `typing: true` lasts without renewal; how often a process proves it is
    # alive to the others (Redis live state: it is taken for dead after three misses).
    TYPING_TIMEOUT = float(_env("TYPING_TIMEOUT", "5") or 5)
    PRESENCE_HEARTBEAT = float(_env("PRESENCE_HEARTBEAT", "5") or 5)
    # Serving (README, Limits): a connection must send its request head within
    # REQUEST_HEADER_TIMEOUT seconds; a socket must sign in (Socket.IO connect) within
    # SOCKET_CONNECT_TIMEOUT (0: never closed); one process holds up to MAX_CONNECTIONS
    # connections; on SIGTERM, in-flight work gets SHUTDOWN_TIMEOUT seconds.
    REQUEST_HEADER_TIMEOUT = float(_env("REQUEST_HEADER_TIMEOUT", "5") or 5)
    SOCKET_CONNECT_TIMEOUT = float(_env("SOCKET_CONNECT_TIMEOUT", "10") or 10)
    MAX_CONNECTIONS = _int("MAX_CONNECTIONS", 10000)
    SHUTDOWN_TIMEOUT = float(_env("SHUTDOWN_TIMEOUT", "10") or 10)
    HOST = _env("HOST", "127.0.0.1")
    PORT = _int("PORT", 5000)
    # How many proxies in front (Heroku's router, nginx) may set X-Forwarded-For/-Proto;
    # 0 (the default) trusts none, so a client cannot claim another address.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)

    # Abuse limits, in Flask-Limiter's notation (README, Configuration).
    RATELIMIT_ENABLED = _flag("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = _env("RATELIMIT_STRATEGY", "fixed-window")
    RATELIMIT_DEFAULT = _env("RATELIMIT_DEFAULT", "600 per minute")
    RATELIMIT_REGISTER = _env("RATELIMIT_REGISTER", "20 per hour")
    RATELIMIT_LOGIN = _env("RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_VERIFY = _env("RATELIMIT_VERIFY", "10 per minute")
    RATELIMIT_MESSAGES = _env("RATELIMIT_MESSAGES", "30 per 10 seconds")
    RATELIMIT_CONNECT = _env("RATELIMIT_CONNECT", "60 per minute")
    # One socket's events of every kind; beyond, it is answered rate_limited (it stays).
    RATELIMIT_SOCKET_EVENTS = _env("RATELIMIT_SOCKET_EVENTS", "20 per second")
    TESTING = False


class TestConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-use-0123456789"
    JWT_SECRET_KEY = "test-jwt-secret-key-not-for-production-use-0123456789"
    DATABASE_URL = None  # tests always pass their own store URL
    SOCKETIO_MESSAGE_QUEUE = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: tests hash hundreds of passwords
    RATELIMIT_ENABLED = False  # the limits have tests of their own (tests/limits/)
