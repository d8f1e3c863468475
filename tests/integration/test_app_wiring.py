"""create_app wiring: services opened by the app itself, degraded health, logs without secrets, OpenAPI coverage."""

from __future__ import annotations

import dataclasses
import json
import logging
import re

from node.app import create_app
from node.db.engine import make_engine
from node.http.keys import OPENAPI_DOCUMENT, SERVICES


async def test_app_opens_and_closes_its_own_services(aiohttp_client, settings, services):
    """Without `services=`, the app opens its own services in cleanup_ctx (migrating first)."""
    app = create_app(settings)
    client = await aiohttp_client(app)
    response = await client.get("/health")
    assert response.status == 200
    assert (await response.json())["did"] == services.keystore.node_did
    assert app[SERVICES] is not services


async def test_health_reports_an_unreachable_database(aiohttp_client, settings, services):
    broken = dataclasses.replace(services, engine=make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none"))
    client = await aiohttp_client(create_app(settings, services=broken))
    response = await client.get("/health")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "degraded" and body["database"] == "unreachable"
    await broken.engine.dispose()


async def test_request_log_has_no_secrets(client, caplog):
    caplog.set_level(logging.INFO, logger="node")
    secret = "pnt_super-secret-value"
    await client.get("/health?token=" + secret, headers={"Authorization": f"Bearer {secret}"})
    records = [r for r in caplog.records if r.name == "node.http.access"]
    assert records, "a request line is logged"
    fields = records[-1].fields
    assert fields["method"] == "GET" and fields["path"] == "/health" and fields["status"] == 200
    assert isinstance(fields["duration_ms"], float)
    assert secret not in json.dumps([r.__dict__ for r in caplog.records], default=str)


async def test_unexpected_errors_are_logged_with_the_request_id(aiohttp_client, settings, services, caplog):
    async def boom(request):
        raise ZeroDivisionError("internal detail")

    app = create_app(settings, services=services)
    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    caplog.set_level(logging.INFO, logger="node")
    response = await client.get("/boom")
    assert response.status == 500
    logged = [r for r in caplog.records if r.getMessage() == "unhandled_error"]
    assert logged and logged[0].exc_info[0] is ZeroDivisionError
    assert logged[0].fields["request_id"] == response.headers["X-Request-Id"]
    assert "internal detail" not in await response.text()


async def test_every_core_route_is_in_openapi(settings, services):
    app = create_app(settings, services=services)
    document = app[OPENAPI_DOCUMENT]
    from node.http import core_routes

    for route in app.router.routes():
        if route.method == "HEAD" or route.handler.__module__ != core_routes.__name__:
            continue
        info = route.resource.get_info()
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", info.get("path") or info["formatter"])
        assert route.method.lower() in document["paths"][path], path


def test_the_whole_openapi_document_is_valid_openapi_3_1():
    """Every capability's fragment merged: the document served at /openapi.json validates."""
    from openapi_spec_validator import OpenAPIV31SpecValidator

    from node.settings import Settings

    document = create_app(Settings(base_url="http://127.0.0.1:1", jurisdiction="GT"))[OPENAPI_DOCUMENT]
    errors = [str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []
