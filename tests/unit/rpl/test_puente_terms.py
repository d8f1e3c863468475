"""RPL's JSON-LD terms: with the Puente context registered, every readiness and RPL-evidence term is
signed under eddsa-rdfc-2022 (none silently dropped), and tampering with one breaks the proof."""

import copy
import json
from datetime import datetime, timezone

import pytest

from node.crypto import canonicalize
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.jsonld import loader
from node.rpl.model import Case, assessment_evidence
from node.rpl.readiness import PUENTE_CONTEXT
from node.rpl.schemas import SCHEMA_DIR

AT = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
KEY = KeyPair.from_seed(bytes(range(32)), controller="did:web:puente.example.gt:ministry", fragment="key-1")


@pytest.fixture(autouse=True)
def puente_context_registered(monkeypatch):
    index = dict(loader.context_index())
    index.setdefault(PUENTE_CONTEXT, "puente-v1.jsonld")
    monkeypatch.setattr(loader, "context_index", lambda: index)


def readiness_example():
    document = json.loads((SCHEMA_DIR / "readiness-assessment.example.json").read_text())
    document.pop("proof")
    return document


def test_every_readiness_term_is_in_the_canonical_form():
    quads = canonicalize.rdfc(readiness_example())
    for term in ("ReadinessAssessmentCredential", "jurisdiction", "checkpointCatalogue", "digestSha256", "answers",
                 "checkpoint", "answer", "supportingEvidence", "url", "result", "unmetMandatoryCheckpoints"):
        assert f"<https://w3id.org/puente#{term}>" in quads, term


def test_readiness_signed_with_rdfc_verifies_and_detects_tampering():
    signed = add_proof(readiness_example(), KEY, suite="eddsa-rdfc-2022", created=AT, array=True)
    assert verify_document(signed, lambda vm: KEY.public_key).verified
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["answers"][0]["supportingEvidence"][0]["url"] = "https://evil.example/"
    assert not verify_document(tampered, lambda vm: KEY.public_key).verified


def test_structured_rpl_evidence_is_signed_in_an_ob3_credential():
    from node.issuance.ob3 import OB_CONTEXT, VC_CONTEXT

    case = Case("c1", "Ana", "López", "ana@example.org", "tpl", "intecap", AT, "desk", state="documentation")
    case.plan_assessment(assessor="Marta", method="observation", assessment_id="urn:uuid:a1", actor="c", reason="r", at=AT)
    case.advance("assessed", actor="Marta", reason="r", at=AT)
    case.decide(outcome="partial", units=("U1", "U3"), actor="Marta", reason="r", at=AT)
    credential = {
        "@context": [VC_CONTEXT, OB_CONTEXT, PUENTE_CONTEXT],
        "id": "urn:uuid:c",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:puente.example.gt:institutions:intecap", "type": ["Profile"], "name": "INTECAP"},
        "validFrom": "2026-06-01T12:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "urn:uuid:ach", "type": ["Achievement"], "name": "Albañil", "criteria": {"narrative": "RPL"}}},
        "evidence": [assessment_evidence(case, structured=True)],
    }
    quads = canonicalize.rdfc(credential)
    for term in ("assessor", "assessmentMethod", "assessmentDate", "rplDecision", "unitsCertified"):
        assert f"<https://w3id.org/puente#{term}>" in quads, term
