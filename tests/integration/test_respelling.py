"""Issue 8, item 1 — verify what was signed, through the real pipeline (POST /verify, `puente credential
verify`, the node's signer) on SQLite and PostgreSQL.

A revoked credential, properly signed, is respelled so that its graph (what an rdfc proof covers) is
unchanged but the JSON key the status check reads is gone. It must never verify; it fails with the
typed reason. The same respelling classes are refused on the node's other signed documents: status
lists, framework publications, readiness assessments.
"""

import copy
import json
import os
import subprocess
import sys

import pytest

from node.crypto.canonicalize import rdfc
from node.errors import InvalidInput, ValidationFailed
from node.issuance.service import IssuanceService

CRED = "https://www.w3.org/2018/credentials#"
SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}
REFUSED = {"noncanonical_term", "dropped_data", "undefined_term"}


def respell_full_iri(doc: dict, key: str) -> dict:
    out = {k: v for k, v in doc.items() if k != key}
    out[CRED + key] = doc[key]
    return out


def respell_compact(doc: dict, key: str) -> dict:
    out = respell_full_iri(doc, key)
    out[f"cred:{key}"] = out.pop(CRED + key)
    out["@context"] = doc["@context"] + [{"cred": CRED}]
    return out


def respell_alias(doc: dict, key: str) -> dict:
    out = {k: v for k, v in doc.items() if k != key}
    out["statusOfThis"] = doc[key]
    out["@context"] = doc["@context"] + [{"statusOfThis": CRED + key}]
    return out


RESPELLINGS = {"full IRI": respell_full_iri, "compact IRI": respell_compact, "inline alias": respell_alias}


def failures(result: dict) -> dict:
    return {c["check"]: c["reason"] for c in result["checks"] if not c["ok"]}


def refused(result: dict) -> bool:
    return result["verified"] is False and bool(REFUSED & set(failures(result).values()))


@pytest.fixture
async def issuance(services):
    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [1, 2, 3, 4]})
    await service.create_template(TEMPLATE)
    return service


async def revoked_credential(issuance, suite: str) -> dict:
    issued = await issuance.issue_one("intecap-albanileria-2", ROW, suite=suite)
    await issuance.change_status(issued.id, "revoke", "assessment annulled")
    return issued.to_json()


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("respelling", RESPELLINGS)
async def test_a_respelled_revoked_credential_never_verifies_over_http(client, issuance, suite, respelling):
    credential = await revoked_credential(issuance, suite)
    honest = await (await client.post("/verify", json=credential)).json()
    assert honest["verified"] is False and failures(honest).get("status") == "revoked"

    forged = RESPELLINGS[respelling](credential, "credentialStatus")
    unsecured = {k: v for k, v in forged.items() if k != "proof"}
    if suite == "eddsa-rdfc-2022":  # the finding: the signed graph is unchanged, so the proof alone still holds
        assert rdfc(unsecured) == rdfc({k: v for k, v in credential.items() if k != "proof"})
    verdict = await (await client.post("/verify", json=forged)).json()
    assert refused(verdict), verdict
    if suite == "eddsa-rdfc-2022":
        assert "noncanonical_term" in failures(verdict).values()
    # (jcs verifies under the proof's own @context, where an alias the document adds is an undefined term)


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("key", ["validUntil", "validFrom"])
async def test_respelled_validity_dates_are_refused(client, issuance, suite, key):
    issued = (await issuance.issue_one("intecap-albanileria-2", ROW, suite=suite)).to_json()
    assert key in issued
    verdict = await (await client.post("/verify", json=respell_full_iri(issued, key))).json()
    assert refused(verdict) and failures(verdict)


@pytest.mark.parametrize("suite", SUITES)
async def test_keyword_spellings_and_wrapping_are_refused(client, issuance, suite):
    credential = await revoked_credential(issuance, suite)
    as_keyword = {("@type" if k == "type" else k): v for k, v in credential.items()}
    included = {k: v for k, v in credential.items() if k != "credentialStatus"}
    included["@included"] = [{"id": credential["id"], "credentialStatus": credential["credentialStatus"]}]
    graph = {"@context": credential["@context"], "@graph": [{k: v for k, v in credential.items() if k != "@context"}]}
    for name, forged in {"@type": as_keyword, "@included": included, "@graph": graph}.items():
        verdict = await (await client.post("/verify", json=forged)).json()
        assert verdict["verified"] is False, name
        assert "noncanonical_term" in failures(verdict).values() or failures(verdict).get("document"), (name, verdict)


@pytest.mark.parametrize("suite", SUITES)
async def test_the_node_refuses_to_sign_what_would_be_dropped(issuance, services, suite):
    from node.jsonld.errors import ContextProcessingFailed, DroppedData

    issued = (await issuance.issue_one("intecap-albanileria-2", ROW, suite=suite)).to_json()
    unsigned = {k: v for k, v in issued.items() if k != "proof"}
    key = _any_key(services)
    for change, error, path in [
        (lambda d: d.update(id="https ://not-a-url/x"), DroppedData, "$.id"),
        (lambda d: d.update(type=d["type"] + ["InvalidType"]), DroppedData, "$.type[2]"),
        (lambda d: d.update({"@context": d["@context"] + [{"@vocab": None}]}), ContextProcessingFailed, "$.@context"),
    ]:
        document = copy.deepcopy(unsigned)
        change(document)
        with pytest.raises(InvalidInput) as caught:
            await services.signer.sign(document, key, suite=suite)
        # the term walk's typed refusal, or the signer's VC data model rules when they see it first
        assert isinstance(caught.value, (error, ValidationFailed)), caught.value
        paths = [caught.value.extensions.get("path")] + [e.get("path") for e in caught.value.extensions.get("errors", [])]
        assert path in paths, caught.value.extensions


def _any_key(services):
    from node.crypto.keys import KeyPair

    return KeyPair.from_seed(bytes(range(32)))


async def test_status_lists_framework_publications_and_readiness_are_held_to_one_spelling(issuance, services, framework_and_readiness):
    issued = (await issuance.issue_one("intecap-albanileria-2", ROW)).to_json()
    text, _ = await issuance.status_list_document(issued["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1])
    documents = {"status list": json.loads(text), **framework_and_readiness}
    for name, document in documents.items():
        assert (await services.signer.verify(document, services.resolver)).verified, name
        subject = document["credentialSubject"]
        inner_key = next(k for k in subject if k not in ("id", "type"))
        respelled_inner = copy.deepcopy(document)
        respelled_inner["credentialSubject"] = {(("https://example.org/respelled#" + k) if k == inner_key else k): v for k, v in subject.items()}
        for forged in (respell_full_iri(document, "credentialSubject"), respell_compact(document, "issuer"), respelled_inner):
            result = await services.signer.verify(forged, services.resolver)
            reasons = {c.reason for c in result.checks if not c.ok}
            assert not result.verified and reasons & REFUSED, (name, reasons)


@pytest.fixture
async def framework_and_readiness(services):
    """A framework publication and a readiness assessment signed by this node's ministry (GT)."""
    from pathlib import Path

    from node.framework.wiring import framework_service
    from node.rpl.catalogue import bundled_catalogue
    from node.rpl.wiring import readiness_service

    framework = framework_service(services)
    data = Path(__file__).resolve().parents[2] / "node" / "framework" / "data"
    for name in ("rqf-2026.1-draft", "seed/gt-mnc"):
        await framework.import_text((data / f"{name}.json").read_text(encoding="utf-8"), "json")
    publication = (await framework.publish("gt-mnc")).document

    readiness = readiness_service(services)
    catalogue = bundled_catalogue()
    await readiness.load_catalogue(catalogue)
    items = [{"checkpoint": c.id, "answer": "met", "supportingEvidence": [{"description": "Ley 1/2020", "url": "https://gob.example/ley"}]}
             for c in catalogue.checkpoints]
    await readiness.record("GT", {"answers": items}, recorded_by="ministry")
    assessment = (await readiness.publish("GT")).document
    return {"framework publication": publication, "readiness assessment": assessment}


@pytest.fixture
def cli(settings, services, tmp_path):
    work = tmp_path / "work"
    work.mkdir()

    def run(document: dict) -> tuple[int, dict, str]:
        path = work / "credential.json"
        path.write_text(json.dumps(document))
        env = {**os.environ, "PUENTE_DATA_DIR": str(settings.data_dir)}
        proc = subprocess.run([sys.executable, "-m", "node", "credential", "verify", str(path)], capture_output=True,
                              text=True, cwd=work, env=env, timeout=120)
        return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {}, proc.stderr

    return run


@pytest.mark.parametrize("suite", SUITES)
async def test_the_cli_refuses_a_respelled_revoked_credential_too(client, issuance, cli, suite):
    credential = await revoked_credential(issuance, suite)
    code, verdict, stderr = cli(respell_full_iri(credential, "credentialStatus"))
    assert code != 0 and "Traceback" not in stderr
    assert verdict["verified"] is False and "noncanonical_term" in failures(verdict).values(), verdict


@pytest.mark.parametrize("suite", SUITES)
async def test_vocab_null_is_a_failed_check_over_http_not_a_500(client, issuance, suite):
    credential = (await issuance.issue_one("intecap-albanileria-2", ROW, suite=suite)).to_json()
    credential["@context"] = credential["@context"] + [{"@vocab": None}]
    response = await client.post("/verify", json=credential)
    assert response.status == 200
    verdict = await response.json()
    assert verdict["verified"] is False and "invalid_context" in failures(verdict).values(), verdict


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("case", ["@vocab null", "invalid id", "respelled status"])
def test_cli_sign_refuses_with_one_line_and_the_json_path(tmp_path, suite, case):
    from node.crypto.keys import KeyPair

    key = KeyPair.from_seed(bytes(range(32)))
    (tmp_path / "key.json").write_text(json.dumps(key.to_json(include_secret=True)))
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "type": ["VerifiableCredential"],
                "issuer": "did:example:issuer", "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:s"},
                "credentialStatus": {"id": "https://x.example/status/1#1", "type": "BitstringStatusListEntry",
                                     "statusPurpose": "revocation", "statusListIndex": "1",
                                     "statusListCredential": "https://x.example/status/1"}}
    expected = {"@vocab null": "$.@context", "invalid id": "$.id", "respelled status": f"$.{CRED}credentialStatus"}[case]
    if case == "@vocab null":
        document["@context"] = document["@context"] + [{"@vocab": None}]
    elif case == "invalid id":
        document["id"] = "https ://not-a-url/x"
    else:
        document = respell_full_iri(document, "credentialStatus")
    (tmp_path / "doc.json").write_text(json.dumps(document))
    proc = subprocess.run([sys.executable, "-m", "node", "credential", "sign", "--key", str(tmp_path / "key.json"),
                           "--suite", suite, str(tmp_path / "doc.json")], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PUENTE_DATA_DIR": str(tmp_path / "data")}, timeout=120)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("puente: ") and f"{expected}: " in lines[0], proc.stderr
