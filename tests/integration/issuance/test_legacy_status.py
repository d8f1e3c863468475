"""Credentials issued before migration 0005 carry two single-bit entries (revocation, suspension lists),
and those issued under 0005 (before 0007) one 2-bit "message" entry: both kinds can still be suspended,
revoked and verified; and upgrading a database from 0003 keeps them."""

import json
import uuid

from sqlalchemy import text

from node.issuance import ob3
from node.issuance.model import ACTIVE, make_recipient
from node.issuance.orm import CredentialRow
from node.issuance.repository import IssuanceRepository
from node.issuance.status_list import MESSAGE, message_entry, read_status, read_value, status_entry

TEMPLATE = "intecap-albanileria-2"


async def legacy_credential(issuance, services) -> dict:
    """What issuance stored before 0005: a credential with a revocation and a suspension entry."""
    now = services.clock.now()
    async with services.uow() as uow:
        repo = IssuanceRepository(uow.session)
        institution = await repo.institution("intecap")
        template = await repo.template(TEMPLATE)
        key = await services.keystore.signing_key(institution.did)
        lists = {p: await issuance.lists._create(repo, "intecap", institution.did, p, key, now) for p in ("revocation", "suspension")}
        credential_uuid = str(uuid.uuid4())
        unsigned = ob3.build_credential(
            template=template, institution=institution, recipient=make_recipient("Ana", "López", "ana@example.org", "s"),
            credential_id=ob3.credential_url(issuance.base_url, credential_uuid), issued_at=now, credential_status=None,
            base_url=issuance.base_url)
        unsigned["credentialStatus"] = [status_entry(f"{issuance.base_url}/status/{lists[p].id}", p, 11) for p in lists]
        signed = await services.signer.sign(unsigned, key, suite="eddsa-jcs-2022", created=now)
        document = json.dumps(signed, separators=(",", ":"))
        repo.add(CredentialRow(
            id=credential_uuid, uri=signed["id"], institution="intecap", template_id=TEMPLATE, idempotency_key=credential_uuid,
            document=document, digest="0" * 64, issued_at=now, state=ACTIVE,
            revocation_list=lists["revocation"].id, revocation_index=11, suspension_list=lists["suspension"].id, suspension_index=11))
        await uow.commit()
    return signed


async def test_a_legacy_credential_is_still_suspended_revoked_and_verified(issuance, services, verifier):
    credential = await legacy_credential(issuance, services)

    async def status():
        result = await verifier().verify(credential)
        return [(c.ok, c.reason) for c in result.checks if c.check == "status"]

    async def bits():
        out = {}
        for entry in credential["credentialStatus"]:
            document, _ = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
            out[entry["statusPurpose"]] = read_status(json.loads(document), entry)
        return out

    assert await status() == [(True, None)]
    await issuance.change_status(credential["id"], "suspend", "review")
    assert await bits() == {"revocation": False, "suspension": True} and await status() == [(False, "suspended")]
    await issuance.change_status(credential["id"], "revoke", "annulled")
    assert await bits() == {"revocation": True, "suspension": False} and await status() == [(False, "revoked")]
    # and new credentials of the same institution get one 1-bit revocation entry
    new = (await issuance.issue_one(TEMPLATE, {"given_name": "Rosa", "family_name": "M", "identifier": "r@example.org"})).to_json()
    assert new["credentialStatus"]["statusPurpose"] == "revocation"


async def message_credential(issuance, services, suite: str) -> dict:
    """What issuance stored under migration 0005: one 2-bit "message" entry in a "message" list."""
    now = services.clock.now()
    async with services.uow() as uow:
        repo = IssuanceRepository(uow.session)
        institution = await repo.institution("intecap")
        template = await repo.template(TEMPLATE)
        key = await services.keystore.signing_key(institution.did)
        [allocation] = await issuance.lists.allocate(repo, "intecap", institution.did, key, 1, now, MESSAGE)
        credential_uuid = str(uuid.uuid4())
        signed = await services.signer.sign(ob3.build_credential(
            template=template, institution=institution, recipient=make_recipient("Ana", "López", "ana@example.org", "s"),
            credential_id=ob3.credential_url(issuance.base_url, credential_uuid), issued_at=now,
            credential_status=allocation.entry(issuance.base_url), base_url=issuance.base_url), key, suite=suite, created=now)
        assert signed["credentialStatus"] == message_entry(allocation.entry(issuance.base_url)["statusListCredential"],
                                                           allocation.index)
        repo.add(CredentialRow(
            id=credential_uuid, uri=signed["id"], institution="intecap", template_id=TEMPLATE, idempotency_key=credential_uuid,
            document=json.dumps(signed, separators=(",", ":")), digest="0" * 64, issued_at=now, state=ACTIVE,
            status_list=allocation.list_id, status_index=allocation.index))
        await uow.commit()
    return signed


async def test_a_2bit_message_credential_is_still_suspended_revoked_and_verified(issuance, services, verifier):
    credential = await message_credential(issuance, services, "eddsa-rdfc-2022")
    entry = credential["credentialStatus"]

    async def seen():
        text, _ = await issuance.status_list_document(entry["statusListCredential"].rsplit("/", 1)[-1])
        result = await verifier().verify(credential)
        return read_value(json.loads(text), entry), [(c.ok, c.reason) for c in result.checks if c.check == "status"]

    assert await seen() == (0x0, [(True, None)])
    await issuance.change_status(credential["id"], "suspend", "review")
    assert await seen() == (0x2, [(False, "suspended")])
    await issuance.change_status(credential["id"], "unsuspend")
    assert await seen() == (0x0, [(True, None)])
    await issuance.change_status(credential["id"], "suspend", "again")
    await issuance.change_status(credential["id"], "revoke", "annulled")
    assert await seen() == (0x1, [(False, "revoked")])  # the suspended bit is cleared, revoked wins either way


async def test_upgrading_from_0003_keeps_per_purpose_rows(tmp_path):
    from node.db.engine import make_engine
    from node.db.migrate import current_revisions, database_url, head_revisions, upgrade

    path = tmp_path / "old.sqlite3"
    await upgrade(path, "0003_issuance")
    engine = make_engine(database_url(path))
    now = "2026-01-01 00:00:00.000000"
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO issuance_institutions (slug, name, did, scope, created_at) "
                                    "VALUES ('i', 'I', 'did:web:x', '{}', :now)"), {"now": now})
            await conn.execute(text("INSERT INTO issuance_templates (id, institution, data, created_at) VALUES ('t', 'i', '{}', :now)"),
                               {"now": now})
            for list_id, purpose in (("r", "revocation"), ("s", "suspension")):
                await conn.execute(text(
                    "INSERT INTO issuance_status_lists (id, institution, purpose, size, next_slot, permutation_key, bits, "
                    "document, digest, version, updated_at) VALUES (:id, 'i', :p, 8, 1, 'k', :bits, '{}', 'd', 1, :now)"),
                    {"id": list_id, "p": purpose, "bits": b"\0", "now": now})
            await conn.execute(text(
                "INSERT INTO issuance_credentials (id, uri, institution, template_id, idempotency_key, document, digest, issued_at, "
                "state, revocation_list, revocation_index, suspension_list, suspension_index) "
                "VALUES ('c1', 'u1', 'i', 't', 'k1', '{}', 'd', :now, 'active', 'r', 3, 's', 5)"), {"now": now})
        await upgrade(path)
        assert await current_revisions(path) == head_revisions()
        async with engine.begin() as conn:
            old = (await conn.execute(text("SELECT revocation_list, revocation_index, suspension_list, suspension_index, "
                                           "status_list, status_index FROM issuance_credentials"))).one()
            assert tuple(old) == ("r", 3, "s", 5, None, None)
            # 0007: an existing institution keeps issuing one revocation entry (suspension off)
            assert (await conn.execute(text("SELECT suspension FROM issuance_institutions"))).scalar_one() in (False, 0)
            await conn.execute(text(  # a new-style row: one "message" entry, no per-purpose columns
                "INSERT INTO issuance_credentials (id, uri, institution, template_id, idempotency_key, document, digest, issued_at, "
                "state, status_list, status_index) VALUES ('c2', 'u2', 'i', 't', 'k2', '{}', 'd', :now, 'active', 'r', 3)"),
                {"now": now})
    finally:
        await engine.dispose()
