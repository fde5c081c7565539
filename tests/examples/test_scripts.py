"""Every script in examples/ runs against the real server and exits 0.

The scripts check their own answers (statuses and fields), so exit 0 means each step
got what the README promises.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, ServerProcess

EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.sh") if p.name != "lib.sh")


def test_the_examples_cover_the_original_routes_and_the_api() -> None:
    assert {"original-routes.sh", "accounts.sh", "rooms.sh", "messages.sh"} <= set(SCRIPTS)
    for name in SCRIPTS:
        assert os.access(EXAMPLES / name, os.X_OK), f"{name} is not executable"


def run(script: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BASE_URL": base_url}
    return subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_runs_clean_against_the_server(
    name: str, server_factory: Callable[..., ServerProcess]
) -> None:
    server = server_factory("eventlet")
    result = run(EXAMPLES / name, server.url)
    assert result.returncode == 0, f"{name} exited {result.returncode}\n{result.stderr[-4000:]}"
    # Twice on the same server: the scripts make their own unique names.
    again = run(EXAMPLES / name, server.url)
    assert again.returncode == 0, f"{name} (second run)\n{again.stderr[-4000:]}"


def test_a_failing_step_makes_the_script_fail(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """The scripts' checks can fail: a script expecting the wrong status exits non-zero."""
    server = server_factory("eventlet")
    script = tmp_path / "wrong.sh"
    script.write_text(
        f'set -euo pipefail\nsource "{EXAMPLES / "lib.sh"}"\napi GET /health 404 >/dev/null\n'
    )
    result = run(script, server.url)
    assert result.returncode != 0
    assert "FAILED: GET /health answered 200, expected 404" in result.stderr
