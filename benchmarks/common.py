"""Helpers shared by the benchmarks: medians over repeated runs, a table, a JSON file, a `puente serve` process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

# PUENTE_BENCH_RESULTS lets a smoke test write elsewhere than the results people read.
RESULTS = Path(os.environ.get("PUENTE_BENCH_RESULTS") or Path(__file__).parent / "results")


def median_ms(fn: Callable[[], object], *, repeat: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def ops_per_second(fn: Callable[[], object], *, seconds: float = 1.0) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        count += 1
    return count / elapsed


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [[str(h) for h in headers]] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")
    return path


REPO = Path(__file__).resolve().parent.parent
# The template the HTTP benchmarks issue from (institution `bench`, sector construction, RQF 2).
TEMPLATE = {
    "id": "bench-albanileria-2", "institution": "bench", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}


def seconds(name: str, default: float) -> float:
    """A duration from the environment (smoke tests shorten runs), at least 0.2 s."""
    try:
        return max(0.2, float(os.environ.get(name, default)))
    except ValueError:
        return default


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PuenteServer:
    """`puente serve` as a child process on 127.0.0.1 (its own session, so a stuck one is killed whole)."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "node", "serve", "--port", str(port)], cwd=REPO,
                                     env={**os.environ, "PUENTE_DATA_DIR": str(data_dir), "PUENTE_LOG_LEVEL": "WARNING", **env},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    async def ready(self, session, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("puente serve exited")
            try:
                async with session.get(self.url + "/readyz") as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("puente serve did not become ready")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
