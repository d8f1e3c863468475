"""Use cases of readiness: load catalogue versions, record a jurisdiction's answers, sign and publish.

The service takes its dependencies in (a unit-of-work factory, a clock, the document signer, and a
callable giving the ministry key of a jurisdiction), so tests can run it with a fixed clock and keys.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from sqlalchemy.exc import IntegrityError

from node.audit import record
from node.clock import Clock, isoformat_z
from node.errors import Conflict, InvalidInput, NotFound
from node.rpl import repository as repo
from node.documents import StoredDocument, jurisdiction_code, serialise
from node.rpl.catalogue import Catalogue, parse_catalogue
from node.rpl.orm import CatalogueRow, ReadinessAssessmentRow, ReadinessPublicationRow
from node.rpl.readiness import build_credential, parse_answers, readiness_result, unmet_mandatory, answers_from_json

DEFAULT_SUITE = "eddsa-jcs-2022"  # a federation document: cheap to sign and verify, no RDF needed

MinistryKey = Callable[[str], Awaitable[Any]]  # jurisdiction -> node.crypto.keys.KeyPair


@dataclass(frozen=True, kw_only=True)
class PublishedDocument(StoredDocument):
    """A signed readiness assessment exactly as stored: serve `body`, use `sha256` as the ETag."""

    jurisdiction: str
    published_at: Any


def _catalogue_of(row: CatalogueRow) -> Catalogue:
    return parse_catalogue(json.loads(row.document))


def _published(row: ReadinessPublicationRow, *, new: bool = False) -> PublishedDocument:
    return PublishedDocument.of(row, new=new, jurisdiction=row.jurisdiction, published_at=row.published_at)


class ReadinessService:
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock, signer: Any, ministry_key: MinistryKey,
                 *, suite: str = DEFAULT_SUITE) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._signer = signer
        self._ministry_key = ministry_key
        self._suite = suite

    # -- catalogue --------------------------------------------------------------------------------

    async def load_catalogue(self, catalogue: Catalogue | dict) -> dict[str, Any]:
        """Store a catalogue version. Loading the same content again is a no-op; a different content
        under an existing id+version is refused, because published assessments cite that version."""
        if not isinstance(catalogue, Catalogue):
            catalogue = parse_catalogue(catalogue)
        async with self._uow() as uow:
            existing = await repo.catalogue_row(uow.session, catalogue.id, catalogue.version)
            if existing is not None:
                if existing.sha256 != catalogue.digest():
                    raise Conflict(f"catalogue {catalogue.key} is already loaded with different content; publish a new version")
                return self._catalogue_summary(existing, catalogue, status="unchanged")
            row = CatalogueRow(catalogue_id=catalogue.id, version=catalogue.version, document=catalogue.canonical_bytes(),
                               sha256=catalogue.digest(), loaded_at=self._clock.now())
            uow.session.add(row)
            record(uow.session, "readiness.catalogue.load", catalogue.key, at=row.loaded_at)
            try:
                await uow.commit()
            except IntegrityError:
                raise Conflict(f"catalogue {catalogue.key} was loaded by someone else meanwhile; load it again to compare") from None
            return self._catalogue_summary(row, catalogue, status="loaded")

    async def catalogue(self, catalogue_id: str | None = None, version: str | None = None) -> Catalogue:
        async with self._uow() as uow:
            row = await self._catalogue_row(uow.session, catalogue_id, version)
            return _catalogue_of(row)

    async def catalogues(self) -> list[dict[str, Any]]:
        async with self._uow() as uow:
            return [{"id": r.catalogue_id, "version": r.version, "sha256": r.sha256, "loadedAt": isoformat_z(r.loaded_at)}
                    for r in await repo.list_catalogue_rows(uow.session)]

    async def _catalogue_row(self, session, catalogue_id: str | None, version: str | None) -> CatalogueRow:
        if version:
            if not catalogue_id:
                latest = await repo.latest_catalogue_row(session)
                catalogue_id = latest.catalogue_id if latest else None
            row = await repo.catalogue_row(session, catalogue_id or "", version)
        else:
            row = await repo.latest_catalogue_row(session, catalogue_id)
        if row is None:
            wanted = f"{catalogue_id or '(any)'}@{version or 'latest'}"
            raise NotFound(f"no checkpoint catalogue {wanted} is loaded; run `puente readiness catalogue load FILE`")
        return row

    @staticmethod
    def _catalogue_summary(row: CatalogueRow, catalogue: Catalogue, *, status: str) -> dict[str, Any]:
        return {"status": status, "id": catalogue.id, "version": catalogue.version, "sha256": row.sha256,
                "checkpoints": len(catalogue.checkpoints), "mandatory": len(catalogue.mandatory_ids)}

    # -- assessments ------------------------------------------------------------------------------

    async def record(self, jurisdiction: str, answers_document: Any, *, recorded_by: str) -> dict[str, Any]:
        """Validate the answers against their catalogue version and store them (not yet published)."""
        jurisdiction = jurisdiction_code(jurisdiction)
        if not isinstance(answers_document, dict):
            raise InvalidInput("readiness answers must be a JSON object with an `answers` list")
        if not recorded_by.strip() or len(recorded_by) > 200:
            raise InvalidInput("say who records the answers, in at most 200 characters")
        wanted = answers_document.get("catalogue") if isinstance(answers_document.get("catalogue"), dict) else {}
        # Only jurisdictions whose ministry this node hosts: answers nobody here can sign are a dead end.
        await self._ministry_key(jurisdiction)
        async with self._uow() as uow:
            row = await self._catalogue_row(uow.session, wanted.get("id"), wanted.get("version"))
            catalogue = _catalogue_of(row)
            answers = parse_answers(answers_document, catalogue)
            assessment = ReadinessAssessmentRow(
                jurisdiction=jurisdiction, catalogue_pk=row.id, answers=[a.to_json() for a in answers],
                result=readiness_result(catalogue, answers), recorded_at=self._clock.now(), recorded_by=recorded_by,
            )
            uow.session.add(assessment)
            await uow.session.flush()  # the assessment's id, for the audit trail
            record(uow.session, "readiness.record", f"{jurisdiction}#{assessment.id}", at=assessment.recorded_at)
            await uow.commit()
            return self._assessment_summary(assessment, catalogue, None)

    async def show(self, jurisdiction: str) -> dict[str, Any]:
        jurisdiction = jurisdiction_code(jurisdiction)
        async with self._uow() as uow:
            assessment = await repo.latest_assessment(uow.session, jurisdiction)
            if assessment is None:
                raise NotFound(f"no readiness assessment recorded for {jurisdiction}")
            catalogue_row = await uow.session.get(CatalogueRow, assessment.catalogue_pk)
            publication = await repo.publication_of(uow.session, assessment.id)
            summary = self._assessment_summary(assessment, _catalogue_of(catalogue_row), publication)
            summary["answers"] = assessment.answers
            return summary

    @staticmethod
    def _assessment_summary(row: ReadinessAssessmentRow, catalogue: Catalogue, publication: ReadinessPublicationRow | None) -> dict[str, Any]:
        answers = answers_from_json(row.answers)
        return {
            "jurisdiction": row.jurisdiction,
            "catalogue": {"id": catalogue.id, "version": catalogue.version},
            "result": row.result,
            "unmetMandatoryCheckpoints": list(unmet_mandatory(catalogue, answers)),
            "recordedAt": isoformat_z(row.recorded_at),
            "recordedBy": row.recorded_by,
            "published": ({"credentialId": publication.credential_id, "sha256": publication.sha256,
                           "publishedAt": isoformat_z(publication.published_at)} if publication else None),
        }

    # -- publication ------------------------------------------------------------------------------

    async def publish(self, jurisdiction: str) -> PublishedDocument:
        """Sign the latest recorded assessment with the jurisdiction's ministry key and store the bytes.
        Publishing an assessment that is already published returns the same document (same ETag)."""
        jurisdiction = jurisdiction_code(jurisdiction)
        key = await self._ministry_key(jurisdiction)
        async with self._uow() as uow:
            assessment = await repo.latest_assessment(uow.session, jurisdiction)
            if assessment is None:
                raise NotFound(f"no readiness assessment recorded for {jurisdiction}; run `puente readiness record {jurisdiction} --file answers.json`")
            assessment_pk = assessment.id
            existing = await repo.publication_of(uow.session, assessment_pk)
            if existing is not None:
                return _published(existing)
            catalogue = _catalogue_of(await uow.session.get(CatalogueRow, assessment.catalogue_pk))
            now = self._clock.now()
            credential = build_credential(
                jurisdiction=jurisdiction, catalogue=catalogue, answers=answers_from_json(assessment.answers),
                issuer=key.controller, credential_id=f"urn:uuid:{uuid.uuid4()}", issued_at=now,
            )
            signed = await self._signer.sign(credential, key, suite=self._suite, created=now, array=True)
            row = repo.PUBLICATIONS.add(uow.session, body=serialise(signed), document_id=credential["id"], issuer=key.controller,
                                        published_at=now, assessment_pk=assessment.id, jurisdiction=jurisdiction)
            record(uow.session, "readiness.publish", credential["id"], at=now)
            try:
                await uow.commit()
            except IntegrityError:
                pass  # published concurrently by someone else: theirs is the one stored, return it below
            else:
                return _published(row, new=True)
        async with self._uow() as uow:
            existing = await repo.publication_of(uow.session, assessment_pk)
            if existing is None:
                raise Conflict(f"the readiness assessment of {jurisdiction} changed while publishing; try again")
            return _published(existing)

    async def published(self, jurisdiction: str) -> PublishedDocument:
        jurisdiction = jurisdiction_code(jurisdiction)
        async with self._uow() as uow:
            row = await repo.latest_publication(uow.session, jurisdiction)
            if row is None:
                raise NotFound(f"{jurisdiction} has not published a readiness assessment")
            return _published(row)

    async def published_index(self) -> list[dict[str, Any]]:
        """Newest publication per jurisdiction: what a peer polls to see who is ready."""
        out = []
        async with self._uow() as uow:  # read rows inside: leaving the unit of work expires them
            for row in await repo.publications(uow.session):
                subject = json.loads(row.document).get("credentialSubject", {})
                out.append({"jurisdiction": row.jurisdiction, "issuer": row.issuer, "result": subject.get("result"),
                            "credentialId": row.credential_id, "sha256": row.sha256, "publishedAt": isoformat_z(row.published_at)})
        return out

    # -- verification -----------------------------------------------------------------------------

    async def verify(self, document: Any, resolver: Any) -> Any:
        """Full check of a readiness assessment, ours or a peer's: proof by the issuer's key, validity,
        schema, and that the result follows from the answers under the cited catalogue version."""
        from node.verification.pipeline import CredentialVerifier
        from node.rpl.readiness import consistency_checks

        async def readiness_checks(credential: dict[str, Any], _now: Any) -> list[Any]:
            cited = (credential.get("credentialSubject") or {}).get("checkpointCatalogue") or {}
            try:
                catalogue = await self.catalogue(cited.get("id"), cited.get("version")) if cited.get("version") else None
            except NotFound:
                catalogue = None
            return consistency_checks(credential, catalogue)

        readiness_checks.check_name = "readiness"
        verifier = CredentialVerifier(self._signer, resolver, self._clock, extra_checks=[readiness_checks])
        return await verifier.verify(document)
