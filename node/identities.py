"""Identities this node hosts beyond its own: the ministry identity of a jurisdiction.

A platform module (next to the keystore), not part of a capability: framework publications, RPL
readiness assessments and (next) federation trust lists are all signed by a ministry.

The node's own jurisdiction has its ministry at path `ministry` (created by `puente init`). A demo or
regional node may also host other jurisdictions' ministries, at `ministries/<code>` (did:web
`...:ministries:co`). Both the framework and the RPL seeds go through `ensure_ministry`, so one
jurisdiction never ends up with two ministry identities.
"""

from __future__ import annotations

from typing import Any

from node.documents import jurisdiction_code
from node.errors import NotFound

DEMO_MINISTRY_NAMES = {
    "GT": "Ministerio de Trabajo y Previsión Social (Guatemala)",
    "CO": "Ministerio del Trabajo (Colombia)",
    "PE": "Ministerio de Trabajo y Promoción del Empleo (Perú)",
    "CL": "Ministerio del Trabajo y Previsión Social (Chile)",
}


def ministry_path(jurisdiction: str, own_jurisdiction: str | None) -> str:
    """`ministry` for the node's own jurisdiction, `ministries/<code>` for any other."""
    code = jurisdiction_code(jurisdiction)
    if own_jurisdiction and code == own_jurisdiction.upper():
        return "ministry"
    return f"ministries/{code.lower()}"


def ministry_did(services: Any, jurisdiction: str) -> str:
    return services.keystore.did_for_path(ministry_path(jurisdiction, services.settings.jurisdiction))


async def ensure_ministry(services: Any, jurisdiction: str, name: str | None = None) -> str:
    """Get or create the ministry identity (did:web + key) of a jurisdiction; returns its DID."""
    code = jurisdiction_code(jurisdiction)
    path = ministry_path(code, services.settings.jurisdiction)
    name = name or DEMO_MINISTRY_NAMES.get(code) or f"Ministry of Labour ({code})"
    did, _created = await services.keystore.ensure_identity("ministry", name, path, jurisdiction=code)
    return did


async def ministry_key(services: Any, jurisdiction: str):
    """The current signing key of a jurisdiction's ministry hosted here; NotFound if not hosted."""
    code = jurisdiction_code(jurisdiction)
    did = ministry_did(services, code)
    if await services.keystore.identity(did) is None:
        raise NotFound(f"this node does not host the ministry of {code} ({did})")
    return await services.keystore.signing_key(did)
