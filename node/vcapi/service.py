"""VC API issuance: sign a credential the caller wrote, with the institution's key, status entries from its
own lists, stored like every other credential (so it can be read, revoked and verified).

It reuses the issuance service (keys, status lists, signer, units of work, audit) and its rules: the
institution must be accredited today for the achievement, the achievement must be one of its templates
(a Puente credential row belongs to a template), and the issuer is the institution's DID.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from node.audit import record
from node.clock import isoformat_z, parse_datetime
from node.errors import Conflict, ForbiddenTransition, InvalidInput, NotFound, ValidationFailed
from node.issuance import ob3
from node.issuance.lists import serialise
from node.issuance.model import ACTIVE
from node.issuance.orm import CredentialRow
from node.issuance.repository import IssuanceRepository
from node.issuance.service import IssuanceService, IssuedCredential
from node.vcapi.model import IssueOrder, NonConforming


def template_of(credential: dict[str, Any], base_url: str) -> str:
    """The template a credential is issued for: its achievement's id, `<node>/achievements/<template>`."""
    subjects = credential.get("credentialSubject")
    subject = subjects[0] if isinstance(subjects, list) and len(subjects) == 1 else subjects
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    achievement_id = achievement.get("id") if isinstance(achievement, dict) else None
    prefix = f"{base_url}/achievements/"
    if not isinstance(achievement_id, str) or not achievement_id.startswith(prefix) or "/" in achievement_id[len(prefix):]:
        raise InvalidInput(
            "this node issues only achievements its institutions are accredited for: credentialSubject.achievement.id "
            f"must be the id of one of the institution's achievements ({prefix}<template>)",
            errors=[{"path": "$.credentialSubject.achievement.id", "error": "not an achievement of this node"}])
    return achievement_id[len(prefix):]


class VcApiIssuance:
    def __init__(self, issuance: IssuanceService) -> None:
        self.issuance = issuance

    async def template_institution(self, credential: dict[str, Any]) -> tuple[str, str]:
        template = await self.issuance.get_template(template_of(credential, self.issuance.base_url))
        return template.id, template.institution

    async def issue(self, order: IssueOrder, template_id: str) -> IssuedCredential:
        service = self.issuance
        credential = dict(order.credential)
        async with service.uow() as uow:
            repo = IssuanceRepository(uow.session)
            template = await repo.template(template_id)
            institution = await repo.institution(template.institution)
            now = service.clock.now()
            if not institution.accredited_at(now):
                raise ForbiddenTransition(f"{institution.name} is not accredited to issue on {now.date()}")
            gaps = institution.scope.covers(sector=template.sector, isco_code=template.isco_code, rqf_level=template.rqf_level)
            if gaps:
                raise ForbiddenTransition(f"{institution.name} is no longer accredited for {template.name}: {'; '.join(gaps)}")
            _set_issuer(credential, institution)
            row_id = str(uuid.uuid4())
            if "id" not in credential and order.credential_id is None:
                credential["id"] = ob3.credential_url(service.base_url, row_id)  # so it can be read and revoked
            uri = credential.get("id") if isinstance(credential.get("id"), str) else order.credential_id
            if uri is None:
                raise InvalidInput("credential.id must be a string (a URL)")
            if await repo.credential_by_uri(uri) is not None:
                raise Conflict(f"a credential {uri!r} was already issued here; give a new credential.id")
            credential.setdefault("validFrom", isoformat_z(now))  # accreditation is judged on validFrom
            valid_until = _valid_until(credential)
            key = await service.keystore.signing_key(institution.did)
            # Reserved in short transactions of their own (this one has only read), so nothing is locked while signing.
            flat = tuple([entry for purpose in institution.status_purposes
                          for entry in await service.lists.reserve(institution.slug, institution.did, key, 1, now, purpose)])
            entries = [entry.entry(service.base_url) for entry in flat]
            credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
            try:
                signed = await service.signer.sign(credential, key, suite=order.suite, created=order.created or now)
            except ValidationFailed as exc:  # the VC 2.0 / OB 3.0 rules (vc_rules): 400 with every violation
                raise NonConforming(exc.detail, errors=exc.extensions.get("errors", [])) from None
            if service.validate_schema:
                from node.issuance.schema import ob3_first_error

                error = await asyncio.to_thread(ob3_first_error, signed)
                if error:
                    raise NonConforming(f"the credential does not match the OB 3.0 schema: {error['path']}: {error['error']}",
                                        errors=[error])
            text, digest = serialise(signed)
            repo.add(CredentialRow(
                id=row_id, uri=uri, institution=institution.slug, template_id=template.id,
                idempotency_key=hashlib.sha256(f"vc-api\n{uri}".encode("utf-8")).hexdigest(), document=text,
                digest=digest, issued_at=now, valid_until=valid_until, state=ACTIVE, **service._status_columns(flat)))
            record(uow.session, "credential.issue", uri, at=now)
            try:
                await uow.commit()
            except IntegrityError:
                raise Conflict(f"a credential {uri!r} was issued concurrently; give a new credential.id") from None
            return IssuedCredential(row_id, uri, text)

    async def stored(self, reference: str) -> "Stored":
        """A stored credential by its id (credential.id or credentialId), its URL or its uuid."""
        async with self.issuance.uow() as uow:
            repo = IssuanceRepository(uow.session)
            row = await repo.credential_by_uri(reference)
            if row is None:
                try:
                    row = await repo.credential(reference)
                except NotFound:
                    raise NotFound(f"no credential {reference!r} issued by this node") from None
            return Stored(row.id, row.uri, row.institution, row.document)


@dataclass(frozen=True)
class Stored:
    id: str  # Puente's uuid (what the issuance service's status changes take)
    uri: str
    institution: str
    document: str


def _set_issuer(credential: dict[str, Any], institution) -> None:
    """The issuer is the token's institution: set (its OB 3.0 Profile) when absent, refused when it names
    anyone else."""
    issuer, did = credential.get("issuer"), institution.did
    if issuer is None:
        credential["issuer"] = institution.profile()
        return
    named = issuer.get("id") if isinstance(issuer, dict) else issuer
    if named != did:
        raise InvalidInput(f"credential.issuer must be this institution's DID {did} (or left out)",
                           errors=[{"path": "$.issuer", "error": "not the issuing institution"}])


def _valid_until(credential: dict[str, Any]):
    value = credential.get("validUntil")
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None  # the rules (vc_rules) refuse it when signing, with its path
