"""The units of a partial decision become the credential's name, criteria and PDF: they are bounded, text
and named once; a long list flows onto a second PDF page instead of under the QR code."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from node.errors import ValidationFailed
from node.rpl.model import MAX_UNITS, Case

AT = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def assessed_case() -> Case:
    case = Case(id="c1", candidate_given_name="Ana", candidate_family_name="López", candidate_identifier="ana@example.org",
                template_id="t", institution="intecap", opened_at=AT, opened_by="desk", state="assessed",
                assessor="Marta Quispe", assessment_id="urn:uuid:a", assessment_method="observation", assessed_at=AT)
    return case


@pytest.mark.parametrize("units,error", [
    (("U1", "u1 "), "each unit at most once"),
    (tuple(f"U{i}" for i in range(MAX_UNITS + 1)), f"at most {MAX_UNITS} units"),
    (("U" * 201,), "at most 200 characters"),
    ("U1", "a list of strings"),
    (("U1", 7), "a list of strings"),
])
def test_partial_units_are_bounded_text_named_once(units, error):
    case = assessed_case()
    with pytest.raises(ValidationFailed) as raised:
        case.decide(outcome="partial", units=units, actor="Marta Quispe", reason="r", at=AT)
    assert any(error in e["error"] for e in raised.value.extensions["errors"])
    assert case.state == "assessed" and case.decision is None


def test_a_long_unit_list_flows_onto_a_second_page_and_lists_every_unit():
    from pypdf import PdfReader

    from node.issuance import delivery
    from node.issuance.model import AccreditationScope, AchievementTemplate, Institution, make_recipient
    from node.issuance.ob3 import build_credential

    template = AchievementTemplate.from_json({"id": "t", "institution": "intecap", "name": "Albañil (nivel 2)", "description": "d"})
    institution = Institution("intecap", "INTECAP", "did:web:x:institutions:intecap", AccreditationScope())
    units = [f"U{i} Unidad de competencia número {i} con un nombre largo" for i in range(1, MAX_UNITS + 1)]
    credential = build_credential(template=template, institution=institution, recipient=make_recipient("Ana", "López", "a@example.org", "s"),
                                  credential_id="http://x/credentials/1", issued_at=AT, credential_status=None, base_url="http://x",
                                  partial_units=units)
    reader = PdfReader(io.BytesIO(delivery.pdf(credential, "http://x/verify/1")))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) >= 2
    assert all(f"- {unit}" in text for unit in units)
    assert "http://x/verify/1" in reader.pages[-1].extract_text()  # the QR block's link, on the last page
