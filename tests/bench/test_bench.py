"""The benchmark's instrument: `make bench` runs, reports every figure, and counts right.

Nothing here times anything (speed is for `make bench` to report). These tests check
that a tiny run of bench/run.py produces its JSON line with every field, that nothing is
lost on either server, and that the load generator counts lost, duplicated and
reordered deliveries exactly, against a relay that drops, repeats or swaps on purpose.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run

ROOT = Path(__file__).resolve().parents[2]

LOAD_FIELDS = {
    "msgs_in_per_s",
    "deliveries_per_s",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "lost",
    "duplicated",
    "reordered",
    "server_cpu_pct",
    "server_rss_mb",
    "cpu_ms_per_msg",
    "generator_cpu_pct",
    "generator_loop_delay_p99_ms",
}
IDLE_FIELDS = {"target", "accepted", "rss_per_conn_kb", "server_rss_mb", "generator_cpu_pct"}


@pytest.fixture(autouse=True)
def node() -> None:
    """Node and `ws` are the generator's; CI must have them (make test runs npm ci)."""
    missing = [
        what
        for what, there in (
            ("node", shutil.which("node")),
            ("node_modules/ws", (ROOT / "node_modules" / "ws").is_dir()),
        )
        if not there
    ]
    if missing:
        reason = f"the benchmark needs {' and '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: the benchmark's tests must run)", pytrace=False)
        pytest.skip(reason)


def test_a_tiny_run_reports_every_figure_and_loses_nothing() -> None:
    env = {
        **os.environ,
        "BENCH_TINY": "1",
        "BENCH_MODES": "eventlet",
        "BENCH_WORKLOADS": "W1,I",
        # Every run counts as noisy, so each load run is tried twice: the second try
        # must post into rooms of its own (in the first one's, the chat server would
        # rightly take its messages for repeats and deliver nothing).
        "BENCH_NOISE_LIMIT": "-1",
        "BENCH_NOISE_BUDGET": "60",
        "BENCH_QUIET_WAIT": "0",
    }
    done = subprocess.run(
        [sys.executable, "bench/run.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["machine"]["cores"] >= 1
    rows = {row["workload"]: row for row in report["summary"]}
    assert set(rows) == {"W1", "I"}
    for kind in ("bare", "chat"):
        load = rows["W1"][kind]
        assert set(load) >= LOAD_FIELDS, LOAD_FIELDS - set(load)
        assert load["msgs_in_per_s"] > 0 and load["p99_ms"] > 0
        assert (load["lost"], load["duplicated"], load["reordered"]) == (0, 0, 0), load
        assert load["nacked"] == 0 and load["unacked"] == 0, load
        idle = rows["I"][kind]
        assert set(idle) >= IDLE_FIELDS, IDLE_FIELDS - set(idle)
        assert idle["accepted"] == idle["target"], idle
    assert rows["W1"]["ratio_of"] == "p99_ms" and rows["W1"]["ratio"] > 0
    # Every run's raw result is in the line too: 1 repeat x 2 servers x (W1, I).
    assert len(report["runs"]) == 4
    kept = [r["result"] for r in report["runs"] if r["workload"] == "W1"]
    assert all(len(result["noisy_attempts"]) == 1 for result in kept), kept
    for attempt in [*kept, *(a for result in kept for a in result["noisy_attempts"])]:
        assert attempt["msgs_in_per_s"] > 0, attempt
        assert (attempt["lost"], attempt["reposts"]) == (0, 0), attempt
    assert "ratio chat/bare" in done.stdout  # and the table came before it


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        # Every 4th seq is not broadcast: each of the room's members misses it.
        ("drop:4", lambda acked, members: {"lost": acked // 4 * members}),
        # Every 3rd is broadcast twice: each member gets one repeat.
        ("dup:3", lambda acked, members: {"duplicated": acked // 3 * members}),
        # Every 5th is held back until the next has gone: each member sees it late.
        # A held one that no later message releases is lost.
        (
            "swap:5",
            lambda acked, members: {
                "reordered": (acked - 1) // 5 * members,
                "lost": members if acked % 5 == 0 else 0,
            },
        ),
    ],
)
def test_the_generator_counts_faults_exactly(tmp_path: Path, fault: str, expect) -> None:
    relay = run.Server("bare", "eventlet", None, tmp_path, {"RELAY_FAULT": fault})
    with run.running(relay):
        members = 4
        result = run.loadgen(
            {
                "kind": "load",
                "servers": [{"url": relay.url, "pid": relay.pid}],
                "rooms": [{"id": "room-1", "tokens": ["bare"] * members, "senders": 2}],
                "rate": 25,
                "warmup": 0.2,
                "duration": 1,
                "drain": 1,
            },
            timeout=60,
        )
    acked = result["acked"]
    assert acked > 20 and result["sent"] == acked, result
    counts = {"lost": 0, "duplicated": 0, "reordered": 0, **expect(acked, members)}
    assert {key: result[key] for key in counts} == counts, result
    unique = result["deliveries"] - result["duplicated"]
    assert unique == acked * members - result["lost"]
