"""Issuance use cases: institutions, templates, issuing credentials, and changing their status.

A credential and its audit trail are committed together or not at all. Its status entries are reserved
before, in a short transaction of their own, and everything is signed outside any transaction, so no lock
is held while signing (a reservation never used is a slot that reads 0 and belongs to nobody). Keys come
from the key store; signing goes through the signer.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Callable, Mapping, Sequence

from sqlalchemy.exc import IntegrityError

from node.audit import record
from node.errors import Conflict, ForbiddenTransition, InvalidInput, NotFound, ValidationFailed
from node.issuance import ob3
from node.issuance.lists import ATTEMPTS, Allocation, StatusLists, backoff, serialise
from node.issuance.model import (
    ACTIVE,
    REVOKED,
    SUSPENDED,
    AccreditationScope,
    AchievementTemplate,
    Institution,
    IssueRequest,
    add_duration,
    make_recipient,
    require_slug,
)
from node.issuance.orm import CredentialRow, InstitutionRow, StatusEventRow, TemplateRow
from node.issuance.repository import IssuanceRepository
from node.issuance.schema import ob3_first_error
from node.issuance.status_list import LIST_SIZE, REVOKED_BIT, SUSPENDED_BIT

DEFAULT_SUITE = "eddsa-rdfc-2022"
SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")

# action -> (states it may start from, state it leads to, bits of a 0005 2-bit "message" value to set, to clear).
# The revoked bit is never cleared: revocation is permanent, and revoked wins over suspended.
TRANSITIONS = {
    "revoke": ({ACTIVE, SUSPENDED}, REVOKED, REVOKED_BIT, SUSPENDED_BIT),
    "suspend": ({ACTIVE}, SUSPENDED, SUSPENDED_BIT, 0),
    "unsuspend": ({SUSPENDED}, ACTIVE, 0, SUSPENDED_BIT),
}
# The same changes on 1-bit lists (new credentials, and those issued before 0005): (purpose, value). A
# credential without a suspension entry cannot be suspended (no verifier could see it); revoking it has
# no suspension bit to clear.
BIT_CHANGES = {
    "revoke": (("revocation", True), ("suspension", False)),
    "suspend": (("suspension", True),),
    "unsuspend": (("suspension", False),),
}


@dataclass(frozen=True)
class IssuedCredential:
    id: str  # uuid: the file name and URL suffix
    uri: str
    document: str  # exact signed bytes
    line: int | None = None
    new: bool = True

    def to_json(self) -> dict[str, Any]:
        return json.loads(self.document)


async def _holds_sqlite_write_lock(session) -> bool:
    """Whether this session's SQLite connection is inside a write transaction (the Python driver begins
    one at the first INSERT/UPDATE/DELETE). Always False on PostgreSQL, where row locks are per row."""
    if session.bind.dialect.name != "sqlite":
        return False
    raw = await (await session.connection()).get_raw_connection()
    return bool(getattr(raw.driver_connection, "in_transaction", False))


def _check_action(action: str, reason: str | None) -> None:
    if action not in TRANSITIONS:
        raise InvalidInput(f"unknown status action {action!r}; use revoke, suspend or unsuspend")
    if action == "revoke" and not (reason and reason.strip()):
        raise InvalidInput("a revocation needs a reason")


class _Raced(Exception):
    """A status change lost a compare-and-set to a concurrent one: roll back and try again."""


@dataclass(frozen=True)
class IssuePlan:
    """What issuing needs, read and checked in one short transaction before anything is reserved or signed."""

    template: AchievementTemplate
    institution: Institution
    key: Any  # None until sign_requests asks the key store
    now: datetime
    suite: str


@dataclass(frozen=True)
class SignedRequest:
    line: int | None
    request: IssueRequest
    allocation: tuple[Allocation, ...]
    credential_uuid: str
    document: dict[str, Any]
    error: dict[str, Any] | None  # the OB 3.0 schema's first complaint, if any


def _whole_seconds(moment: datetime) -> datetime:
    """Accreditation bounds at the precision credentials carry: validFrom has whole seconds, so a start
    stamped 12:00:00.25 made a credential issued in that same second read as issued before it."""
    return moment.replace(microsecond=0)


def node_base_url(settings) -> str:
    return (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")


class IssuanceService:
    def __init__(self, uow_factory: Callable, clock, signer, keystore, base_url: str, *,
                 validate_schema: bool = True, puente_terms: bool = True, list_size: int = LIST_SIZE) -> None:
        self.uow = uow_factory  # one unit of work per use case
        self.clock = clock
        self.signer = signer
        self.keystore = keystore
        self.base_url = base_url.rstrip("/")
        # list_size: entries per new status list. LIST_SIZE (131,072, the spec's minimum) on every node;
        # tests pass a small power of two to force rollovers.
        self.lists = StatusLists(signer, self.base_url, list_size, uow=uow_factory)
        self.validate_schema = validate_schema
        # Puente's microcredential terms (workload, assessment type, quality assurance, participation)
        # need the bundled Puente context; False issues plain OB 3.0 without them.
        self.puente_terms = puente_terms

    @classmethod
    def from_services(cls, services, **options) -> "IssuanceService":
        return cls(services.uow, services.clock, services.signer, services.keystore,
                   node_base_url(services.settings), **options)

    # ------------------------------------------------------------------ institutions

    async def create_institution(self, slug: str, name: str, *, scope: Mapping[str, Any] | None = None,
                                 logo_url: str | None = None, url: str | None = None,
                                 suspension: bool = False) -> Institution:
        require_slug(slug, "institution slug")
        if not isinstance(suspension, bool):
            raise InvalidInput("suspension must be true or false")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("institution name is required")
        parsed_scope = AccreditationScope.from_json(scope)
        async with self.uow() as uow:
            if await IssuanceRepository(uow.session).institution_row(slug):
                raise Conflict(f"institution {slug!r} already exists")
        # The identity (did:web + first key) is created idempotently first, so a failure below can be retried.
        did, _created = await self.keystore.ensure_identity("institution", name.strip(), f"institutions/{slug}")
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            now = self.clock.now()
            repo.add(InstitutionRow(slug=slug, name=name.strip(), did=did, logo_url=logo_url, url=url,
                                    scope=parsed_scope.to_json(), accredited_from=_whole_seconds(now), created_at=now,
                                    suspension=suspension))
            record(uow.session, "institution.create", slug, at=now)
            await uow.commit()
            return await repo.institution(slug)

    async def update_accreditation(self, slug: str, *, scope: Mapping[str, Any] | None = None,
                                   accredited_from: datetime | None = None,
                                   accredited_until: datetime | None = None) -> Institution:
        """Record a change of what, and until when, the institution is accredited for. Verification
        asks "accredited on the credential's validFrom?", so narrowing it later affects new checks."""
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            row = await repo.institution_row(slug)
            if row is None:
                raise NotFound(f"no institution {slug!r} on this node")
            if scope is not None:
                row.scope = AccreditationScope.from_json(scope).to_json()
            if accredited_from is not None:
                row.accredited_from = _whole_seconds(accredited_from)
            if accredited_until is not None:
                row.accredited_until = _whole_seconds(accredited_until)
            if row.accredited_from and row.accredited_until and row.accredited_until <= row.accredited_from:
                raise InvalidInput("accreditation must end after it starts")
            record(uow.session, "institution.accreditation", slug, at=self.clock.now())
            await uow.commit()
            return await repo.institution(slug)

    async def set_status_purposes(self, slug: str, *, suspension: bool) -> Institution:
        """Whether credentials issued from now on carry a 1-bit suspension entry besides the revocation
        one. Credentials already issued keep the entries they were signed with."""
        if not isinstance(suspension, bool):
            raise InvalidInput("suspension must be true or false")
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            row = await repo.institution_row(slug)
            if row is None:
                raise NotFound(f"no institution {slug!r} on this node")
            row.suspension = suspension
            record(uow.session, "institution.status_purposes", slug, at=self.clock.now())
            await uow.commit()
            return await repo.institution(slug)

    async def rotate_key(self, slug: str) -> dict[str, Any]:
        """New signing key for an institution; old keys stay in its DID document so old credentials verify."""
        institution = await self.institution(slug)
        rotated = await self.keystore.rotate(institution.did)
        return {"institution": slug, "did": institution.did, "key": rotated.id}

    async def institution(self, slug: str) -> Institution:
        async with self.uow() as uow:
            return await IssuanceRepository(uow.session).institution(slug)

    async def institutions(self) -> list[Institution]:
        async with self.uow() as uow:
            return await IssuanceRepository(uow.session).institutions()

    # ------------------------------------------------------------------ templates

    async def create_template(self, data: Mapping[str, Any]) -> AchievementTemplate:
        template = AchievementTemplate.from_json(data)
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            institution = await repo.institution(template.institution)
            gaps = institution.scope.covers(sector=template.sector, isco_code=template.isco_code, rqf_level=template.rqf_level)
            if gaps:
                raise ValidationFailed(f"template {template.id!r} is outside what {institution.name} is accredited for",
                                       errors=[{"path": "/", "error": g} for g in gaps])
            if await repo.template_row(template.id):
                raise Conflict(f"template {template.id!r} already exists")
            repo.add(TemplateRow(id=template.id, institution=template.institution, data=template.to_json(),
                                 created_at=self.clock.now()))
            record(uow.session, "template.create", template.id, at=self.clock.now())
            await uow.commit()
        return template

    async def templates(self, institution: str | None = None) -> list[AchievementTemplate]:
        async with self.uow() as uow:
            return await IssuanceRepository(uow.session).templates(institution)

    # ------------------------------------------------------------------ issuing

    async def issue_one(self, template_id: str, row: Mapping[str, Any], *, suite: str = DEFAULT_SUITE,
                        evidence: Sequence[Mapping[str, Any]] | None = None) -> IssuedCredential:
        """Three short steps, none holding a lock while anything is signed: read (and check) in one
        transaction, reserve status entries in another, sign outside any, store in a last one."""
        request = IssueRequest.from_row(template_id, row, evidence)
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            existing = (await repo.credentials_by_keys([request.idempotency_key()])).get(request.idempotency_key())
            if existing:
                return IssuedCredential(existing.id, existing.uri, existing.document, new=False)
            plan = await self.plan(repo, template_id, suite)
        signed = await self.sign_requests(plan, [(None, request)])
        async with self.uow() as uow:
            try:
                issued, failures = await self.store(IssuanceRepository(uow.session), plan, signed)
                if failures:
                    raise ValidationFailed(failures[0]["error"], errors=failures)
                await uow.commit()
                return issued[0]
            except IntegrityError:
                pass  # the same request was committed concurrently: answer with that credential
        async with self.uow() as uow:
            winner = (await IssuanceRepository(uow.session).credentials_by_keys([request.idempotency_key()])).get(request.idempotency_key())
            if winner is None:
                raise Conflict("the credential could not be stored because of a concurrent change; try again")
            return IssuedCredential(winner.id, winner.uri, winner.document, new=False)

    async def issue_in(self, uow, template_id: str, row: Mapping[str, Any], *, suite: str = DEFAULT_SUITE,
                       evidence: Sequence[Mapping[str, Any]] | None = None,
                       partial_units: Sequence[str] = ()) -> IssuedCredential:
        """Issue one credential inside the caller's unit of work, without committing: the caller commits
        it together with its own record (an RPL decision), so neither is ever stored without the other.
        The status entries are reserved in a short transaction of their own before (call this before the
        caller's transaction writes: on SQLite a writing caller would hold the file lock the reservation
        waits for)."""
        request = IssueRequest.from_row(template_id, row, evidence, partial_units)
        repo = IssuanceRepository(uow.session)
        existing = (await repo.credentials_by_keys([request.idempotency_key()])).get(request.idempotency_key())
        if existing:
            return IssuedCredential(existing.id, existing.uri, existing.document, new=False)
        plan = await self.plan(repo, template_id, suite)
        # On SQLite a caller that has already written holds the file's one write lock, which a separate
        # reservation transaction would wait for in vain: then the entries are taken in the caller's.
        in_caller = repo if await _holds_sqlite_write_lock(uow.session) else None
        issued, failures = await self.store(repo, plan, await self.sign_requests(plan, [(None, request)], in_caller=in_caller))
        if failures:
            raise ValidationFailed(failures[0]["error"], errors=failures)
        return issued[0]

    async def plan(self, repo: IssuanceRepository, template_id: str, suite: str) -> IssuePlan:
        """What issuing with `template_id` needs, checked now: the template, its institution (accredited
        today, for this template's scope) and the issuance time. Reads only; the key comes in sign_requests."""
        if suite not in SUITES:
            raise InvalidInput(f"unknown cryptosuite {suite!r}; use one of {', '.join(SUITES)}")
        template = await repo.template(template_id)
        institution = await repo.institution(template.institution)
        now = self.clock.now()
        if not institution.accredited_at(now):
            raise ForbiddenTransition(f"{institution.name} is not accredited to issue on {now.date()}")
        gaps = institution.scope.covers(sector=template.sector, isco_code=template.isco_code, rqf_level=template.rqf_level)
        if gaps:  # the scope may have narrowed since the template was made
            raise ForbiddenTransition(f"{institution.name} is no longer accredited for {template.name}: {'; '.join(gaps)}")
        return IssuePlan(template, institution, None, now, suite)

    async def sign_requests(self, plan: IssuePlan, requests: Sequence[tuple[int | None, IssueRequest]], *,
                            in_caller: IssuanceRepository | None = None) -> list[SignedRequest]:
        """Reserve one block of status entries per purpose (short transactions of their own), then build,
        sign and schema-check every credential outside any transaction."""
        if not requests:
            return []
        institution = plan.institution
        # The key store reads through a connection of its own: asked here, with none of ours held, so many
        # requests in flight cannot starve the pool (each holding one connection while waiting for another).
        plan = replace(plan, key=plan.key or await self.keystore.signing_key(institution.did))
        # One 1-bit entry per purpose the institution issues with, each purpose in lists of its own.
        per_purpose = [await (self.lists.allocate(in_caller, institution.slug, institution.did, plan.key, len(requests), plan.now, purpose)
                              if in_caller is not None else
                              self.lists.reserve(institution.slug, institution.did, plan.key, len(requests), plan.now, purpose))
                       for purpose in institution.status_purposes]
        allocations = [tuple(entries) for entries in zip(*per_purpose)]
        unsigned, ids = [], []
        for (line, request), allocation in zip(requests, allocations):
            credential_uuid = str(uuid.uuid4())
            ids.append(credential_uuid)
            unsigned.append(self._build(plan.template, institution, request, credential_uuid, allocation, plan.now))
        signed = await self.signer.sign_many(unsigned, plan.key, suite=plan.suite, created=plan.now)
        # Schema validation is CPU work: one hop to a worker thread for the whole chunk keeps the event loop free.
        errors = (await asyncio.to_thread(lambda: [ob3_first_error(d) for d in signed]) if self.validate_schema
                  else [None] * len(signed))
        return [SignedRequest(line, request, allocation, credential_uuid, document, error)
                for (line, request), allocation, credential_uuid, document, error in zip(requests, allocations, ids, signed, errors)]

    async def store(self, repo: IssuanceRepository, plan: IssuePlan, signed: Sequence[SignedRequest], *,
                    batch_id: str | None = None) -> tuple[list[IssuedCredential], list[dict[str, Any]]]:
        """Add signed credentials and their audit rows to the caller's unit of work (not committed)."""
        issued, failures = [], []
        template, institution, now = plan.template, plan.institution, plan.now
        valid_until = add_duration(now, template.validity) if template.validity else None
        for item in signed:
            if item.error:  # a bug, not bad input: refuse to publish a credential that breaks the OB3 schema
                failures.append({"line": item.line, "error": f"credential does not match the OB 3.0 schema: "
                                                             f"{item.error['path']}: {item.error['error']}"})
                continue
            text, digest = serialise(item.document)
            repo.add(CredentialRow(
                id=item.credential_uuid, uri=item.document["id"], institution=institution.slug, template_id=template.id,
                idempotency_key=item.request.idempotency_key(), batch_id=batch_id, line=item.line, document=text,
                digest=digest, issued_at=now, valid_until=valid_until, state=ACTIVE,
                **self._status_columns(item.allocation),
            ))
            issued.append(IssuedCredential(item.credential_uuid, item.document["id"], text, item.line))
            if batch_id is None:  # a batch is one audit row per chunk, not one per credential
                record(repo.session, "credential.issue", item.document["id"], at=now)
        if batch_id is not None and issued:
            record(repo.session, "batch.issue", batch_id, at=now)
        await repo.flush()
        return issued, failures

    @staticmethod
    def _status_columns(allocation: tuple[Allocation, ...]) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        for entry in allocation:
            columns[f"{entry.purpose}_list"], columns[f"{entry.purpose}_index"] = entry.list_id, entry.index
        return columns

    def _build(self, template: AchievementTemplate, institution: Institution, request: IssueRequest,
               credential_uuid: str, allocation: tuple[Allocation, ...], now: datetime) -> dict[str, Any]:
        recipient = make_recipient(request.given_name, request.family_name, request.identifier, secrets.token_hex(16))
        return ob3.build_credential(
            template=template, institution=institution, recipient=recipient,
            credential_id=ob3.credential_url(self.base_url, credential_uuid), issued_at=now,
            credential_status=[entry.entry(self.base_url) for entry in allocation], base_url=self.base_url, extras=request.extras,
            puente_terms=self.puente_terms, evidence=request.evidence, partial_units=request.partial_units,
        )

    # ------------------------------------------------------------------ reading

    async def credential(self, credential_id: str) -> IssuedCredential:
        async with self.uow() as uow:
            row = await IssuanceRepository(uow.session).credential(credential_id)
            return IssuedCredential(row.id, row.uri, row.document, row.line, new=False)

    async def credential_status(self, credential_id: str) -> dict[str, Any]:
        async with self.uow() as uow:
            repo = IssuanceRepository(uow.session)
            row = await repo.credential(credential_id)
            events = await repo.status_events(row.id)
            return {
                "id": row.uri, "state": row.state,
                "events": [{"action": e.action, "reason": e.reason, "at": e.at.isoformat()} for e in events],
            }

    async def status_list_document(self, list_id: str) -> tuple[str, str]:
        """The signed list credential (exact bytes) and its digest, for serving with an ETag."""
        async with self.uow() as uow:
            return await IssuanceRepository(uow.session).status_list_document(list_id)

    # ------------------------------------------------------------------ status changes

    async def change_status(self, credential_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
        """One transaction per attempt: read, re-sign the lists outside any lock, then store them with a
        compare-and-set on their versions and the credential's state. A change that loses a race is
        rolled back and tried again after a jittered backoff, reading what the winner wrote."""
        _check_action(action, reason)
        async with self.uow() as uow:  # the issuer's key first, with no connection of ours held (see sign_requests)
            repo = IssuanceRepository(uow.session)
            did = (await repo.institution((await repo.credential(credential_id)).institution)).did
        key = await self.keystore.signing_key(did)
        for attempt in range(ATTEMPTS):
            async with self.uow() as uow:
                try:
                    out = await self._change_status(uow, credential_id, action, reason, in_caller=False, key=key)
                except _Raced:
                    pass  # leaving the unit of work rolls this attempt back
                else:
                    await uow.commit()
                    return out
            await backoff(attempt)
        raise Conflict("the credential's status list is changing too fast; try again")

    async def change_status_in(self, uow, credential_id: str, action: str, reason: str | None = None) -> dict[str, Any]:
        """A status change inside the caller's unit of work, without committing (an overturned RPL
        decision revokes its credential in the same transaction that closes the appeal). Lists are
        re-signed outside any lock and retried in place when another change wins their compare-and-set."""
        return await self._change_status(uow, credential_id, action, reason, in_caller=True)

    async def _change_status(self, uow, credential_id: str, action: str, reason: str | None, *,
                             in_caller: bool, key=None) -> dict[str, Any]:
        _check_action(action, reason)
        allowed_from, target, set_bits, clear_bits = TRANSITIONS[action]
        repo = IssuanceRepository(uow.session)
        row = await repo.credential(credential_id)  # no row lock: the state is compare-and-set below
        if row.state not in allowed_from:
            raise ForbiddenTransition(f"cannot {action} a credential that is {row.state}")
        institution = await repo.institution(row.institution)
        if key is None or key.controller != institution.did:
            key = await self.keystore.signing_key(institution.did)
        now = self.clock.now()
        if row.status_list is None and action != "revoke" and row.suspension_list is None:
            raise ForbiddenTransition(
                f"cannot {action} this credential: it was issued without a suspension entry (its institution had "
                "suspension off), so no verifier could see a suspension; revoke it, or turn suspension on for new credentials")
        # (list, index, bits to set, bits to clear), always in this order (revocation before suspension),
        # so two transactions never wait on each other's lists in opposite orders.
        if row.status_list is not None:  # issued under 0005: one 2-bit "message" entry
            changes = [(row.status_list, row.status_index, set_bits, clear_bits)]
        else:  # 1-bit entries: a revocation entry, and a suspension entry where there is one
            changes = []
            for purpose, value in BIT_CHANGES[action]:
                list_id, index = (row.revocation_list, row.revocation_index) if purpose == "revocation" else (row.suspension_list, row.suspension_index)
                if list_id is not None:
                    changes.append((list_id, index, 1 if value else 0, 0 if value else 1))
        if in_caller:
            for list_id, index, set_, clear in changes:
                await self.lists.change_value(repo, list_id, index, institution.did, key, now, set_bits=set_, clear_bits=clear)
        else:
            # Every list is signed before the first compare-and-set takes a row lock, so no lock is held
            # while signing; a lost race rolls everything back (change_status tries again).
            prepared = [await self.lists.prepare_change(repo, list_id, index, institution.did, key, now,
                                                        set_bits=set_, clear_bits=clear)
                        for list_id, index, set_, clear in changes]
            for change in prepared:
                if change is not None and not await self.lists.apply_change(repo, change, now):
                    raise _Raced()
        if not await repo.change_credential_state(row.id, row.state, target):
            if not in_caller:
                raise _Raced()
            raise Conflict(f"the credential changed while it was being {target}; look at its status and try again")
        repo.add(StatusEventRow(credential_id=row.id, action=action, reason=(reason or "").strip() or None, at=now))
        record(repo.session, f"credential.{action}", row.uri, at=now)  # who revoked: the acting principal
        await repo.flush()
        return {"id": row.uri, "state": target, "action": action, "reason": reason, "at": now.isoformat()}

    async def credential_institution(self, credential_id: str) -> str:
        async with self.uow() as uow:
            return (await IssuanceRepository(uow.session).credential(credential_id)).institution

    async def own_credential_state(self, uri: str) -> str | None:
        async with self.uow() as uow:
            row = await IssuanceRepository(uow.session).credential_by_uri(uri)
            return row.state if row else None

    async def get_template(self, template_id: str) -> AchievementTemplate:
        async with self.uow() as uow:
            return await IssuanceRepository(uow.session).template(template_id)

    async def require_template(self, template_id: str) -> None:
        async with self.uow() as uow:
            if await IssuanceRepository(uow.session).template_row(template_id) is None:
                raise NotFound(f"no achievement template {template_id!r}")
