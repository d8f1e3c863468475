"""Builds the RPL services from the node's services (the one place that knows both sides)."""

from __future__ import annotations

import inspect
from typing import Any

from node.errors import ValidationFailed
from node.rpl.case_service import CaseService, CredentialOrder, IssueCredential
from node.rpl.ministries import ministry_key
from node.rpl.readiness_service import ReadinessService


def readiness_service(services: Any) -> ReadinessService:
    async def key_for(jurisdiction: str):
        return await ministry_key(services, jurisdiction)

    return ReadinessService(services.uow, services.clock, services.signer, key_for)


def case_service(services: Any) -> CaseService:
    return CaseService(services.uow, services.clock, issue_through_issuance(services))


def issue_through_issuance(services: Any) -> IssueCredential:
    """Issue an RPL decision's credential with the issuance capability's issue-one use case."""

    async def issue(order: CredentialOrder) -> str:
        from node.issuance.service import IssuanceService

        issuance = IssuanceService.from_services(services)
        template = await issuance.get_template(order.template_id)
        if template.institution != order.institution:
            raise ValidationFailed(
                f"template {order.template_id!r} belongs to {template.institution}, not to {order.institution} which ran the case",
                errors=[{"path": "template", "error": "must be a template of the case's institution"}],
            )
        # The narrative names the case, so issuance's idempotency key (template, identifier, content)
        # is per case: retrying a decision returns the same credential instead of a second one.
        row = {"given_name": order.given_name, "family_name": order.family_name, "identifier": order.identifier,
               "narrative": order.narrative}
        options: dict[str, Any] = {}
        if "evidence" in inspect.signature(issuance.issue_one).parameters:
            options["evidence"] = order.evidence
        issued = await issuance.issue_one(order.template_id, row, **options)
        return issued.uri

    return issue
