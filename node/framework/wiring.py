"""Builds the framework service from the node's services (the one place that knows both sides)."""

from __future__ import annotations

from typing import Any

from node.framework.service import FrameworkService


def framework_service(services: Any) -> FrameworkService:
    from node.identities import ministry_key  # the ministry identity of a jurisdiction hosted here

    async def key_for(jurisdiction: str):
        return await ministry_key(services, jurisdiction)

    return FrameworkService(services.uow, services.clock, services.signer, key_for, base_url=services.settings.base_url or "")


def peer_publications(services: Any):
    """Accepting peers' signed framework publications, verified by this node's framework checks."""
    from node.framework.peers import PeerPublications

    return PeerPublications(services.uow, services.clock, framework_service(services).verify)
