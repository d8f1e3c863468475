"""Bounded work at the HTTP edge (issue 8, item 2), against the real app on SQLite and PostgreSQL.

Poison credentials, deep or oversized bodies, NaN/Infinity, NUL bytes and out-of-range integers are
4xx problems or a failed check `too_complex`, never a 500 and never a stall of other requests.
"""

import asyncio
import json
import logging
import os

import pytest

from benchmarks._poison import blank_node_array, body, clique, deep_json, deep_nesting, with_fake_proof
from node.issuance.service import IssuanceService

PROBLEM = "application/problem+json"
HANG_GUARD = 60  # seconds; only so a regression fails instead of hanging the run
TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos"], "validity": "P5Y",
}
PERSON = {"given_name": "Xiomara", "family_name": "Quispe-Huamán", "identifier": "xiomara@example.org"}


@pytest.fixture
async def issued(services):
    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    await service.create_template(TEMPLATE)
    return (await service.issue_one(TEMPLATE["id"], PERSON)).to_json()


async def post_json(client, path, data: bytes, headers=None):
    return await asyncio.wait_for(
        client.post(path, data=data, headers={"Content-Type": "application/json", **(headers or {})}), HANG_GUARD)


def poison_credential(name):
    builders = {"clique-8": lambda: clique(8), "clique-9": lambda: clique(9), "clique-5": lambda: clique(5)}
    return with_fake_proof(builders[name]())


@pytest.mark.parametrize("name", ["clique-8", "clique-9", "clique-5"])
async def test_poison_credential_is_a_fast_too_complex_verdict(client, name):
    response = await post_json(client, "/verify", body(poison_credential(name)))
    assert response.status == 200
    verdict = await response.json()
    assert verdict["verified"] is False
    assert ("proof.signature", "too_complex") in [(c["check"], c["reason"]) for c in verdict["checks"]]


@pytest.mark.parametrize("data, status, words", [
    (deep_json(1000), 400, "nested"),
    (body(with_fake_proof(deep_nesting(400))), 400, "nested"),
    (body(with_fake_proof(blank_node_array(6_000_000))), 413, "larger than"),
    (b'{"@context": [], "n": NaN}', 400, "NaN"),
    (b'{"@context": [], "n": -Infinity}', 400, "Infinity"),
    (b'{"index": 1e400}', 400, "out of range"),
    (b'{"index": 99999999999999999999}', 400, "out of range"),
    (b'{"name": "a\\u0000b"}', 400, "NUL"),
    (b'[' * 100_000, 400, "nested"),
])
async def test_hostile_bodies_are_problems_not_500s(client, data, status, words):
    response = await post_json(client, "/verify", data)
    assert response.status == status and response.content_type == PROBLEM
    assert words in (await response.json())["detail"]


async def test_a_chunked_body_over_the_cap_is_refused_without_a_content_length(client):
    async def chunks():
        for _ in range(40):
            yield b" " * 64 * 1024  # 2.5 MiB of whitespace, streamed
    response = await asyncio.wait_for(client.post("/verify", data=chunks(), headers={"Content-Type": "application/json"}),
                                      HANG_GUARD)
    assert response.status == 413 and response.content_type == PROBLEM


@pytest.mark.parametrize("path", [
    "/credentials/%00", "/verify/%00", "/status/%00", "/framework/%00", "/readiness/%00",
    "/credentials/abc%00def/credential.pdf", "/framework/gt-mnc/qualifications?sector=%00",
    "/framework/gt-mnc/mappings/eqf/99999999999999999999",
    "/framework/gt-mnc/publications/eqf/99999999999999999999",
])
async def test_nul_bytes_and_huge_integers_in_public_urls_are_4xx(client, path):
    response = await asyncio.wait_for(client.get(path), HANG_GUARD)
    assert 400 <= response.status < 500, (path, response.status)
    assert response.content_type == PROBLEM


@pytest.mark.parametrize("path", [
    "/batches/99999999999999999999", "/batches/%00", "/rpl/cases/%00",
    "/rpl/cases/x/evidence/99999999999999999999", "/rpl/cases?institution=%00",
])
async def test_nul_bytes_and_huge_integers_in_authenticated_urls_are_4xx(client, auth_headers, path):
    headers = await auth_headers("operator")
    response = await asyncio.wait_for(client.get(path, headers=headers), HANG_GUARD)
    assert 400 <= response.status < 500, (path, response.status)
    assert response.content_type == PROBLEM


async def test_refusals_do_not_log_personal_data(client, caplog):
    caplog.set_level(logging.DEBUG)
    data = json.dumps({"given_name": PERSON["given_name"], "family_name": PERSON["family_name"]}).encode()
    for sent in (data[:-1] + b', "n": NaN}', data[:-1] + b', "n": 1e400}', data[:-1] + b', "x": "\\u0000"}'):
        assert (await post_json(client, "/verify", sent)).status == 400
    assert (await client.get("/credentials/" + PERSON["family_name"] + "%00")).status == 400
    # aiohttp's own access log is the test server's; `puente serve` turns it off (access_log=None).
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records if r.name != "aiohttp.access")
    assert "node.http.access" in {r.name for r in caplog.records}
    assert PERSON["given_name"] not in logged and "Quispe" not in logged


async def test_a_normal_verification_answers_while_two_poison_requests_run(client, issued):
    poison = [post_json(client, "/verify", body(poison_credential(name))) for name in ("clique-9", "clique-8")]
    normal = post_json(client, "/verify", body(issued))
    responses = await asyncio.gather(*poison, normal)
    verdicts = [await r.json() for r in responses]
    assert verdicts[2]["verified"] is True, verdicts[2]
    assert all(v["verified"] is False for v in verdicts[:2])


async def test_a_client_that_goes_away_stops_its_worker(aiohttp_client, settings, services, monkeypatch):
    """A handler whose client disconnected is cancelled (`puente serve` runs with handler_cancellation, as
    aiohttp's test server does); the worker pool then kills the process doing that request's work."""
    import re

    from node.app import create_app

    pool = services.signer._executor()

    async def endless_verify(*args, **kwargs):  # stands in for canonicalization that would run for minutes
        await pool.run(re.fullmatch, r"(a*)*b", "a" * 64, timeout=3600)

    monkeypatch.setattr(services.signer, "verify", endless_verify)
    client = await aiohttp_client(create_app(settings, clock=services.clock, services=services))
    request = asyncio.create_task(client.post("/verify", data=body(poison_credential("clique-5")),
                                              headers={"Content-Type": "application/json"}))
    for _ in range(HANG_GUARD * 20):
        if pool._busy:
            break
        await asyncio.sleep(0.05)
    [pid] = [w.process.pid for w in pool._busy]
    request.cancel()  # the client goes away
    with pytest.raises(asyncio.CancelledError):
        await request
    for _ in range(HANG_GUARD * 20):
        if not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(") ")[1][0] == "Z":
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the worker kept running after its client left")


@pytest.mark.parametrize("data, words", [(deep_json(1000), "nested"), (b'{"proof": NaN}', "NaN"), (b'[1e400]', "out of range")])
async def test_a_peer_publication_goes_through_the_same_json_rules(client, auth_headers, data, words):
    headers = {**await auth_headers("ministry"), "Content-Type": "application/json"}
    response = await asyncio.wait_for(client.post("/framework/publications", data=data, headers=headers), HANG_GUARD)
    assert response.status == 400 and response.content_type == PROBLEM
    assert words in (await response.json())["detail"]


async def test_database_errors_never_carry_personal_data(services):
    """A failing statement's message (logged with the traceback of a 500) does not include its parameters."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError) as failed:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table WHERE name = :name"), {"name": PERSON["family_name"]})
    assert PERSON["family_name"] not in str(failed.value)
    assert services.engine.sync_engine.hide_parameters
