"""Principals, not names (issue 8, item 5; architecture rule 12).

A token belongs to a named person (subject) with a role and a scope. Who authors, approves, assesses,
reviews or revokes comes from the token, never from a body or an import file; a ministry acts only for
its own jurisdiction; the RQF and the checkpoint catalogue are the operator's; batches and RPL cases
are scoped to the token's institution; every write leaves an audit row (who, what, when).
"""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select, text

from node.framework.seed import DATA

PROBLEM = "application/problem+json"
ROW = {"target": "rqf", "from": {"level": "1"}, "to": "1", "relation": "exact", "rationale": "mismos descriptores"}
TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}
USAC_TEMPLATE = {**TEMPLATE, "id": "usac-albanileria-2", "institution": "usac"}
CANDIDATE = {"givenName": "Ana", "familyName": "Pérez", "identifier": "ana.perez@example.org"}


def read(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def frameworks(services):
    """The RQF, Guatemala's and Colombia's frameworks as drafts, and Colombia's ministry hosted here (as on a
    regional demo node): loaded by the node itself, as the seed does."""
    from node.framework.wiring import framework_service
    from node.identities import ensure_ministry

    service = framework_service(services)
    await service.import_text(json.dumps(read("rqf-2026.1-draft.json")), "json")
    for name in ("gt-mnc", "co-mnc"):
        await service.import_text(json.dumps(read(f"seed/{name}.json")), "json")
    await ensure_ministry(services, "CO")
    return service


async def institutions(services):
    from node.issuance.service import IssuanceService

    issuance = IssuanceService.from_services(services)
    for slug, template in (("intecap", TEMPLATE), ("usac", USAC_TEMPLATE)):
        await issuance.create_institution(slug, slug.upper(), scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
        await issuance.create_template(template)
    return issuance


async def audit(client, operator, **query) -> list[dict]:
    response = await client.get("/audit", params=query, headers=operator)
    assert response.status == 200, await response.text()
    return await response.json()


# -- scope: a ministry acts for its own jurisdiction; regional data is the operator's --------------


async def test_a_gt_ministry_token_cannot_write_colombias_framework_or_readiness_or_the_rqf(client, services, auth_headers):
    from node.rpl.catalogue import bundled_catalogue
    from node.rpl.seed import demo_answers
    from node.rpl.wiring import readiness_service

    await frameworks(services)
    await readiness_service(services).load_catalogue(bundled_catalogue())
    gt = await auth_headers("ministry", "Ana López", jurisdiction="GT")
    co = await auth_headers("ministry", "María Gómez", jurisdiction="CO")

    for path in ("/framework/co-mnc/mappings", "/framework/co-mnc/approve", "/framework/co-mnc/publish"):
        refused = await client.post(path, json=ROW if path.endswith("mappings") else {}, headers=gt)
        assert refused.status == 403 and refused.content_type == PROBLEM, path
        assert "not for jurisdiction 'CO'" in (await refused.json())["detail"]
    imported = await client.post("/framework/import", json=read("seed/co-mnc.json"), headers=gt)
    assert imported.status == 403
    for path, body in (("/readiness/CO/assessments", demo_answers("CO")), ("/readiness/CO/publish", None)):
        assert (await client.post(path, json=body, headers=gt)).status == 403, path
    assert (await client.get("/readiness/CO/assessment", headers=gt)).status == 403

    # Regional data: a new RQF version and the checkpoint catalogue are not any ministry's to write.
    rqf = read("rqf-2026.1-draft.json")
    rqf["framework"]["version"] = "2026.2"
    for headers in (gt, co):
        refused = await client.post("/framework/import", json=rqf, headers=headers)
        assert refused.status == 403 and "regional" in (await refused.json())["detail"]
    catalogue = copy.deepcopy(bundled_catalogue().document)
    catalogue["version"] = "2026.2"
    assert (await client.post("/readiness/catalogues", json=catalogue, headers=gt)).status == 403

    # Colombia's own token may; the operator may load regional data.
    mapped = await client.post("/framework/co-mnc/mappings", json=ROW, headers=co)
    assert mapped.status == 201 and (await mapped.json())["row"]["author"] == "María Gómez"
    recorded = await client.post("/readiness/CO/assessments", json=demo_answers("CO"), headers=co)
    assert recorded.status == 201 and (await recorded.json())["recordedBy"] == "María Gómez"
    operator = await auth_headers("operator", "Operadora")
    assert (await client.post("/framework/import", json=rqf, headers=operator)).status == 201
    assert (await client.post("/readiness/catalogues", json=catalogue, headers=operator)).status == 201


# -- authorship and approval from the token ---------------------------------------------------------


async def test_author_and_approver_come_from_the_token_and_two_person_rules_compare_subjects(client, services, auth_headers):
    await frameworks(services)
    ana = await auth_headers("ministry", "Ana López")
    ana_again = await auth_headers("ministry", "Ana López")  # a second token of the same person
    carlos = await auth_headers("ministry", "Carlos Pérez")

    forged = await client.post("/framework/gt-mnc/mappings", json={**ROW, "author": "Someone Else"}, headers=ana)
    assert forged.status == 422 and (await forged.json())["errors"] == [{"path": "author", "error": "must be the token's subject"}]
    mapped = await client.post("/framework/gt-mnc/mappings", json=ROW, headers=ana)
    assert mapped.status == 201 and (await mapped.json())["row"]["author"] == "Ana López"

    own = await client.post("/framework/gt-mnc/approve", json={"level": "1"}, headers=ana_again)
    assert own.status == 409  # another token, the same person
    named = await client.post("/framework/gt-mnc/approve", json={"level": "1", "approver": "Carlos Pérez"}, headers=ana)
    assert named.status == 422  # naming someone else as the approver does not make them approve
    approved = await client.post("/framework/gt-mnc/approve", json={"level": "1"}, headers=carlos)
    assert approved.status == 200 and (await approved.json())["approver"] == "Carlos Pérez"


async def test_an_import_file_can_neither_approve_nor_name_another_author(client, services, auth_headers):
    await frameworks(services)
    ana = await auth_headers("ministry", "Ana López")
    document = read("seed/gt-mnc.json")
    document["framework"]["version"] = "2026.2"
    rows = document["mappings"][0]["rows"]
    assert any(r.get("approvedBy") for r in rows)  # the bundled file approves its rows (demo data, loaded by the node)

    refused = await client.post("/framework/import", json=document, headers=ana)
    assert refused.status == 422 and refused.content_type == PROBLEM
    errors = (await refused.json())["errors"]
    assert {"path": "mappings[0].rows[0].approvedBy", "error": errors[0]["error"]} in errors and "second person" in errors[0]["error"]
    assert any(e["path"] == "mappings[0].rows[0].author" for e in errors)

    for row in rows:
        row.pop("approvedBy", None)
        row["author"] = "Ana López"
    imported = await client.post("/framework/import", json=document, headers=ana)
    assert imported.status == 201, await imported.text()
    mappings = await (await client.get("/framework/gt-mnc/mappings")).json()
    newest = max(mappings, key=lambda m: m["version"])
    assert newest["status"] == "draft" and all("approvedBy" not in r for r in newest["rows"])


# -- RPL: the actor is the token's subject ---------------------------------------------------------


async def test_one_token_cannot_be_both_assessor_and_reviewer(client, services, auth_headers):
    await institutions(services)
    clerk = await auth_headers("issuer", "Ventanilla", institution="intecap")
    marta = await auth_headers("issuer", "Marta Quispe", institution="intecap")
    luis = await auth_headers("issuer", "Luis Rojas", institution="intecap")
    opened = await client.post("/rpl/cases", headers=clerk, json={"institution": "intecap", "template": TEMPLATE["id"], **CANDIDATE})
    case = await opened.json()
    url = f"/rpl/cases/{case['id']}"
    assert case["history"][0]["actor"] == "Ventanilla"
    for state in ("guidance", "eligibility", "identification", "documentation"):
        assert (await client.post(url + "/transitions", headers=clerk, json={"to": state, "reason": "next"})).status == 200
    await client.post(url + "/transitions", headers=clerk, json={"to": "assessment_planned", "assessor": "Marta Quispe",
                                                                 "method": "observation", "reason": "ready"})

    # Before: any actor string in the body made the clerk's token the assessor.
    forged = await client.post(url + "/transitions", headers=clerk, json={"to": "assessed", "actor": "Marta Quispe", "reason": "x"})
    assert forged.status == 422 and (await forged.json())["errors"] == [{"path": "actor", "error": "must be the token's subject"}]
    assert (await client.post(url + "/transitions", headers=clerk, json={"to": "assessed", "reason": "x"})).status == 422
    assert (await client.post(url + "/transitions", headers=marta, json={"to": "assessed", "reason": "observed"})).status == 200
    decided = await client.post(url + "/decision", headers=marta, json={"outcome": "not_yet_competent", "reason": "gaps"})
    assert decided.status == 200

    assert (await client.post(url + "/appeal", headers=clerk, json={"reviewer": "marta quispe", "reason": "unfair"})).status == 422
    assert (await client.post(url + "/appeal", headers=clerk, json={"reviewer": "Luis Rojas", "reason": "unfair"})).status == 200
    # The assessor's token cannot resolve the appeal, whatever the body says.
    for body in ({"outcome": "overturned", "reason": "x"}, {"outcome": "overturned", "actor": "Luis Rojas", "reason": "x"}):
        assert (await client.post(url + "/appeal/resolution", headers=marta, json=body)).status == 422
    resolved = await client.post(url + "/appeal/resolution", headers=luis, json={"outcome": "upheld", "reason": "fair"})
    assert resolved.status == 200
    history = (await resolved.json())["history"]
    assert [(h["to"], h["actor"]) for h in history][-4:] == [("assessed", "Marta Quispe"), ("decision", "Marta Quispe"),
                                                              ("appeal", "Ventanilla"), ("closed", "Luis Rojas")]


async def test_rpl_cases_and_follow_ups_are_scoped_to_the_tokens_institution(client, services, auth_headers):
    await institutions(services)
    intecap = await auth_headers("issuer", "Ventanilla", institution="intecap")
    usac = await auth_headers("issuer", "Recepción", institution="usac")
    opened = await (await client.post("/rpl/cases", headers=intecap,
                                      json={"institution": "intecap", "template": TEMPLATE["id"], **CANDIDATE})).json()
    assert await (await client.get("/rpl/cases", headers=usac)).json() == []
    assert (await client.get(f"/rpl/cases/{opened['id']}", headers=usac)).status == 403
    # A follow-up (reassessment) of another institution's case: not found, so not even its existence leaks.
    follow = await client.post("/rpl/cases", headers=usac, json={"institution": "usac", "template": USAC_TEMPLATE["id"],
                                                                 **CANDIDATE, "follows": opened["id"]})
    assert follow.status == 404 and opened["id"] in (await follow.json())["detail"]


# -- batches ---------------------------------------------------------------------------------------


async def test_batch_progress_is_scoped_to_the_tokens_institution(client, services, auth_headers):
    from node.issuance.orm import BatchRow

    await institutions(services)
    intecap = await auth_headers("issuer", "Ventanilla", institution="intecap")
    usac = await auth_headers("issuer", "Recepción", institution="usac")
    rows = [{"given_name": "Ana", "family_name": "Pérez", "identifier": "ana.perez@example.org"}]
    posted = await client.post("/batches", json={"template": TEMPLATE["id"], "rows": rows, "suite": "eddsa-jcs-2022"}, headers=intecap)
    assert posted.status == 200, await posted.text()
    async with services.uow() as uow:
        batch_id = (await uow.session.scalars(select(BatchRow.id))).one()

    other = await client.get(f"/batches/{batch_id}", headers=usac)
    assert other.status == 404 and "ana.perez" not in await other.text()
    assert (await client.get(f"/batches/{batch_id}", headers=intecap)).status == 200
    assert (await client.get(f"/batches/{batch_id}", headers=await auth_headers("operator"))).status == 200


# -- tokens ----------------------------------------------------------------------------------------


async def test_no_token_for_an_institution_or_jurisdiction_that_is_not_here(services):
    from node.errors import InvalidInput, NotFound
    from node.tokens import authenticate, create_token

    async with services.uow() as uow:
        with pytest.raises(NotFound, match="no institution 'intecap'"):
            await create_token(uow, services.clock, role="issuer", subject="Eva", institution="intecap")
        with pytest.raises(InvalidInput, match="hosts no ministry of CO"):
            await create_token(uow, services.clock, role="ministry", subject="Eva", jurisdiction="CO")
        for kwargs in ({"role": "ministry", "subject": "Eva", "jurisdiction": "Guatemala"},
                       {"role": "ministry", "subject": "Eva"},
                       {"role": "issuer", "subject": "Eva"},
                       {"role": "operator", "subject": "Eva", "institution": "intecap"},
                       {"role": "ministry", "subject": "Eva", "jurisdiction": "GT", "institution": "intecap"},
                       {"role": "operator", "subject": " "}):
            with pytest.raises(InvalidInput):
                await create_token(uow, services.clock, **kwargs)
        token = await create_token(uow, services.clock, role="ministry", subject=" Ana   López ", jurisdiction="gt")
        principal = await authenticate(uow, token)
    assert (principal.subject, principal.role, principal.scope) == ("Ana López", "ministry", "jurisdiction:GT")


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_upgrading_to_0006_maps_old_tokens_to_principals(tmp_path, db_backend):
    from node.db.engine import make_engine
    from node.db.migrate import database_url, upgrade

    path = tmp_path / "old.sqlite3"
    await upgrade(path, "0005_status_message")
    engine = make_engine(database_url(path))
    now = "2026-01-01 00:00:00.000000"
    try:
        async with engine.begin() as conn:
            for did, kind, path_, jurisdiction in (("did:web:n:ministry", "ministry", "ministry", "GT"),
                                                    ("did:web:n:ministries:co", "ministry", "ministries/co", "CO"),
                                                    ("did:web:n:institutions:intecap", "institution", "institutions/intecap", "GT")):
                await conn.execute(text("INSERT INTO identities (did, kind, name, jurisdiction, path, created_at) "
                                        "VALUES (:did, :kind, 'x', :j, :p, :now)"),
                                   {"did": did, "kind": kind, "j": jurisdiction, "p": path_, "now": now})
            for digest, role, actor in (("a" * 64, "issuer", "intecap"), ("b" * 64, "issuer", "Juan"),
                                        ("c" * 64, "ministry", "MINTRAB GT"), ("d" * 64, "operator", "operator")):
                await conn.execute(text("INSERT INTO api_tokens (digest, role, actor, created_at) VALUES (:d, :r, :a, :now)"),
                                   {"d": digest, "r": role, "a": actor, "now": now})
        await upgrade(path)
        async with engine.begin() as conn:
            rows = (await conn.execute(text("SELECT role, subject, jurisdiction, institution FROM api_tokens ORDER BY digest"))).all()
        assert [tuple(r) for r in rows] == [("issuer", "intecap", None, "intecap"),
                                            ("issuer", "Juan", None, None),  # named no institution: acts for none
                                            ("ministry", "MINTRAB GT", "GT", None),  # the node's own ministry
                                            ("operator", "operator", None, None)]
    finally:
        await engine.dispose()


# -- the audit trail -------------------------------------------------------------------------------


async def test_every_write_kind_leaves_an_audit_row_that_operators_can_query(client, services, auth_headers):
    await frameworks(services)
    await institutions(services)
    operator = await auth_headers("operator", "Operadora")
    ana = await auth_headers("ministry", "Ana López")
    carlos = await auth_headers("ministry", "Carlos Pérez")
    clerk = await auth_headers("issuer", "Ventanilla", institution="intecap")
    mark = len(await audit(client, operator, limit=1000))

    await client.post("/framework/gt-mnc/mappings", json=ROW, headers=ana)
    assert (await client.post("/framework/gt-mnc/approve", json={}, headers=ana)).status == 409  # fails: no audit row
    await client.post("/framework/gt-mnc/approve", json={"level": "1"}, headers=carlos)
    issued = await client.post("/credentials", headers=clerk, json={"template": TEMPLATE["id"], "given_name": "Ana",
                                                                    "family_name": "Pérez", "identifier": "ana.perez@example.org"})
    credential = json.loads(await issued.text())
    suffix = credential["id"].rsplit("/", 1)[-1]
    assert (await client.post(f"/credentials/{suffix}/revoke", json={"reason": "annulled"}, headers=clerk)).status == 200
    await client.post("/batches", headers=clerk, json={"template": TEMPLATE["id"], "suite": "eddsa-jcs-2022",
                                                       "rows": [{"given_name": "Eva", "family_name": "Q", "identifier": "eva@example.org"}]})
    case = await (await client.post("/rpl/cases", headers=clerk,
                                    json={"institution": "intecap", "template": TEMPLATE["id"], **CANDIDATE})).json()
    await client.post(f"/rpl/cases/{case['id']}/transitions", headers=clerk, json={"to": "guidance", "reason": "next"})
    evidence = await client.post(f"/rpl/cases/{case['id']}/evidence", headers=clerk,
                                 json={"name": "muro.png", "mediaType": "image/png", "contentBase64": "iVBORw0KGgo="})
    assert evidence.status == 201
    # the operator's writes: regional data, institutions; a ministry's readiness answers; an issuer's template
    rqf = read("rqf-2026.1-draft.json")
    rqf["framework"]["version"] = "2026.2"
    assert (await client.post("/framework/import", json=rqf, headers=operator)).status == 201
    from node.rpl.catalogue import bundled_catalogue
    from node.rpl.seed import demo_answers

    assert (await client.post("/readiness/catalogues", json=dict(bundled_catalogue().document), headers=operator)).status == 201
    assert (await client.post("/readiness/GT/assessments", json=demo_answers("GT"), headers=ana)).status == 201
    assert (await client.post("/institutions", headers=operator, json={
        "slug": "inti", "name": "INTI", "scope": {"sectors": ["construction"], "rqf_levels": [1, 2]}})).status == 201
    template = {**TEMPLATE, "id": "intecap-albanileria-2b"}
    assert (await client.post("/templates", json=template, headers=clerk)).status == 201

    events = await audit(client, operator, limit=1000)
    new = events[: len(events) - mark]
    by_action = {e["action"]: e for e in new}
    assert by_action["framework.map"]["subject"] == "Ana López" and by_action["framework.map"]["scope"] == "jurisdiction:GT"
    assert by_action["framework.approve"]["subject"] == "Carlos Pérez"
    assert [e["subject"] for e in new if e["action"] == "framework.approve"] == ["Carlos Pérez"]  # Ana's refusal wrote nothing
    assert by_action["credential.issue"]["object"] == credential["id"]
    revoke = by_action["credential.revoke"]
    assert (revoke["subject"], revoke["role"], revoke["scope"], revoke["object"]) == (
        "Ventanilla", "issuer", "institution:intecap", credential["id"])
    assert {"batch.start", "batch.issue", "rpl.case.open", "rpl.case.guidance"} <= set(by_action)
    assert by_action["batch.start"]["object"] == by_action["batch.issue"]["object"]
    assert by_action["rpl.case.open"]["object"] == case["id"]
    assert by_action["rpl.evidence.attach"]["object"] == f"{case['id']}/evidence/{(await evidence.json())['id']}"
    assert (by_action["framework.import"]["object"], by_action["framework.import"]["role"]) == ("rqf@2026.2", "operator")
    assert by_action["readiness.catalogue.load"]["subject"] == "Operadora"
    assert by_action["readiness.record"]["subject"] == "Ana López" and by_action["readiness.record"]["object"].startswith("GT#")
    assert by_action["institution.create"]["object"] == "inti"
    assert (by_action["template.create"]["object"], by_action["template.create"]["scope"]) == ("intecap-albanileria-2b", "institution:intecap")
    assert all(e["at"].endswith("Z") for e in new)
    # who, what, when: never a worker's name or identifier, never a token
    dumped = json.dumps(events)
    assert "ana.perez@example.org" not in dumped and "Pérez" not in dumped.replace("Carlos Pérez", "") and "pnt_" not in dumped
    # setting up the node and the demo data: the system
    assert {e["role"] for e in events[len(events) - mark:]} >= {"system"}

    # newest first, filters, limits; operators only
    only_ana = await audit(client, operator, subject="Ana López")
    assert {e["subject"] for e in only_ana} == {"Ana López"}
    assert [e["action"] for e in only_ana][:2] == ["readiness.record", "framework.map"]  # newest first
    assert len(await audit(client, operator, limit=2)) == 2
    assert await audit(client, operator, since="2030-01-01") == []
    assert len(await audit(client, operator, since="2026-06-01T00:00:00Z", limit=1000)) == len(events)
    for bad in ({"since": "2026-06-01T00:00:00"}, {"since": "yesterday"}, {"limit": "0"}, {"limit": "x"}):
        assert (await client.get("/audit", params=bad, headers=operator)).status == 400, bad
    assert (await client.get("/audit")).status == 401
    assert (await client.get("/audit", headers=ana)).status == 403
    assert (await client.get("/audit", headers=clerk)).status == 403


async def test_the_audit_trail_is_append_only_in_the_database(services):
    from node.db.orm import AuditEvent
    from node.tokens import create_token

    async with services.uow() as uow:
        await create_token(uow, services.clock, role="operator", subject="Rosa")
    async with services.uow() as uow:
        before = (await uow.session.execute(select(AuditEvent.id, AuditEvent.subject, AuditEvent.action))).all()
    assert ("puente", "token.create") in [(subject, action) for _, subject, action in before]  # no principal: the system
    for statement in (text("UPDATE audit_events SET subject = 'someone else'"), text("DELETE FROM audit_events")):
        async with services.uow() as uow:
            with pytest.raises(Exception, match="append-only"):
                await uow.session.execute(statement)
                await uow.commit()
    async with services.uow() as uow:
        assert (await uow.session.execute(select(AuditEvent.id, AuditEvent.subject, AuditEvent.action))).all() == before


def test_cli_writes_are_audited_under_the_name_given_with_as(node, capsys):
    from node.cli import main

    def run(*args):
        code = main(["--data-dir", str(node.data_dir), *args])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out.strip() else None), err

    code, created, _ = run("--as", "Rosa Operadora", "token", "create", "--role", "ministry", "--subject", "Ana López",
                           "--jurisdiction", "GT")
    assert code == 0 and created["scope"] == "jurisdiction:GT"
    code, revoked, _ = run("--as", "Rosa Operadora", "token", "revoke", created["id"])
    assert code == 0 and revoked["subject"] == "Ana López" and "token" not in revoked
    code, events, _ = run("audit", "list", "--subject", "Rosa Operadora")
    assert code == 0 and [(e["action"], e["object"], e["role"]) for e in events] == [
        ("token.revoke", created["id"], "operator"), ("token.create", created["id"], "operator")]
    code, events, _ = run("audit", "list", "--limit", "1")
    assert code == 0 and len(events) == 1
    code, out, err = run("audit", "list", "--since", "not a date")
    assert code == 1 and out is None and err.startswith("puente: since is") and err.count("\n") == 1
    code, out, err = run("--as", "  ", "token", "list")
    assert code == 1 and err.startswith("puente: --as needs a name")
    # without --as: the operating-system user
    import os
    import pwd

    run("token", "create", "--role", "operator", "--subject", "Otra")
    code, events, _ = run("audit", "list", "--limit", "1")
    assert events[0]["subject"] == pwd.getpwuid(os.getuid()).pw_name and events[0]["action"] == "token.create"


async def test_openapi_documents_the_audit_endpoint(client):
    spec = await (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/audit"]["get"]
    assert operation["security"] == [{"bearerAuth": []}] and {p["name"] for p in operation["parameters"]} == {"since", "subject", "limit"}
    assert "bearerAuth" in spec["components"]["securitySchemes"]
