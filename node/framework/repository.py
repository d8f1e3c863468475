"""Reads and writes of framework rows inside a unit of work; maps rows to the pure models and back."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from node.documents import SignedDocumentStore
from node.framework.model import Framework, Mapping, MappingRow, Problems, parse_framework, parse_mapping_row
from node.framework.orm import FrameworkPublicationRow, FrameworkVersionRow, MappingVersionRow

DRAFT, PUBLISHED = "draft", "published"
# Signed framework publications (ours, and peers' accepted verbatim): one row per published mapping version.
PUBLICATIONS = SignedDocumentStore(FrameworkPublicationRow)


def framework_document(framework: Framework) -> dict[str, Any]:
    return {**framework.to_json(), "qualifications": [q.to_json() for q in framework.qualifications]}


def digest(document: Any) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def to_framework(row: FrameworkVersionRow) -> Framework:
    problems = Problems()
    framework = parse_framework(row.document, problems)
    if framework is None or problems:  # only validated documents are stored; this means the database was edited by hand
        raise ValueError(f"stored framework {row.framework_id}@{row.version} is invalid: {problems.items[:3]}")
    return framework


def to_rows(raw: list[dict[str, Any]]) -> tuple[MappingRow, ...]:
    problems = Problems()
    rows = tuple(parse_mapping_row(r, f"rows[{i}]", problems) for i, r in enumerate(raw))
    if problems:
        raise ValueError(f"stored mapping rows are invalid: {problems.items[:3]}")
    return rows  # type: ignore[return-value]


def to_mapping(row: MappingVersionRow) -> Mapping:
    return Mapping(row.framework_id, row.framework_version, row.target_id, row.target_version, to_rows(row.rows))


async def all_versions(session) -> list[FrameworkVersionRow]:
    return list((await session.execute(
        select(FrameworkVersionRow).order_by(FrameworkVersionRow.framework_id, FrameworkVersionRow.loaded_at, FrameworkVersionRow.id)
    )).scalars())


async def version_row(session, framework_id: str, version: str) -> FrameworkVersionRow | None:
    return (await session.execute(select(FrameworkVersionRow).where(
        FrameworkVersionRow.framework_id == framework_id, FrameworkVersionRow.version == version))).scalar_one_or_none()


async def latest_version_row(session, framework_id: str) -> FrameworkVersionRow | None:
    return (await session.execute(
        select(FrameworkVersionRow).where(FrameworkVersionRow.framework_id == framework_id)
        .order_by(FrameworkVersionRow.loaded_at.desc(), FrameworkVersionRow.id.desc()).limit(1)
    )).scalar_one_or_none()


async def mapping_rows(session, framework_id: str, target_id: str | None = None) -> list[MappingVersionRow]:
    query = select(MappingVersionRow).where(MappingVersionRow.framework_id == framework_id)
    if target_id:
        query = query.where(MappingVersionRow.target_id == target_id)
    return list((await session.execute(query.order_by(MappingVersionRow.target_id, MappingVersionRow.version))).scalars())


async def latest_mapping(session, framework_id: str, target_id: str) -> MappingVersionRow | None:
    rows = await mapping_rows(session, framework_id, target_id)
    return rows[-1] if rows else None


async def published_mappings(session) -> list[MappingVersionRow]:
    """The newest published version of every (framework, target) mapping."""
    rows = (await session.execute(select(MappingVersionRow).where(MappingVersionRow.status == PUBLISHED)
                                  .order_by(MappingVersionRow.version.desc()))).scalars()
    newest: dict[tuple[str, str], MappingVersionRow] = {}
    for row in rows:
        newest.setdefault((row.framework_id, row.target_id), row)
    return list(newest.values())


async def publication_of(session, mapping_pk: int) -> FrameworkPublicationRow | None:
    return await PUBLICATIONS.one(session, mapping_pk=mapping_pk)


def mapping_json(row: MappingVersionRow) -> dict[str, Any]:
    from node.clock import isoformat_z

    return {"framework": row.framework_id, "frameworkVersion": row.framework_version, "target": row.target_id,
            "targetVersion": row.target_version, "version": row.version, "status": row.status,
            "createdAt": isoformat_z(row.created_at),
            **({"publishedAt": isoformat_z(row.published_at)} if row.published_at else {}), "rows": list(row.rows)}
