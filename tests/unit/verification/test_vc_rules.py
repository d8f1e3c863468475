"""The VC Data Model 2.0 / 1.1 MUSTs and the OB 3.0 profile rules (node.verification.vc_rules), one test
per requirement, each shape named after the section of the specification that forbids it (issue 9).

VC 2.0 = https://www.w3.org/TR/vc-data-model-2.0/ ; VC 1.1 = https://www.w3.org/TR/vc-data-model/ ;
OB 3.0 = https://www.imsglobal.org/spec/ob/v3p0/ .
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from node.errors import ValidationFailed
from node.verification.vc_rules import (conformance_checks, is_credential, needs_data_integrity_context,
                                        require_conformance, rule_ids, violations)

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def base() -> dict:
    return {
        "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }


def badge() -> dict:
    return json.loads((Path(__file__).parents[2] / "conformance/data/openbadges/examples/basicOpenBadgeCredential.json").read_text())


def changed(document: dict, **changes) -> dict:
    out = copy.deepcopy(document)
    for key, value in changes.items():
        key = key.replace("__", "@") if key.startswith("__") else key
        if value is DELETE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


DELETE = object()
RELATED_OK = {"id": "https://a.example/ctx.json", "digestSRI": "sha384-abc"}

# (id with spec section, document, rule expected, JSON path expected)
NONCONFORMING = [
    ("vc2-4.3-context-missing", changed(base(), __context=DELETE), "context_required", "$.@context"),
    ("vc2-4.3-context-first-not-v2", changed(base(), __context=["https://www.w3.org/ns/credentials/examples/v2", V2]), "context_first", "$.@context[0]"),
    ("vc2-4.3-context-first-empty-list", changed(base(), __context=[]), "context_first", "$.@context[0]"),
    ("vc2-4.3-context-item-not-url", changed(base(), __context=[V2, 42]), "context_item", "$.@context[1]"),
    ("vc2-4.4-id-not-url", changed(base(), id="not a url"), "id_url", "$.id"),
    ("vc2-4.4-id-space-in-scheme", changed(base(), id="https ://not-a-url/1"), "id_url", "$.id"),
    ("vc2-4.4-id-relative", changed(base(), id="/credentials/1"), "id_url", "$.id"),
    ("vc2-4.4-id-number", changed(base(), id=7), "id_url", "$.id"),
    ("vc2-4.5-type-missing", changed(base(), type=DELETE), "type_required", "$.type"),
    ("vc2-4.5-type-without-vc", changed(base(), type=["ExampleAlumniCredential"]), "type_verifiable_credential", "$.type"),
    ("vc2-4.5-type-not-strings", changed(base(), type=["VerifiableCredential", 5]), "type_strings", "$.type"),
    ("vc2-4.5-type-empty", changed(base(), type=[]), "type_strings", "$.type"),
    ("vc2-4.6-name-number", changed(base(), name=5), "name_string", "$.name"),
    ("vc2-4.6-description-object-without-value", changed(base(), description={"@language": "en"}), "description_string", "$.description"),
    ("vc2-4.7-issuer-missing", changed(base(), issuer=DELETE), "issuer_required", "$.issuer"),
    ("vc2-4.7-issuer-not-url", changed(base(), issuer="fake-issuer"), "issuer_url", "$.issuer"),
    ("vc2-4.7-issuer-null", changed(base(), issuer=None), "issuer_url", "$.issuer"),
    ("vc2-4.7-issuer-object-without-id", changed(base(), issuer={"name": "Example University"}), "issuer_url", "$.issuer.id"),
    ("vc2-4.7-issuer-object-id-not-url", changed(base(), issuer={"id": "fake-issuer"}), "issuer_url", "$.issuer.id"),
    ("vc2-4.8-subject-missing", changed(base(), credentialSubject=DELETE), "subject_required", "$.credentialSubject"),
    ("vc2-4.8-subject-empty-object", changed(base(), credentialSubject={}), "subject_empty", "$.credentialSubject"),
    ("vc2-4.8-subject-empty-list", changed(base(), credentialSubject=[]), "subject_required", "$.credentialSubject"),
    ("vc2-4.8-subject-string", changed(base(), credentialSubject="did:example:abc"), "subject_object", "$.credentialSubject"),
    ("vc2-4.8-subject-id-not-url", changed(base(), credentialSubject={"id": "abc", "alumniOf": "x"}), "subject_id_url", "$.credentialSubject.id"),
    ("vc2-4.9-validFrom-not-datetime", changed(base(), validFrom="Sat 25 Feb 2023 07:16:31 PM CST"), "valid_from_datetime", "$.validFrom"),
    ("vc2-4.9-validUntil-not-datetime", changed(base(), validUntil="2025-02-30"), "valid_until_datetime", "$.validUntil"),
    ("vc2-4.9-validFrom-without-offset", changed(base(), validFrom="2023-01-01T00:00:00"), "valid_from_datetime", "$.validFrom"),
    ("vc2-4.9-validFrom-after-validUntil", changed(base(), validUntil="2022-01-01T00:00:00Z"), "validity_order", "$.validUntil"),
    ("vc2-4.10-status-without-type", changed(base(), credentialStatus={"id": "https://a.example/status/1#3"}), "status_type_required", "$.credentialStatus.type"),
    ("vc2-4.10-status-list-item-without-type", changed(base(), credentialStatus=[{"id": "https://a.example/s#1", "type": "X"}, {"id": "https://a.example/s#2"}]), "status_type_required", "$.credentialStatus[1].type"),
    ("vc2-4.10-status-id-not-url", changed(base(), credentialStatus={"id": "status 1", "type": "BitstringStatusListEntry"}), "status_id_url", "$.credentialStatus.id"),
    ("vc2-4.11-schema-without-type", changed(base(), credentialSchema={"id": "https://a.example/schema.json"}), "schema_type_required", "$.credentialSchema.type"),
    ("vc2-4.11-schema-id-not-url", changed(base(), credentialSchema={"id": "schema.json", "type": "JsonSchema"}), "schema_id_url", "$.credentialSchema.id"),
    ("vc2-4.11-schema-without-id", changed(base(), credentialSchema={"type": "JsonSchema"}), "schema_id_url", "$.credentialSchema.id"),
    ("vc2-5.3-related-resource-string", changed(base(), relatedResource=["https://a.example/ctx.json"]), "related_resource_object", "$.relatedResource[0]"),
    ("vc2-5.3-related-resource-without-id", changed(base(), relatedResource=[{"digestSRI": "sha384-abc"}]), "related_resource_id", "$.relatedResource[0].id"),
    ("vc2-5.3-related-resource-duplicate-id", changed(base(), relatedResource=[RELATED_OK, RELATED_OK]), "related_resource_duplicate", "$.relatedResource[1].id"),
    ("vc2-5.3-related-resource-without-digest", changed(base(), relatedResource=[{"id": "https://a.example/ctx.json"}]), "related_resource_digest", "$.relatedResource[0]"),
    ("vc2-5.4-refresh-service-without-type", changed(base(), refreshService={"id": "https://a.example/refresh"}), "refresh_service_type_required", "$.refreshService.type"),
    ("vc2-5.5-terms-of-use-without-type", changed(base(), termsOfUse=[{"id": "https://a.example/tou"}]), "terms_of_use_type_required", "$.termsOfUse[0].type"),
    ("vc2-5.6-evidence-without-type", changed(base(), evidence=[{"id": "https://a.example/evidence/1"}]), "evidence_type_required", "$.evidence[0].type"),
    ("vc2-5.6-evidence-not-object", changed(base(), evidence=["https://a.example/evidence/1"]), "evidence_object", "$.evidence[0]"),
    ("vc11-4.6-issuanceDate-missing", changed(base(), __context=[V1], validFrom=DELETE), "issuance_date_required", "$.issuanceDate"),
    ("vc11-4.6-issuanceDate-not-datetime", changed(base(), __context=[V1], validFrom=DELETE, issuanceDate="yesterday"), "issuance_date_datetime", "$.issuanceDate"),
    ("vc11-4.7-expirationDate-before-issuanceDate", changed(base(), __context=[V1], validFrom=DELETE, issuanceDate="2023-01-01T00:00:00Z",
                                                            expirationDate="2020-01-01T00:00:00Z"), "validity_order", "$.expirationDate"),
    ("ob3-B.1.1-without-ob-context", changed(badge(), __context=[V2]), "ob_context", "$.@context"),
    ("ob3-B.1.1-without-name", changed(badge(), name=DELETE), "ob_name_required", "$.name"),
    ("ob3-B.1.1-without-validFrom", changed(badge(), validFrom=DELETE), "ob_valid_from_required", "$.validFrom"),
    ("ob3-B.1.1-issuer-url-not-profile", changed(badge(), issuer="https://example.com/issuers/876543"), "ob_issuer_profile", "$.issuer"),
    ("ob3-B.1.2-subject-list", changed(badge(), credentialSubject=[badge()["credentialSubject"]]), "ob_subject_single", "$.credentialSubject"),
    ("ob3-B.1.2-subject-without-achievement", changed(badge(), credentialSubject={"id": "did:example:1", "type": ["AchievementSubject"]}),
     "ob_achievement_required", "$.credentialSubject.achievement"),
    ("ob3-B.1.2-subject-without-id-or-identifier", changed(badge(), credentialSubject={k: v for k, v in badge()["credentialSubject"].items() if k != "id"}),
     "ob_subject_identity", "$.credentialSubject"),
    ("ob3-B.1.2-subject-type", changed(badge(), credentialSubject={**badge()["credentialSubject"], "type": ["Person"]}),
     "ob_subject_type", "$.credentialSubject.type"),
    ("ob3-B.1.3-achievement-without-criteria", changed(badge(), credentialSubject={**badge()["credentialSubject"], "achievement": {
        k: v for k, v in badge()["credentialSubject"]["achievement"].items() if k != "criteria"}}), "ob_achievement_criteria",
     "$.credentialSubject.achievement.criteria"),
    ("ob3-B.1.3-achievement-id-not-url", changed(badge(), credentialSubject={**badge()["credentialSubject"], "achievement": {
        **badge()["credentialSubject"]["achievement"], "id": "teamwork"}}), "ob_achievement_id", "$.credentialSubject.achievement.id"),
]


@pytest.mark.parametrize("document,rule,path", [c[1:] for c in NONCONFORMING], ids=[c[0] for c in NONCONFORMING])
def test_each_nonconforming_shape_is_named_by_rule_and_path(document, rule, path):
    found = violations(document)
    assert {"rule": rule, "path": path} in [{"rule": v["rule"], "path": v["path"]} for v in found], found
    assert all(v["error"] and isinstance(v["error"], str) for v in found)


@pytest.mark.parametrize("document", [c[1] for c in NONCONFORMING if is_credential(c[1])],
                         ids=[c[0] for c in NONCONFORMING if is_credential(c[1])])
def test_signing_refuses_every_nonconforming_credential_with_all_paths(document):
    with pytest.raises(ValidationFailed) as raised:
        require_conformance(document)
    assert raised.value.extensions["errors"] == violations(document)
    assert raised.value.extensions["errors"][0]["path"] in raised.value.detail


@pytest.mark.parametrize("document,rule", [c[1:3] for c in NONCONFORMING], ids=[c[0] for c in NONCONFORMING])
def test_verifier_has_one_failed_typed_check_per_rule(document, rule):
    checks = conformance_checks(document)
    failed = {c.check: c for c in checks if not c.ok}
    assert f"conformance.{rule}" in failed
    assert failed[f"conformance.{rule}"].reason == "nonconforming"
    assert all(c.detail for c in failed.values())


def test_a_credential_without_verifiable_credential_type_is_not_held_to_sign_rules_but_fails_verify():
    """Sign-side rules apply to credentials (type includes VerifiableCredential); anything else verified as a
    credential fails `conformance.type_verifiable_credential`."""
    other = changed(base(), type=["ExampleAlumniCredential"])
    require_conformance(other)  # not a credential: another document type's own rules apply
    assert "conformance.type_verifiable_credential" in {c.check for c in conformance_checks(other) if not c.ok}


def test_several_violations_are_all_reported():
    document = changed(base(), issuer="fake-issuer", validFrom="Sat 25 Feb 2023 07:16:31 PM CST",
                       credentialStatus={"id": "x"})
    assert rule_ids(violations(document)) == {"issuer_url", "valid_from_datetime", "status_type_required", "status_id_url"}


@pytest.mark.parametrize("name", ["eddsa/rdfc/unsigned.json", "eddsa/rdfc/employ/employmentAuth.json", "eddsa/jcs/unsigned.json",
                                  "openbadges/examples/basicOpenBadgeCredential.json",
                                  "openbadges/examples/fullOpenBadgeCredential.json",
                                  "openbadges/examples/endorsementCredential.json",
                                  "openbadges/test-vectors/obv3p0/signed-credential.json",
                                  "openbadges/test-vectors/clrv2p0/signed-credential.json",
                                  "status/revocable-credential.json", "status/status-list-credential.json"])
def test_published_vectors_and_examples_conform(conformance_dir, name):
    document = json.loads((conformance_dir / name).read_text())
    assert violations(document) == []
    assert [c.check for c in conformance_checks(document)] == ["conformance"]


def test_conforming_shapes_pass():
    """What the spec allows: an issuer object with a URL id, a subject list, language value names, a status
    entry without id, an OB subject named only by identifier, a v1 credential with issuanceDate."""
    ok = [
        changed(base(), issuer={"id": "https://a.example/issuers/1", "name": "A"}),
        changed(base(), credentialSubject=[{"id": "did:example:1"}, {"name": "x"}]),
        changed(base(), name={"@value": "Alumni", "@language": "en"}, description=[{"@value": "d", "@language": "es"}]),
        changed(base(), credentialStatus={"type": "ExampleStatus"}, relatedResource=[RELATED_OK]),
        changed(base(), __context=[V1], validFrom=DELETE, issuanceDate="2023-01-01T00:00:00Z"),
        changed(badge(), credentialSubject={**{k: v for k, v in badge()["credentialSubject"].items() if k != "id"},
                                            "identifier": [{"type": "IdentityObject", "identityType": "emailAddress",
                                                            "hashed": True, "identityHash": "sha256$ab"}]}),
    ]
    for document in ok:
        assert violations(document) == [], document


@pytest.mark.parametrize("name", ["ob3-credential.example.json", "bitstring-status-list-credential.example.json"])
def test_puente_published_examples_conform(name):
    """What Puente issues (its shipped examples: an OB 3.0 credential and a status list credential)."""
    folder = Path(__file__).parents[3] / "node/issuance/schemas/examples"
    assert violations(json.loads((folder / name).read_text())) == []


def test_data_integrity_context_needed_only_without_proof_terms():
    """vc-di-eddsa §3.1: the data-integrity context is added when the contexts do not define the proof terms."""
    assert needs_data_integrity_context({"@context": [V1]})
    assert needs_data_integrity_context({"@context": V1})
    assert not needs_data_integrity_context(base())
    assert not needs_data_integrity_context({"@context": [V1, "https://w3id.org/security/data-integrity/v2"]})
