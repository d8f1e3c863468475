"""One signed-document store (node.documents.SignedDocumentStore) for framework and readiness publications:
exact bytes in, the same bytes out with their SHA-256 (the ETag), and a row whose bytes were changed behind
the node's back is refused (fail closed), never served."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from node.documents import SignedDocumentStore, StoredDocumentCorrupt, digest
from node.framework import repository as framework_repo
from node.framework.orm import FrameworkPublicationRow
from node.rpl import repository as rpl_repo
from node.rpl.orm import ReadinessPublicationRow


def test_framework_and_readiness_publications_share_the_store():
    assert isinstance(framework_repo.PUBLICATIONS, SignedDocumentStore)
    assert framework_repo.PUBLICATIONS.table is FrameworkPublicationRow
    assert isinstance(rpl_repo.PUBLICATIONS, SignedDocumentStore)
    assert rpl_repo.PUBLICATIONS.table is ReadinessPublicationRow


async def _tamper(services, table, **where) -> None:
    """Change one byte of the stored document and keep the old digest (a storage fault or an intruder)."""
    async with services.uow() as uow:
        row = (await uow.session.execute(
            table.__table__.select().filter_by(**where))).mappings().first()
        body = bytes(row["document"]).replace(b'"', b"'", 1)
        await uow.session.execute(update(table).where(table.id == row["id"]).values(document=body))
        await uow.commit()


async def test_readiness_publication_bytes_are_checked_on_every_read(services, client):
    from node.rpl.seed import seed_demo
    from node.rpl.wiring import readiness_service

    await seed_demo(services)
    service = readiness_service(services)
    published = await service.published("GT")
    assert digest(published.body) == published.sha256
    response = await client.get("/readiness/GT")
    assert response.status == 200 and await response.read() == published.body
    assert response.headers["ETag"] == f'"{published.sha256}"'

    await _tamper(services, ReadinessPublicationRow, jurisdiction="GT")
    with pytest.raises(StoredDocumentCorrupt):
        await service.published("GT")
    response = await client.get("/readiness/GT")
    assert response.status == 500
    problem = json.loads(await response.read())
    assert problem["type"].endswith("/stored-document-corrupt")
    assert (await service.published("CO")).document["issuer"]  # other rows are untouched and still served


async def test_framework_publication_bytes_are_checked_on_every_read(services):
    from node.framework.seed import seed_demo
    from node.framework.wiring import framework_service

    await seed_demo(services)
    service = framework_service(services)
    published = await service.publication("gt-mnc")
    assert digest(published.body) == published.sha256 and published.framework_id == "gt-mnc"

    await _tamper(services, FrameworkPublicationRow, framework_id="gt-mnc")
    with pytest.raises(StoredDocumentCorrupt):
        await service.publication("gt-mnc")
    with pytest.raises(StoredDocumentCorrupt):
        await service.publish("gt-mnc")  # publishing again returns the stored document: refused too
