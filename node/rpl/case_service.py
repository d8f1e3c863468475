"""Use cases of RPL cases: open, move through the states, attach evidence, decide, appeal.

Every change loads the case, applies the pure model (which enforces the transition table and who may
act), appends the transition to the history and saves, in one unit of work. A `full` or `partial`
decision issues the credential through an injected callable (the issuance service in production), so
this service can be tested without the issuance machinery. The callable works inside the case's unit
of work and the case commits once: the credential (signed before the commit) and the decision are
stored together or not at all. Likewise an overturned appeal revokes the decision's credential in the
transaction that closes the case, and the history's last line names the revoked credential.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from node.audit import record
from node.clock import Clock, isoformat_z
from node.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from node.rpl import repository as repo
from node.rpl.model import CLOSED, INQUIRY, STATES, Case, EvidenceItem, Transition, assessment_evidence, too_long
from node.rpl.orm import CaseEvidenceRow
from node.rpl.validation import invalid


@dataclass(frozen=True)
class CredentialOrder:
    """What an RPL decision asks the issuance capability to issue."""

    case_id: str
    institution: str
    template_id: str
    given_name: str
    family_name: str
    identifier: str
    evidence: list[dict[str, Any]]  # OB3 `evidence` entries (the assessment)
    units_certified: tuple[str, ...] = field(default_factory=tuple)
    narrative: str | None = None


# Both run inside the case's unit of work (passed as the second argument) and never commit: the case
# commits once, so a decision and its credential (or an overturn and its revocation) are stored together
# or not at all.
IssueCredential = Callable[[CredentialOrder, Any], Awaitable[str]]  # returns the issued credential's id
RevokeCredential = Callable[[str, str, Any], Awaitable[None]]  # (credential id, reason, unit of work)
# (institution, template id) -> None, or raises: a case must aim at something its institution can issue.
CheckTemplate = Callable[[str, str], Awaitable[None]]


class CaseService:
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock, issue_credential: IssueCredential | None,
                 *, new_id: Callable[[], str] = lambda: str(uuid.uuid4()), structured_evidence: bool = False,
                 check_template: CheckTemplate | None = None, revoke_credential: RevokeCredential | None = None) -> None:
        self._uow = uow_factory
        self._revoke = revoke_credential
        self._check_template = check_template
        self._structured_evidence = structured_evidence
        self._clock = clock
        self._issue = issue_credential
        self._new_id = new_id

    # -- opening --------------------------------------------------------------------------------

    async def open(self, *, institution: str, template_id: str, given_name: str, family_name: str, identifier: str,
                   actor: str, reason: str = "inquiry received", follows: str | None = None) -> dict[str, Any]:
        """Open a case; `follows` names the earlier case this one reassesses (same candidate and template)."""
        errors = []
        for name, value in (("institution", institution), ("template_id", template_id), ("actor", actor), ("reason", reason)):
            if not isinstance(value, str) or not value.strip():
                errors.append({"path": name, "error": "required"})
        if not (str(given_name or "").strip() or str(family_name or "").strip()):
            errors.append({"path": "given_name", "error": "the candidate needs a name"})
        try:
            identifier = _normalise_identifier(identifier)
        except InvalidInput as exc:
            errors.append({"path": "identifier", "error": exc.detail})
        errors += too_long({"given_name": (given_name, "name"), "family_name": (family_name, "name"), "identifier": (identifier, "identifier"),
                            "institution": (institution, "institution"), "template_id": (template_id, "template"), "actor": (actor, "actor")})
        if errors:
            raise invalid("cannot open the RPL case", errors)
        if self._check_template is not None:
            await self._check_template(institution.strip(), template_id.strip())
        now = self._clock.now()
        case = Case(id=self._new_id(), candidate_given_name=str(given_name or "").strip(),
                    candidate_family_name=str(family_name or "").strip(), candidate_identifier=identifier,
                    template_id=template_id.strip(), institution=institution.strip(), opened_at=now, opened_by=actor.strip(),
                    follows_case_id=follows or None)
        async with self._uow() as uow:
            if follows:
                previous = await self._load(uow, follows)
                if previous.case.institution != case.institution:  # another institution's case: not visible here
                    raise NotFound(f"no RPL case {follows}")
                previous.case.check_can_be_followed_by(identifier=case.candidate_identifier, template_id=case.template_id)
            repo.add_case(uow.session, case)
            await uow.session.flush()  # the case row must exist before its history (FK)
            await repo.append_transition(uow.session, Transition(case.id, None, INQUIRY, actor.strip(), reason.strip(), now))
            record(uow.session, "rpl.case.open", case.id, at=now)
            await uow.commit()
        return await self.show(case.id)

    # -- transitions ----------------------------------------------------------------------------

    async def advance(self, case_id: str, to_state: str, *, actor: str, reason: str) -> dict[str, Any]:
        return await self._change(case_id, lambda case, at: case.advance(to_state, actor=actor, reason=reason, at=at))

    async def plan_assessment(self, case_id: str, *, assessor: str, method: str, actor: str, reason: str) -> dict[str, Any]:
        assessment_id = f"urn:uuid:{uuid.uuid4()}"
        return await self._change(case_id, lambda case, at: case.plan_assessment(
            assessor=assessor, method=method, assessment_id=assessment_id, actor=actor, reason=reason, at=at))

    async def decide(self, case_id: str, *, outcome: str, units: tuple[str, ...] = (), actor: str, reason: str) -> dict[str, Any]:
        return await self._change(case_id, lambda case, at: case.decide(outcome=outcome, units=tuple(units), actor=actor, reason=reason, at=at),
                                  issue=True)

    async def appeal(self, case_id: str, *, reviewer: str, actor: str, reason: str) -> dict[str, Any]:
        return await self._change(case_id, lambda case, at: case.appeal(reviewer=reviewer, actor=actor, reason=reason, at=at))

    async def resolve_appeal(self, case_id: str, *, outcome: str, actor: str, reason: str) -> dict[str, Any]:
        return await self._change(case_id, lambda case, at: case.resolve_appeal(outcome=outcome, actor=actor, reason=reason, at=at))

    async def _change(self, case_id: str, apply: Callable[[Case, Any], Transition], *, issue: bool = False) -> dict[str, Any]:
        async with self._uow() as uow:
            loaded = await self._load(uow, case_id, for_update=True)
            case = loaded.case
            transition = apply(case, self._clock.now())  # raises before anything is written
            try:
                details = {}
                if issue and case.issues_credential:
                    case.credential_id = await self._issue_credential(case, uow)
                    details["credential_id"] = case.credential_id
                if transition.to_state == CLOSED and case.credential_to_revoke:
                    await self._revoke_credential(case, transition.reason, uow)
                    details["revoked_credential"] = case.credential_to_revoke
                if details:
                    transition = Transition(**{**transition.__dict__, "details": {**transition.details, **details}})
                repo.save_case(loaded.row, case)
                loaded.row.updated_at = transition.at
                await repo.append_transition(uow.session, transition)
                record(uow.session, f"rpl.case.{transition.to_state}", case_id, at=transition.at)
                await uow.commit()  # the one commit: case, history, credential and status change together
            except (StaleDataError, IntegrityError):
                # Someone else changed the case between our read and our write (row_version or the
                # history's (case_id, seq) caught it): nothing of ours was written.
                raise Conflict(f"RPL case {case_id} was changed by someone else meanwhile; show it and try again") from None
        return await self.show(case_id)

    async def _revoke_credential(self, case: Case, reason: str, uow) -> None:
        if self._revoke is None:  # fail closed: an overturned decision never leaves its credential valid
            raise InvalidInput("this node cannot revoke the overturned decision's credential (no issuance service configured)")
        await self._revoke(case.credential_to_revoke, case.revocation_reason(reason), uow)

    async def _issue_credential(self, case: Case, uow) -> str:
        if self._issue is None:
            raise InvalidInput("this node cannot issue credentials (no issuance service configured)")
        evidence = assessment_evidence(case, structured=self._structured_evidence)
        order = CredentialOrder(
            case_id=case.id, institution=case.institution, template_id=case.template_id,
            given_name=case.candidate_given_name, family_name=case.candidate_family_name,
            identifier=case.candidate_identifier, evidence=[evidence], units_certified=case.units_certified,
            narrative=evidence["narrative"],
        )
        return await self._issue(order, uow)

    # -- evidence -------------------------------------------------------------------------------

    async def attach_evidence(self, case_id: str, *, name: str, media_type: str, actor: str, sha256: str | None = None,
                              url: str | None = None, content: bytes | None = None) -> dict[str, Any]:
        if not (actor or "").strip():
            raise ValidationFailed("say who attaches the evidence", errors=[{"path": "actor", "error": "required"}])
        item = EvidenceItem.create(name=name, media_type=media_type, sha256=sha256, url=url, content=content)
        async with self._uow() as uow:
            loaded = await self._load(uow, case_id)
            loaded.case.check_can_attach_evidence()
            row = CaseEvidenceRow(case_id=case_id, name=item.name, media_type=item.media_type, sha256=item.sha256, url=item.url,
                                  content=item.content, added_by=actor.strip(), added_at=self._clock.now())
            uow.session.add(row)
            await uow.session.flush()  # the evidence id, for the audit trail
            record(uow.session, "rpl.evidence.attach", f"{case_id}/evidence/{row.id}", at=row.added_at)
            await uow.commit()
            return _evidence_json(row)

    async def evidence_content(self, case_id: str, evidence_id: int) -> tuple[bytes, str, str]:
        """(bytes, media type, sha256) of evidence stored on the node."""
        async with self._uow() as uow:
            row = await repo.evidence_item(uow.session, case_id, evidence_id)
            if row is None or row.content is None:
                raise NotFound(f"case {case_id} has no stored evidence {evidence_id}")
            return row.content, row.media_type, row.sha256

    async def evidence_name(self, case_id: str, evidence_id: int) -> str:
        """The name the evidence was given (its download file name)."""
        async with self._uow() as uow:
            row = await repo.evidence_item(uow.session, case_id, evidence_id)
            if row is None:
                raise NotFound(f"case {case_id} has no evidence {evidence_id}")
            return row.name

    # -- reading --------------------------------------------------------------------------------

    async def show(self, case_id: str) -> dict[str, Any]:
        async with self._uow() as uow:
            loaded = await self._load(uow, case_id)
            history = [repo.transition_json(r) for r in await repo.history(uow.session, case_id)]
            evidence = [_evidence_json(r) for r in await repo.evidence_of(uow.session, case_id)]
        return {**case_json(loaded.case), "history": history, "evidence": evidence}

    async def list(self, *, institution: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        if state is not None and state not in STATES:
            raise InvalidInput(f"unknown state {state!r}; one of {', '.join(STATES)}")
        async with self._uow() as uow:
            return [case_json(c) for c in await repo.list_cases(uow.session, institution=institution, state=state)]

    @staticmethod
    async def _load(uow, case_id: str, *, for_update: bool = False):
        loaded = await repo.get_case(uow.session, str(case_id), for_update=for_update)
        if loaded is None:
            raise NotFound(f"no RPL case {case_id}")
        return loaded


def _normalise_identifier(identifier: Any) -> str:
    # The candidate's identifier is where the credential will go, so it follows issuance's rules.
    from node.issuance.model import normalise_identifier

    return normalise_identifier(identifier)


def _time(value) -> str | None:
    return isoformat_z(value) if value is not None else None


def case_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "state": case.state,
        "institution": case.institution,
        "template": case.template_id,
        "candidate": {"givenName": case.candidate_given_name, "familyName": case.candidate_family_name,
                      "identifier": case.candidate_identifier},
        "openedAt": _time(case.opened_at),
        "openedBy": case.opened_by,
        "assessment": ({"id": case.assessment_id, "assessor": case.assessor, "method": case.assessment_method,
                        "assessedAt": _time(case.assessed_at)} if case.assessment_id else None),
        "decision": ({"outcome": case.decision, "unitsCertified": list(case.units_certified), "decidedAt": _time(case.decided_at),
                      "credentialId": case.credential_id} if case.decision else None),
        "appeal": {"reviewer": case.reviewer, "outcome": case.appeal_outcome} if case.reviewer else None,
        "follows": case.follows_case_id,
    }


def _evidence_json(row: CaseEvidenceRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "mediaType": row.media_type, "sha256": row.sha256,
            **({"url": row.url} if row.url else {"stored": True, "size": len(row.content or b"")}),
            "addedBy": row.added_by, "addedAt": _time(row.added_at)}
