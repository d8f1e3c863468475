"""Demo data: the draft checkpoint catalogue and signed readiness assessments for GT, CO, PE and CL.

Idempotent: running it again loads nothing new, records nothing new and re-publishes nothing (the
same signed documents stay in place, with the same ETags). GT, CO and CL come out "ready"; PE does not,
because migrants cannot yet access certification there (a nationality requirement remains).
The answers are illustrative, not statements about these countries' real systems.
"""

from __future__ import annotations

from typing import Any

from node.errors import NotFound
from node.identities import ensure_ministry
from node.rpl.catalogue import bundled_catalogue

DEMO_JURISDICTIONS = ("GT", "CO", "PE", "CL")

# Departures from "met" per jurisdiction: checkpoint -> (answer, comment).
_DEPARTURES: dict[str, dict[str, tuple[str, str]]] = {
    "GT": {"standards-comparison-method": ("partially_met", "Comparison method piloted with one sector (construction).")},
    "CO": {},
    "PE": {
        "access-for-migrants": ("not_met", "Certification still requires a national identity document; fee waivers under discussion."),
        "standards-comparison-method": ("not_met", "No comparison method adopted yet."),
    },
    "CL": {"standards-linked-to-nqf-isco": ("partially_met", "ISCO-08 codes assigned to 60% of standards.")},
}


def demo_answers(jurisdiction: str) -> dict[str, Any]:
    catalogue = bundled_catalogue()
    answers = []
    for checkpoint in catalogue.checkpoints:
        answer, comment = _DEPARTURES[jurisdiction].get(checkpoint.id, ("met", None))
        item: dict[str, Any] = {"checkpoint": checkpoint.id, "answer": answer}
        if answer in ("met", "partially_met"):
            item["supportingEvidence"] = [{
                "description": checkpoint.evidence_expected.get("es") or checkpoint.evidence_expected["en"],
                "url": f"https://{jurisdiction.lower()}.puente.example/evidencia/{checkpoint.id}",
            }]
        if comment:
            item["comment"] = comment
        answers.append(item)
    return {"catalogue": {"id": catalogue.id, "version": catalogue.version}, "answers": answers}


async def seed_demo(services: Any) -> dict[str, Any]:
    from node.rpl.wiring import readiness_service

    service = readiness_service(services)
    catalogue = await service.load_catalogue(bundled_catalogue())
    results: dict[str, Any] = {}
    for jurisdiction in DEMO_JURISDICTIONS:
        await ensure_ministry(services, jurisdiction)
        answers = demo_answers(jurisdiction)
        if not await _already_recorded(service, jurisdiction, answers):
            await service.record(jurisdiction, answers, recorded_by="demo seed")
        published = await service.publish(jurisdiction)
        results[jurisdiction] = {"result": published.document["credentialSubject"]["result"], "sha256": published.sha256,
                                 "issuer": published.document["issuer"]}
    return {"catalogue": {"id": catalogue["id"], "version": catalogue["version"]}, "readiness": results}


async def _already_recorded(service: Any, jurisdiction: str, answers: dict[str, Any]) -> bool:
    try:
        current = await service.show(jurisdiction)
    except NotFound:
        return False
    wanted = answers["catalogue"]
    return (current["catalogue"] == wanted) and current["answers"] == answers["answers"]
