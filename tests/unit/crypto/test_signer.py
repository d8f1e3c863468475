"""The async signer: rdfc work in worker processes, jcs inline, results identical to the pure functions."""

import asyncio
import json
import os
import re
import signal
import sys
import time
from datetime import datetime, timezone

import pytest

from node.clock import FixedClock
from node.verification.pipeline import CredentialVerifier
from node.crypto.data_integrity import add_proof
from node.crypto.did import DidResolver
from node.crypto.keys import KeyPair
from benchmarks._poison import clique, with_fake_proof
from node.crypto.bounded_canon import TooComplex
from node.crypto.signer import DocumentSigner
from node.crypto.workers import WorkerCrashed, WorkerPool, WorkTimedOut

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


async def test_a_worker_that_died_while_idle_is_replaced_without_failing_a_request(signer, credential):
    key = KeyPair.generate()
    await signer.sign(credential, key)  # start a worker
    for pid in signer.worker_pids():
        os.kill(pid, signal.SIGKILL)
        await _until_dead(pid)
    assert (await signer.sign(credential, key))["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


async def test_a_worker_that_dies_mid_task_is_a_clean_error_and_the_pool_recovers():
    pool = WorkerPool(1)
    try:
        task = asyncio.create_task(pool.run(time.sleep, 30, timeout=HANG_GUARD))
        pid = await _busy_worker(pool)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(WorkerCrashed):
            await task
        assert await pool.run(pow, 2, 10, timeout=HANG_GUARD) == 1024
    finally:
        pool.close()


# -- bounded work: stuck tasks are killed, cancelled callers stop their worker, nothing is orphaned -------

HANG_GUARD = 60  # seconds: only there so a regression fails instead of hanging


def _alive(pid: int) -> bool:
    """Any thread of the process still running (a zombie leader can outlive its threads for a moment, and
    its files, pipes included, close only with the last thread)."""
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/stat") as fh:
                if fh.read().split(") ")[1][0] not in "ZX":
                    return True
    except (FileNotFoundError, ProcessLookupError):
        pass
    return False


async def _busy_worker(pool) -> int:
    for _ in range(HANG_GUARD * 20):
        if pool._busy and all(p for p in pool.pids()):
            return next(iter(pool._busy)).process.pid
        await asyncio.sleep(0.05)
    raise AssertionError("no worker picked the task up")


async def _until_dead(pid: int) -> None:
    for _ in range(HANG_GUARD * 20):
        if not _alive(pid):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"worker {pid} is still running")


STUCK = {
    "sleeping": (time.sleep, (3600,)),
    "burning the CPU in C, holding the GIL": (re.fullmatch, (r"(a*)*b", "a" * 64)),  # catastrophic backtracking
}


@pytest.mark.parametrize("stuck", STUCK)
async def test_a_stuck_task_is_killed_at_its_timeout_and_the_pool_recovers(stuck):
    fn, args = STUCK[stuck]
    pool = WorkerPool(1)
    try:
        assert await pool.run(pow, 2, 8, timeout=HANG_GUARD) == 256
        [first] = pool.pids()
        with pytest.raises(WorkTimedOut):
            await asyncio.wait_for(pool.run(fn, *args, timeout=0.5), HANG_GUARD)
        assert not _alive(first) and pool.pids() == []
        assert await pool.run(pow, 2, 10, timeout=HANG_GUARD) == 1024
        assert pool.pids() != [first]
    finally:
        pool.close()


async def test_a_cancelled_caller_stops_its_worker():
    pool = WorkerPool(2)
    try:
        task = asyncio.create_task(pool.run(re.fullmatch, r"(a*)*b", "a" * 64, timeout=HANG_GUARD))
        pid = await _busy_worker(pool)
        task.cancel()  # what aiohttp does to a handler when its client disconnects
        with pytest.raises(asyncio.CancelledError):
            await task
        await _until_dead(pid)
        assert await pool.run(pow, 3, 3, timeout=HANG_GUARD) == 27
    finally:
        pool.close()


async def test_signer_turns_a_killed_task_into_too_complex(monkeypatch):
    import node.crypto.signer as signer_module

    monkeypatch.setattr(signer_module, "KILL_GRACE_SECONDS", 0.3)
    signer = DocumentSigner(workers=1, time_budget=0.0)
    try:
        with pytest.raises(TooComplex):
            await signer._run(time.sleep, 3600)
    finally:
        signer.close()


async def test_signer_verify_of_a_poison_credential_is_a_failed_check_not_an_error(signer):
    key = KeyPair.from_seed(bytes(32))
    poison = with_fake_proof({**clique(9), "issuer": key.controller})
    poison["proof"]["verificationMethod"] = key.id
    result = await asyncio.wait_for(signer.verify(poison, DidResolver()), HANG_GUARD)
    assert [(c.check, c.reason) for c in result.failures] == [("proof.signature", "too_complex")]
    with pytest.raises(TooComplex):
        await asyncio.wait_for(signer.sign(clique(9), key), HANG_GUARD)


ORPHAN_PROBE = """
import asyncio, re, sys
from node.crypto.signer import DocumentSigner
from node.crypto.keys import KeyPair

async def main():
    signer = DocumentSigner(workers=2)
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
           "issuer": "did:example:x", "credentialSubject": {"id": "did:example:y"}}
    await asyncio.gather(*(signer.sign(doc, KeyPair.generate()) for _ in range(4)))
    pool = signer._executor()
    # Both workers stuck in C (holding the GIL) when the node dies: the hardest case for a watcher.
    stuck = [asyncio.create_task(pool.run(re.fullmatch, r"(a*)*b", "a" * 64, timeout=3600)) for _ in range(2)]
    while len(pool._busy) < 2:
        await asyncio.sleep(0.05)
    print(" ".join(map(str, signer.worker_pids())), flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_workers_die_with_the_node_even_when_it_is_killed(tmp_path):
    node = await asyncio.create_subprocess_exec(sys.executable, "-c", ORPHAN_PROBE, stdout=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(node.stdout.readline(), HANG_GUARD)
        pids = [int(p) for p in line.split()]
        assert pids and all(_alive(p) for p in pids)
    finally:
        node.kill()  # SIGKILL: no atexit, no cleanup in the parent
        await node.wait()
    for pid in pids:
        await _until_dead(pid)


async def test_closing_the_pool_under_a_running_task_kills_its_worker_and_fails_the_task_cleanly():
    pool = WorkerPool(1)
    task = asyncio.create_task(pool.run(time.sleep, 3600, timeout=HANG_GUARD))
    pid = await _busy_worker(pool)
    pool.close()  # what shutting the node down does with requests still in flight
    with pytest.raises(WorkerCrashed):
        await asyncio.wait_for(task, HANG_GUARD)
    await _until_dead(pid)
    with pytest.raises(WorkerCrashed):
        await pool.run(pow, 2, 2, timeout=HANG_GUARD)
