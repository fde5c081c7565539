"""Settings, all read from the environment (and a `.env` file, if present).

Each setting is declared once, in `SETTINGS`: its name, how its text is parsed, its
default and what is expected of it. Reading never raises (importing this module must not
be a traceback): a malformed value keeps its default and becomes a *problem*, one line
naming the setting, its value shown safely and what was expected. `validate`, which the
application factory calls first, raises `ConfigError` with every problem at once, and
the rules between settings (production's secrets, SMTP_SSL with SMTP_STARTTLS) too, so
an operator fixes the whole environment in one go.

`Config` is what `make run` and the Procfile use; `TestConfig` is what the test-suite
builds apps from. Every setting is listed in the README's configuration table and in
`.env.example` (a test holds both to this table).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from dotenv import load_dotenv
from limits import parse_many
from limits.storage import SCHEMES as LIMITS_SCHEMES

load_dotenv()

# The exit status of a start refused for its configuration. 4 is gunicorn's "App failed
# to load": its arbiter then stops, where any other status would respawn the worker
# (and print the same problems) forever.
EXIT_STATUS = 4


class ConfigError(Exception):
    """The settings cannot run the server; `problems` holds one line per setting."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems

    def report(self) -> str:
        count = len(self.problems)
        head = f"Configuration error ({count} problem{'s' if count > 1 else ''}); not starting:"
        return "\n".join([head, *(f"  {line}" for line in self.problems)])


# -- parsers: text -> value, or ValueError ------------------------------------------


Parse = Callable[[str], Any]

FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True}
FLAG_WORDS.update({"0": False, "false": False, "no": False, "off": False})


def text(raw: str) -> str:
    return raw


def flag(raw: str) -> bool:
    return FLAG_WORDS[raw.strip().lower()]  # KeyError is a LookupError, caught below


def integer(low: int, high: int | None = None) -> Parse:
    def parse(raw: str) -> int:
        value = int(raw.strip())
        if value < low or (high is not None and value > high):
            raise ValueError(raw)
        return value

    return parse


def number(raw: str) -> float:
    value = float(raw.strip())
    if not value > 0 or value == float("inf"):
        raise ValueError(raw)
    return value


def number_or_zero(raw: str) -> float:
    """0 switches the thing off; else as `number`."""
    return 0.0 if float(raw.strip()) == 0 else number(raw)


def seconds(raw: str) -> timedelta:
    return timedelta(seconds=integer(1)(raw))


def choice(*options: str, upper: bool = False) -> Parse:
    def parse(raw: str) -> str:
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in options:
            raise ValueError(raw)
        return value

    return parse


PATH_SCHEMES = ("sqlite", "unix", "redis+unix", "valkey+unix")


def url(*schemes: str) -> Parse:
    """A URL of one of `schemes` naming a place: a host, or a path for file and socket
    schemes (`sqlite:///path`, `unix:///path`, `memory://`)."""

    def parse(raw: str) -> str:
        value = raw.strip()
        parts = urlsplit(value)
        if parts.scheme not in schemes or not value.startswith(f"{parts.scheme}://"):
            raise ValueError(raw)
        if parts.scheme in PATH_SCHEMES:
            if parts.netloc or not parts.path.strip("/"):
                raise ValueError(raw)
        elif parts.scheme != "memory" and not parts.netloc.rsplit("@", 1)[-1].strip(":,"):
            raise ValueError(raw)
        for host in parts.netloc.rsplit("@", 1)[-1].split(","):
            port = host.rsplit("]", 1)[-1].partition(":")[2]
            if port and not (port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(raw)
        return value

    return parse


def rate_limit(raw: str) -> str:
    """Flask-Limiter's notation: `30 per 10 seconds`, `1/second;100/day`."""
    if not parse_many(raw.strip()):
        raise ValueError(raw)
    return raw.strip()


def origins(raw: str) -> str:
    value = raw.strip()
    if value == "*":
        return value
    for origin in value.split(","):
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise ValueError(raw)
    return value


def hash_method(raw: str) -> str:
    """werkzeug.security's methods: scrypt[:n:r:p] or pbkdf2[:hash[:iterations]]."""
    name, *params = raw.strip().split(":")
    if name == "scrypt" and len(params) in (0, 3) and all(p.isdigit() for p in params):
        return raw.strip()
    if name == "pbkdf2" and len(params) <= 2 and (len(params) < 2 or params[1].isdigit()):
        return raw.strip()
    raise ValueError(raw)


def address(raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+|[^<>]*<[^@\s<>]+@[^@\s<>]+>", value):
        raise ValueError(raw)
    return value


def directory(raw: str) -> str:
    if not (os.path.isdir(raw.strip()) and os.access(raw.strip(), os.W_OK)):
        raise ValueError(raw)
    return raw.strip()


# -- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Parse
    default: Any
    expected: str
    secret: bool = False


LIMIT = "a rate in Flask-Limiter's notation, like `30 per 10 seconds` or `10/minute`"
FLAG = "on or off (also true/false, yes/no, 1/0)"
QUEUE_SCHEMES = ("redis", "rediss", "unix", "amqp", "amqps", "kafka", "zmq+tcp")
STORAGE_SCHEMES = tuple(s for s in LIMITS_SCHEMES if not s.startswith("async+"))
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "APP_ENV",
        choice("development", "production", "testing"),
        "development",
        "development, production or testing",
    ),
    # None means: generated and kept in instance/ in development, an error in production.
    Setting("SECRET_KEY", text, None, "a long random string", secret=True),
    Setting("JWT_SECRET_KEY", text, None, "a long random string", secret=True),
    # Unset = SQLite in instance/chat.db; MONGODB_URI is the Heroku add-on's name.
    Setting(
        "DATABASE_URL",
        url("sqlite", "mongodb", "mongodb+srv"),
        None,
        "sqlite:///path, mongodb://host/db or mongodb+srv://host/db",
    ),
    Setting(
        "MONGODB_URI",
        url("mongodb", "mongodb+srv"),
        None,
        "mongodb://host/db or mongodb+srv://host/db",
    ),
    # NORMAL survives a crash of the process; FULL a power loss too (README, Durability).
    # OFF is refused: an acknowledged message could be lost with the process.
    Setting(
        "SQLITE_SYNCHRONOUS",
        choice("NORMAL", "FULL", "EXTRA", upper=True),
        "NORMAL",
        "NORMAL, FULL or EXTRA",
    ),
    Setting("ASYNC_MODE", choice("eventlet", "gevent"), "eventlet", "eventlet or gevent"),
    Setting(
        "SOCKETIO_MESSAGE_QUEUE",
        url(*QUEUE_SCHEMES),
        None,
        "a queue URL like redis://host:6379/0 (or rediss://, amqp://, kafka://)",
    ),
    Setting(
        "CORS_ORIGINS", origins, "", "`*` or comma-separated origins like https://chat.example.com"
    ),
    Setting(
        "JWT_ACCESS_TOKEN_EXPIRES",
        seconds,
        timedelta(minutes=15),
        "a whole number of seconds, at least 1",
    ),
    Setting(
        "JWT_REFRESH_TOKEN_EXPIRES",
        seconds,
        timedelta(days=30),
        "a whole number of seconds, at least 1",
    ),
    # Email verification (issue 6): off unless EMAIL_VERIFICATION=on. Codes are mailed by
    # SMTP; with no SMTP_HOST they are logged in development (production refuses to start).
    Setting("EMAIL_VERIFICATION", flag, False, FLAG),
    Setting("VERIFICATION_CODE_TTL", integer(1), 600, "a whole number of seconds, at least 1"),
    Setting("SMTP_HOST", text, None, "the mail server's host name"),
    # 0: 465 with SMTP_SSL, 587 with SMTP_STARTTLS, else 25
    Setting("SMTP_PORT", integer(0, 65535), 0, "a port number from 1 to 65535 (0: by TLS mode)"),
    Setting("SMTP_USER", text, None, "the mail server's user name"),
    Setting("SMTP_PASSWORD", text, None, "the mail server's password", secret=True),
    Setting("SMTP_STARTTLS", flag, False, FLAG),
    Setting("SMTP_SSL", flag, False, FLAG),
    Setting("SMTP_TIMEOUT", integer(1), 10, "a whole number of seconds, at least 1"),
    Setting(
        "MAIL_FROM",
        address,
        "chat@localhost",
        "an address like chat@example.com or `Chat <chat@example.com>`",
    ),
    # werkzeug.security method; scrypt is the slow, memory-hard default.
    Setting(
        "PASSWORD_HASH_METHOD",
        hash_method,
        "scrypt",
        "scrypt, scrypt:N:R:P, pbkdf2 or pbkdf2:sha256:ITERATIONS",
    ),
    # Bounds one HTTP body and one Socket.IO packet; message content is bounded by schema.
    Setting("MAX_CONTENT_LENGTH", integer(1024), 64 * 1024, "a number of bytes, at least 1024"),
    # Logs: one line per request and Socket.IO event; `json` for one object per line.
    Setting("LOG_FORMAT", choice("text", "json"), "text", "text or json"),
    Setting("LOG_LEVEL", choice(*LOG_LEVELS, upper=True), "INFO", ", ".join(LOG_LEVELS)),
    # Prometheus metrics at /metrics, for METRICS_TOKEN bearers (else private addresses).
    Setting("METRICS_ENABLED", flag, False, FLAG),
    Setting("METRICS_TOKEN", text, None, "a long random string", secret=True),
    # Read by prometheus_client itself; declared here to be checked and documented.
    Setting("PROMETHEUS_MULTIPROC_DIR", directory, None, "an existing, writable directory"),
    # Behind TLS: send Strict-Transport-Security (browsers then refuse plain HTTP).
    Setting("PREFER_HTTPS", flag, False, FLAG),
    # Seconds a `typing: true` lasts without renewal; how often a process proves it is
    # alive to the others (Redis live state: it is taken for dead after three misses).
    Setting("TYPING_TIMEOUT", number, 5.0, "a number of seconds above 0"),
    Setting("PRESENCE_HEARTBEAT", number, 5.0, "a number of seconds above 0"),
    # Serving (README, Limits): a connection must send its request head within
    # REQUEST_HEADER_TIMEOUT seconds; a socket must sign in (Socket.IO connect) within
    # SOCKET_CONNECT_TIMEOUT (0: never closed); one process holds up to MAX_CONNECTIONS
    # connections; on SIGTERM, in-flight work gets SHUTDOWN_TIMEOUT seconds.
    Setting("REQUEST_HEADER_TIMEOUT", number, 5.0, "a number of seconds above 0"),
    Setting("SOCKET_CONNECT_TIMEOUT", number_or_zero, 10.0, "a number of seconds, 0 for never"),
    Setting("MAX_CONNECTIONS", integer(1), 10000, "a whole number, at least 1"),
    Setting("SHUTDOWN_TIMEOUT", number, 10.0, "a number of seconds above 0"),
    Setting("HOST", text, "127.0.0.1", "an address to listen on, like 0.0.0.0"),
    Setting("PORT", integer(1, 65535), 5000, "a port number from 1 to 65535"),
    # How many proxies in front (Heroku's router, nginx) may set X-Forwarded-For/-Proto;
    # 0 (the default) trusts none, so a client cannot claim another address.
    Setting("TRUSTED_PROXIES", integer(0), 0, "a whole number, 0 or more"),
    # Abuse limits, in Flask-Limiter's notation (README, Configuration).
    Setting("RATELIMIT_ENABLED", flag, True, FLAG),
    Setting(
        "RATELIMIT_STORAGE_URI",
        url(*STORAGE_SCHEMES),
        "memory://",
        "memory:// or a storage URL like redis://host:6379/1",
    ),
    Setting(
        "RATELIMIT_STRATEGY",
        choice("fixed-window", "moving-window", "sliding-window-counter"),
        "fixed-window",
        "fixed-window, moving-window or sliding-window-counter",
    ),
    Setting("RATELIMIT_DEFAULT", rate_limit, "600 per minute", LIMIT),
    Setting("RATELIMIT_REGISTER", rate_limit, "20 per hour", LIMIT),
    Setting("RATELIMIT_LOGIN", rate_limit, "10 per minute", LIMIT),
    Setting("RATELIMIT_VERIFY", rate_limit, "10 per minute", LIMIT),
    Setting("RATELIMIT_MESSAGES", rate_limit, "30 per 10 seconds", LIMIT),
    Setting("RATELIMIT_CONNECT", rate_limit, "60 per minute", LIMIT),
    # One socket's events of every kind; beyond, it is answered rate_limited (it stays).
    Setting("RATELIMIT_SOCKET_EVENTS", rate_limit, "20 per second", LIMIT),
)


# -- reading and checking -----------------------------------------------------------

MASK = "***"


def shown(setting: Setting, raw: str) -> str:
    """The value as it may appear in a log: secrets masked, and a URL's password."""
    if setting.secret:
        return MASK
    value = re.sub(r"(://[^/@:]*:)[^/@]*@", rf"\g<1>{MASK}@", raw)
    return repr(value if len(value) <= 80 else value[:77] + "...")


def read(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Every setting's value (its default when unset or malformed), and the problems."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in SETTINGS:
        raw = environ.get(setting.name, "")
        values[setting.name] = setting.default
        if raw.strip() == "":
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except (ValueError, LookupError):
            problems.append(f"{setting.name}={shown(setting, raw)}: expected {setting.expected}")
    values["DATABASE_URL"] = values["DATABASE_URL"] or values["MONGODB_URI"]
    return values, problems


def rules(config: Mapping[str, Any]) -> list[str]:
    """What no single setting shows: production's needs, contradictory settings."""
    problems = []
    if config.get("APP_ENV") == "production":
        for key in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if not config.get(key):
                problems.append(
                    f"{key} is not set: expected a long random string in production "
                    "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
        if config.get("EMAIL_VERIFICATION") and not config.get("SMTP_HOST"):
            problems.append(
                "SMTP_HOST is not set: expected the mail server's host name, as "
                "EMAIL_VERIFICATION is on and production cannot log the codes "
                "(or turn EMAIL_VERIFICATION off)"
            )
    if config.get("SMTP_SSL") and config.get("SMTP_STARTTLS"):
        problems.append(
            "SMTP_SSL=on with SMTP_STARTTLS=on: expected at most one "
            "(SMTP_SSL: TLS from the start, port 465; SMTP_STARTTLS: port 587)"
        )
    return problems


_VALUES, ENVIRONMENT_PROBLEMS = read(os.environ)


def validate(config: Mapping[str, Any]) -> None:
    """Raise ConfigError naming every problem: the environment's, as read at import, and
    the rules applied to `config` (the app's, after any overrides)."""
    problems = ENVIRONMENT_PROBLEMS + rules(config)
    if problems:
        raise ConfigError(problems)


class Config:
    # Only this algorithm is accepted when a token is read (never `none`, never another).
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    TESTING = False


for _name, _value in _VALUES.items():
    setattr(Config, _name, _value)


class TestConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production-use-0123456789"
    JWT_SECRET_KEY = "test-jwt-secret-key-not-for-production-use-0123456789"
    DATABASE_URL = None  # tests always pass their own store URL
    SOCKETIO_MESSAGE_QUEUE = None
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast: tests hash hundreds of passwords
    RATELIMIT_ENABLED = False  # the limits have tests of their own (tests/limits/)
