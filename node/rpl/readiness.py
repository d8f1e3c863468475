"""Readiness of a jurisdiction against the Regional Scheme checkpoints (pure rules).

The readiness rule: a jurisdiction is "ready" for recognition agreements only when EVERY mandatory
checkpoint of the catalogue is answered `met`. `partially_met`, `not_met` and `not_applicable` on a
mandatory checkpoint all block readiness. `not_applicable` blocks because a checkpoint is mandatory
precisely when the Regional Scheme expects it of every member: letting a country declare it
inapplicable would let it exempt itself from the safeguard (e.g. "access for migrants") that peers rely
on when they recognise its certificates. Optional checkpoints never change the result.

Answers must also be checkable by peers, so `met` and `partially_met` need at least one evidence item.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from node.clock import isoformat_z
from node.errors import ValidationFailed
from node.rpl.catalogue import Catalogue
from node.rpl.schemas import schema_errors
from node.rpl.validation import invalid
from node.verification import Check

ANSWER_VALUES = ("met", "partially_met", "not_met", "not_applicable")
NEEDS_EVIDENCE = ("met", "partially_met")
READY = "ready"
NOT_READY = "not_ready"

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
PUENTE_CONTEXT = "https://w3id.org/puente/v1"
CREDENTIAL_TYPE = "ReadinessAssessmentCredential"


@dataclass(frozen=True)
class Evidence:
    description: str
    url: str | None = None

    def to_json(self) -> dict[str, str]:
        return {"description": self.description, **({"url": self.url} if self.url else {})}


@dataclass(frozen=True)
class Answer:
    checkpoint_id: str
    answer: str
    evidence: tuple[Evidence, ...] = ()
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"checkpoint": self.checkpoint_id, "answer": self.answer}
        if self.evidence:
            out["supportingEvidence"] = [e.to_json() for e in self.evidence]
        if self.comment:
            out["comment"] = self.comment
        return out


def unmet_mandatory(catalogue: Catalogue, answers: tuple[Answer, ...]) -> tuple[str, ...]:
    """Mandatory checkpoints not answered `met`, in catalogue order (the readiness rule)."""
    given = {a.checkpoint_id: a.answer for a in answers}
    return tuple(cid for cid in catalogue.mandatory_ids if given.get(cid) != "met")


def readiness_result(catalogue: Catalogue, answers: tuple[Answer, ...]) -> str:
    return NOT_READY if unmet_mandatory(catalogue, answers) else READY


def parse_answers(document: Any, catalogue: Catalogue) -> tuple[Answer, ...]:
    """Validate answers against the catalogue; every problem is reported at once, with its path."""
    errors = schema_errors("readiness-answers", document)
    if errors:
        raise invalid("the readiness answers do not match their schema", errors)
    wanted = document.get("catalogue")
    if wanted and (wanted["id"], wanted["version"]) != (catalogue.id, catalogue.version):
        raise ValidationFailed(
            f"answers are for catalogue {wanted['id']}@{wanted['version']}, not {catalogue.key}",
            errors=[{"path": "$.catalogue", "error": f"expected {catalogue.key}"}],
        )
    answers: list[Answer] = []
    seen: set[str] = set()
    for index, item in enumerate(document["answers"]):
        path = f"$.answers[{index}]"
        cid = item["checkpoint"]
        if catalogue.checkpoint(cid) is None:
            errors.append({"path": f"{path}.checkpoint", "error": f"unknown checkpoint {cid!r} in catalogue {catalogue.key}"})
            continue
        if cid in seen:
            errors.append({"path": f"{path}.checkpoint", "error": f"checkpoint {cid!r} answered twice"})
            continue
        seen.add(cid)
        evidence = tuple(Evidence(e["description"], e.get("url")) for e in item.get("supportingEvidence", ()))
        if item["answer"] in NEEDS_EVIDENCE and not evidence:
            errors.append({"path": f"{path}.supportingEvidence", "error": f"answer {item['answer']!r} needs at least one evidence item"})
        answers.append(Answer(cid, item["answer"], evidence, item.get("comment") or None))
    for cid in catalogue.mandatory_ids:
        if cid not in seen:
            errors.append({"path": "$.answers", "error": f"mandatory checkpoint {cid!r} is not answered"})
    if errors:
        raise invalid(f"{len(errors)} problem(s) in the readiness answers", errors)
    order = {c.id: i for i, c in enumerate(catalogue.checkpoints)}
    return tuple(sorted(answers, key=lambda a: order[a.checkpoint_id]))


def build_credential(
    *,
    jurisdiction: str,
    catalogue: Catalogue,
    answers: tuple[Answer, ...],
    issuer: str,
    credential_id: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The unsigned readiness-assessment VC a ministry signs and publishes for its peers."""
    unmet = unmet_mandatory(catalogue, answers)
    return {
        "@context": [CREDENTIALS_V2, PUENTE_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", CREDENTIAL_TYPE],
        "issuer": issuer,
        "validFrom": isoformat_z(issued_at),
        "credentialSubject": {
            "type": "ReadinessAssessment",
            "jurisdiction": jurisdiction,
            "checkpointCatalogue": {"id": catalogue.id, "version": catalogue.version, "digestSha256": catalogue.digest()},
            "answers": [a.to_json() for a in answers],
            "result": READY if not unmet else NOT_READY,
            "unmetMandatoryCheckpoints": list(unmet),
        },
    }


def answers_from_json(items: list[Mapping[str, Any]]) -> tuple[Answer, ...]:
    """Rebuild stored answers (already validated when recorded)."""
    return tuple(
        Answer(i["checkpoint"], i["answer"], tuple(Evidence(e["description"], e.get("url")) for e in i.get("supportingEvidence", ())), i.get("comment"))
        for i in items
    )


def consistency_checks(credential: Mapping[str, Any], catalogue: Catalogue | None) -> list[Check]:
    """Does the signed result follow from the signed answers under the cited catalogue version?

    A peer does not take "ready" on trust: it recomputes the rule. An unknown catalogue version or a
    different catalogue digest fails closed (the answers cannot be judged against questions we lack).
    """
    checks: list[Check] = []
    errors = schema_errors("readiness-assessment", credential)
    if errors:
        detail = "; ".join(f"{e['path']}: {e['error']}" for e in errors[:5])
        return [Check("readiness.schema", False, "schema_invalid", detail)]
    checks.append(Check("readiness.schema", True))
    subject = credential["credentialSubject"]
    cited = subject["checkpointCatalogue"]
    if catalogue is None:
        return checks + [Check("readiness.catalogue", False, "unknown_catalogue", f"catalogue {cited['id']}@{cited['version']} is not loaded here")]
    if cited["digestSha256"] != catalogue.digest():
        return checks + [Check("readiness.catalogue", False, "catalogue_mismatch", f"the credential cites different content for {catalogue.key}")]
    checks.append(Check("readiness.catalogue", True, detail=catalogue.key))
    try:
        answers = parse_answers({"answers": subject["answers"]}, catalogue)
    except ValidationFailed as exc:
        detail = "; ".join(f"{e['path']}: {e['error']}" for e in exc.extensions.get("errors", [])[:5])
        return checks + [Check("readiness.answers", False, "invalid_answers", detail or exc.detail)]
    checks.append(Check("readiness.answers", True))
    unmet = list(unmet_mandatory(catalogue, answers))
    expected = READY if not unmet else NOT_READY
    if subject["result"] != expected or subject["unmetMandatoryCheckpoints"] != unmet:
        checks.append(Check("readiness.result", False, "result_mismatch",
                            f"the answers imply {expected} (unmet: {', '.join(unmet) or 'none'}), the credential says {subject['result']}"))
    else:
        checks.append(Check("readiness.result", True, detail=expected))
    return checks
