"""Use cases of frameworks: import, map, approve, publish (signed), read, resolve across frameworks.

The service takes its dependencies in (a unit-of-work factory, a clock, the document signer, a
callable giving the ministry key of a jurisdiction, the node's base URL), so tests can run it with a
fixed clock and in-memory keys. Every write is one transaction, preceded by validation of all input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from node.clock import Clock, isoformat_z
from node.audit import record
from node.errors import Conflict, Forbidden, ForbiddenTransition, InvalidInput, NotFound, ValidationFailed
from node.tokens import Principal
from node.framework import repository as repo
from node.framework.importer import ImportBundle, read_import
from node.framework.model import (
    Framework,
    Mapping,
    MappingRow,
    Problems,
    check_row_against,
    parse_mapping_row,
    publication_problems,
)
from node.documents import StoredDocument, serialise
from node.framework.orm import FrameworkPublicationRow, FrameworkVersionRow, MappingVersionRow
from node.framework.publication import DEFAULT_SUITE, build_publication, sign_publication
from node.framework.resolve import PublishedMapping, resolve

MinistryKey = Callable[[str], Awaitable[Any]]  # jurisdiction -> node.crypto.keys.KeyPair


@dataclass(frozen=True, kw_only=True)
class PublishedDocument(StoredDocument):
    """A signed framework publication exactly as stored: serve `body`, use `sha256` as the ETag."""

    framework_id: str


def _published(row: FrameworkPublicationRow, new: bool = False) -> PublishedDocument:
    return PublishedDocument.of(row, new=new, framework_id=row.framework_id)


class FrameworkService:
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock, signer: Any, ministry_key: MinistryKey,
                 *, base_url: str, suite: str = DEFAULT_SUITE) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._signer = signer
        self._ministry_key = ministry_key
        self._base_url = base_url
        self._suite = suite

    # -- import -----------------------------------------------------------------------------------

    async def import_text(self, text: str, fmt: str, *, by: Principal | None = None) -> dict[str, Any]:
        """Load a framework, its qualifications and mappings from one file; all or nothing.

        `by`: the token principal importing over HTTP. A ministry imports only its own jurisdiction's
        national framework (the RQF and other regional data: operators only); every mapping row is
        authored by the token's subject and none arrives approved (approval is a second person's
        token). Without `by` (the CLI, run by the node's operator who holds the database, and the demo
        seed) the file's authors and approvals are taken as written."""
        async with self._uow() as uow:
            versions = [(r.framework_id, r.version, repo.to_framework(r)) for r in await repo.all_versions(uow.session)]

            def find(framework_id: str, version: str | None) -> Framework | None:
                matches = [f for fid, v, f in versions if fid == framework_id and (version is None or v == version)]
                return matches[-1] if matches else None  # rows come oldest first: the last is the newest

            bundle, targets = read_import(text, fmt, find)
            if by is not None:
                _check_import_by(bundle, by)
            summary = await self._store(uow.session, bundle, targets)
            record(uow.session, "framework.import", f"{bundle.framework.id}@{bundle.framework.version}", at=self._clock.now())
            await _commit(uow, bundle.framework.id)
        return summary

    async def _store(self, session, bundle: ImportBundle, targets: dict[str, Framework]) -> dict[str, Any]:
        framework = bundle.framework
        document = repo.framework_document(framework)
        sha = repo.digest(document)
        now = self._clock.now()
        existing = await repo.version_row(session, framework.id, framework.version)
        if existing is None:
            session.add(FrameworkVersionRow(framework_id=framework.id, version=framework.version, kind=framework.kind,
                                            jurisdiction=framework.jurisdiction, document=document, sha256=sha, loaded_at=now))
            status = "created"
        elif existing.sha256 == sha:
            status = "unchanged"
        else:
            published = [m for m in await repo.mapping_rows(session, framework.id)
                         if m.framework_version == framework.version and m.status == repo.PUBLISHED]
            if published:
                raise Conflict(f"{framework.key} is published and cannot change; import the change as a new version")
            existing.document, existing.sha256, existing.kind, existing.jurisdiction = document, sha, framework.kind, framework.jurisdiction
            status = "updated"
        mappings = []
        for spec in bundle.mappings:
            target = targets[spec.target_id]
            mapping = Mapping(framework.id, framework.version, target.id, target.version, spec.rows)
            mappings.append(await self._save_draft(session, mapping))
        return {"framework": framework.id, "version": framework.version, "kind": framework.kind, "status": status,
                "levels": len(framework.levels), "qualifications": len(framework.qualifications), "mappings": mappings}

    async def _save_draft(self, session, mapping: Mapping) -> dict[str, Any]:
        """Write `mapping` as the draft version: the open draft is updated, a published version never is."""
        latest = await repo.latest_mapping(session, mapping.framework_id, mapping.target_id)
        rows = mapping.rows_json()
        same = (latest is not None and latest.rows == rows and latest.framework_version == mapping.framework_version
                and latest.target_version == mapping.target_version)
        summary = {"target": mapping.target_id, "targetVersion": mapping.target_version, "rows": len(rows)}
        if same:
            return {**summary, "version": latest.version, "status": latest.status, "change": "unchanged"}
        if latest is not None and latest.status == repo.DRAFT:
            latest.rows, latest.framework_version, latest.target_version = rows, mapping.framework_version, mapping.target_version
            return {**summary, "version": latest.version, "status": repo.DRAFT, "change": "updated"}
        version = (latest.version + 1) if latest is not None else 1
        session.add(MappingVersionRow(framework_id=mapping.framework_id, framework_version=mapping.framework_version,
                                      target_id=mapping.target_id, target_version=mapping.target_version, version=version,
                                      status=repo.DRAFT, rows=rows, created_at=self._clock.now(), published_at=None))
        try:
            await session.flush()
        except IntegrityError:
            raise Conflict(f"mapping {mapping.framework_id} → {mapping.target_id} was changed concurrently; try again") from None
        return {**summary, "version": version, "status": repo.DRAFT, "change": "created"}

    # -- mapping and approval ---------------------------------------------------------------------

    async def map(self, framework_id: str, target_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """Add or replace one row of the draft mapping (a new draft version when the latest is published)."""
        if isinstance(row, dict) and row.get("approvedBy"):
            raise InvalidInput("a new mapping row is approved separately, by a second person (puente framework approve)")
        problems = Problems()
        parsed = parse_mapping_row(row, "row", problems)
        async with self._uow() as uow:
            framework = await self._framework(uow.session, framework_id)
            current = await repo.latest_mapping(uow.session, framework_id, target_id)
            target = await self._framework(uow.session, target_id, current.target_version if current and current.status == repo.DRAFT else None)
            if parsed is not None:
                check_row_against(parsed, framework, target, "row", problems)
            if problems:
                raise ValidationFailed(f"the mapping row is not valid: {problems.items[0]['path']}: {problems.items[0]['error']}",
                                       errors=problems.items)
            base = repo.to_mapping(current) if current is not None else Mapping(framework.id, framework.version, target.id, target.version)
            mapping = Mapping(framework.id, framework.version, target.id, target.version, base.rows).with_row(parsed)
            _check_rows(mapping, framework, target)  # rows carried over must fit a newer framework or target version
            summary = await self._save_draft(uow.session, mapping)
            record(uow.session, "framework.map", f"{framework.id}→{target.id}:{parsed.source_type} {parsed.source}", at=self._clock.now())
            await _commit(uow, framework_id)
        return {"framework": framework.id, **summary, "row": parsed.to_json()}

    async def approve(self, framework_id: str, approver: str, *, target_id: str | None = None,
                      level: str | None = None, qualification: str | None = None) -> dict[str, Any]:
        """A second person approves draft rows (one row, or every row awaiting approval)."""
        approver = (approver or "").strip()
        if not approver:
            raise InvalidInput("approval needs the approver's name")
        async with self._uow() as uow:
            draft = await self._draft(uow.session, framework_id, target_id)
            mapping = repo.to_mapping(draft)
            if level is not None or qualification is not None:
                key = ("level", str(level)) if level is not None else ("qualification", qualification)
                row = mapping.row(*key)
                if row is None:
                    raise NotFound(f"the draft mapping has no row for {key[0]} {key[1]}")
                chosen = [row]
            else:
                chosen = [r for r in mapping.rows if not r.approved]
            own = [f"{r.source_type} {r.source}" for r in chosen if r.author.casefold() == approver.casefold()]
            if own:
                raise ForbiddenTransition(f"{approver} wrote {', '.join(own)}; a second person must approve it",
                                          errors=[{"path": f"rows[{r}]", "error": "approver is the author"} for r in own])
            for row in chosen:
                mapping = mapping.with_row(MappingRow(row.source_type, row.source, row.target_level, row.relation, row.rationale,
                                                      row.evidence, row.author, approver))
            draft.rows = [r.to_json() for r in _in_order(mapping.rows, repo.to_rows(draft.rows))]
            record(uow.session, "framework.approve", f"{framework_id}→{draft.target_id}@{draft.version}", at=self._clock.now())
            await _commit(uow, framework_id)
            return {"framework": framework_id, "target": draft.target_id, "version": draft.version,
                    "approved": [f"{r.source_type} {r.source}" for r in chosen], "approver": approver,
                    "awaitingApproval": sum(1 for r in mapping.rows if not r.approved)}

    # -- publication ------------------------------------------------------------------------------

    async def publish(self, framework_id: str, target_id: str | None = None) -> PublishedDocument:
        """Sign the latest mapping version with the framework's ministry key and store the bytes.
        Publishing again what is already published returns the same document (same ETag)."""
        async with self._uow() as uow:
            current = await self._latest_mapping(uow.session, framework_id, target_id)
            if current.status == repo.PUBLISHED:
                return _published(await repo.publication_of(uow.session, current.id))
            framework = await self._framework(uow.session, framework_id, current.framework_version)
            target = await self._framework(uow.session, current.target_id, current.target_version)
            mapping = repo.to_mapping(current)
            _check_rows(mapping, framework, target)
            reasons = publication_problems(mapping, framework)
            if reasons:
                raise ValidationFailed(f"{framework.key} → {target.key} cannot be published yet: {'; '.join(reasons)}",
                                       errors=[{"path": "mapping", "error": r} for r in reasons])
            if framework.kind != "national" or not framework.jurisdiction:
                raise InvalidInput(f"{framework.id} is a {framework.kind} framework; only a ministry's national framework is published here")
            key = await self._ministry_key(framework.jurisdiction)
            now = self._clock.now()
            document = build_publication(framework=framework, target=target, mapping=mapping, version=current.version,
                                         issuer=key.controller, base_url=self._base_url, issued_at=now)
            body = serialise(await sign_publication(self._signer, document, key, now, self._suite))
            row = repo.PUBLICATIONS.add(uow.session, body=body, document_id=document["id"], issuer=key.controller,
                                        published_at=now, mapping_pk=current.id, framework_id=framework.id)
            current.status, current.published_at = repo.PUBLISHED, now
            record(uow.session, "framework.publish", document["id"], at=now)
            try:
                await uow.commit()
            except (IntegrityError, StaleDataError):
                pass  # published concurrently: the stored one wins, return it below
            else:
                return _published(row, new=True)
        async with self._uow() as uow:
            current = await self._latest_mapping(uow.session, framework_id, target_id)
            existing = await repo.publication_of(uow.session, current.id)
            if existing is None:
                raise Conflict(f"{framework_id} was changed while publishing; try again")
            return _published(existing)

    async def publication(self, framework_id: str, target_id: str | None = None, version: int | None = None) -> PublishedDocument:
        """A stored publication: the newest, or a given mapping version (old versions stay resolvable)."""
        async with self._uow() as uow:
            rows = [m for m in await repo.mapping_rows(uow.session, framework_id, target_id) if m.status == repo.PUBLISHED]
            if version is not None:
                rows = [m for m in rows if m.version == version]
            if not rows:
                raise NotFound(f"{framework_id} has no published mapping" + (f" version {version}" if version else "")
                               + (f" onto {target_id}" if target_id else ""))
            newest = max(rows, key=lambda m: (m.published_at, m.id))
            return _published(await repo.publication_of(uow.session, newest.id))

    async def publications(self, framework_id: str | None = None) -> list[dict[str, Any]]:
        async with self._uow() as uow:
            ids = [framework_id] if framework_id else sorted({r.framework_id for r in await repo.all_versions(uow.session)})
            out = []
            for fid in ids:
                for m in await repo.mapping_rows(uow.session, fid):
                    if m.status == repo.PUBLISHED:
                        pub = await repo.publication_of(uow.session, m.id)
                        out.append({"framework": fid, "frameworkVersion": m.framework_version, "target": m.target_id,
                                    "targetVersion": m.target_version, "version": m.version, "id": pub.credential_id,
                                    "issuer": pub.issuer, "sha256": pub.sha256, "publishedAt": isoformat_z(pub.published_at)})
            return out

    async def verify(self, document: Any, resolver: Any) -> Any:
        """Proof by the issuer's key, validity, schema, and a complete, approved mapping."""
        from node.verification.pipeline import CredentialVerifier
        from node.framework.publication import content_checks

        async def framework_checks(credential: dict[str, Any], _now: Any) -> list[Any]:
            return content_checks(credential)

        framework_checks.check_name = "framework"
        return await CredentialVerifier(self._signer, resolver, self._clock, extra_checks=[framework_checks]).verify(document)

    # -- reads ------------------------------------------------------------------------------------

    async def frameworks(self) -> list[dict[str, Any]]:
        async with self._uow() as uow:
            latest: dict[str, FrameworkVersionRow] = {}
            versions: dict[str, list[str]] = {}
            for row in await repo.all_versions(uow.session):
                latest[row.framework_id] = row
                versions.setdefault(row.framework_id, []).append(row.version)
            return [{"id": fid, "version": row.version, "versions": versions[fid], "kind": row.kind,
                     "jurisdiction": row.jurisdiction, "title": row.document.get("title"),
                     "levels": len(row.document.get("levels", [])), "qualifications": len(row.document.get("qualifications", []))}
                    for fid, row in sorted(latest.items())]

    async def framework(self, framework_id: str, version: str | None = None) -> Framework:
        async with self._uow() as uow:
            return await self._framework(uow.session, framework_id, version)

    async def mappings(self, framework_id: str) -> list[dict[str, Any]]:
        async with self._uow() as uow:
            await self._framework(uow.session, framework_id)
            return [repo.mapping_json(m) for m in await repo.mapping_rows(uow.session, framework_id)]

    async def mapping(self, framework_id: str, target_id: str, version: int | None = None) -> dict[str, Any]:
        async with self._uow() as uow:
            rows = await repo.mapping_rows(uow.session, framework_id, target_id)
            chosen = [m for m in rows if version is None or m.version == version]
            if not chosen:
                raise NotFound(f"no mapping of {framework_id} onto {target_id}" + (f" version {version}" if version else ""))
            return repo.mapping_json(chosen[-1])

    async def export(self, framework_id: str, fmt: str = "json") -> str:
        from node.framework.exporter import export_csv, export_json

        async with self._uow() as uow:
            framework = await self._framework(uow.session, framework_id)
            mappings = []
            for target in sorted({m.target_id for m in await repo.mapping_rows(uow.session, framework_id)}):
                latest = await repo.latest_mapping(uow.session, framework_id, target)
                mappings.append(repo.to_mapping(latest))
        if fmt == "json":
            return export_json(framework, mappings)
        if fmt == "csv":
            return export_csv(framework, mappings)
        raise InvalidInput(f"unknown export format {fmt!r}; use json or csv")

    async def resolve(self, reference: str, goal: str) -> dict[str, Any]:
        async with self._uow() as uow:
            versions = await repo.all_versions(uow.session)
            by_key = {(r.framework_id, r.version): repo.to_framework(r) for r in versions}
            latest = {r.framework_id: by_key[(r.framework_id, r.version)] for r in versions}  # oldest first: last wins
            published = [PublishedMapping(by_key[(m.framework_id, m.framework_version)], by_key[(m.target_id, m.target_version)],
                                          repo.to_mapping(m), m.version)
                         for m in await repo.published_mappings(uow.session)]
        return resolve(reference, goal, latest, published)

    # -- helpers ----------------------------------------------------------------------------------

    async def _framework(self, session, framework_id: str, version: str | None = None) -> Framework:
        row = await (repo.version_row(session, framework_id, version) if version else repo.latest_version_row(session, framework_id))
        if row is None:
            raise NotFound(f"unknown framework {framework_id}" + (f" version {version}" if version else ""))
        return repo.to_framework(row)

    async def _latest_mapping(self, session, framework_id: str, target_id: str | None) -> MappingVersionRow:
        rows = await repo.mapping_rows(session, framework_id, target_id)
        targets = sorted({m.target_id for m in rows})
        if not rows:
            await self._framework(session, framework_id)  # unknown framework → NotFound naming it
            raise NotFound(f"{framework_id} has no mapping" + (f" onto {target_id}" if target_id else "") + " yet; add rows with puente framework map")
        if len(targets) > 1:
            raise InvalidInput(f"{framework_id} is mapped onto {', '.join(targets)}; say which target")
        return rows[-1]

    async def _draft(self, session, framework_id: str, target_id: str | None) -> MappingVersionRow:
        current = await self._latest_mapping(session, framework_id, target_id)
        if current.status != repo.DRAFT:
            raise ForbiddenTransition(f"mapping version {current.version} of {framework_id} is published and immutable; "
                                      "change a row with puente framework map to open a new version")
        return current


async def _commit(uow: Any, framework_id: str) -> None:
    """Commit; a concurrent change of the same mapping (stale row version or duplicate version) is a Conflict."""
    try:
        await uow.commit()
    except (IntegrityError, StaleDataError):
        raise Conflict(f"the mappings of {framework_id} were changed concurrently; read them again and retry") from None


def _check_import_by(bundle: ImportBundle, by: Principal) -> None:
    """Rules for an import by a token holder (architecture rule 12): scope, authorship, no approvals."""
    framework = bundle.framework
    if not by.is_operator and (framework.kind != "national" or not by.acts_for_jurisdiction(framework.jurisdiction)):
        what = f"the {framework.kind} framework {framework.id}" if framework.kind != "national" else f"{framework.id} of {framework.jurisdiction}"
        raise Forbidden(f"this token acts for {by.jurisdiction or 'no jurisdiction'}; it cannot import {what} "
                        "(regional and reference frameworks are loaded by the node operator)")
    errors = []
    for spec in bundle.mappings:
        for i, row in enumerate(spec.rows):
            if row.approved_by:
                errors.append({"path": f"{spec.path}.rows[{i}].approvedBy",
                               "error": "an import file cannot approve a row: a second person approves it with their own token"})
            if row.author.strip().casefold() != by.subject.strip().casefold():
                errors.append({"path": f"{spec.path}.rows[{i}].author",
                               "error": f"rows are authored by the token's holder ({by.subject}), not {row.author!r}"})
    if errors:
        raise ValidationFailed(f"the import file names other authors or approvers than the token's holder: "
                               f"{errors[0]['path']}: {errors[0]['error']}", errors=errors)


def _check_rows(mapping: Mapping, framework: Framework, target: Framework) -> None:
    problems = Problems()
    for i, row in enumerate(mapping.rows):
        check_row_against(row, framework, target, f"rows[{i}]", problems)
    if problems:
        raise ValidationFailed(f"the mapping onto {target.key} has rows that do not fit {framework.key}: "
                               f"{problems.items[0]['path']}: {problems.items[0]['error']} (import the framework file with its mapping rows "
                               "for this version to replace them)", errors=problems.items)


def _in_order(rows: tuple[MappingRow, ...], original: tuple[MappingRow, ...]) -> list[MappingRow]:
    """Rows in their original order (approval replaces rows; the file's order stays what the ministry wrote)."""
    position = {r.source_key: i for i, r in enumerate(original)}
    return sorted(rows, key=lambda r: position.get(r.source_key, len(position)))
