"""Key custody (issue 10 item 3): private keys sealed in the database under a master key kept outside it.

Finding: keys lived only in `<data_dir>/keys` while the current key was chosen from the database, so a
second host (or a process with an older copy of the directory) answered 500 for every issue after a
rotation. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging

import pytest
from sqlalchemy import select, update

from node.db.orm import IdentityKey
from node.issuance.service import IssuanceService
from node.key_custody import KeyUnavailable, MasterKey
from node.services import open_services

TEMPLATE = {
    "id": "intecap-albanileria-2", "institution": "intecap", "name": "Albañil (nivel 2)",
    "description": "Construye muros de mampostería según planos.", "qualification_code": "GT-CON-ALB-2",
    "framework_id": "gt-mnc", "national_level": "2", "rqf_level": 2, "sector": "construction", "isco_code": "7112",
    "learning_outcomes": ["Interpreta planos sencillos", "Levanta muros de block"], "validity": "P5Y",
}
ROW = {"given_name": "Ana", "family_name": "López", "identifier": "ana@example.org"}


@pytest.fixture
async def issuance(services):
    service = IssuanceService.from_services(services)
    await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [2]})
    await service.create_template(TEMPLATE)
    return service


def method(document) -> str:
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    return proofs[-1]["verificationMethod"]


def master_of(settings) -> str:
    return (settings.secrets_dir / "master.key").read_text().strip()


def other_host(settings, tmp_path, name: str, **changes):
    """Settings of another host of the same node: same database, its own (empty) data directory."""
    data_dir = tmp_path / name
    data_dir.mkdir(mode=0o700)
    return dataclasses.replace(settings, data_dir=data_dir, **changes)


def secret_spellings(key) -> list[bytes]:
    seed = key.seed()
    return [seed, seed.hex().encode(), base64.b64encode(seed).rstrip(b"="),
            base64.urlsafe_b64encode(seed).rstrip(b"="), key.secret_multibase().encode()]


async def key_rows(services) -> list:
    async with services.uow() as uow:
        return [dataclasses.make_dataclass("Row", [c.name for c in IdentityKey.__table__.columns])(**row._mapping)
                for row in (await uow.session.execute(select(*IdentityKey.__table__.columns)
                                                      .order_by(IdentityKey.key_id))).all()]


async def test_private_keys_are_sealed_in_the_database(services, settings, db_backend):
    rows = await key_rows(services)
    assert len(rows) == 2 and all(r.sealed_key and r.key_file is None for r in rows)
    assert list(settings.keys_dir.iterdir()) == []  # no key files any more
    fingerprint = services.keystore.master_key_fingerprint()
    dumped = json.dumps([{c: str(getattr(r, c)) for c in ("key_id", "did", "public_multibase", "sealed_key")}
                         for r in rows]).encode()
    for row in rows:
        sealed = json.loads(row.sealed_key)
        assert sealed["mk"] == fingerprint and sealed["alg"] == "A256GCM"
        key = await services.keystore.signing_key(row.did)
        for spelling in secret_spellings(key):
            assert spelling not in dumped
            assert spelling not in row.sealed_key.encode()
    if db_backend == "sqlite":
        await services.engine.dispose()  # everything on disk
        on_disk = b"".join(p.read_bytes() for p in settings.data_dir.glob("puente.sqlite3*"))
        on_disk += b"".join(p.read_bytes() for p in settings.data_dir.parent.glob("*.sqlite3*"))
        for row in rows:
            key = await services.keystore.signing_key(row.did)
            assert all(spelling not in on_disk for spelling in secret_spellings(key))


async def test_another_host_signs_with_the_key_rotated_elsewhere(services, settings, tmp_path, issuance):
    """Two "processes" (two services over one database); the second has none of the first's files."""
    async with open_services(other_host(settings, tmp_path, "host-b", master_key=master_of(settings)),
                             services.clock, migrate=False) as host_b:
        b = IssuanceService.from_services(host_b)
        did = (await issuance.institution("intecap")).did
        first = (await b.issue_one("intecap-albanileria-2", ROW)).to_json()
        assert method(first) == did + "#key-1"
        rotated = await services.keystore.rotate(did)  # rotated by host A
        second = (await b.issue_one("intecap-albanileria-2", {**ROW, "identifier": "b@example.org"})).to_json()
        assert method(second) == rotated.id == did + "#key-2"
        assert (await host_b.signer.verify(second, host_b.resolver)).verified
        await host_b.keystore.rotate(did)  # and the other way round
        third = (await issuance.issue_one("intecap-albanileria-2", {**ROW, "identifier": "c@example.org"})).to_json()
        assert method(third) == did + "#key-3"
        assert (await services.signer.verify(third, services.resolver)).verified


async def test_swapped_or_damaged_rows_do_not_open(services, caplog):
    keystore = services.keystore
    node_did, ministry_did = keystore.node_did, keystore.ministry_did
    rows = {r.did: r.sealed_key for r in await key_rows(services)}
    fresh = type(keystore)(services.settings, services.session_factory, clock=services.clock)  # nothing cached
    async with services.uow() as uow:  # the ministry's sealed key copied into the node's row
        await uow.session.execute(update(IdentityKey).where(IdentityKey.did == node_did)
                                  .values(sealed_key=rows[ministry_did]))
        await uow.commit()
    caplog.set_level(logging.INFO, logger="puente")
    with pytest.raises(KeyUnavailable) as refused:
        await fresh.signing_key(node_did)
    assert refused.value.status == 503 and node_did in refused.value.detail
    assert (await fresh.signing_key(ministry_did)).controller == ministry_did  # the other key still opens
    damaged = json.loads(rows[node_did])
    damaged["c"] = damaged["c"][:-4] + ("AAAA" if not damaged["c"].endswith("AAAA") else "BBBB")
    for value in (json.dumps(damaged), "not json", None):
        async with services.uow() as uow:
            await uow.session.execute(update(IdentityKey).where(IdentityKey.did == node_did).values(sealed_key=value))
            await uow.commit()
        with pytest.raises(KeyUnavailable):
            await fresh.signing_key(node_did)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage() == "key_unavailable"]
    assert len(errors) == 4 and all(r.fields["did"] == node_did for r in errors)


@pytest.mark.parametrize("master", ["wrong", "missing"])
async def test_an_unusable_key_is_a_503_problem_and_an_error_log(services, settings, tmp_path, issuance, auth_headers,
                                                                 aiohttp_client, caplog, master):
    from node.app import create_app

    token = await auth_headers("issuer", institution="intecap")
    did = (await issuance.institution("intecap")).did
    secret = await services.keystore.signing_key(did)
    wrong = MasterKey.generate("test").encoded() if master == "wrong" else None
    host = other_host(settings, tmp_path, "host-c", master_key=wrong)
    caplog.set_level(logging.INFO, logger="puente")
    async with open_services(host, services.clock, migrate=False) as host_services:
        client = await aiohttp_client(create_app(host, clock=services.clock, services=host_services))
        response = await client.post("/credentials", json={"template": "intecap-albanileria-2", **ROW}, headers=token)
        body = await response.text()
    assert response.status == 503, body
    problem = json.loads(body)
    assert response.content_type == "application/problem+json"
    assert problem["type"].endswith("/key-unavailable") and problem["did"] == did and did in problem["detail"]
    assert ("another master key" if master == "wrong" else "no master key") in problem["detail"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.getMessage() == "key_unavailable"]
    assert errors and errors[0].fields["did"] == did
    logged = body + "".join(json.dumps(r.fields) for r in caplog.records if hasattr(r, "fields"))
    assert all(spelling.decode("latin-1") not in logged for spelling in secret_spellings(secret))
    assert master_of(settings) not in logged


async def test_key_files_of_an_older_node_are_imported_once(services, settings, caplog):
    """A node from before key custody: rows name key files and hold no sealed key."""
    from node.crypto.keys import KeyPair

    did = services.keystore.ministry_did
    legacy = await _as_legacy_key_file(services, settings, did, "ministry.key-1.legacy.json")
    fresh = type(services.keystore)(settings, services.session_factory, clock=services.clock)
    with pytest.raises(KeyUnavailable):
        await fresh.signing_key(did)  # never read from the file any more
    assert (await fresh.import_key_files())["imported"] == [legacy.id]
    assert (await fresh.import_key_files())["imported"] == []  # once
    (settings.keys_dir / "ministry.key-1.legacy.json").unlink()
    key = await type(services.keystore)(settings, services.session_factory, clock=services.clock).signing_key(did)
    assert key.public_multibase == legacy.public_multibase and isinstance(key, KeyPair)


# -- backup, restore, move ---------------------------------------------------------------------

def run(capsys, *argv: str):
    from node.cli import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


async def _issue_some(settings, clock) -> dict:
    """Credentials (one revoked) issued on the node; what must survive a restore, byte for byte."""
    async with open_services(settings, clock, migrate=False) as services:
        service = IssuanceService.from_services(services)
        await service.create_institution("intecap", "INTECAP", scope={"sectors": ["construction"], "rqf_levels": [2]})
        await service.create_template(TEMPLATE)
        issued = [await service.issue_one("intecap-albanileria-2", {**ROW, "identifier": f"p{i}@example.org"},
                                          suite=suite)
                  for i, suite in enumerate(("eddsa-rdfc-2022", "eddsa-jcs-2022", "eddsa-rdfc-2022"))]
        await service.change_status(issued[0].id, "revoke", "assessment annulled")
        return await _state(services, [i.to_json() for i in issued])


async def _state(services, credentials) -> dict:
    service = IssuanceService.from_services(services)
    lists = sorted({c["credentialStatus"]["statusListCredential"].rsplit("/", 1)[-1] for c in credentials})
    return {"credentials": credentials,
            "lists": {list_id: await service.status_list_document(list_id) for list_id in lists},
            "dids": {i["did"]: await services.keystore.did_document(i["did"]) for i in await services.keystore.identities()},
            "states": [(await service.credential_status(c["id"]))["state"] for c in credentials]}


async def _check_restored(settings, clock, before: dict) -> None:
    async with open_services(settings, clock, migrate=False) as services:
        after = await _state(services, before["credentials"])
        assert after["lists"] == before["lists"]  # status lists: identical bytes and digests
        assert after["dids"] == before["dids"] and after["states"] == before["states"] == ["revoked", "active", "active"]
        for credential in before["credentials"]:
            assert (await services.signer.verify(credential, services.resolver)).verified
        service = IssuanceService.from_services(services)  # the restored keys sign; new rows get new ids
        new = (await service.issue_one("intecap-albanileria-2", {**ROW, "identifier": "new@example.org"})).to_json()
        assert (await services.signer.verify(new, services.resolver)).verified
        await service.change_status(new["id"], "revoke", "test")


def _copy_master_key(source, data_dir):
    (data_dir / "secrets").mkdir(mode=0o700, parents=True, exist_ok=True)
    target = data_dir / "secrets" / "master.key"
    target.write_text(master_of(source))
    target.chmod(0o600)


@pytest.fixture
def empty_database(db_backend, request, tmp_path):
    """An empty database for the restored node, on the test's backend."""
    import asyncio

    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    return asyncio.run(request.getfixturevalue("_postgres_server").acquire(7))


def test_backup_and_restore_round_trip(node, clock, tmp_path, capsys, empty_database):
    import asyncio
    import stat

    before = asyncio.run(_issue_some(node, clock))
    backup = tmp_path / "node.backup.jsonl"
    code, out, err = run(capsys, "--data-dir", str(node.data_dir), "backup", "--out", str(backup))
    assert code == 0, err
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    data = backup.read_bytes()
    assert master_of(node).encode() not in data  # the master key is not in the backup
    assert out["master_key"]["included"] is False and out["master_key"]["where"].endswith("secrets/master.key")
    manifest = json.loads(data.partition(b"\n")[0])
    assert manifest["master_key"]["ids"] == [MasterKey.parse(master_of(node), "t").fingerprint]

    restored_dir = tmp_path / "restored"
    code, out, err = run(capsys, "--data-dir", str(restored_dir), "--database-url", empty_database, "restore", str(backup))
    assert code == 2 and out is None and "no master key" in err and err.count("\n") == 1  # nothing written yet
    _copy_master_key(node, restored_dir)
    code, out, err = run(capsys, "--data-dir", str(restored_dir), "--database-url", empty_database, "restore", str(backup))
    assert code == 0, err
    assert out["identities_that_sign"] == 3 and out["rows"] == sum(t["rows"] for t in manifest["tables"].values())
    from node.settings import load_settings

    restored = load_settings(environ={}, data_dir=restored_dir)
    assert restored.base_url == node.base_url and restored.initialised
    asyncio.run(_check_restored(restored, clock, before))
    code, events, err = run(capsys, "--data-dir", str(restored_dir), "audit", "list", "--limit", "1000")
    restores = [e for e in events if e["action"] == "node.restore"]
    assert len(restores) == 1 and restores[0]["object"] == "backup:" + manifest["sha256"][:16]
    assert len(events) == manifest["tables"]["audit_events"]["rows"] + 3  # the restore, an issue and a revocation

    # a node with data is not overwritten without --force
    code, out, err = run(capsys, "--data-dir", str(restored_dir), "restore", str(backup))
    assert code == 1 and "not empty" in err and "--force" in err
    code, out, err = run(capsys, "--data-dir", str(restored_dir), "restore", "--force", str(backup))
    assert code == 0 and out["replaced"] is True, err
    asyncio.run(_check_restored(restored, clock, before))


def test_restore_refuses_damaged_files_and_other_master_keys(node, clock, tmp_path, capsys, empty_database):
    backup = tmp_path / "node.backup.jsonl"
    assert run(capsys, "--data-dir", str(node.data_dir), "backup", "--out", str(backup))[0] == 0
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(backup.read_bytes().replace(b'"ministry"', b'"minist3y"', 1))
    target = tmp_path / "target"
    code, _out, err = run(capsys, "--data-dir", str(target), "--database-url", empty_database, "restore", str(damaged))
    assert code == 1 and "damaged" in err
    (target / "secrets").mkdir(parents=True, mode=0o700)
    other = target / "secrets" / "master.key"
    other.write_text(MasterKey.generate("x").encoded())
    other.chmod(0o600)
    code, _out, err = run(capsys, "--data-dir", str(target), "--database-url", empty_database, "restore", str(backup))
    assert code == 2 and "not this node's" in err
    code, _out, err = run(capsys, "--data-dir", str(node.data_dir), "backup", "--out", str(tmp_path / "missing" / "b"))
    assert code == 1 and "does not exist" in err


@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
def test_move_from_sqlite_to_postgresql(node, clock, tmp_path, capsys, request):
    import asyncio

    from node.settings import load_settings

    target = asyncio.run(request.getfixturevalue("_postgres_server").acquire(8))
    before = asyncio.run(_issue_some(node, clock))
    code, out, err = run(capsys, "--data-dir", str(node.data_dir), "db", "move", "--to", target)
    assert code == 0, err
    assert out["identities_that_sign"] == 3
    moved = load_settings(environ={}, data_dir=node.data_dir)
    assert moved.db_url.startswith("postgresql+asyncpg://")
    asyncio.run(_check_restored(moved, clock, before))
    code, out, err = run(capsys, "--data-dir", str(node.data_dir), "db", "move", "--to", target)
    assert code == 1 and "already uses" in err


def test_another_host_is_set_up_only_with_the_nodes_master_key(node, tmp_path, capsys):
    """`puente init` of a new data directory over an existing node's database: a new master key would
    make a host that cannot sign; it is refused until the node's master key is given."""
    host = tmp_path / "host-d"
    init = ("--data-dir", str(host), "--database-url", node.database_url, "init", "--jurisdiction", "GT",
            "--name", node.name, "--base-url", node.base_url)
    code, out, err = run(capsys, *init)
    assert code == 2 and out is None and "sealed under master key" in err and err.count("\n") == 1
    assert not (host / "secrets" / "master.key").exists() and not (host / "node.json").exists()
    _copy_master_key(node, host)
    code, out, err = run(capsys, *init)
    assert code == 0 and out["created"] == ["operator_token"], err
    code, out, err = run(capsys, "--data-dir", str(host), "key", "rotate", out["ministry_did"])
    assert code == 0 and out["current_key"].endswith("#key-2"), err


def test_db_upgrade_imports_the_key_files_of_an_older_node(node, clock, capsys):
    import asyncio

    async def make_legacy():
        async with open_services(node, clock, migrate=False) as services:
            did = services.keystore.node_did
            return await _as_legacy_key_file(services, node, did, "node.key-1.legacy.json")

    key = asyncio.run(make_legacy())
    code, out, err = run(capsys, "--data-dir", str(node.data_dir), "db", "upgrade")
    assert code == 0 and out["keys_imported"] == [key.id] and out["keys_not_imported"] == [], err
    code, out, err = run(capsys, "--data-dir", str(node.data_dir), "db", "upgrade")
    assert code == 0 and out["keys_imported"] == [], err
    code, events, err = run(capsys, "--data-dir", str(node.data_dir), "audit", "list")
    assert [e["object"] for e in events if e["action"] == "key.import"] == [key.id]


async def test_creating_or_rotating_without_a_usable_master_key_is_refused(services, settings, tmp_path, caplog):
    host = other_host(settings, tmp_path, "host-e")  # no master key at all
    async with open_services(host, services.clock, migrate=False) as other:
        caplog.set_level(logging.INFO, logger="puente")
        with pytest.raises(KeyUnavailable, match="no master key"):
            await other.keystore.rotate(services.keystore.ministry_did)
        (host.secrets_dir).mkdir(mode=0o700)
        (host.secrets_dir / "master.key").write_text(master_of(settings))
        (host.secrets_dir / "master.key").chmod(0o644)  # readable by others: refused, never used
        with pytest.raises(KeyUnavailable, match="readable by others"):
            await other.keystore.create_identity("institution", "INA", "institutions/ina")
        with pytest.raises(KeyUnavailable, match="readable by others"):
            await other.keystore.signing_key(services.keystore.node_did)
    assert [k["id"] for k in await services.keystore.keys(services.keystore.ministry_did)] == [
        services.keystore.ministry_did + "#key-1"]  # nothing half-written
    assert await services.keystore.identity(services.keystore.did_for_path("institutions/ina")) is None
    assert sum(r.getMessage() == "key_unavailable" and r.levelno == logging.ERROR for r in caplog.records) == 3


async def _as_legacy_key_file(services, settings, did: str, file_name: str):
    """Turn `did`'s current key into one of a node from before key custody: a key file, no sealed key."""
    key = await services.keystore.signing_key(did)
    key.save(settings.keys_dir / file_name)
    async with services.uow() as uow:
        await uow.session.execute(update(IdentityKey).where(IdentityKey.did == did)
                                  .values(sealed_key=None, key_file=file_name))
        await uow.commit()
    return key
