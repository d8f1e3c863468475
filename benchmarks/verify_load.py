"""`POST /verify` on a real server (a `puente serve` process on 127.0.0.1), one run:

1. load: 8 concurrent clients post a freshly issued credential for PUENTE_BENCH_SECONDS (default 30) per
   suite; throughput and p50/p95 latency. Targets (2 cores): p95 <= 50 ms eddsa-jcs-2022, <= 100 ms
   eddsa-rdfc-2022.
2. poison: time to refusal of each input built to stall a verifier (benchmarks/_poison.py) <= 1 s each,
   with a normal verification answering while two poison requests run. The baseline, measured in the same
   run, is stock pyld URDNA2015 on the same document in a separate process, stopped at
   PUENTE_BENCH_BASELINE_SECONDS (default: the load duration); "> N" means it had not finished.

PUENTE_BENCH_SECONDS=1 makes the whole thing a smoke run (tests/unit/test_benchmarks_smoke.py does that).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._poison import blank_node_array, body, clique, deep_json, deep_nesting, with_fake_proof
from benchmarks.common import REPO, TEMPLATE, PuenteServer, free_port, print_table, seconds, write_results

CLIENTS = 8
TARGET_P95_MS = {"eddsa-jcs-2022": 50.0, "eddsa-rdfc-2022": 100.0}
TARGET_REFUSAL_S = 1.0
PERSON = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


def poison_inputs() -> dict[str, bytes]:
    return {
        "clique-8": body(with_fake_proof(clique(8))),
        "clique-9": body(with_fake_proof(clique(9))),
        "nesting-400": body(with_fake_proof(deep_nesting(400))),
        "blank-node-array-6MB": body(with_fake_proof(blank_node_array(6_000_000))),
        "json-1000-deep": deep_json(1000),
        "body-40MB": b" " * (40 * 1024 * 1024),
    }


async def _prepare_node(data_dir: Path, port: int) -> dict[str, dict]:
    """Initialise a node and issue one credential per suite (in this process, before the server starts)."""
    from node.issuance.service import IssuanceService
    from node.node_setup import initialise
    from node.services import open_services
    from node.settings import load_settings

    settings = load_settings(environ={}, data_dir=data_dir, jurisdiction="GT", name="Benchmark node",
                             base_url=f"http://127.0.0.1:{port}", port=port)
    await initialise(settings)
    async with open_services(settings) as services:
        issuance = IssuanceService.from_services(services)
        await issuance.create_institution("bench", "Benchmark institute", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
        await issuance.create_template(TEMPLATE)
        return {suite: (await issuance.issue_one(TEMPLATE["id"], PERSON, suite=suite)).to_json() for suite in TARGET_P95_MS}


async def _post(session, url: str, data: bytes) -> tuple[float, int, dict | None]:
    start = time.perf_counter()
    async with session.post(url, data=data, headers={"Content-Type": "application/json"}) as response:
        payload = await response.read()
    elapsed = time.perf_counter() - start
    try:
        parsed = json.loads(payload)
    except ValueError:
        parsed = None
    return elapsed, response.status, parsed


async def _load(session, url: str, credential: dict, duration: float) -> dict:
    data = body(credential)
    for _ in range(3):  # warm the worker pool and the caches; not measured
        _, status, verdict = await _post(session, url, data)
        assert status == 200 and verdict["verified"], verdict
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + duration

    async def client() -> None:
        nonlocal failures
        while time.perf_counter() < stop:
            elapsed, status, verdict = await _post(session, url, data)
            latencies.append(elapsed)
            failures += status != 200 or not (verdict or {}).get("verified")

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    wall = time.perf_counter() - start
    ordered = sorted(latencies)
    return {"requests": len(ordered), "failed": failures, "seconds": round(wall, 2),
            "requests_per_s": round(len(ordered) / wall, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2)}


def _refused(status: int, verdict: dict | None) -> bool:
    if 400 <= status < 500:
        return True
    return status == 200 and verdict is not None and verdict.get("verified") is False


async def _poison(session, url: str, normal: dict) -> dict:
    results = {}
    for name, data in poison_inputs().items():
        try:
            elapsed, status, verdict = await _post(session, url, data)
        except OSError as exc:  # the server may close a 40 MB upload early, after answering 413
            elapsed, status, verdict = float("nan"), 0, {"error": type(exc).__name__}
        reasons = sorted({c.get("reason") for c in (verdict or {}).get("checks", []) if not c.get("ok")})
        results[name] = {"seconds": round(elapsed, 3), "status": status, "refused": _refused(status, verdict),
                         "reasons": reasons or [(verdict or {}).get("type", "").rsplit("/", 1)[-1]]}
    # Two poison requests in flight do not stall a normal verification.
    together = await asyncio.gather(_post(session, url, poison_inputs()["clique-9"]), _post(session, url, poison_inputs()["clique-8"]),
                                    _post(session, url, body(normal)))
    results["normal-while-two-poison"] = {"seconds": round(together[2][0], 3), "status": together[2][1],
                                          "refused": not (together[2][2] or {}).get("verified"), "reasons": []}
    return results


def _baseline(name: str, limit: float) -> float | None:
    """Stock pyld URDNA2015 on the same document, in its own process, stopped at `limit` seconds."""
    code = ("import sys, time, json\n"
            "from pyld import jsonld\n"
            "from benchmarks import _poison as p\n"
            "from node.jsonld.loader import document_loader\n"
            f"doc = {{'clique-8': lambda: p.clique(8), 'clique-9': lambda: p.clique(9), 'nesting-400': lambda: p.deep_nesting(400),"
            f" 'blank-node-array-6MB': lambda: p.blank_node_array(6_000_000)}}[{name!r}]()\n"
            "sys.setrecursionlimit(100000)\n"
            "start = time.perf_counter()\n"
            "try:\n"
            "    jsonld.normalize(doc, {'algorithm': 'URDNA2015', 'format': 'application/n-quads', 'documentLoader': document_loader})\n"
            "except Exception:\n"
            "    pass\n"
            "print(time.perf_counter() - start)\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=limit)
        return round(float(proc.stdout.strip().splitlines()[-1]), 3)
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        return None


async def _run(duration: float) -> dict:
    import aiohttp

    with tempfile.TemporaryDirectory(prefix="puente-bench-verify-") as tmp:
        port = free_port()
        credentials = await _prepare_node(Path(tmp) / "data", port)
        server = PuenteServer(Path(tmp) / "data", port, {"PUENTE_FETCH_ALLOW": "127.0.0.1"})
        try:
            timeout = aiohttp.ClientTimeout(total=120)
            async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=CLIENTS * 2)) as session:
                await server.ready(session)
                url = server.url + "/verify"
                load = {suite: await _load(session, url, credential, duration) for suite, credential in credentials.items()}
                poison = await _poison(session, url, credentials["eddsa-rdfc-2022"])
        finally:
            server.stop()
    return {"load": load, "poison": poison}


def main() -> dict:
    duration = seconds("PUENTE_BENCH_SECONDS", 30)
    baseline_limit = seconds("PUENTE_BENCH_BASELINE_SECONDS", duration)
    results = asyncio.run(_run(duration))
    results["clients"] = CLIENTS
    results["duration_s"] = duration
    for name, entry in results["poison"].items():
        if name in ("clique-8", "clique-9", "nesting-400", "blank-node-array-6MB"):
            took = _baseline(name, baseline_limit)
            entry["baseline_stock_pyld_s"] = took if took is not None else f"> {baseline_limit:g}"
    load, poison = results["load"], results["poison"]
    results["targets"] = {
        **{f"{suite} p95_ms <= {target:g}": load[suite]["p95_ms"] <= target for suite, target in TARGET_P95_MS.items()},
        **{f"{name} refused within {TARGET_REFUSAL_S:g} s": bool(e["refused"]) and e["seconds"] <= TARGET_REFUSAL_S
           for name, e in poison.items() if name != "normal-while-two-poison"},
        "normal verification answers while two poison requests run": not poison["normal-while-two-poison"]["refused"]
        and poison["normal-while-two-poison"]["seconds"] <= TARGET_REFUSAL_S,
    }
    print(f"POST /verify, {CLIENTS} concurrent clients, {duration:g} s per suite")
    print_table(["suite", "requests", "req/s", "p50 ms", "p95 ms", "failed", "target p95 ms"],
                [[suite, e["requests"], e["requests_per_s"], e["p50_ms"], e["p95_ms"], e["failed"], TARGET_P95_MS[suite]]
                 for suite, e in load.items()])
    print("\ntime to refusal")
    print_table(["input", "seconds", "status", "refused", "reasons", "baseline stock pyld s"],
                [[name, e["seconds"], e["status"], e["refused"], ",".join(map(str, e["reasons"])), e.get("baseline_stock_pyld_s", "")]
                 for name, e in poison.items()])
    for target, met in results["targets"].items():
        print(f"  [{'ok' if met else 'MISSED'}] {target}")
    write_results("verify_load", results)
    return results


if __name__ == "__main__":
    main()
