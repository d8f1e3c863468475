"""Data access for issuance: turns rows into domain objects and back. No business rules here."""

from __future__ import annotations

from typing import Iterable, NamedTuple

from sqlalchemy import select, text, update

from node.errors import NotFound
from node.issuance.model import AccreditationScope, AchievementTemplate, Institution
from node.issuance.orm import BatchRow, CredentialRow, InstitutionRow, StatusEventRow, StatusListRow, TemplateRow


class OpenList(NamedTuple):
    id: str
    next_slot: int
    size: int
    permutation_key: str


def institution_from_row(row: InstitutionRow) -> Institution:
    return Institution(
        slug=row.slug, name=row.name, did=row.did, scope=AccreditationScope.from_json(row.scope),
        logo_url=row.logo_url, url=row.url, accredited_from=row.accredited_from, accredited_until=row.accredited_until,
        suspension=bool(row.suspension),
    )


class IssuanceRepository:
    def __init__(self, session) -> None:
        self.session = session

    # institutions and templates

    async def institution_row(self, slug: str) -> InstitutionRow | None:
        return await self.session.get(InstitutionRow, slug)

    async def institution(self, slug: str) -> Institution:
        row = await self.institution_row(slug)
        if row is None:
            raise NotFound(f"no institution {slug!r} on this node")
        return institution_from_row(row)

    async def institution_by_did(self, did: str) -> Institution | None:
        row = (await self.session.execute(select(InstitutionRow).where(InstitutionRow.did == did))).scalar_one_or_none()
        return institution_from_row(row) if row else None

    async def institution_and_template_data(self, did: str, template_id: str | None) -> tuple[Institution | None, dict | None]:
        """The institution of `did` and the data of template `template_id` (None if either is missing), in
        one statement: verification asks both for every credential."""
        if template_id is None:
            return await self.institution_by_did(did), None
        query = (select(InstitutionRow, TemplateRow.data).outerjoin(TemplateRow, TemplateRow.id == template_id)
                 .where(InstitutionRow.did == did))
        found = (await self.session.execute(query)).first()
        return (institution_from_row(found[0]), found[1]) if found else (None, None)

    async def institutions(self) -> list[Institution]:
        rows = (await self.session.execute(select(InstitutionRow).order_by(InstitutionRow.slug))).scalars()
        return [institution_from_row(r) for r in rows]

    async def template_row(self, template_id: str) -> TemplateRow | None:
        return await self.session.get(TemplateRow, template_id)

    async def template(self, template_id: str) -> AchievementTemplate:
        row = await self.template_row(template_id)
        if row is None:
            raise NotFound(f"no achievement template {template_id!r}")
        return AchievementTemplate.from_json(row.data)

    async def templates(self, institution: str | None = None) -> list[AchievementTemplate]:
        query = select(TemplateRow).order_by(TemplateRow.id)
        if institution:
            query = query.where(TemplateRow.institution == institution)
        return [AchievementTemplate.from_json(r.data) for r in (await self.session.execute(query)).scalars()]

    # credentials

    async def credential(self, credential_id: str, *, for_update: bool = False) -> CredentialRow:
        """By the uuid or the full credential id (URL)."""
        suffix = credential_id.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        query = select(CredentialRow).where(CredentialRow.id == suffix).execution_options(populate_existing=True)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None or (credential_id != suffix and row.uri != credential_id):
            raise NotFound(f"no credential {credential_id!r} issued by this node")
        return row

    async def credential_by_uri(self, uri: str) -> CredentialRow | None:
        return (await self.session.execute(select(CredentialRow).where(CredentialRow.uri == uri))).scalar_one_or_none()

    async def credentials_by_keys(self, keys: Iterable[str]) -> dict[str, CredentialRow]:
        keys = list(keys)
        if not keys:
            return {}
        rows = (await self.session.execute(select(CredentialRow).where(CredentialRow.idempotency_key.in_(keys)))).scalars()
        return {r.idempotency_key: r for r in rows}

    async def status_events(self, credential_id: str) -> list[StatusEventRow]:
        query = select(StatusEventRow).where(StatusEventRow.credential_id == credential_id).order_by(StatusEventRow.id)
        return list((await self.session.execute(query)).scalars())

    # status lists

    async def open_status_list(self, institution: str, purpose: str) -> OpenList | None:
        """The list new credentials of this institution and purpose go into: the one with free slots (the
        partial unique index of 0008 allows at most one). Read without a lock: slots are taken with
        `reserve_slots`/`claim_slots`, atomic statements on the counter."""
        query = (select(StatusListRow.id, StatusListRow.next_slot, StatusListRow.size, StatusListRow.permutation_key)
                 .where(StatusListRow.institution == institution, StatusListRow.purpose == purpose,
                        StatusListRow.next_slot < StatusListRow.size))
        found = (await self.session.execute(query)).first()
        return OpenList(*found) if found else None

    async def reservation_commit_without_flush(self) -> None:
        """Let this (reservation) transaction commit without waiting for its WAL flush (PostgreSQL
        `synchronous_commit = off`, this transaction only), so the list row is held for the statement and
        not for a disk flush: reservations of one institution queue on that row. Safe because a
        credential's own commit, synchronous and later, flushes the WAL up to and including its
        reservation; a crash can only lose a reservation nobody stored a credential for (its slot is
        then simply reserved again; should the database itself crash while a node holds a lost reservation,
        the unique (list, index) of stored credentials refuses the second use: a Conflict, never a shared
        entry). SQLite in WAL mode with synchronous=NORMAL already commits so."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text("SET LOCAL synchronous_commit TO OFF"))

    async def reserve_slots(self, list_id: str, count: int) -> int | None:
        """Add `count` to the list's counter in one statement when that many slots are free: the first
        slot of the block, or None. Concurrent reservations queue on the row for this one statement (and
        the commit right after it), never while anything is signed."""
        result = await self.session.execute(
            update(StatusListRow)
            .where(StatusListRow.id == list_id, StatusListRow.next_slot + count <= StatusListRow.size)
            .values(next_slot=StatusListRow.next_slot + count)
            .returning(StatusListRow.next_slot).execution_options(synchronize_session=False))
        after = result.scalar_one_or_none()
        return None if after is None else after - count

    async def claim_slots(self, list_id: str, seen: int, count: int) -> bool:
        """Compare-and-set on the list's counter: True when [seen, seen+count) is now ours (the last
        slots of a list, when fewer are free than a block asks for)."""
        result = await self.session.execute(
            update(StatusListRow).where(StatusListRow.id == list_id, StatusListRow.next_slot == seen)
            .values(next_slot=seen + count).execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def open_list_once(self, values: dict) -> bool:
        """Insert a new open list unless the institution already has an open list of that purpose
        (INSERT ... ON CONFLICT DO NOTHING on the partial unique index): True when this one was opened.
        Of several transactions racing at a rollover exactly one opens a list; the others open none."""
        if self.session.bind.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(StatusListRow).values(**values).on_conflict_do_nothing(
            index_elements=["institution", "purpose"], index_where=StatusListRow.next_slot < StatusListRow.size)
        return (await self.session.execute(statement)).rowcount == 1

    async def replace_list_document(self, list_id: str, seen_version: int, *, bits: bytes, document: str, digest: str,
                                    now) -> bool:
        """Compare-and-set on the list's version, so two concurrent status changes never lose a bit."""
        result = await self.session.execute(
            update(StatusListRow).where(StatusListRow.id == list_id, StatusListRow.version == seen_version)
            .values(bits=bits, document=document, digest=digest, version=seen_version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def change_credential_state(self, credential_id: str, seen: str, target: str) -> bool:
        result = await self.session.execute(
            update(CredentialRow).where(CredentialRow.id == credential_id, CredentialRow.state == seen)
            .values(state=target).execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def status_list_document(self, list_id: str) -> tuple[str, str]:
        """(signed list text, digest) without the row's bits: every verification of a credential of this
        node reads it, and the bits (16 KB and more) are only for changing the list."""
        found = (await self.session.execute(select(StatusListRow.document, StatusListRow.digest)
                                            .where(StatusListRow.id == list_id))).first()
        if found is None:
            raise NotFound(f"no status list {list_id!r}")
        return found[0], found[1]

    async def status_list(self, list_id: str, *, for_update: bool = False) -> StatusListRow:
        query = select(StatusListRow).where(StatusListRow.id == list_id).execution_options(populate_existing=True)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no status list {list_id!r}")
        return row

    # batches

    async def batch_for_source(self, template_id: str, source_digest: str) -> BatchRow | None:
        query = select(BatchRow).where(BatchRow.template_id == template_id, BatchRow.source_digest == source_digest)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def batch(self, batch_id: str) -> BatchRow:
        row = await self.session.get(BatchRow, batch_id)
        if row is None:
            raise NotFound(f"no batch {batch_id!r}")
        return row

    def add(self, row) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()
