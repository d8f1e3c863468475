"""The verify benchmark runs end to end (a real `puente serve`, 8 clients, every poison input) in a short
smoke run; the numbers are not judged here (benchmarks are timed, tests are not), only that each poison
input was refused and a normal verification still answered."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_verify_benchmark_smoke_run(tmp_path):
    env = {**os.environ, "PUENTE_BENCH_SECONDS": "0.3", "PUENTE_BENCH_BASELINE_SECONDS": "0.5",
           "PUENTE_BENCH_RESULTS": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "verify_load"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "verify_load.json").read_text())
    assert set(results["load"]) == {"eddsa-jcs-2022", "eddsa-rdfc-2022"}
    assert all(entry["requests"] > 0 and entry["failed"] == 0 for entry in results["load"].values())
    poison = results["poison"]
    assert {"clique-8", "clique-9", "nesting-400", "blank-node-array-6MB", "json-1000-deep", "body-40MB"} <= set(poison)
    assert all(entry["refused"] for name, entry in poison.items() if name != "normal-while-two-poison")
    assert poison["normal-while-two-poison"]["refused"] is False
    assert "p95_ms" in results["load"]["eddsa-rdfc-2022"] and "time to refusal" in proc.stdout


def test_issue_processes_benchmark_smoke_run(tmp_path):
    """One and two `puente serve` processes over one PostgreSQL database, both suites, 16 in flight: every
    request issued a credential (throughput is the benchmark's business, not the test's)."""
    env = {**os.environ, "PUENTE_BENCH_SECONDS": "0.3", "PUENTE_BENCH_RESULTS": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "issue_processes"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if "skipped: PostgreSQL unreachable" in proc.stdout:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(proc.stdout, pytrace=False)
        pytest.skip(proc.stdout.strip())
    results = json.loads((tmp_path / "issue_processes.json").read_text())
    for mode in ("one", "two"):
        assert set(results[mode]) == {"eddsa-jcs-2022", "eddsa-rdfc-2022"}
        assert all(entry["credentials"] > 0 and entry["failed"] == 0 for entry in results[mode].values()), results[mode]
    assert set(results["two_over_one"]) == {"eddsa-jcs-2022", "eddsa-rdfc-2022"}
    assert "credentials/s" in proc.stdout and len(results["targets"]) == 4
