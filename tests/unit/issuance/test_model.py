from datetime import datetime, timezone

import pytest

from node.errors import InvalidInput
from node.issuance.model import (
    AccreditationScope,
    AchievementTemplate,
    IssueRequest,
    add_duration,
    identity_hash,
    make_recipient,
    normalise_identifier,
)

DID_KEY = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def test_identity_hash_matches_the_ob3_spec_example():
    # The OB 3.0 spec: sha256 of 'a@example.com' salted with 'Kosher'.
    assert identity_hash("a@example.com", "Kosher") == "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"


def test_email_recipient_is_hashed_and_did_key_is_kept():
    by_mail = make_recipient("Ana", "López", "Ana.Lopez@Example.org", salt="s4lt")
    assert by_mail.did is None and by_mail.email_hash == identity_hash("ana.lopez@example.org", "s4lt")
    by_did = make_recipient("Ana", "López", DID_KEY, salt="s4lt")
    assert by_did.did == DID_KEY and by_did.email_hash is None


@pytest.mark.parametrize("bad", ["", "ana", "did:web:example.com", "did:key:nothex!", None, "a@b"])
def test_identifier_must_be_did_key_or_email(bad):
    with pytest.raises(InvalidInput):
        normalise_identifier(bad)


def test_duration_arithmetic_is_calendar_based():
    leap = datetime(2024, 2, 29, 10, tzinfo=timezone.utc)
    assert add_duration(leap, "P5Y") == datetime(2029, 2, 28, 10, tzinfo=timezone.utc)
    assert add_duration(leap, "P18M") == datetime(2025, 8, 29, 10, tzinfo=timezone.utc)
    assert add_duration(leap, "P2W") == datetime(2024, 3, 14, 10, tzinfo=timezone.utc)
    for bad in ("5Y", "P", "PT5H", "P1.5Y", 5):
        with pytest.raises(InvalidInput):
            add_duration(leap, bad)


def test_idempotency_key_depends_on_template_identifier_and_content():
    row = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}
    key = IssueRequest.from_row("t1", row).idempotency_key()
    assert key == IssueRequest.from_row("t1", dict(row, identifier="ANA@example.org ")).idempotency_key()
    assert key != IssueRequest.from_row("t2", row).idempotency_key()
    assert key != IssueRequest.from_row("t1", dict(row, given_name="Ana María")).idempotency_key()
    assert key != IssueRequest.from_row("t1", dict(row, activity_end_date="2026-01-31")).idempotency_key()


def test_extra_dates_are_checked():
    row = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org", "activity_end_date": "31/01/2026"}
    with pytest.raises(InvalidInput, match="activity_end_date"):
        IssueRequest.from_row("t1", row)


def test_scope_reports_each_gap():
    scope = AccreditationScope(("construction",), ("71",), (1, 2))
    assert scope.covers(sector="construction", isco_code="7112", rqf_level=2) == []
    gaps = scope.covers(sector="health", isco_code="5321", rqf_level=4)
    assert len(gaps) == 3
    assert AccreditationScope().covers(sector=None, isco_code=None, rqf_level=None) == []


def test_template_rejects_bad_values(template):
    data = template.to_json()
    assert AchievementTemplate.from_json(data) == template
    for change in ({"validity": "five years"}, {"rqf_level": 9}, {"id": "Not A Slug"}, {"name": ""}):
        with pytest.raises(InvalidInput):
            AchievementTemplate.from_json({**data, **change})
