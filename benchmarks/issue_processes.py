"""`POST /credentials` on real `puente serve` processes over one PostgreSQL database, one run:

one process, then two processes (one data directory, each process on its own port on 127.0.0.1, as behind
a reverse proxy), 16 requests in flight spread round-robin over the processes, a new person per request,
for PUENTE_BENCH_SECONDS (default 20) per suite. Each process gets cores / processes signing workers (one
process per core) and a pool of one connection per request in flight (docs/operator.md, sizing rule).

Targets (2 cores): one process >= 300 credentials/s (eddsa-jcs-2022) and >= 150/s (eddsa-rdfc-2022); two
processes >= 0.95 x one (nothing serialises issuance across processes).

The database is created on PUENTE_BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test, the
test server) as puente_bench_<random> and dropped after; without PostgreSQL the benchmark says so and skips.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.common import TEMPLATE, PuenteServer, free_port, print_table, seconds, write_results

IN_FLIGHT = 16
SUITES = ("eddsa-jcs-2022", "eddsa-rdfc-2022")
TARGET_ONE = {"eddsa-jcs-2022": 300.0, "eddsa-rdfc-2022": 150.0}
TARGET_TWO_RATIO = 0.95



def _database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _initialise(data_dir: Path, db_url: str, port: int) -> str:
    """A node on `db_url` with institution `bench` and its template; returns the operator token."""
    from node.issuance.service import IssuanceService
    from node.node_setup import initialise
    from node.services import open_services
    from node.settings import load_settings

    settings = load_settings(environ={}, data_dir=data_dir, database_url=db_url, jurisdiction="GT",
                             name="Benchmark node", base_url=f"http://127.0.0.1:{port}", port=port)
    await initialise(settings)
    async with open_services(settings) as services:
        issuance = IssuanceService.from_services(services)
        await issuance.create_institution("bench", "Benchmark institute", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
        await issuance.create_template(TEMPLATE)
    return (data_dir / "secrets" / "operator-token").read_text().strip()


async def _load(session, urls: list[str], token: str, suite: str, duration: float, tag: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    counter = iter(range(10**9))
    issued = failed = 0

    async def post(url: str) -> int:
        n = next(counter)
        body = {"template": TEMPLATE["id"], "given_name": f"Persona{n}", "family_name": tag,
                "identifier": f"{tag}-{suite}-{n}@example.org", "suite": suite}
        async with session.post(url + "/credentials", json=body, headers=headers) as response:
            await response.read()
            return response.status

    for url in urls:  # warm each process (worker pool, caches); not measured
        for _ in range(3):
            assert await post(url) == 201
    stop = time.perf_counter() + duration

    async def client(index: int) -> None:
        nonlocal issued, failed
        turn = index
        while time.perf_counter() < stop:
            status = await post(urls[turn % len(urls)])
            turn += 1
            issued += status == 201
            failed += status != 201

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(IN_FLIGHT)))
    wall = time.perf_counter() - start
    return {"credentials": issued, "failed": failed, "seconds": round(wall, 2), "credentials_per_s": round(issued / wall, 1)}


async def _mode(server_url: str, processes: int, duration: float) -> dict:
    import aiohttp

    name = f"puente_bench_{uuid.uuid4().hex[:10]}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="puente-bench-processes-") as tmp:
            ports = [free_port() for _ in range(processes)]
            token = await _initialise(Path(tmp) / "data", _database(server_url, name), ports[0])
            workers = max(1, (os.cpu_count() or 1) // processes)
            env = {"PUENTE_WORKERS": str(workers), "PUENTE_DB_POOL_SIZE": str(IN_FLIGHT), "PUENTE_DB_MAX_OVERFLOW": "4"}
            servers = [PuenteServer(Path(tmp) / "data", port, env) for port in ports]
            try:
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                                 connector=aiohttp.TCPConnector(limit=IN_FLIGHT * 2)) as session:
                    await asyncio.gather(*(s.ready(session) for s in servers))
                    return {suite: await _load(session, [s.url for s in servers], token, suite, duration, f"p{processes}")
                            for suite in SUITES}
            finally:
                for server in servers:
                    server.stop()
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> dict:
    duration = seconds("PUENTE_BENCH_SECONDS", 20)
    server_url = os.environ.get("PUENTE_BENCH_POSTGRES_URL") or os.environ.get(
        "PUENTE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    try:
        asyncio.run(_admin(server_url, "SELECT 1"))
    except Exception as exc:  # nothing listening, authentication: the benchmark needs PostgreSQL
        print(f"skipped: PostgreSQL unreachable at {server_url} ({type(exc).__name__})")
        return {}
    results: dict = {"in_flight": IN_FLIGHT, "duration_s": duration, "cores": os.cpu_count(),
                     "one": asyncio.run(_mode(server_url, 1, duration)),
                     "two": asyncio.run(_mode(server_url, 2, duration))}
    one, two = results["one"], results["two"]
    results["two_over_one"] = {suite: round(two[suite]["credentials_per_s"] / max(one[suite]["credentials_per_s"], 0.001), 3)
                               for suite in SUITES}
    results["targets"] = {
        **{f"one process {suite} >= {target:g}/s": one[suite]["credentials_per_s"] >= target for suite, target in TARGET_ONE.items()},
        **{f"two processes {suite} >= {TARGET_TWO_RATIO:g} x one": results["two_over_one"][suite] >= TARGET_TWO_RATIO
           for suite in SUITES},
    }
    print(f"POST /credentials, {IN_FLIGHT} in flight, {duration:g} s per suite, one PostgreSQL database, "
          f"{os.cpu_count()} cores")
    print_table(["processes", "suite", "credentials", "seconds", "credentials/s", "failed", "x one"],
                [[count, suite, mode[suite]["credentials"], mode[suite]["seconds"], mode[suite]["credentials_per_s"],
                  mode[suite]["failed"], results["two_over_one"][suite] if count == 2 else 1.0]
                 for count, mode in ((1, one), (2, two)) for suite in SUITES])
    for target, met in results["targets"].items():
        print(f"  [{'ok' if met else 'MISSED'}] {target}")
    write_results("issue_processes", results)
    return results


if __name__ == "__main__":
    main()
