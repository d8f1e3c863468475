"""Accepting another node's signed framework publication, so the cross-framework query can follow it.

Fail closed: the document must verify (proof by the issuer's key, schema, a complete and approved
mapping) and fit the target framework version loaded here, or nothing is stored. It is stored verbatim
(exact bytes and SHA-256, never re-signed) as a published framework version and mapping version.
A framework id stays with the issuer that first published it here: a publication of the same framework
by another issuer is refused, and so is one that would change an already stored version.
Whether the issuer may speak for its jurisdiction at all (a key pinned in the regional registry) is
decided by the `resolver` the caller passes in — the federation's trust-aware resolver.
"""

from __future__ import annotations

import hashlib
from typing import Any, Awaitable, Callable

from sqlalchemy.exc import IntegrityError

from node.clock import Clock, parse_datetime
from node.audit import record
from node import jsonio
from node.errors import Conflict, InvalidInput, NotFound, ValidationFailed
from node.framework import repository as repo
from node.framework.model import Mapping, Problems, check_row_against, parse_framework, parse_mapping_row
from node.framework.orm import FrameworkVersionRow, MappingVersionRow

Verify = Callable[[Any, Any], Awaitable[Any]]  # (document, resolver) -> VerificationResult


class PeerPublications:
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock, verify: Verify) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._verify = verify

    async def accept(self, body: bytes, resolver: Any) -> dict[str, Any]:
        document = jsonio.loads(body, what="the publication")  # depth, NaN/Infinity, numbers, NUL: InvalidInput
        result = await self._verify(document, resolver)
        if not result.verified:
            failures = [{"path": c.check, "error": c.detail or c.reason or "failed"} for c in result.failures]
            raise ValidationFailed(f"the publication does not verify ({failures[0]['path']}: {failures[0]['error']}); nothing stored",
                                   errors=failures)
        subject = document["credentialSubject"]
        problems = Problems()
        framework = parse_framework(subject["framework"], problems, qualifications=subject["qualifications"])
        rows = tuple(parse_mapping_row(r, f"mapping.rows[{i}]", problems) for i, r in enumerate(subject["mapping"]["rows"]))
        if framework is None or problems:  # the verifier checked this already; never store on doubt
            raise ValidationFailed("the publication's framework is not valid", errors=problems.items)
        target_ref = subject["mapping"]["target"]
        version = subject["mapping"]["version"]
        issuer = document["issuer"] if isinstance(document["issuer"], str) else document["issuer"].get("id")
        sha = hashlib.sha256(body).hexdigest()
        summary = {"framework": framework.id, "version": framework.version, "target": target_ref["id"],
                   "targetVersion": target_ref["version"], "mappingVersion": version, "issuer": issuer, "sha256": sha}
        async with self._uow() as uow:
            session = uow.session
            target_row = await repo.version_row(session, target_ref["id"], target_ref["version"])
            if target_row is None:
                raise NotFound(f"the publication maps onto {target_ref['id']}@{target_ref['version']}, which is not loaded here; import it first")
            target = repo.to_framework(target_row)
            mapping = Mapping(framework.id, framework.version, target.id, target.version, rows)  # type: ignore[arg-type]
            for i, row in enumerate(mapping.rows):
                check_row_against(row, framework, target, f"mapping.rows[{i}]", problems)
            if problems:
                raise ValidationFailed(f"the publication does not fit {target.key} as loaded here", errors=problems.items)
            await self._check_owner(session, framework.id, issuer)

            stored_framework = await repo.version_row(session, framework.id, framework.version)
            document_json = repo.framework_document(framework)
            if stored_framework is not None and stored_framework.sha256 != repo.digest(document_json):
                raise Conflict(f"{framework.key} is stored here with other content; a change must come as a new version")
            existing = [m for m in await repo.mapping_rows(session, framework.id, target.id) if m.version == version]
            if existing:
                stored = await repo.publication_of(session, existing[0].id)
                if stored is not None and stored.sha256 == sha:
                    return {**summary, "status": "unchanged"}
                raise Conflict(f"mapping version {version} of {framework.id} onto {target.id} is stored here with other content")

            now = self._clock.now()
            published_at = parse_datetime(document["validFrom"])
            if stored_framework is None:
                session.add(FrameworkVersionRow(framework_id=framework.id, version=framework.version, kind=framework.kind,
                                                jurisdiction=framework.jurisdiction, document=document_json,
                                                sha256=repo.digest(document_json), loaded_at=now))
            row = MappingVersionRow(framework_id=framework.id, framework_version=framework.version, target_id=target.id,
                                    target_version=target.version, version=version, status=repo.PUBLISHED,
                                    rows=mapping.rows_json(), created_at=now, published_at=published_at)
            session.add(row)
            try:
                await session.flush()
                repo.PUBLICATIONS.add(session, body=body, document_id=document["id"], issuer=issuer,
                                      published_at=published_at, mapping_pk=row.id, framework_id=framework.id)
                record(session, "framework.accept", document["id"], at=now)
                await uow.commit()
            except IntegrityError:
                raise Conflict(f"{framework.id} was changed concurrently; try again") from None
        return {**summary, "status": "accepted"}

    async def _check_owner(self, session, framework_id: str, issuer: str) -> None:
        """A framework id belongs to whoever published it first here; local drafts belong to this node."""
        mappings = await repo.mapping_rows(session, framework_id)
        if not mappings:
            return
        if any(m.status == repo.DRAFT for m in mappings):
            raise Conflict(f"{framework_id} is maintained on this node (it has a draft mapping); a peer's publication cannot replace it")
        for mapping in mappings:
            publication = await repo.publication_of(session, mapping.id)
            if publication is None or publication.issuer != issuer:
                owner = publication.issuer if publication else "this node"
                raise Conflict(f"{framework_id} is published here by {owner}; refusing a publication by {issuer}")
