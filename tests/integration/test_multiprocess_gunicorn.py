"""One node under gunicorn with aiohttp's worker (`node.app:gunicorn_app`), two worker processes over one
PostgreSQL database: both workers come up ready, concurrent issues through the one port all succeed with
one credential each, identical pairs give one credential, and stopping gunicorn leaves no process behind.

PostgreSQL only (several processes writing one database); gunicorn is a test extra (pyproject.toml).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = {"id": "intecap-cocina-3", "institution": "intecap", "name": "Cocinero (nivel 3)", "description": "Cocina.",
            "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
            "sector": "hospitality", "isco_code": "5120", "validity": "P5Y"}
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _session_members(session_id: int) -> set[int]:
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.add(int(entry.name))
    return members


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture
def gunicorn_node(request, tmp_path):
    pytest.importorskip("gunicorn", reason="gunicorn is a test extra: pip install -e '.[test]'")
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("several worker processes over one database: PostgreSQL (SQLite is one file with one writer)")
    db_url = asyncio.run(request.getfixturevalue("_postgres_server").acquire(91))
    port = _free_port()
    asyncio.run(_initialise(tmp_path / "data", db_url, port))
    env = {**os.environ, "PUENTE_DATA_DIR": str(tmp_path / "data"), "PUENTE_WORKERS": "1", "PUENTE_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "gunicorn.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "node.app:gunicorn_app", "--worker-class",
                                "aiohttp.GunicornWebWorker", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                                "--graceful-timeout", "10"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        yield process, f"http://127.0.0.1:{port}", tmp_path
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)
        log.close()


async def _initialise(data_dir: Path, db_url: str, port: int) -> None:
    from node.issuance.service import IssuanceService
    from node.node_setup import initialise
    from node.services import open_services
    from node.settings import load_settings

    settings = load_settings(environ={}, data_dir=data_dir, database_url=db_url, jurisdiction="GT", name="Gunicorn node",
                             base_url=f"http://127.0.0.1:{port}", port=port)
    await initialise(settings)
    async with open_services(settings) as services:
        issuance = IssuanceService.from_services(services)
        await issuance.create_institution("intecap", "INTECAP", scope={"sectors": ["hospitality"], "rqf_levels": [3]})
        await issuance.create_template(TEMPLATE)


async def _exercise(url: str, token: str, log: Path) -> list[tuple[int, str | None]]:
    import aiohttp

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        deadline = time.monotonic() + 60
        while True:
            try:
                async with session.get(url + "/readyz") as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.2)
        slots = asyncio.Semaphore(8)

        async def issue(n: int) -> tuple[int, str | None]:
            body = {"template": TEMPLATE["id"], "given_name": f"Persona{n}", "family_name": "Pérez",
                    "identifier": f"persona{n}@example.org", "suite": "eddsa-rdfc-2022" if n % 3 == 0 else "eddsa-jcs-2022"}
            async with slots, session.post(url + "/credentials", json=body,
                                           headers={"Authorization": f"Bearer {token}"}) as response:
                await response.read()
                return response.status, response.headers.get("Location")

        people = list(range(40))
        return await asyncio.gather(*(issue(n) for n in people + people[:10]))  # 10 people posted twice at once


def test_gunicorn_runs_the_node_in_two_workers_over_one_database(gunicorn_node):
    process, url, root = gunicorn_node
    token = (root / "data" / "secrets" / "operator-token").read_text().strip()
    answers = asyncio.run(_exercise(url, token, root / "gunicorn.log"))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 10 + [201] * 40, answers  # each pair: one issued it, the other got the same one
    assert len({location for _, location in answers}) == 40  # one credential per person, pairs included
    workers = _children(process.pid)
    assert len(workers) == WORKERS, (workers, (root / "gunicorn.log").read_text()[-2000:])
    process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _session_members(process.pid):
        time.sleep(0.1)
    assert _session_members(process.pid) == set(), "processes outlived gunicorn"
    assert "Traceback" not in (root / "gunicorn.log").read_text()
