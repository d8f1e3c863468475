"""Public verification of a credential (what `POST /verify` answers to an employer without an account).

The wiring of the one pipeline (node/verification/pipeline.py: proofs, issuer binding, validity) for
credentials: `schema` (OB 3.0 JSON Schema), `status` (Bitstring Status List, only after proofs and
issuer passed) and the trust stage `accreditation` (was the issuer accredited, for this achievement's
scope, on the credential's validFrom?). Every check fails closed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from node.clock import parse_datetime
from node.verification import Check, VerificationResult

OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
# A foreign issuer's accreditation comes from the federation's trust lists: (issuer DID, as-of) -> checks.
TrustLookup = Callable[[str, dict[str, Any], datetime], Awaitable[Sequence[Check]]]


def _types(credential: dict[str, Any]) -> set[str]:
    value = credential.get("type")
    return set(value if isinstance(value, list) else [value])


async def schema_check(credential: dict[str, Any], now: datetime) -> Sequence[Check]:
    from node.issuance.schema import ob3_schema_verdict

    if not _types(credential) & OB3_TYPES:
        return [Check("schema", True, detail="not an Open Badges credential: no schema applies")]
    # A credentialStatus array (revocation + suspension entries, as the VC data model allows) is checked
    # one entry at a time in place of the single object the OB 3.0 schema expects; see the issuer guide.
    # The compiled validator answers a valid credential, as it does when issuing (exact for these schemas,
    # tests/unit/issuance/test_schema.py); jsonschema, the authority, decides and explains anything else.
    # jsonschema alone was most of a /verify's CPU. A worker thread, so a large document never holds the
    # event loop for the whole validation (the GIL still switches every few ms).
    errors = await asyncio.to_thread(ob3_schema_verdict, credential)
    if errors:
        shown = "; ".join(f"{e['path']}: {e['error']}" for e in errors[:3])
        return [Check("schema", False, "schema_invalid", f"{len(errors)} violation(s) of the OB 3.0 schema: {shown}")]
    return [Check("schema", True, detail="valid against the OB 3.0 AchievementCredential schema")]


class AccreditationCheck:
    check_name = "accreditation"

    def __init__(self, issuance, trust_lookup: TrustLookup | None = None) -> None:
        self._issuance = issuance
        self._trust_lookup = trust_lookup

    async def __call__(self, credential: dict[str, Any], now: datetime) -> Sequence[Check]:
        from node.verification.checks import issuer_id
        from node.issuance.repository import IssuanceRepository

        issuer = issuer_id(credential)
        issued_on = parse_datetime(credential.get("validFrom") or credential.get("issuanceDate"))
        subject = credential.get("credentialSubject")
        achievement = subject.get("achievement") if isinstance(subject, dict) else None
        achievement_id = achievement.get("id", "") if isinstance(achievement, dict) else ""
        prefix = f"{self._issuance.base_url}/achievements/"
        template_id = achievement_id[len(prefix):] if isinstance(achievement_id, str) and achievement_id.startswith(prefix) else None
        async with self._issuance.uow() as uow:
            institution, template = await IssuanceRepository(uow.session).institution_and_template_data(issuer, template_id)
        if institution is None:
            if self._trust_lookup is not None:
                return list(await self._trust_lookup(issuer, credential, issued_on))
            return [Check("accreditation", False, "unknown_issuer",
                          f"{issuer} is not an institution of this node nor in any trust list it holds")]
        if not institution.accredited_at(issued_on):
            return [Check("accreditation", False, "not_accredited",
                          f"{institution.name} was not accredited on {issued_on.date()}")]
        if template is None or template.get("institution") != institution.slug:
            return [Check("accreditation", False, "unknown_achievement",
                          f"the achievement is not one of {institution.name}'s templates")]
        gaps = institution.scope.covers(sector=template.get("sector"), isco_code=template.get("isco_code"),
                                        rqf_level=template.get("rqf_level"))
        if gaps:
            return [Check("accreditation", False, "out_of_scope", "; ".join(gaps))]
        return [Check("accreditation", True, detail=f"{institution.name}, accredited for this achievement on {issued_on.date()}")]


def public_verifier(services, *, resolver: Any = None, offline: bool = False, trust_lookup: TrustLookup | None = None):
    """The one credential verifier of a node: POST /verify, the QR page and `puente credential verify`
    run in a node's data directory all use it, so they give the same verdicts. `resolver`: the node's
    resolver with extra DID documents (the CLI's --did-documents); `offline`: fetch nothing."""
    from node.issuance.service import IssuanceService
    from node.issuance.status_check import make_status_check
    from node.verification.pipeline import CredentialVerifier

    issuance = IssuanceService.from_services(services)
    return CredentialVerifier(services.signer, resolver or services.resolver, services.clock, [schema_check],
                              status=make_status_check(services), trust=AccreditationCheck(issuance, trust_lookup),
                              outbound=None if offline else services.outbound, verified=services.verified_documents)


def standalone_verifier(signer: Any, resolver: Any, clock: Any, outbound: Any = None):
    """The same pipeline without a node (`puente credential verify` elsewhere): proofs, issuer binding,
    validity, schema and status; no accreditation data, which the result reports as "trust": "not_consulted"."""
    from node.issuance.status_check import make_status_check
    from node.verification.pipeline import CredentialVerifier

    return CredentialVerifier(signer, resolver, clock, [schema_check], status=make_status_check(None), outbound=outbound)


async def verify_credential(services, credential: Any, **options) -> VerificationResult:
    return await public_verifier(services, **options).verify(credential)
