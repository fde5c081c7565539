"""The deployment files, tested as far as this machine allows (it cannot pull images):
Debian's nginx checks deploy/nginx.conf, the Dockerfile's start command is run with a
stand-in gunicorn and compared with the Procfile's, its health check is run against a
real server, and docker-compose.yml is read and its settings validated by config.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

import config

from .harness import ROOT, free_port, wait_until

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)
IN_CI = os.environ.get("CI") == "true"


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def instruction(name: str, text: str | None = None) -> list[str]:
    """The arguments of every `name` instruction, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", text or dockerfile())
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+(.*)$", joined, re.M)]


def final_stage() -> str:
    return re.split(r"^FROM ", dockerfile(), flags=re.M)[-1]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def procfile_command() -> str:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("web:"))


def stand_in_gunicorn(tmp_path: Path) -> dict[str, str]:
    """A `gunicorn` first on PATH that prints its pid, APP_ENV and arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gunicorn"
    script.write_text('#!/bin/sh\necho "$$|$APP_ENV|$*"\n')
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("APP_ENV", "ASYNC_MODE")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PORT="8000")
    return env


# -- nginx ----------------------------------------------------------------------------


def local_nginx(tmp_path: Path, port: int = 80) -> list[str]:
    """nginx's command line for a copy of deploy/nginx.conf whose upstreams (compose's
    service names, which must resolve) are loopback, listening on `port`."""
    if NGINX is None:
        if IN_CI:
            pytest.fail("nginx is missing in CI (.ci/run installs nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    local = re.sub(r"(\bserver\s+)chat\d+(:\d+)", r"\g<1>127.0.0.1\2", text)
    local = local.replace("listen 80;", f"listen 127.0.0.1:{port};")
    assert local != text
    (tmp_path / "nginx.conf").write_text(local)
    return [NGINX, "-p", str(tmp_path), "-e", "stderr", "-c", str(tmp_path / "nginx.conf")]


def test_nginx_accepts_the_config(tmp_path) -> None:
    result = subprocess.run(
        [*local_nginx(tmp_path), "-t", "-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_answers_too_long_requests_in_the_house_error_style(tmp_path) -> None:
    """414 and 431 never reach a process (nginx refuses them first); they are JSON
    `{code, message}` like every error of the app."""
    port = free_port()
    command = [*local_nginx(tmp_path, port), "-g", f"daemon off; pid {tmp_path / 'nginx.pid'};"]
    nginx = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"

        def get(path: str, **headers: str) -> requests.Response | None:
            try:
                return requests.get(url + path, headers=headers, timeout=5)
            except requests.ConnectionError:
                return None

        wait_until(lambda: get("/.errors/414") is not None, what="nginx listening")
        for response, status, code in [
            (get("/" + "x" * 20_000), 414, "request_uri_too_long"),
            (get("/", **{"X-Big": "y" * 20_000}), 431, "request_header_fields_too_large"),
        ]:
            assert response is not None and response.status_code == status
            assert response.headers["Content-Type"] == "application/json"
            assert response.json()["code"] == code and response.json()["message"]
        outside = get("/.errors/414")  # the error bodies are internal locations
        assert outside is not None and outside.status_code == 404
    finally:
        nginx.terminate()
        nginx.communicate(timeout=30)


def test_nginx_is_sticky_passes_websockets_and_names_the_compose_services() -> None:
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    upstream = re.search(r"upstream chat \{(.*?)\}", text, re.S)
    assert upstream is not None
    assert re.search(r"^\s*ip_hash;", upstream.group(1), re.M)
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream.group(1), re.M)
    chat_services = {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "chat-server"
    }
    assert sorted(host for host, _ in servers) == sorted(chat_services) == ["chat1", "chat2"]
    for host, port in servers:
        assert chat_services[host]["environment"]["PORT"] == port
    assert "proxy_http_version 1.1;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in text


# -- docker-compose.yml ---------------------------------------------------------------


def interpolated(value: Any) -> str:
    """Compose's `${VAR:-default}` as its default, `${VAR:?error}` as a given value."""
    text = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))
    return re.sub(r"\$\{\w+:\?[^}]*\}", "a-value-from-.env", text)


def test_compose_runs_two_processes_sharing_redis_and_one_database() -> None:
    services = compose()["services"]
    assert {"chat1", "chat2", "redis", "nginx"} <= set(services)
    one, two = services["chat1"], services["chat2"]
    assert one == two and one["build"] == "." and one["image"] == "chat-server"
    env = {key: interpolated(value) for key, value in one["environment"].items()}
    assert env["SOCKETIO_MESSAGE_QUEUE"].startswith("redis://redis:")
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
    assert env["TRUSTED_PROXIES"] == "1" and env["APP_ENV"] == "production"
    assert env["DATABASE_URL"] == "sqlite:////data/chat.db"
    assert "chat-data:/data" in one["volumes"]  # the one SQLite file, one host only
    values, problems = config.read(env)
    assert problems == [] and config.rules(values) == []
    nginx = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert set(nginx["depends_on"]) == {"chat1", "chat2"}
    assert services["mongo"]["profiles"] == ["mongo"]  # optional: the production store


# -- Dockerfile -----------------------------------------------------------------------


def test_dockerfile_builds_a_slim_non_root_image_from_the_pins() -> None:
    stages = instruction("FROM")
    assert stages[0].startswith("node:20-slim AS ") and stages[-1] == "python:3.11-slim"
    final = final_stage()
    assert "pip install -r requirements.txt" in " ".join(instruction("RUN", final))
    users = instruction("USER", final)
    assert users and users[-1] not in ("root", "0")
    assert final.index("USER ") < final.index("CMD ")
    assert "npm ci --omit=dev" in " ".join(instruction("RUN"))
    # The script the web client serves (chat/web) is where it looks for it.
    copies = instruction("COPY", final)
    assert any(
        c.startswith("--from=") and c.endswith(" node_modules/socket.io-client") for c in copies
    )
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*") :][:1] == ["*"]  # an allow-list: no .env, instance/


def test_dockerfile_starts_exactly_the_procfile_command(tmp_path) -> None:
    """The image's CMD, run by sh as Docker would (with a stand-in gunicorn), execs the
    same program with the same arguments as the Procfile's line run by a Procfile
    runner, and gunicorn replaces the shell (PID 1 gets `docker stop`'s SIGTERM)."""
    cmd = json.loads(instruction("CMD")[-1])  # exec form: a JSON list
    assert cmd[:2] == ["sh", "-c"]
    shutil.copy(ROOT / "Procfile", tmp_path / "Procfile")
    env = stand_in_gunicorn(tmp_path)

    def run(script: str) -> list[str]:
        wrapped = f"echo $$; {script}"
        out = subprocess.run(
            ["sh", "-c", wrapped], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()

    shell_pid, image = run(cmd[2])
    _, procfile = run(procfile_command())
    gunicorn_pid, app_env, args = image.split("|")
    assert gunicorn_pid == shell_pid
    assert (app_env, args) == tuple(procfile.split("|")[1:])
    assert app_env == "production" and "--bind 0.0.0.0:8000 wsgi:app" in args


def test_the_health_check_passes_on_a_serving_server_only(server_factory) -> None:
    check = instruction("HEALTHCHECK")[-1]
    command = check.split(" CMD ", 1)[1]
    assert "/health" in command and "urllib" in command
    server = server_factory("eventlet")
    env = {**os.environ, "PORT": str(server.port)}

    def healthy() -> int:
        args = ["sh", "-c", command]
        return subprocess.run(args, env=env, capture_output=True, timeout=30).returncode

    assert healthy() == 0
    server.stop()
    assert healthy() != 0


def test_ci_installs_nginx() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^command -v nginx .*\|\| need\+=\(nginx-light\)", script, re.M)
