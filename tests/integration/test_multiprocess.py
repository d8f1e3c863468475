"""One node as two `puente serve` processes over one PostgreSQL database (issue 10, items 4 and 5).

Two real server processes on 127.0.0.1 share one database and one public URL (as behind a reverse proxy);
process B runs from a copy of A's data directory taken at start, as a second host would. A module-scoped
cluster runs the load once (under a minute) and the tests below each judge one property of what happened:

- 200 concurrent issues, 16 in flight, alternating between the processes, with 40 identical idempotent pairs
  (the same person sent to A and to B at the same time), rdfc and jcs mixed, revocations through both
  processes while issuing, and a 50-row batch through A while the singles run;
- no 5xx, one credential per person, no status index used twice, every revoked credential reads revoked;
- lists used = ceil(credentials / list size) per institution (herd privacy: one open list, chosen stably);
- both processes serve identical status-list bytes and ETags;
- a key rotated through one process signs in the other on its next request (K2's key custody).

PostgreSQL only: SQLite is one file on one host with one writer; a node scales out on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTITUTIONS = ("intecap", "infop")
TEMPLATES = {
    slug: {"id": f"{slug}-cocina-3", "institution": slug, "name": "Cocinero (nivel 3)", "description": "Cocina profesional.",
           "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
           "sector": "hospitality", "isco_code": "5120", "validity": "P5Y"}
    for slug in INSTITUTIONS
}
PEOPLE = 160  # distinct recipients of single issues
PAIRS = 40  # of them sent twice, once to each process at the same time: 200 requests
IN_FLIGHT = 16
BATCH_ROWS = 50
REVOKE_EVERY = 8  # every 8th issued credential is revoked, through the other process than issued it


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    """`puente serve` in its own session; stop() kills the session (workers and forkserver included)."""

    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        # Pool: one connection per request in flight plus a few (the batch, probes), as the sizing rule in
        # docs/operator.md says; a smaller pool makes requests wait PUENTE_DB_POOL_TIMEOUT and answer 503.
        env = {**os.environ, "PUENTE_DATA_DIR": str(data_dir), "PUENTE_WORKERS": "1", "PUENTE_LOG_LEVEL": "WARNING",
               "PUENTE_FETCH_ALLOW": "127.0.0.1", "PUENTE_DB_POOL_SIZE": str(IN_FLIGHT), "PUENTE_DB_MAX_OVERFLOW": "4"}
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "node", "serve", "--port", str(port)], cwd=REPO, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    async def ready(self, session, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"puente serve exited: {Path(self._log.name).read_text()[-2000:]}"
            try:
                async with session.get(self.url + "/readyz") as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"puente serve at {self.url} not ready: {Path(self._log.name).read_text()[-2000:]}")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("two serve processes over one database need PostgreSQL: SQLite is one file with one writer, "
                    "and a node scales out only on PostgreSQL")
    server = request.getfixturevalue("_postgres_server")
    db_url = asyncio.run(server.acquire(90))  # a database of its own, beside the per-test ones
    root = tmp_path_factory.mktemp("multiprocess")
    port_a, port_b = _free_port(), _free_port()
    asyncio.run(_initialise(root / "a", db_url, port_a))
    shutil.copytree(root / "a", root / "b")  # the second host: a copy of the data directory, taken now
    servers = [Serve(root / "a", port_a, root / "a.log"), Serve(root / "b", port_b, root / "b.log")]
    try:
        state = asyncio.run(_run(servers, root))
        yield {**state, "servers": servers, "root": root, "db_url": db_url}
    finally:
        for serve in servers:
            serve.stop()


async def _initialise(data_dir: Path, db_url: str, port: int) -> None:
    from node.node_setup import initialise
    from node.settings import load_settings

    settings = load_settings(environ={}, data_dir=data_dir, database_url=db_url, jurisdiction="GT",
                             name="Two-process node (GT)", base_url=f"http://127.0.0.1:{port}", port=port)
    await initialise(settings)


async def _run(servers: list[Serve], root: Path) -> dict:
    import aiohttp

    token = (root / "a" / "secrets" / "operator-token").read_text().strip()
    auth = {"Authorization": f"Bearer {token}"}
    a, b = servers
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                     connector=aiohttp.TCPConnector(limit=64)) as session:
        await asyncio.gather(a.ready(session), b.ready(session))
        for slug in INSTITUTIONS:
            async with session.post(a.url + "/institutions", json={"slug": slug, "name": slug.upper(), "scope": {
                    "sectors": ["hospitality"], "rqf_levels": [3]}}, headers=auth) as response:
                assert response.status == 201, await response.text()
            async with session.post(b.url + "/templates", json=TEMPLATES[slug], headers=auth) as response:
                assert response.status == 201, await response.text()

        answers: list[dict] = []  # every single issue: person, process, status, credential URL
        revoked: list[dict] = []
        slots = asyncio.Semaphore(IN_FLIGHT)

        def person(n: int) -> dict:
            return {"template": TEMPLATES[INSTITUTIONS[n % 2]]["id"], "given_name": f"Persona{n}", "family_name": "Pérez",
                    "identifier": f"persona{n}@example.org", "suite": "eddsa-rdfc-2022" if n % 5 == 0 else "eddsa-jcs-2022"}

        async def revoke(url: str, via: Serve) -> None:
            credential_id = url.rsplit("/", 1)[1]
            async with slots, session.post(f"{via.url}/credentials/{credential_id}/revoke",
                                           json={"reason": "test"}, headers=auth) as response:
                revoked.append({"url": url, "status": response.status, "body": await response.text()})

        async def issue(n: int, via: Serve) -> None:
            async with slots:
                async with session.post(via.url + "/credentials", json=person(n), headers=auth) as response:
                    body = await response.text()
                    answers.append({"n": n, "via": via.url, "status": response.status, "body": body,
                                    "location": response.headers.get("Location")})
            if response.status == 201 and n % REVOKE_EVERY == 0:
                await revoke(response.headers["Location"], b if via is a else a)

        async def batch() -> dict:
            rows = [{"given_name": f"Lote{i}", "family_name": "Gómez", "identifier": f"lote{i}@example.org"}
                    for i in range(BATCH_ROWS)]
            async with session.post(a.url + "/batches", json={"template": TEMPLATES["intecap"]["id"], "rows": rows,
                                                              "suite": "eddsa-jcs-2022"}, headers=auth) as response:
                return {"status": response.status, "body": await response.json()}

        singles = [issue(n, a if n % 2 else b) for n in range(PEOPLE)]
        singles += [issue(n, b if n % 2 else a) for n in range(0, PEOPLE, PEOPLE // PAIRS)]  # the same person, other process
        started = time.monotonic()
        batch_answer, *_ = await asyncio.gather(batch(), *singles)
        elapsed = time.monotonic() - started
    return {"answers": answers, "revoked": revoked, "batch": batch_answer, "auth": auth, "seconds": elapsed}


async def _rows(db_url: str, query: str) -> list:
    import asyncpg

    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    import urllib.request

    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _post(url: str, body: dict, headers: dict) -> tuple[int, bytes, dict]:
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def _revocation_entry(document: dict) -> dict:
    entries = document["credentialStatus"]
    entries = entries if isinstance(entries, list) else [entries]
    return next(e for e in entries if e.get("statusPurpose") == "revocation")


def test_every_request_answered_and_idempotent_pairs_gave_one_credential(cluster):
    answers = cluster["answers"]
    assert len(answers) == PEOPLE + PAIRS
    failed = [(a["status"], a["body"][:300]) for a in answers if a["status"] not in (200, 201)]
    assert failed == []
    by_person: dict[int, set[str]] = {}
    for answer in answers:
        by_person.setdefault(answer["n"], set()).add(answer["location"])
    assert all(len(urls) == 1 for urls in by_person.values()), "an idempotent pair gave two credentials"
    pairs = [n for n, count in Counter(a["n"] for a in answers).items() if count == 2]
    assert len(pairs) == PAIRS
    for n in pairs:  # exactly one of the two issued it; the other answered the same credential
        assert sorted(a["status"] for a in answers if a["n"] == n) == [200, 201]
    assert cluster["batch"]["status"] == 200 and cluster["batch"]["body"]["issued"] == BATCH_ROWS, cluster["batch"]
    assert [r for r in cluster["revoked"] if r["status"] != 200] == []
    assert len(cluster["revoked"]) == len(range(0, PEOPLE, REVOKE_EVERY))


def test_no_duplicate_credentials_and_no_status_index_used_twice(cluster):
    rows = asyncio.run(_rows(cluster["db_url"], "SELECT id, idempotency_key, institution, document, state, "
                                                "revocation_list, revocation_index FROM issuance_credentials"))
    assert len(rows) == PEOPLE + BATCH_ROWS
    assert len({r["idempotency_key"] for r in rows}) == len(rows)
    slots = Counter((r["revocation_list"], r["revocation_index"]) for r in rows)
    assert [slot for slot, used in slots.items() if used > 1] == []
    entries = Counter((e["statusListCredential"], int(e["statusListIndex"]))
                      for e in (_revocation_entry(json.loads(r["document"])) for r in rows))
    assert len(entries) == len(rows)  # what the signed credentials say, too
    assert sum(r["state"] == "revoked" for r in rows) == len(cluster["revoked"])


def test_lists_used_are_as_few_as_the_credentials_need_per_institution(cluster):
    credentials = asyncio.run(_rows(cluster["db_url"], "SELECT institution, count(*) AS n, count(DISTINCT revocation_list) "
                                                       "AS used FROM issuance_credentials GROUP BY institution"))
    lists = {(r["institution"], r["purpose"]): (r["n"], r["size"]) for r in asyncio.run(_rows(
        cluster["db_url"], "SELECT institution, purpose, count(*) AS n, max(size) AS size FROM issuance_status_lists "
                           "GROUP BY institution, purpose"))}
    assert {r["institution"] for r in credentials} == set(INSTITUTIONS)
    for row in credentials:
        made, size = lists[(row["institution"], "revocation")]
        expected = math.ceil(row["n"] / size)
        assert (row["used"], made) == (expected, expected), (row["institution"], row["n"], row["used"], made)


def test_both_processes_serve_identical_status_lists_and_revocations_read_revoked(cluster):
    from node.issuance.status_list import read_status

    a, b = cluster["servers"]
    rows = asyncio.run(_rows(cluster["db_url"], "SELECT document, state FROM issuance_credentials"))
    by_list: dict[str, list] = {}
    for row in rows:
        entry = _revocation_entry(json.loads(row["document"]))
        by_list.setdefault(entry["statusListCredential"], []).append((entry, row["state"]))
    for url, members in by_list.items():
        path = url.split("/status/", 1)[1]
        status_a, body_a, headers_a = _get(f"{a.url}/status/{path}")
        status_b, body_b, headers_b = _get(f"{b.url}/status/{path}")
        assert status_a == status_b == 200
        assert body_a == body_b and headers_a["ETag"] == headers_b["ETag"]
        assert _get(f"{b.url}/status/{path}", {"If-None-Match": headers_a["ETag"]})[0] == 304
        document = json.loads(body_a)
        lost = [entry["statusListIndex"] for entry, state in members if read_status(document, entry) != (state == "revoked")]
        assert lost == [], "a revocation was lost (or a credential reads revoked that was not)"


def test_a_key_rotated_through_one_process_signs_in_the_other_on_its_next_request(cluster):
    a, b = cluster["servers"]
    env = {**os.environ, "PUENTE_DATA_DIR": str(cluster["root"] / "a"), "PUENTE_LOG_LEVEL": "WARNING"}
    rotated = subprocess.run([sys.executable, "-m", "node", "institution", "rotate-key", "intecap"], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert rotated.returncode == 0, rotated.stderr
    new_key = json.loads(rotated.stdout)["key"]
    status, body, _ = _post(b.url + "/credentials", {"template": TEMPLATES["intecap"]["id"], "given_name": "Rita",
                                                    "family_name": "Rotada", "identifier": "rita@example.org",
                                                    "suite": "eddsa-jcs-2022"}, cluster["auth"])
    assert status == 201, body[:500]
    credential = json.loads(body)
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    assert [p["verificationMethod"] for p in proofs] == [new_key]
    status, verdict, _ = _post(a.url + "/verify", credential, {})
    assert status == 200 and json.loads(verdict)["verified"] is True, verdict[:800]
