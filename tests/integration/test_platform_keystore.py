"""KeyStore and node set-up against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import stat

import pytest

from node.crypto.did import find_verification_method
from node.errors import Conflict, InvalidInput, NotFound
from node.node_setup import setup_identities


async def test_node_and_ministry_dids_derive_from_base_url(services, settings):
    port = settings.port
    identities = {i["kind"]: i for i in await services.keystore.identities()}
    assert identities["node"]["did"] == f"did:web:127.0.0.1%3A{port}"
    assert identities["ministry"]["did"] == f"did:web:127.0.0.1%3A{port}:ministry"
    assert identities["ministry"]["jurisdiction"] == "GT"


async def test_institution_did_and_document(services, settings):
    did, key = await services.keystore.create_identity("institution", "INTECAP", "institutions/intecap")
    assert did == f"did:web:127.0.0.1%3A{settings.port}:institutions:intecap"
    assert key.id == did + "#key-1"
    document = await services.keystore.did_document(did)
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert document["verificationMethod"] == [key.verification_method()]
    assert document["assertionMethod"] == [key.id] and document["authentication"] == [key.id]
    assert "secretKeyMultibase" not in str(document)
    assert find_verification_method(document, key.id, "assertionMethod").public_multibase == key.public_multibase


async def test_secrets_are_private_and_keys_are_not_files(services, settings):
    # private keys are sealed in the database (tests/integration/test_key_custody.py); no key files
    assert list(settings.keys_dir.iterdir()) == []
    assert stat.S_IMODE(settings.keys_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((settings.secrets_dir / "master.key").stat().st_mode) == 0o600
    token_file = settings.secrets_dir / "operator-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


async def test_signing_key_is_unsealed_from_the_database(services):
    did = services.keystore.ministry_did
    key = await services.keystore.signing_key(did)
    assert key.controller == did and key.id == did + "#key-1"
    signature = key.sign(b"hola")
    assert key.public_key.verify(signature, b"hola")


async def test_rotation_keeps_old_keys_resolvable(services, clock):
    did = services.keystore.ministry_did
    old = await services.keystore.signing_key(did)
    clock.advance(days=30)
    new = await services.keystore.rotate(did)
    assert new.id == did + "#key-2" and new.public_multibase != old.public_multibase
    assert (await services.keystore.signing_key(did)).id == new.id
    document = await services.keystore.did_document(did)
    assert [vm["id"] for vm in document["verificationMethod"]] == [old.id, new.id]
    assert document["assertionMethod"] == [old.id, new.id]
    # a signature made before the rotation still verifies through the resolver
    resolved = await services.resolver.resolve(did)
    assert find_verification_method(resolved, old.id, "assertionMethod").verify(old.sign(b"x"), b"x")
    keys = await services.keystore.keys(did)
    assert keys[0]["retired"] == clock.now() and keys[1]["retired"] is None


async def test_unknown_did_is_not_found(services):
    assert await services.keystore.resolve_local("did:web:elsewhere.example") is None
    with pytest.raises(NotFound):
        await services.keystore.did_document("did:web:elsewhere.example")
    with pytest.raises(NotFound):
        await services.keystore.signing_key("did:web:elsewhere.example")
    with pytest.raises(NotFound):
        await services.keystore.rotate("did:web:elsewhere.example")


async def test_duplicate_and_bad_identities_are_refused(services):
    with pytest.raises(Conflict):
        await services.keystore.create_identity("ministry", "Again")
    for kind, path in (("institution", None), ("institution", "../etc"), ("institution", ".well-known"),
                       ("robot", "x"), ("institution", "Institutions/UPPER"), ("node", "somewhere")):
        with pytest.raises(InvalidInput):
            await services.keystore.create_identity(kind, "X", path)
    assert len(await services.keystore.identities()) == 2  # nothing partial was written


async def test_setup_is_idempotent(services, settings):
    token_file = settings.secrets_dir / "operator-token"
    token = token_file.read_text()
    again = await setup_identities(services)
    assert again["created"] == []
    assert token_file.read_text() == token
    assert list(settings.keys_dir.iterdir()) == []
    assert len({key["id"] for i in await services.keystore.identities() for key in await services.keystore.keys(i["did"])}) == 2


async def test_concurrent_creation_makes_one_identity_with_a_usable_key(services, settings):
    import asyncio

    results = await asyncio.gather(*(services.keystore.ensure_identity("institution", "INA", "institutions/ina")
                                     for _ in range(4)))
    assert sorted(created for _, created in results) == [False, False, False, True]
    did = results[0][0]
    key = await services.keystore.signing_key(did)  # the winner's sealed key is the one in its DID document
    assert (await services.keystore.did_document(did))["verificationMethod"] == [key.verification_method()]


async def test_other_jurisdictions_ministry(services):
    did, _ = await services.keystore.create_identity("ministry", "Ministerio del Trabajo", "ministries/co",
                                                     jurisdiction="co")
    assert (await services.keystore.identity(did))["jurisdiction"] == "CO"
    with pytest.raises(InvalidInput):
        await services.keystore.create_identity("ministry", "X", "ministries/xx", jurisdiction="Colombia")


async def _statements(services, action):
    from sqlalchemy import event

    seen = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(services.engine.sync_engine, "before_cursor_execute", count)
    try:
        result = await action()
    finally:
        event.remove(services.engine.sync_engine, "before_cursor_execute", count)
    return result, seen


async def test_hosted_did_documents_are_cached_and_callers_get_copies(services):
    """Verifying one of our credentials resolves its issuer's DID twice; the document is read once."""
    did = services.keystore.ministry_did
    first = await services.keystore.resolve_local(did)
    first["verificationMethod"].clear()  # a caller's edit does not reach the cache
    again, queries = await _statements(services, lambda: services.resolver.resolve(did))
    assert queries == [] and [vm["id"] for vm in again["verificationMethod"]] == [did + "#key-1"]
    # did.json is always read from the database
    _served, queries = await _statements(services, lambda: services.keystore.did_document(did))
    assert queries


async def test_a_key_rotated_by_another_process_verifies_at_once(services, settings, clock):
    """The cache may lack a key another process (`puente key rotate`) added; a proof by that key makes
    the resolver re-read the document instead of failing it."""
    from node.keystore import KeyStore

    did = services.keystore.ministry_did
    await services.resolver.resolve(did)  # cached with key-1 only
    other_process = KeyStore(settings, services.session_factory, clock=clock)
    new = await other_process.rotate(did)
    keys = await services.resolver.public_keys([new.id], "assertionMethod")
    assert keys[new.id].verify(new.sign(b"x"), b"x")
    assert [vm["id"] for vm in (await services.resolver.resolve(did))["verificationMethod"]] == [did + "#key-1", new.id]
    # a verification method the DID never had still fails (after a fresh read)
    missing = await services.resolver.public_keys([did + "#key-9"], "assertionMethod")
    assert missing[did + "#key-9"].reason == "unknown_verification_method"


async def test_an_identity_created_by_another_process_is_found_at_once(services, settings, clock):
    from node.keystore import KeyStore

    did = services.keystore.did_for_path("institutions/later")
    assert await services.keystore.resolve_local(did) is None  # absence is not cached
    await KeyStore(settings, services.session_factory, clock=clock).create_identity("institution", "Later", "institutions/later")
    assert (await services.keystore.resolve_local(did))["id"] == did


async def test_cached_did_documents_expire(services):
    from node import keystore as module

    now = [0.0]
    store = module.KeyStore(services.settings, services.session_factory, clock=services.clock, monotonic=lambda: now[0])
    did = store.ministry_did
    await store.resolve_local(did)
    _doc, queries = await _statements(services, lambda: store.resolve_local(did))
    assert queries == []
    now[0] += module.DID_DOCUMENT_TTL + 1
    _doc, queries = await _statements(services, lambda: store.resolve_local(did))
    assert queries
