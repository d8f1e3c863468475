"""Builds the RPL services from the node's services (the one place that knows both sides)."""

from __future__ import annotations

from typing import Any

from node.errors import ValidationFailed
from node.identities import ministry_key
from node.rpl.case_service import CaseService, CredentialOrder, IssueCredential, RevokeCredential
from node.rpl.readiness_service import ReadinessService


def readiness_service(services: Any) -> ReadinessService:
    async def key_for(jurisdiction: str):
        return await ministry_key(services, jurisdiction)

    return ReadinessService(services.uow, services.clock, services.signer, key_for)


def case_service(services: Any) -> CaseService:
    return CaseService(services.uow, services.clock, issue_through_issuance(services),
                       structured_evidence=True, check_template=template_checker(services),
                       revoke_credential=revoke_through_issuance(services))


def template_checker(services: Any):
    """A case may only be opened for a template that exists and belongs to the case's institution."""

    async def check(institution: str, template_id: str) -> None:
        from node.issuance.service import IssuanceService

        template = await IssuanceService.from_services(services).get_template(template_id)
        _require_same_institution(template, template_id, institution)

    return check


def _require_same_institution(template: Any, template_id: str, institution: str) -> None:
    if template.institution != institution:
        raise ValidationFailed(
            f"template {template_id!r} belongs to {template.institution}, not to {institution} which runs the case",
            errors=[{"path": "template", "error": "must be a template of the case's institution"}],
        )


def issue_through_issuance(services: Any) -> IssueCredential:
    """Issue an RPL decision's credential with the issuance capability, inside the case's unit of work
    (signed now, committed with the decision by the case service)."""

    async def issue(order: CredentialOrder, uow: Any) -> str:
        from node.issuance.repository import IssuanceRepository
        from node.issuance.service import IssuanceService

        issuance = IssuanceService.from_services(services)
        # Checked again at decision time: the template could have been reassigned since the case opened.
        template = await IssuanceRepository(uow.session).template(order.template_id)
        _require_same_institution(template, order.template_id, order.institution)
        # The narrative names the case, so issuance's idempotency key (template, identifier, content)
        # is per case: retrying a decision returns the same credential instead of a second one.
        row = {"given_name": order.given_name, "family_name": order.family_name, "identifier": order.identifier,
               "narrative": order.narrative}
        # A partial decision's credential names only the certified units (see node.issuance.ob3.partial_achievement).
        issued = await issuance.issue_in(uow, order.template_id, row, evidence=order.evidence,
                                         partial_units=order.units_certified)
        return issued.uri

    return issue


def revoke_through_issuance(services: Any) -> RevokeCredential:
    """Revoke an overturned decision's credential inside the case's unit of work. A credential its
    institution already revoked stays revoked (nothing to change); a suspended one is revoked."""

    async def revoke(credential_id: str, reason: str, uow: Any) -> None:
        from node.issuance.model import REVOKED
        from node.issuance.repository import IssuanceRepository
        from node.issuance.service import IssuanceService

        if (await IssuanceRepository(uow.session).credential(credential_id)).state == REVOKED:
            return
        await IssuanceService.from_services(services).change_status_in(uow, credential_id, "revoke", reason)

    return revoke
