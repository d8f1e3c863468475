"""The VC API's requests and answers (node/vcapi/model.py), pure: which options are refused, how a status
request becomes a status change, and how a pipeline result reads as {verified, errors, warnings}."""

from __future__ import annotations

import pytest

from node.errors import InvalidInput
from node.vcapi.model import (UnknownOption, issue_order, status_order, verify_answer, verify_order)
from node.verification.result import Check, VerificationResult

CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]}


def result(*checks: Check) -> VerificationResult:
    return VerificationResult(list(checks))


PASSING = (Check("document", True), Check("proof[0].signature", True), Check("issuer", True))


def test_every_failed_check_is_an_error_when_no_checks_are_named():
    order = verify_order({"verifiableCredential": CREDENTIAL})
    answer = verify_answer(order, result(*PASSING, Check("status", False, "revoked")))
    assert answer["verified"] is False and answer["warnings"] == []
    assert answer["errors"] == [{"type": "https://puente.example/problems/revoked", "title": "revoked", "detail": "status: revoked"}]
    assert answer["checks"] == ["document", "proof[0].signature", "issuer", "status"]


def test_an_unnamed_optional_group_is_a_warning_and_proofs_always_count():
    order = verify_order({"verifiableCredential": CREDENTIAL, "options": {"checks": ["proof"]}})
    answer = verify_answer(order, result(*PASSING, Check("status", False, "revoked"), Check("validity", False, "expired")))
    assert answer["verified"] is True and [w["title"] for w in answer["warnings"]] == ["revoked", "RANGE_ERROR"]
    broken = verify_answer(order, result(Check("document", True), Check("proof[0].signature", False, "bad_signature")))
    assert broken["verified"] is False and broken["errors"][0]["title"] == "CRYPTOGRAPHIC_SECURITY_ERROR"
    # a check the VC API groups do not know (a new one) counts: fail closed
    novel = verify_answer(order, result(*PASSING, Check("signers.did:example:x", False, "unverified")))
    assert novel["verified"] is False


def test_no_checks_at_all_is_never_verified():
    assert verify_answer(verify_order({"verifiableCredential": CREDENTIAL}), result())["verified"] is False


def test_return_options():
    order = verify_order({"verifiableCredential": CREDENTIAL, "options": {"returnCredential": True, "returnResults": True}})
    answer = verify_answer(order, result(*PASSING))
    assert answer["credential"] == CREDENTIAL and answer["results"][0] == {"check": "document", "ok": True, "reason": None}


@pytest.mark.parametrize("options", [{"nope": 1}, {"challenge": "c"}, {"domain": "d"}, {"checks": ["magic"]}])
def test_verify_refuses_unknown_or_inapplicable_options(options):
    with pytest.raises(UnknownOption) as refused:
        verify_order({"verifiableCredential": CREDENTIAL, "options": options})
    assert refused.value.type_uri == "https://www.w3.org/TR/vcalm#UNKNOWN_OPTION_PROVIDED" and refused.value.status == 400


@pytest.mark.parametrize("body", [None, [], {}, {"verifiableCredential": []}, {"verifiableCredential": CREDENTIAL, "x": 1},
                                  {"verifiableCredential": CREDENTIAL, "options": {"checks": "proof"}},
                                  {"verifiableCredential": CREDENTIAL, "options": {"returnResults": "yes"}}])
def test_malformed_verify_requests(body):
    with pytest.raises(InvalidInput):
        verify_order(body)


def test_issue_options():
    order = issue_order({"credential": CREDENTIAL, "options": {"cryptosuite": "eddsa-jcs-2022", "created": "2026-01-02T03:04:05Z",
                                                              "credentialId": "urn:x"}})
    assert order.suite == "eddsa-jcs-2022" and order.created.isoformat() == "2026-01-02T03:04:05+00:00" and order.credential_id == "urn:x"
    assert issue_order({"credential": CREDENTIAL}).suite == "eddsa-rdfc-2022"
    for options in ({"challenge": "c"}, {"domain": "d"}, {"mandatoryPointers": ["/issuer"]}, {"other": 1}):
        with pytest.raises(UnknownOption):
            issue_order({"credential": CREDENTIAL, "options": options})
    for body in ({"credential": {**CREDENTIAL, "proof": {}}}, {"credential": {**CREDENTIAL, "credentialStatus": {}}},
                 {"credential": {**CREDENTIAL, "id": "urn:a"}, "options": {"credentialId": "urn:b"}},
                 {"credential": CREDENTIAL, "options": {"created": "2026-01-02"}},
                 {"credential": CREDENTIAL, "options": {"cryptosuite": "ecdsa-rdfc-2019"}}):
        with pytest.raises(InvalidInput):
            issue_order(body)


def test_status_requests():
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}
    assert status_order({"credentialId": "urn:a", "credentialStatus": entry, "status": True}).action == "revoke"
    suspension = {**entry, "statusPurpose": "suspension"}
    assert status_order({"credentialId": "urn:a", "credentialStatus": suspension, "status": True}).action == "suspend"
    assert status_order({"credentialId": "urn:a", "credentialStatus": [suspension], "status": False}).action == "unsuspend"
    for body in ({"credentialId": "urn:a", "credentialStatus": entry, "status": False},  # revocation is permanent
                 {"credentialId": "urn:a", "credentialStatus": entry, "status": "true"},
                 {"credentialId": "urn:a", "credentialStatus": {**entry, "statusPurpose": "message"}, "status": True},
                 {"credentialId": "", "credentialStatus": entry, "status": True},
                 {"credentialId": "urn:a", "credentialStatus": {**entry, "type": "StatusList2021Entry"}, "status": True},
                 {"credentialId": "urn:a", "credentialStatus": entry, "status": True, "indexAllocator": "x"}):
        with pytest.raises(InvalidInput):
            status_order(body)
