"""Timing helpers shared by the benchmarks: medians over repeated runs, a table, a JSON file."""

from __future__ import annotations

import json
import os
import statistics
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
