"""Demo data: the draft RQF, the EQF, and illustrative frameworks of Guatemala, Colombia, Peru and Chile
plus Ireland's NFQ (a real-world fixture), each with qualifications and an approved, published mapping.

Idempotent: a second run imports nothing new and re-signs nothing (same documents, same ETags).
DEMO ONLY: this node hosts a ministry identity and key for every seed country (`ministries/co`, ...),
so that it can sign their publications. A real node holds only its own ministry's key; other
countries' publications arrive signed from their nodes. The frameworks are illustrative, not official.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
REFERENCE_FILES = ("rqf-2026.1-draft.json", "eqf-2017.json")
SEED_FRAMEWORKS = {"gt-mnc": "GT", "co-mnc": "CO", "pe-mncp": "PE", "cl-mctp": "CL", "ie-nfq": "IE"}
DEMO_NAMES = {"IE": "Quality and Qualifications Ireland (demo signer)"}


def bundled_rqf_path() -> Path:
    return DATA / REFERENCE_FILES[0]


async def seed_demo(services: Any) -> dict[str, Any]:
    from node.framework.wiring import framework_service
    from node.identities import ensure_ministry

    service = framework_service(services)
    out: dict[str, Any] = {"frameworks": {}}
    for name in REFERENCE_FILES:
        summary = await service.import_text((DATA / name).read_text(encoding="utf-8"), "json")
        out["frameworks"][summary["framework"]] = {"version": summary["version"], "status": summary["status"]}
    for framework_id, jurisdiction in SEED_FRAMEWORKS.items():
        await ensure_ministry(services, jurisdiction, DEMO_NAMES.get(jurisdiction))
        summary = await service.import_text((DATA / "seed" / f"{framework_id}.json").read_text(encoding="utf-8"), "json")
        published = await service.publish(framework_id)
        out["frameworks"][framework_id] = {"version": summary["version"], "status": summary["status"],
                                           "publication": {"issuer": published.document["issuer"], "sha256": published.sha256,
                                                           "new": published.new}}
    return out
