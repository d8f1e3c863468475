"""The W3C CCG VC API (VCALM), driven as an external conformance harness drives it: real HTTP, JSON bodies,
the status codes of the VCALM OpenAPI (201 issue, 200 verify and status, 400 malformed or unknown options,
401/403/404 principals, 501 presentations), on SQLite and PostgreSQL.

The harness writes its own unsecured credential (an OB 3.0 credential for one of the institution's
achievements, read from GET /achievements/{id}), issues it, verifies it, tampers with it and revokes it.
"""

from __future__ import annotations

import copy
import uuid

import pytest

from node.issuance.service import IssuanceService

TEMPLATE = {"id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
            "description": "Construye muros de mampostería según planos.", "rqf_level": 2, "sector": "construction",
            "isco_code": "7112", "learning_outcomes": ["Levanta muros de block"], "validity": "P5Y"}
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
PROBLEM = "application/problem+json"


@pytest.fixture
async def node(services):
    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    await service.create_template(TEMPLATE)
    await service.create_institution("infotep", "INFOTEP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3]})
    return service


async def unsecured(client) -> dict:
    """What a harness sends: its own credential, with a fresh urn:uuid id, for the institution's achievement."""
    achievement = await (await client.get(f"/achievements/{TEMPLATE['id']}")).json()
    return {"@context": [VC_V2, OB], "id": f"urn:uuid:{uuid.uuid4()}", "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": achievement["name"],
            "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:learner-7", "achievement": achievement}}


async def issue(client, headers, credential, **options) -> dict:
    response = await client.post("/credentials/issue", json={"credential": credential, "options": options}, headers=headers)
    assert response.status == 201, await response.text()
    return (await response.json())["verifiableCredential"]


async def verify(client, credential, **options) -> dict:
    response = await client.post("/credentials/verify", json={"verifiableCredential": credential, "options": options})
    assert response.status == 200, await response.text()
    return await response.json()


async def problem(response, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith(PROBLEM)
    return await response.json()


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_issue_verify_tamper_revoke(client, node, auth_headers, suite):
    issuer = await auth_headers("issuer", institution="intecap")
    credential = await unsecured(client)
    signed = await issue(client, issuer, credential, cryptosuite=suite)
    institution = await node.institution("intecap")
    assert signed["id"] == credential["id"] and signed["issuer"]["id"] == institution.did  # issuer set: it was absent
    assert signed["proof"][0]["cryptosuite"] == suite and signed["credentialStatus"]["statusPurpose"] == "revocation"

    verdict = await verify(client, signed)
    assert verdict["verified"] is True and verdict["errors"] == [] and verdict["problemDetails"] == [], verdict
    assert {"issuer", "status", "accreditation", "schema"} <= set(verdict["checks"])

    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["id"] = "did:example:someone-else"
    verdict = await verify(client, tampered)  # a failed verification is 200 with verified false (VCALM)
    assert verdict["verified"] is False and verdict["errors"], verdict
    assert verdict["errors"][0]["type"].endswith("#CRYPTOGRAPHIC_SECURITY_ERROR")

    # the VC API names the credential by its own id (here a urn:uuid), not by Puente's URL
    body = {"credentialId": signed["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True}
    changed = await client.post("/credentials/status", json=body, headers=issuer)
    assert changed.status == 200, await changed.text()
    assert (await changed.json())["state"] == "revoked"
    verdict = await verify(client, signed)
    assert verdict["verified"] is False and [e["detail"].split(":")[0] for e in verdict["errors"]] == ["status"], verdict
    # a revocation cannot be undone
    await problem(await client.post("/credentials/status", json={**body, "status": False}, headers=issuer), 400)


async def test_checks_option_counts_only_the_named_optional_groups(client, node, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    signed = await issue(client, issuer, await unsecured(client))
    body = {"credentialId": signed["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True}
    assert (await client.post("/credentials/status", json=body, headers=issuer)).status == 200
    # a harness that asks only for the proof gets the proof's verdict; the revocation is a warning
    only_proof = await verify(client, signed, checks=["proof"])
    assert only_proof["verified"] is True and only_proof["errors"] == []
    assert [w["detail"].split(":")[0] for w in only_proof["warnings"]] == ["status"]
    assert (await verify(client, signed, checks=["proof", "status"]))["verified"] is False
    # the proof always counts, whatever the caller names
    tampered = copy.deepcopy(signed)
    tampered["name"] = "Ingeniero"
    assert (await verify(client, tampered, checks=["status"]))["verified"] is False


async def test_issuer_principals_and_refusals(client, node, auth_headers):
    credential = await unsecured(client)
    assert (await client.post("/credentials/issue", json={"credential": credential})).status == 401
    other = await auth_headers("issuer", institution="infotep")
    await problem(await client.post("/credentials/issue", json={"credential": credential}, headers=other), 403)
    ministry = await auth_headers("ministry", jurisdiction="GT")
    await problem(await client.post("/credentials/issue", json={"credential": credential}, headers=ministry), 403)

    issuer = await auth_headers("issuer", institution="intecap")
    institution = await node.institution("infotep")
    foreign = {**credential, "issuer": institution.did}  # another institution's DID as issuer
    found = await problem(await client.post("/credentials/issue", json={"credential": foreign}, headers=issuer), 400)
    assert found["errors"][0]["path"] == "$.issuer"
    not_ours = copy.deepcopy(credential)
    not_ours["credentialSubject"]["achievement"]["id"] = "https://elsewhere.example/achievements/x"
    await problem(await client.post("/credentials/issue", json={"credential": not_ours}, headers=issuer), 400)

    signed = await issue(client, issuer, credential)
    again = await client.post("/credentials/issue", json={"credential": credential}, headers=issuer)
    await problem(again, 409)  # the same id twice is refused, never a second credential
    assert signed["id"] == credential["id"]


async def test_non_conforming_credential_is_400_with_every_violation(client, node, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    credential = await unsecured(client)
    credential["validFrom"] = "Sat 25 Feb 2023 07:16:31 PM CST"
    credential["termsOfUse"] = {"id": "https://example.org/terms"}  # VC 2.0 §5.x: termsOfUse needs a type
    found = await problem(await client.post("/credentials/issue", json={"credential": credential}, headers=issuer), 400)
    paths = {e["path"] for e in found["errors"]}
    assert {"$.termsOfUse.type", "$.validFrom"} <= paths, found


@pytest.mark.parametrize("body, field", [
    ({"credential": "CREDENTIAL", "options": {"frobnicate": True}}, "frobnicate"),
    ({"credential": "CREDENTIAL", "options": {"challenge": "abc"}}, "challenge"),
    ({"credential": "CREDENTIAL", "options": {"mandatoryPointers": ["/issuer"]}}, "mandatoryPointers"),
])
async def test_issue_refuses_unknown_options(client, node, auth_headers, body, field):
    issuer = await auth_headers("issuer", institution="intecap")
    body = {**body, "credential": await unsecured(client)}
    found = await problem(await client.post("/credentials/issue", json=body, headers=issuer), 400)
    assert found["type"] == "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED" and field in found["detail"]


async def test_issue_options_credential_id_created_and_malformed_bodies(client, node, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    credential = await unsecured(client)
    del credential["id"]  # no id and no credentialId: the node names it by its own URL, so it can be read and revoked
    signed = await issue(client, issuer, credential, created="2026-01-02T03:04:05Z")
    assert signed["id"].startswith(node.base_url + "/credentials/") and signed["proof"][0]["created"] == "2026-01-02T03:04:05Z"
    fetched = await client.get("/credentials/" + signed["id"].rsplit("/", 1)[-1], headers=issuer)
    assert fetched.status == 200 and (await fetched.json())["verifiableCredential"] == signed
    named = await unsecured(client)
    assert (await issue(client, issuer, named, credentialId=named["id"]))["id"] == named["id"]
    await problem(await client.post("/credentials/issue", json={"credential": await unsecured(client),
                                                                "options": {"credentialId": "urn:other"}}, headers=issuer), 400)
    for bad in ({"credential": []}, {"options": {}}, {"credential": await unsecured(client), "extra": 1},
                {"credential": await unsecured(client), "options": {"created": "yesterday"}},
                {"credential": await unsecured(client), "options": {"cryptosuite": "Ed25519Signature2020"}},
                {"credential": {**(await unsecured(client)), "proof": {"type": "DataIntegrityProof"}}}):
        await problem(await client.post("/credentials/issue", json=bad, headers=issuer), 400)
    await problem(await client.post("/credentials/issue", data=b"{nope", headers={**issuer, "Content-Type": "application/json"}), 400)


async def test_verify_malformed_requests_and_options(client, node):
    for body in ({}, {"verifiableCredential": "x"}, {"verifiableCredential": {}, "options": {"unknown": 1}},
                 {"verifiableCredential": {}, "options": {"checks": ["magic"]}},
                 {"verifiableCredential": {}, "options": {"challenge": "c"}}, {"verifiableCredential": {}, "options": []},
                 [1, 2]):
        await problem(await client.post("/credentials/verify", json=body), 400)
    await problem(await client.post("/credentials/verify", data=b"[" * 5000, headers={"Content-Type": "application/json"}), 400)
    big = b'{"verifiableCredential": {"name": "' + b"x" * (1024 * 1024) + b'"}}'  # the public body cap of POST /verify
    await problem(await client.post("/credentials/verify", data=big, headers={"Content-Type": "application/json"}), 413)
    # not a credential at all: the pipeline's verdict, not a 500
    verdict = await verify(client, {"hello": "world"})
    assert verdict["verified"] is False and verdict["errors"]


async def test_get_credential_and_status_are_for_its_institution_only(client, node, auth_headers):
    issuer = await auth_headers("issuer", institution="intecap")
    signed = await issue(client, issuer, await unsecured(client))
    path = "/credentials/" + signed["id"]
    assert (await client.get(path, headers={"Authorization": "Bearer nope"})).status == 401
    other = await auth_headers("issuer", institution="infotep")
    await problem(await client.get(path, headers=other), 404)  # another institution: not even its existence
    assert (await client.get(path)).status == 404  # a VC API id is not a public URL
    mine = await client.get(path, headers=issuer)
    assert mine.status == 200 and (await mine.json())["verifiableCredential"] == signed
    operator = await auth_headers("operator")
    assert (await client.get(path, headers=operator)).status == 200
    await problem(await client.get("/credentials/urn:uuid:" + str(uuid.uuid4()), headers=issuer), 404)

    body = {"credentialId": signed["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True}
    assert (await client.post("/credentials/status", json=body)).status == 401
    await problem(await client.post("/credentials/status", json=body, headers=other), 404)
    await problem(await client.post("/credentials/status", json={**body, "credentialId": "urn:uuid:nope"}, headers=issuer), 404)
    await problem(await client.post("/credentials/status", json={**body, "status": "yes"}, headers=issuer), 400)
    await problem(await client.post("/credentials/status", json={**body, "credentialStatus": {"type": "X", "statusPurpose": "revocation"}},
                                    headers=issuer), 400)
    # suspension needs a suspension entry: this institution has suspension off
    suspend = {**body, "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}}
    await problem(await client.post("/credentials/status", json=suspend, headers=issuer), 409)


async def test_native_credentials_are_reachable_through_the_vc_api(client, node, auth_headers):
    """The node's own routes stay: a credential from POST /credentials is read, verified and revoked here too."""
    issuer = await auth_headers("issuer", institution="intecap")
    row = {"template": TEMPLATE["id"], "given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
    native = await (await client.post("/credentials", json=row, headers=issuer)).json()
    assert (await verify(client, native))["verified"] is True
    body = {"credentialId": native["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True}
    assert (await client.post("/credentials/status", json=body, headers=issuer)).status == 200
    verdict = await (await client.post("/verify", json=native)).json()
    assert verdict["verified"] is False


async def test_presentations_verify_is_a_clear_501(client, node):
    found = await problem(await client.post("/presentations/verify", json={"verifiablePresentation": {}}), 501)
    assert "POST /credentials/verify" in found["detail"]


async def test_a_url_id_is_read_and_revoked_url_encoded(client, node, auth_headers):
    """VCALM's getCredential takes the credential's id in the path: a URL id arrives percent-encoded."""
    from urllib.parse import quote

    issuer = await auth_headers("issuer", institution="intecap")
    credential = await unsecured(client)
    del credential["id"]
    signed = await issue(client, issuer, credential)
    fetched = await client.get("/credentials/" + quote(signed["id"], safe=""), headers=issuer)
    assert fetched.status == 200, await fetched.text()
    assert (await fetched.json())["verifiableCredential"] == signed
    anonymous = await client.get("/credentials/" + signed["id"].rsplit("/", 1)[-1])  # its own URL stays public
    assert anonymous.status == 200 and await anonymous.json() == signed
