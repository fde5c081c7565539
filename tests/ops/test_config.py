"""Configuration is checked at start: the real entry points (`python wsgi.py`, the
`flask` command, gunicorn as the Procfile runs it) in a subprocess with a bad
environment exit non-zero with one clear line per problem and never print a secret.
And every setting `config.py` declares is in `.env.example` and the README's table."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import config

ROOT = Path(__file__).resolve().parents[2]
HEAD = re.compile(r"^Configuration error \((\d+) problems?\); not starting:$")


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment with every setting blanked (a `.env` file never fills
    a variable that is set, even to ""), a throw-away database, then `settings`."""
    env = dict(os.environ)
    env.update({setting.name: "" for setting in config.SETTINGS})
    # prometheus_client takes this one set, even empty, for multi-process mode in ".".
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'chat.db'}", PYTHONUNBUFFERED="1")
    env.update(settings)
    return env


def start(tmp_path: Path, command: list[str], **settings: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        cwd=ROOT,
        env=clean_env(tmp_path, **settings),
        capture_output=True,
        text=True,
        timeout=120,  # a respawn loop would never end: this fails it
        stdin=subprocess.DEVNULL,
    )


def refused(result: subprocess.CompletedProcess) -> list[str]:
    """The problem lines of a refused start, after checking its shape."""
    assert result.returncode == config.EXIT_STATUS, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if HEAD.match(line)]
    assert len(starts) == 1, result.stderr  # said once
    first = starts[0]
    count = int(HEAD.match(lines[first]).group(1))  # type: ignore[union-attr]
    problems = [line.strip() for line in lines[first + 1 : first + 1 + count]]
    assert all(line.startswith(" ") for line in lines[first + 1 : first + 1 + count])
    return problems


def wsgi(tmp_path: Path, **settings: str) -> list[str]:
    return refused(start(tmp_path, [sys.executable, "wsgi.py"], **settings))


# (settings, the one line expected, a secret that must not appear)
CASES = {
    "port not an integer": (
        {"PORT": "5000x"},
        "PORT='5000x': expected a port number from 1 to 65535",
        None,
    ),
    "port out of range": (
        {"PORT": "70000"},
        "PORT='70000': expected a port number from 1 to 65535",
        None,
    ),
    "negative number": (
        {"TRUSTED_PROXIES": "-1"},
        "TRUSTED_PROXIES='-1': expected a whole number, 0 or more",
        None,
    ),
    "not a positive duration": (
        {"TYPING_TIMEOUT": "0"},
        "TYPING_TIMEOUT='0': expected a number of seconds above 0",
        None,
    ),
    "bad rate limit": (
        {"RATELIMIT_MESSAGES": "30 every 10 seconds"},
        "RATELIMIT_MESSAGES='30 every 10 seconds': expected a rate in Flask-Limiter's "
        "notation, like `30 per 10 seconds` or `10/minute`",
        None,
    ),
    "unknown rate-limit strategy": (
        {"RATELIMIT_STRATEGY": "token-bucket"},
        "RATELIMIT_STRATEGY='token-bucket': expected fixed-window, moving-window or "
        "sliding-window-counter",
        None,
    ),
    "unknown async mode": (
        {"ASYNC_MODE": "trio"},
        "ASYNC_MODE='trio': expected eventlet or gevent",
        None,
    ),
    "database URL of an unknown scheme, password masked": (
        {"DATABASE_URL": "postgres://chat:db-pw-8c1f@db.internal/chat"},
        "DATABASE_URL='postgres://chat:***@db.internal/chat': expected sqlite:///path, "
        "mongodb://host/db or mongodb+srv://host/db",
        "db-pw-8c1f",
    ),
    "malformed message queue URL": (
        {"SOCKETIO_MESSAGE_QUEUE": "redis//localhost:6379/0"},
        "SOCKETIO_MESSAGE_QUEUE='redis//localhost:6379/0': expected a queue URL like "
        "redis://host:6379/0 (or rediss://, amqp://, kafka://)",
        None,
    ),
    "malformed limits storage URL, password masked": (
        {"RATELIMIT_STORAGE_URI": "redis://:redis-pw-77aa@cache:six/1"},
        "RATELIMIT_STORAGE_URI='redis://:***@cache:six/1': expected memory:// or a "
        "storage URL like redis://host:6379/1",
        "redis-pw-77aa",
    ),
    "log format": (
        {"LOG_FORMAT": "xml"},
        "LOG_FORMAT='xml': expected text or json",
        None,
    ),
    "log level": (
        {"LOG_LEVEL": "LOUD"},
        "LOG_LEVEL='LOUD': expected DEBUG, INFO, WARNING, ERROR, CRITICAL",
        None,
    ),
    "sqlite synchronous": (
        {"SQLITE_SYNCHRONOUS": "OFF"},
        "SQLITE_SYNCHRONOUS='OFF': expected NORMAL, FULL or EXTRA",
        None,
    ),
    "flag": (
        {"EMAIL_VERIFICATION": "enabled"},
        "EMAIL_VERIFICATION='enabled': expected on or off (also true/false, yes/no, 1/0)",
        None,
    ),
    "unknown app env (not silently development)": (
        {"APP_ENV": "prod"},
        "APP_ENV='prod': expected development, production or testing",
        None,
    ),
    "SMTP_SSL with SMTP_STARTTLS": (
        {"SMTP_SSL": "on", "SMTP_STARTTLS": "true", "SMTP_PASSWORD": "smtp-pw-41d0"},
        "SMTP_SSL=on with SMTP_STARTTLS=on: expected at most one (SMTP_SSL: TLS from the "
        "start, port 465; SMTP_STARTTLS: port 587)",
        "smtp-pw-41d0",
    ),
    "production without SMTP_HOST for verification": (
        {
            "APP_ENV": "production",
            "SECRET_KEY": "secret-key-5e7b",
            "JWT_SECRET_KEY": "jwt-key-90c3",
            "EMAIL_VERIFICATION": "on",
        },
        "SMTP_HOST is not set: expected the mail server's host name, as EMAIL_VERIFICATION "
        "is on and production cannot log the codes (or turn EMAIL_VERIFICATION off)",
        "secret-key-5e7b",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_each_kind_of_bad_setting_is_one_clear_line(tmp_path, case) -> None:
    settings, line, secret = CASES[case]
    result = start(tmp_path, [sys.executable, "wsgi.py"], **settings)
    assert refused(result) == [line]
    if secret:
        assert secret not in result.stdout + result.stderr
    assert not (tmp_path / "chat.db").exists()  # refused before anything was opened


def test_production_without_its_secrets_names_both(tmp_path) -> None:
    problems = wsgi(tmp_path, APP_ENV="production")
    assert [p.split(":")[0] for p in problems] == [
        "SECRET_KEY is not set",
        "JWT_SECRET_KEY is not set",
    ]
    assert all("expected a long random string in production" in p for p in problems)


def test_every_problem_is_reported_together_and_no_secret_shown(tmp_path) -> None:
    result = start(
        tmp_path,
        [sys.executable, "wsgi.py"],
        PORT="http",
        SECRET_KEY="flask-key-3b9e",
        METRICS_TOKEN="metrics-token-c2d4",
        SMTP_PASSWORD="smtp-pw-41d0",
        SMTP_SSL="yes",
        SMTP_STARTTLS="on",
        SOCKETIO_MESSAGE_QUEUE="redis://:queue-pw-aa01@",
        RATELIMIT_LOGIN="ten per minute",
        LOG_FORMAT="yaml",
    )
    problems = refused(result)
    assert [p.split("=")[0].split(" ")[0] for p in problems] == [
        "SOCKETIO_MESSAGE_QUEUE",
        "LOG_FORMAT",
        "PORT",
        "RATELIMIT_LOGIN",
        "SMTP_SSL",
    ]
    assert problems[0].startswith("SOCKETIO_MESSAGE_QUEUE='redis://:***@': expected")
    output = result.stdout + result.stderr
    for secret in ("flask-key-3b9e", "metrics-token-c2d4", "smtp-pw-41d0", "queue-pw-aa01"):
        assert secret not in output


def test_secrets_are_masked_whatever_their_value() -> None:
    secret = next(s for s in config.SETTINGS if s.name == "SMTP_PASSWORD")
    assert config.shown(secret, "hunter2-9f") == "***"


def test_the_flask_command_refuses_the_same_way(tmp_path) -> None:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "chat", "backup", "x.db"]
    problems = refused(start(tmp_path, command, RATELIMIT_CONNECT="lots"))
    assert [p.split("=")[0] for p in problems] == ["RATELIMIT_CONNECT"]
    assert not (ROOT / "x.db").exists()


def test_gunicorn_stops_instead_of_respawning_the_worker(tmp_path) -> None:
    """The Procfile's command: the worker's refusal halts the arbiter (exit status 4,
    "App failed to load"), the problem printed once, not a boot loop."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    command = [gunicorn, "--worker-class", "eventlet", "--workers", "1"]
    command += ["--bind", "127.0.0.1:0", "wsgi:app"]
    # gunicorn 25 opens a control socket in $XDG_RUNTIME_DIR: its own, not the user's.
    run_dir = str(tmp_path)
    result = start(
        tmp_path, command, APP_ENV="production", ASYNC_MODE="eventlet", XDG_RUNTIME_DIR=run_dir
    )
    assert "App failed to load" in result.stderr
    assert [p.split(" ")[0] for p in refused(result)] == ["SECRET_KEY", "JWT_SECRET_KEY"]


def test_good_settings_parse_to_their_values() -> None:
    values, problems = config.read(
        {
            "PORT": " 8080 ",
            "SQLITE_SYNCHRONOUS": "full",
            "LOG_LEVEL": "warning",
            "EMAIL_VERIFICATION": "Yes",
            "JWT_ACCESS_TOKEN_EXPIRES": "60",
            "MONGODB_URI": "mongodb+srv://u:p@cluster0.example.net/chat",
            "SOCKETIO_MESSAGE_QUEUE": "redis://:pw@[::1]:6379/0",
            "RATELIMIT_STORAGE_URI": "redis+sentinel://a:26379,b:26379/mymaster",
            "RATELIMIT_DEFAULT": "1/second;100 per day",
            "CORS_ORIGINS": "https://a.example, http://localhost:3000",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:600000",
            "MAIL_FROM": "Chat <chat@example.com>",
        }
    )
    assert problems == []
    assert values["PORT"] == 8080 and values["SQLITE_SYNCHRONOUS"] == "FULL"
    assert values["LOG_LEVEL"] == "WARNING" and values["EMAIL_VERIFICATION"] is True
    assert values["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds() == 60
    assert values["DATABASE_URL"] == "mongodb+srv://u:p@cluster0.example.net/chat"
    assert values["TRUSTED_PROXIES"] == 0  # unset: the default


# -- the documentation of the settings ----------------------------------------------


def example_settings() -> dict[str, str]:
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#? ?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            found.setdefault(match.group(1), match.group(2))
    return found


def readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row)}


def test_env_example_lists_every_setting_and_its_values_are_valid() -> None:
    declared = {setting.name for setting in config.SETTINGS}
    listed = example_settings()
    assert declared - set(listed) == set(), "missing from .env.example"
    assert set(listed) - declared == set(), "in .env.example but not in config.py"
    _, problems = config.read(listed)
    assert problems == []


def test_readme_configuration_table_lists_every_setting() -> None:
    declared = {setting.name for setting in config.SETTINGS}
    assert declared - readme_settings() == set(), "missing from the README's table"
    assert readme_settings() - declared == set(), "in the README but not in config.py"
