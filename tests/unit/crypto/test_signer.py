"""The async signer: rdfc work in worker processes, jcs inline, results identical to the pure functions."""

import json
from datetime import datetime, timezone

import pytest

from node.clock import FixedClock
from node.verification.pipeline import CredentialVerifier
from node.crypto.data_integrity import add_proof
from node.crypto.did import DidResolver
from node.crypto.keys import KeyPair
from node.crypto.signer import DocumentSigner

CREATED = "2026-01-01T00:00:00Z"


@pytest.fixture
def signer():
    s = DocumentSigner(workers=2)
    yield s
    s.close()


@pytest.fixture
def credential(conformance_dir):
    return json.loads((conformance_dir / "openbadges/examples/basicOpenBadgeCredential.json").read_text())


def did_key_issued(credential, key):
    return {**credential, "issuer": {**credential["issuer"], "id": key.controller}}


async def test_rdfc_signing_runs_in_the_pool_and_matches_pure_signing(signer, credential):
    key = KeyPair.from_seed(bytes(32))
    signed = await signer.sign(credential, key, created=CREATED)
    assert signer._pool is not None, "rdfc canonicalization must leave the event loop"
    assert signed == add_proof(credential, key, created=CREATED)


async def test_jcs_signing_stays_inline(signer, credential):
    key = KeyPair.from_seed(bytes(32))
    signed = await signer.sign(credential, key, suite="eddsa-jcs-2022", created=CREATED)
    assert signer._pool is None
    assert signed["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
async def test_sign_many_keeps_order_and_verifies(signer, credential, suite):
    key = KeyPair.generate()
    docs = [{**credential, "id": f"urn:uuid:00000000-0000-0000-0000-{i:012d}"} for i in range(25)]
    signed = await signer.sign_many(docs, key, suite=suite, created=CREATED)
    assert [d["id"] for d in signed] == [d["id"] for d in docs]
    resolver = DidResolver()
    for doc in signed[:5] + signed[-2:]:
        assert (await signer.verify(doc, resolver)).verified


async def test_verify_reports_unresolvable_keys_from_the_pool(signer, credential):
    key = KeyPair.generate(controller="did:web:nowhere.example", fragment="k")
    signed = await signer.sign(credential, key, created=CREATED)
    result = await signer.verify(signed, DidResolver())
    assert not result.verified
    assert [c.reason for c in result.failures] == ["unresolvable_did"]


async def test_credential_pipeline_checks_issuer_and_validity(signer, credential):
    key = KeyPair.generate()
    clock = FixedClock(datetime(2026, 6, 1, tzinfo=timezone.utc))
    verifier = CredentialVerifier(signer, DidResolver(), clock)
    mine = did_key_issued({k: v for k, v in credential.items() if k != "validUntil"}, key)
    assert (await verifier.verify(await signer.sign(mine, key))).verified

    impostor = KeyPair.generate()
    forged = await signer.sign(mine, impostor)
    assert [c.reason for c in (await verifier.verify(forged)).failures] == ["issuer_mismatch"]

    expired = await signer.sign({**mine, "validUntil": "2026-05-31T00:00:00Z"}, key)
    assert [c.reason for c in (await verifier.verify(expired)).failures] == ["expired"]
    future = await signer.sign({**mine, "validFrom": "2026-07-01T00:00:00Z"}, key)
    assert [c.reason for c in (await verifier.verify(future)).failures] == ["not_yet_valid"]


async def test_extra_check_exception_fails_closed(signer, credential):
    key = KeyPair.generate()

    async def exploding(credential, now):
        raise RuntimeError("status list unreachable")

    verifier = CredentialVerifier(signer, DidResolver(), FixedClock(datetime(2026, 6, 1, tzinfo=timezone.utc)), [exploding])
    doc = did_key_issued({k: v for k, v in credential.items() if k != "validUntil"}, key)
    result = await verifier.verify(await signer.sign(doc, key, suite="eddsa-jcs-2022"))
    assert not result.verified
    assert result.failures[-1].reason == "check_error"


async def test_a_dead_worker_is_a_clean_error_and_the_pool_recovers(signer, credential):
    import os
    import signal

    from node.crypto.signer import WorkerCrashed

    key = KeyPair.generate()
    await signer.sign(credential, key)  # start the pool
    for pid in list(signer._pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(WorkerCrashed):
        for _ in range(3):  # the pool notices the death on the next submission
            await signer.sign(credential, key)
    assert (await signer.sign(credential, key))["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
