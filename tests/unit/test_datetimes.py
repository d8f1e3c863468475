"""Date-times without an offset are invalid input everywhere (XSD dateTimeStamp): "2026-06-01T12:00:00" is a
different instant in Guatemala City and in Madrid, so it is refused, never silently read as UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from node.clock import parse_datetime

OFFSETLESS = ["2026-06-01T12:00:00", "2026-06-01T12:00:00.5", "2026-06-01", "2026-06-01 12:00:00Z",
              "20260601T120000Z", "2026-06-01T12:00Z", "", "yesterday"]


@pytest.mark.parametrize("value", OFFSETLESS)
def test_parse_datetime_refuses_values_without_offset_or_not_xsd(value):
    with pytest.raises(ValueError):
        parse_datetime(value)


@pytest.mark.parametrize("value,expected", [
    ("2026-06-01T12:00:00Z", datetime(2026, 6, 1, 12, tzinfo=timezone.utc)),
    ("2026-06-01T06:00:00-06:00", datetime(2026, 6, 1, 12, tzinfo=timezone.utc)),
    ("2026-06-01T12:00:00.250+00:00", datetime(2026, 6, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)),
])
def test_parse_datetime_reads_offsets(value, expected):
    assert parse_datetime(value) == expected
    assert parse_datetime(value).tzinfo is not None


def test_parse_datetime_refuses_non_strings():
    with pytest.raises(ValueError):
        parse_datetime(1748779200)  # type: ignore[arg-type]


def test_a_proof_created_without_offset_fails_verification():
    from node.crypto.data_integrity import add_proof, verify_document
    from node.crypto.keys import KeyPair

    key = KeyPair.from_seed(bytes(range(32)))
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                "issuer": key.controller, "credentialSubject": {"id": "did:example:1"}}
    signed = add_proof(document, key, suite="eddsa-jcs-2022", created="2026-01-01T00:00:00")
    result = verify_document(signed, lambda vm: key.public_key, now=datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert not result.verified
    assert "bad_created" in {c.reason for c in result.checks if not c.ok}


@pytest.mark.parametrize("field", ["validFrom", "validUntil"])
def test_validity_without_offset_is_invalid(field):
    from node.verification.checks import validity_check

    now = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
    moment = (now + timedelta(hours=3) if field == "validUntil" else now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
    check = validity_check({field: moment}, now)
    assert not check.ok and check.reason == "invalid_date"


@pytest.mark.parametrize("value", ["2026-05-30T10:00:00", "2026-05-30T10:00"])
def test_activity_date_times_need_an_offset(value):
    from node.errors import InvalidInput
    from node.issuance.model import IssueRequest

    row = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org", "activity_end_date": value}
    with pytest.raises(InvalidInput, match="offset"):
        IssueRequest.from_row("t", row)
    row["activity_end_date"] = value.split("T")[0]  # a plain date is a day, read from its start in UTC
    assert IssueRequest.from_row("t", row).extras["activity_end_date"] == "2026-05-30T00:00:00Z"
    row["activity_end_date"] = "2026-05-30T10:00:00-06:00"
    assert IssueRequest.from_row("t", row).extras["activity_end_date"] == "2026-05-30T10:00:00-06:00"


def test_cli_sign_refuses_created_without_offset(tmp_path, capsys):
    import json

    from node.cli import main
    from node.crypto.keys import KeyPair

    key = tmp_path / "key.json"
    key.write_text(json.dumps(KeyPair.from_seed(bytes(range(32))).to_json(include_secret=True)))
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                               "issuer": "did:example:1", "credentialSubject": {"id": "did:example:2"}}))
    code = main(["credential", "sign", "--key", str(key), "--suite", "eddsa-jcs-2022",
                 "--created", "2026-01-01T00:00:00", str(doc)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("puente: --created") and len(err.strip().splitlines()) == 1
