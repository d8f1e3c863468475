from datetime import datetime, timezone

import pytest

from node.errors import ValidationFailed
from node.rpl.catalogue import bundled_catalogue
from node.rpl.readiness import NOT_READY, READY, build_credential, parse_answers, readiness_result, unmet_mandatory
from node.rpl.schemas import schema_errors

CATALOGUE = bundled_catalogue()
EVIDENCE = [{"description": "Decree 1/2020", "url": "https://example.gov/decree"}]


def all_met(**overrides):
    answers = []
    for checkpoint in CATALOGUE.checkpoints:
        value = overrides.get(checkpoint.id, "met")
        if value is None:
            continue
        item = {"checkpoint": checkpoint.id, "answer": value}
        if value in ("met", "partially_met"):
            item["supportingEvidence"] = EVIDENCE
        answers.append(item)
    return {"answers": answers}


def test_every_mandatory_met_is_ready():
    answers = parse_answers(all_met(), CATALOGUE)
    assert readiness_result(CATALOGUE, answers) == READY
    assert unmet_mandatory(CATALOGUE, answers) == ()


@pytest.mark.parametrize("value", ["partially_met", "not_met", "not_applicable"])
def test_a_mandatory_checkpoint_not_met_blocks_readiness(value):
    answers = parse_answers(all_met(**{"access-for-migrants": value}), CATALOGUE)
    assert readiness_result(CATALOGUE, answers) == NOT_READY
    assert unmet_mandatory(CATALOGUE, answers) == ("access-for-migrants",)


@pytest.mark.parametrize("value", ["partially_met", "not_met", "not_applicable", None])
def test_optional_checkpoints_never_change_the_result(value):
    answers = parse_answers(all_met(**{"standards-comparison-method": value}), CATALOGUE)
    assert readiness_result(CATALOGUE, answers) == READY


def test_missing_mandatory_answer_is_a_validation_error():
    with pytest.raises(ValidationFailed) as info:
        parse_answers(all_met(**{"appeal-procedure": None}), CATALOGUE)
    assert {"path": "$.answers", "error": "mandatory checkpoint 'appeal-procedure' is not answered"} in info.value.extensions["errors"]


def test_unknown_and_duplicate_checkpoints_are_reported_with_paths():
    document = all_met()
    document["answers"].append({"checkpoint": "free-lunch", "answer": "met", "supportingEvidence": EVIDENCE})
    document["answers"].append(dict(document["answers"][0]))
    with pytest.raises(ValidationFailed) as info:
        parse_answers(document, CATALOGUE)
    errors = info.value.extensions["errors"]
    n = len(CATALOGUE.checkpoints)
    assert errors[0]["path"] == f"$.answers[{n}].checkpoint" and "unknown checkpoint 'free-lunch'" in errors[0]["error"]
    assert errors[1]["path"] == f"$.answers[{n + 1}].checkpoint" and "answered twice" in errors[1]["error"]


def test_met_needs_evidence_and_bad_values_are_refused():
    document = all_met()
    del document["answers"][0]["supportingEvidence"]
    with pytest.raises(ValidationFailed) as info:
        parse_answers(document, CATALOGUE)
    assert info.value.extensions["errors"][0]["path"] == "$.answers[0].supportingEvidence"
    document = all_met()
    document["answers"][1]["answer"] = "mostly"
    with pytest.raises(ValidationFailed) as info:
        parse_answers(document, CATALOGUE)
    assert info.value.extensions["errors"][0]["path"] == "$.answers[1].answer"


def test_answers_for_another_catalogue_version_are_refused():
    document = all_met()
    document["catalogue"] = {"id": CATALOGUE.id, "version": "1999.1"}
    with pytest.raises(ValidationFailed, match="1999.1"):
        parse_answers(document, CATALOGUE)


def test_credential_carries_catalogue_answers_and_result_and_matches_its_schema():
    answers = parse_answers(all_met(**{"access-for-migrants": "not_applicable"}), CATALOGUE)
    credential = build_credential(
        jurisdiction="PE", catalogue=CATALOGUE, answers=answers, issuer="did:web:pe.example:ministry",
        credential_id="urn:uuid:00000000-0000-4000-8000-000000000000", issued_at=datetime(2026, 11, 23, 10, tzinfo=timezone.utc),
    )
    subject = credential["credentialSubject"]
    assert credential["validFrom"] == "2026-11-23T10:00:00Z"
    assert subject["checkpointCatalogue"] == {"id": CATALOGUE.id, "version": CATALOGUE.version, "digestSha256": CATALOGUE.digest()}
    assert subject["result"] == NOT_READY
    assert subject["unmetMandatoryCheckpoints"] == ["access-for-migrants"]
    assert [a["checkpoint"] for a in subject["answers"]] == [c.id for c in CATALOGUE.checkpoints]
    credential["proof"] = [{"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "verificationMethod": "did:web:pe.example:ministry#key-1",
                            "proofPurpose": "assertionMethod", "proofValue": "z3abc", "created": "2026-11-23T10:00:00Z"}]
    assert schema_errors("readiness-assessment", credential) == []
    credential["credentialSubject"]["result"] = "nearly"
    assert schema_errors("readiness-assessment", credential)
