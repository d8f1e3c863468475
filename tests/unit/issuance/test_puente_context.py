"""Puente's microcredential terms, once the context is registered in the loader's index, are signed
(present in the canonical N-Quads), not silently dropped."""

import pytest

from node.crypto import canonicalize
from node.crypto.data_integrity import add_proof, verify_document
from node.crypto.keys import KeyPair
from node.issuance.model import make_recipient
from node.issuance.ob3 import PUENTE_CONTEXT, build_credential
from node.issuance.schema import schema_errors
from node.jsonld import loader


@pytest.fixture
def puente_context_registered(monkeypatch):
    index = dict(loader.context_index())
    index.setdefault(PUENTE_CONTEXT, "puente-v1.jsonld")
    monkeypatch.setattr(loader, "context_index", lambda: index)


def test_puente_terms_are_signed(puente_context_registered, template, institution, issued_at, base_url):
    doc = build_credential(template=template, institution=institution, recipient=make_recipient("A", "B", "a@b.org", "s"),
                           credential_id=f"{base_url}/credentials/x", issued_at=issued_at, credential_status=None,
                           base_url=base_url, puente_terms=True)
    quads = canonicalize.rdfc(doc)
    assert "<https://w3id.org/puente#notionalWorkloadHours>" in quads
    assert "<https://w3id.org/puente#assessmentType>" in quads
    key = KeyPair.generate(controller="did:web:127.0.0.1%3A8080:institutions:intecap", fragment="key-1")
    signed = add_proof(doc, key, suite="eddsa-rdfc-2022")
    assert schema_errors(signed) == []
    assert verify_document(signed, lambda vm: key.public_key).verified
    signed["credentialSubject"]["achievement"]["notionalWorkloadHours"] = 10
    assert not verify_document(signed, lambda vm: key.public_key).verified
