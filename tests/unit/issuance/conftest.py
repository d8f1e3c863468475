import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from node.issuance.model import AccreditationScope, AchievementTemplate, Institution

BASE = "http://127.0.0.1:8080"


def make_template(**overrides) -> AchievementTemplate:
    data = {
        "id": "intecap-albanileria-2",
        "institution": "intecap",
        "name": "Albañil (nivel 2)",
        "description": "Construye muros de mampostería y elementos de concreto según planos.",
        "qualification_code": "GT-CON-ALB-2",
        "qualification_title": "Albañilería",
        "framework_id": "gt-mnc",
        "national_level": "2",
        "rqf_level": 2,
        "sector": "construction",
        "isco_code": "7112",
        "esco_skills": [{"uri": "http://data.europa.eu/esco/skill/0b0a4e6d-2c5f-4b54-a1b8-5b5bd5b0d1b5", "label": "build masonry walls"}],
        "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"],
        "notional_workload_hours": 320,
        "assessment_type": "practical demonstration",
        "quality_assurance": "INTECAP certification unit",
        "validity": "P5Y",
        "languages": ["es"],
    }
    data.update(overrides)
    return AchievementTemplate.from_json(data)


def make_institution(**overrides) -> Institution:
    values = dict(
        slug="intecap",
        name="INTECAP",
        did="did:web:127.0.0.1%3A8080:institutions:intecap",
        scope=AccreditationScope(("construction",), ("7",), (1, 2, 3)),
        logo_url="https://intecap.edu.gt/logo.png",
    )
    values.update(overrides)
    return Institution(**values)


@pytest.fixture
def template():
    return make_template()


@pytest.fixture
def institution():
    return make_institution()


@pytest.fixture
def issued_at():
    return datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def read_conformance(*parts):
    root = Path(__file__).resolve().parents[2] / "conformance" / "data"  # the in-repo copy (tests/conformance/PROVENANCE.md)
    return json.loads(Path(root, *parts).read_text())


@pytest.fixture
def conformance():
    return read_conformance


@pytest.fixture
def template_factory():
    return make_template


@pytest.fixture
def base_url():
    return BASE
