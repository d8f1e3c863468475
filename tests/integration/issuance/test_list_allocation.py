"""Status-list allocation under concurrency (issue 10, items 1-2): herd privacy and no signing under locks.

Findings turned into tests: concurrent issuance opened one list per request in flight (16 lists, 15 holding
one credential), at start and at every rollover; the open list was chosen by `updated_at`, so revocations
moved issuance to another list; the open list row was locked while credentials were signed, serialising
issuance per institution across processes. PostgreSQL is where concurrency is real; on SQLite (writers
serialised by the file lock) the same invariants hold with concurrent tasks.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from node.issuance.batch import BatchIssuer
from node.issuance.orm import CredentialRow, StatusListRow
from node.issuance.service import IssuanceService
from node.issuance.status_list import read_status

TEMPLATE = "intecap-albanileria-2"
SMALL = 16  # entries per list in these tests (a power of two), so that rollovers happen


def person(i: int, prefix: str = "P") -> dict:
    return {"given_name": f"{prefix}{i}", "family_name": "X", "identifier": f"{prefix.lower()}{i}@example.org"}


@pytest.fixture
def small(issuance, services) -> IssuanceService:
    """The same node's issuance with lists of SMALL entries (a test-only constructor argument)."""
    return IssuanceService.from_services(services, list_size=SMALL)


async def lists_of(services, purpose: str = "revocation") -> list[StatusListRow]:
    async with services.uow() as uow:
        query = select(StatusListRow).where(StatusListRow.institution == "intecap", StatusListRow.purpose == purpose)
        rows = list((await uow.session.execute(query)).scalars())
        uow.session.expunge_all()  # loaded as they are now (leaving the unit of work would expire them)
        return rows


async def entries_of(services) -> list[tuple[str, int]]:
    async with services.uow() as uow:
        return [tuple(r) for r in (await uow.session.execute(
            select(CredentialRow.revocation_list, CredentialRow.revocation_index))).all()]


def assert_herd(lists: list[StatusListRow], entries: list[tuple[str, int]], size: int) -> None:
    """Lists used = ceil(credentials / size), at most one open, no (list, index) used twice."""
    assert len(set(entries)) == len(entries), "two credentials share a status entry"
    assert len(lists) == math.ceil(len(entries) / size), (len(lists), len(entries))
    assert sum(1 for row in lists if row.next_slot < row.size) <= 1, "more than one open list"
    per_list = {row.id: sum(1 for list_id, _ in entries if list_id == row.id) for row in lists}
    assert sorted(per_list.values(), reverse=True)[:-1] == [size] * (len(lists) - 1), per_list  # all full but the last
    assert all(0 <= index < size for _, index in entries)


async def test_concurrent_issuance_fills_one_list(issuance, services):
    """The finding: 16 requests in flight opened 16 lists. Now 64 in flight use one list (of 131,072)."""
    issued = await asyncio.gather(*(issuance.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022") for i in range(64)))
    assert len({i.id for i in issued}) == 64
    assert_herd(await lists_of(services), await entries_of(services), 131_072)


async def test_concurrent_issuance_across_rollovers_opens_one_list_at_a_time(small, services):
    issued = await asyncio.gather(*(small.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022") for i in range(72)))
    assert len({i.id for i in issued}) == 72
    lists = await lists_of(services)
    assert_herd(lists, await entries_of(services), SMALL)
    assert len(lists) == 5  # 16 + 16 + 16 + 16 + 8


async def test_rollover_under_concurrency_opens_exactly_one_next_list(small, services):
    for i in range(SMALL - 1):  # one free slot left in the first list
        await small.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022")
    assert len(await lists_of(services)) == 1
    await asyncio.gather(*(small.issue_one(TEMPLATE, person(i, "Q"), suite="eddsa-jcs-2022") for i in range(20)))
    lists = await lists_of(services)
    assert_herd(lists, await entries_of(services), SMALL)
    assert len(lists) == 3  # 35 credentials: 16 + 16 + 3


async def test_identical_requests_in_flight_give_one_credential_each(issuance, services):
    rows = [person(i) for i in range(32)]
    results = await asyncio.gather(*(issuance.issue_one(TEMPLATE, row, suite="eddsa-jcs-2022") for row in rows + rows))
    first, second = results[:32], results[32:]
    assert [a.id for a in first] == [b.id for b in second]
    assert sum(r.new for r in results) == 32
    entries = await entries_of(services)
    assert len(entries) == 32 and len(await lists_of(services)) == 1
    assert len(set(entries)) == 32


async def test_revocations_while_issuing_lose_no_bit_and_keep_the_open_list(issuance, services):
    first = [await issuance.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022") for i in range(12)]
    revoked = first[::2]
    outcomes = await asyncio.gather(
        *(issuance.change_status(c.id, "revoke", "annulled") for c in revoked),
        *(issuance.issue_one(TEMPLATE, person(i, "N"), suite="eddsa-jcs-2022") for i in range(24)),
        return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    [only] = await lists_of(services)  # revocations did not move issuance to another list
    document = json.loads(only.document)
    for credential in first:
        entry = credential.to_json()["credentialStatus"]
        assert read_status(document, entry) is (credential in revoked), credential.id
    assert len(await entries_of(services)) == 36


async def test_a_batch_while_singles_run_shares_the_lists(small, services, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name,identifier\n" + "".join(f"B{i},X,b{i}@example.org\n" for i in range(40)))
    from node.issuance.batch import file_digest, read_rows

    batch = BatchIssuer(small).run(TEMPLATE, read_rows(path), source_digest=file_digest(path), suite="eddsa-jcs-2022",
                                   chunk_size=10)
    singles = [small.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022") for i in range(24)]
    summary, *issued = await asyncio.gather(batch, *singles)
    assert summary.issued == 40 and not summary.failed and len(issued) == 24
    assert_herd(await lists_of(services), await entries_of(services), SMALL)


async def test_suspension_lists_follow_the_same_rule(small, services):
    await small.set_status_purposes("intecap", suspension=True)
    await asyncio.gather(*(small.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022") for i in range(40)))
    for purpose in ("revocation", "suspension"):
        lists = await lists_of(services, purpose)
        assert len(lists) == 3 and sum(1 for row in lists if row.next_slot < row.size) == 1, purpose


# -- no signing under locks ------------------------------------------------------------------------


async def probe_write_lock(services) -> str | None:
    """Whether another transaction could write the institution's lists and credentials right now: None when
    nothing is locked, else what holds them. PostgreSQL: row locks (FOR UPDATE NOWAIT); SQLite: the file's
    write lock (BEGIN IMMEDIATE without waiting)."""
    url = make_url(services.settings.db_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return None
        except sqlite3.OperationalError as exc:
            return f"sqlite write lock held: {exc}"
        finally:
            connection.close()
    async with services.uow() as uow:
        for table in ("issuance_status_lists", "issuance_credentials"):
            try:
                await uow.session.execute(text(f"SELECT id FROM {table} FOR UPDATE NOWAIT"))
            except DBAPIError as exc:
                return f"{table} row locked: {type(exc.orig).__name__}"
    return None


@pytest.fixture
def lock_probe(services, monkeypatch):
    """Every signature the signer makes first checks that no database lock is held meanwhile."""
    seen: list[str | None] = []
    signer = services.signer
    sign, sign_many = signer.sign, signer.sign_many

    async def probed_sign(*args, **kwargs):
        seen.append(await probe_write_lock(services))
        return await sign(*args, **kwargs)

    async def probed_sign_many(*args, **kwargs):
        seen.append(await probe_write_lock(services))
        return await sign_many(*args, **kwargs)

    monkeypatch.setattr(signer, "sign", probed_sign)
    monkeypatch.setattr(signer, "sign_many", probed_sign_many)
    return seen


async def test_credentials_and_new_lists_are_signed_with_no_lock_held(small, services, lock_probe):
    for i in range(SMALL + 2):  # a list opened, filled, and the next one opened
        await small.issue_one(TEMPLATE, person(i), suite="eddsa-jcs-2022")
    assert set(lock_probe) == {None}, lock_probe
    assert len(lock_probe) >= SMALL + 2 + 2  # credentials and the two lists' first signatures were probed


async def test_a_batch_chunk_is_signed_with_no_lock_held(small, services, lock_probe, tmp_path):
    from node.issuance.batch import file_digest, read_rows

    path = tmp_path / "people.csv"
    path.write_text("given_name,family_name,identifier\n" + "".join(f"B{i},X,b{i}@example.org\n" for i in range(20)))
    summary = await BatchIssuer(small).run(TEMPLATE, read_rows(path), source_digest=file_digest(path),
                                           suite="eddsa-jcs-2022", chunk_size=8)
    assert summary.issued == 20 and set(lock_probe) == {None}, lock_probe


async def test_a_status_change_re_signs_its_list_with_no_lock_held(issuance, services, lock_probe):
    await issuance.set_status_purposes("intecap", suspension=True)
    credential = await issuance.issue_one(TEMPLATE, person(1), suite="eddsa-jcs-2022")
    lock_probe.clear()
    await issuance.change_status(credential.id, "suspend", "review")
    await issuance.change_status(credential.id, "revoke", "annulled")  # sets revocation, clears suspension
    assert len(lock_probe) == 3 and set(lock_probe) == {None}, lock_probe
    assert (await issuance.credential_status(credential.id))["state"] == "revoked"


async def test_the_size_of_a_list_is_a_power_of_two_of_at_least_8_entries(services):
    from node.errors import ConfigurationError

    for bad in (0, 12, 4, 131_071):
        with pytest.raises((ValueError, ConfigurationError)):
            IssuanceService.from_services(services, list_size=bad)


async def test_the_database_refuses_a_second_open_list(issuance, services):
    """The partial unique index: the database itself refuses a second open list of one purpose."""
    from sqlalchemy.exc import IntegrityError

    await issuance.issue_one(TEMPLATE, person(1), suite="eddsa-jcs-2022")
    [row] = await lists_of(services)
    async with services.uow() as uow:
        uow.session.add(StatusListRow(id="f" * 32, institution="intecap", purpose="revocation", size=row.size,
                                      next_slot=0, permutation_key=row.permutation_key, bits=row.bits,
                                      document=row.document, digest=row.digest, version=1, updated_at=row.updated_at))
        with pytest.raises(IntegrityError):
            await uow.commit()
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(StatusListRow)) == 1


async def test_upgrading_keeps_the_fullest_open_list_open_and_closes_the_others(tmp_path):
    """A database from before 0008 may hold several open lists of one purpose (the old behaviour under
    concurrency): the upgrade keeps the fullest open, closes the rest (next_slot = size), touches nothing else."""
    from node.db.engine import make_engine
    from node.db.migrate import database_url, upgrade

    path = tmp_path / "old.sqlite3"
    await upgrade(path, "0007_status_purposes")
    engine = make_engine(database_url(path))
    now = "2026-01-01 00:00:00.000000"
    lists = [("a", "revocation", 1), ("b", "revocation", 5), ("c", "revocation", 2), ("d", "revocation", 8),
             ("e", "suspension", 3)]  # (id, purpose, next_slot) of lists of 8 entries: "d" is full
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO issuance_institutions (slug, name, did, scope, created_at) "
                                    "VALUES ('i', 'I', 'did:web:x', '{}', :now)"), {"now": now})
            for list_id, purpose, next_slot in lists:
                await conn.execute(text(
                    "INSERT INTO issuance_status_lists (id, institution, purpose, size, next_slot, permutation_key, bits, "
                    "document, digest, version, updated_at) VALUES (:id, 'i', :p, 8, :n, 'k', :bits, '{}', 'd', 1, :now)"),
                    {"id": list_id, "p": purpose, "n": next_slot, "bits": b"\0", "now": now})
        await upgrade(path)
        async with engine.begin() as conn:
            rows = dict(tuple(r) for r in (await conn.execute(text("SELECT id, next_slot FROM issuance_status_lists"))).all())
            assert rows == {"a": 8, "b": 5, "c": 8, "d": 8, "e": 3}
            with pytest.raises(Exception, match="UNIQUE"):  # and a second open list is refused from now on
                await conn.execute(text(
                    "INSERT INTO issuance_status_lists (id, institution, purpose, size, next_slot, permutation_key, bits, "
                    "document, digest, version, updated_at) VALUES ('f', 'i', 'revocation', 8, 0, 'k', :bits, '{}', 'd', 1, :now)"),
                    {"bits": b"\0", "now": now})
    finally:
        await engine.dispose()


async def test_reservations_commit_without_waiting_for_a_flush_and_credentials_with(issuance, services, db_backend):
    """The list row is held for the reservation statement, not a WAL flush (PostgreSQL); the credential's
    own transaction stays synchronous, which makes its reservation durable too."""
    from sqlalchemy import event

    seen: list[str] = []

    def statement(conn, cursor, sql, parameters, context, executemany):
        seen.append(" ".join(sql.split())[:60])

    event.listen(services.engine.sync_engine, "before_cursor_execute", statement)
    try:
        await issuance.issue_one(TEMPLATE, person(1), suite="eddsa-jcs-2022")
        await issuance.issue_one(TEMPLATE, person(2), suite="eddsa-jcs-2022")
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", statement)
    relaxed = [i for i, sql in enumerate(seen) if sql.startswith("SET LOCAL synchronous_commit")]
    if db_backend == "sqlite":
        assert relaxed == []
        return
    assert len(relaxed) == 3, seen  # first issue: no open list, then one opened; second issue: one reservation
    assert seen[relaxed[-1] + 2].startswith("UPDATE issuance_status_lists SET next_slot"), seen
    assert sum(sql.startswith("INSERT INTO issuance_credentials") for sql in seen) == 2


async def test_issuing_inside_a_caller_that_already_wrote(issuance, services):
    """issue_in (an RPL decision) after the caller's transaction has written: on SQLite that transaction holds
    the file's write lock, so the entries are taken inside it instead of waiting for it in vain; on
    PostgreSQL the reservation is its own short transaction. Either way one commit stores both."""
    from node.audit import record

    async with services.uow() as uow:
        record(uow.session, "test.write", "before-issue", at=services.clock.now())
        await uow.session.flush()  # the caller has written
        issued = await asyncio.wait_for(issuance.issue_in(uow, TEMPLATE, person(1)), timeout=20)
        await uow.commit()
    assert (await issuance.credential(issued.id)).uri == issued.uri
    assert_herd(await lists_of(services), await entries_of(services), 131_072)
