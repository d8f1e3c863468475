"""`GET /` answers people with a small page and programs with JSON (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("accept", ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                                    "text/html"])
async def test_a_browser_gets_a_page(client, services, accept):
    response = await client.get("/", headers={"Accept": accept})
    assert response.status == 200 and response.content_type == "text/html"
    page = await response.text()
    assert "Test node (GT)" in page and services.keystore.node_did in page
    for link in ('href="/.well-known/did.json"', 'href="/openapi.json"', "/verify/"):
        assert link in page
    assert response.headers["Vary"] == "Accept"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/json, text/html"])
async def test_a_program_gets_json(client, services, accept):
    response = await client.get("/", headers={"Accept": accept} if accept else {})
    assert response.status == 200 and response.content_type == "application/json"
    body = await response.json()
    assert body["jurisdiction"] == "GT" and body["did"] == services.keystore.node_did
    assert body["links"]["openapi"] == "/openapi.json" and body["links"]["did"] == "/.well-known/did.json"
    for link in ("openapi", "did", "health"):
        assert (await client.get(body["links"][link])).status == 200


async def test_the_page_escapes_the_node_name(aiohttp_client, settings, services):
    import dataclasses

    from node.app import create_app

    hostile = dataclasses.replace(settings, name='<script>alert(1)</script> & "Nodo"')
    app = create_app(hostile, clock=services.clock, services=dataclasses.replace(services, settings=hostile))
    client = await aiohttp_client(app)
    page = await (await client.get("/", headers={"Accept": "text/html"})).text()
    assert "<script>" not in page and "&lt;script&gt;" in page
