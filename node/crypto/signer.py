"""The one signing/verifying service every signed document type goes through.

RDF canonicalization is CPU-bound (milliseconds per credential), so eddsa-rdfc-2022 work runs in worker
processes and the event loop never waits on it; eddsa-jcs-2022 is cheap enough to run inline except in
batches. Keys are resolved in the caller (async I/O) and only public keys travel to workers.

Bounded work (architecture rule 10): inside a worker, canonicalization stops itself with TooComplex
(work factor, permutations, a deadline per document; node.crypto.bounded_canon). Around it, every task has
a wall-clock limit; past it the worker process is killed and replaced (node.crypto.workers), and a
cancelled caller (the HTTP client went away) stops its worker too. On verify, either is a failed check
`too_complex`; on sign, a TooComplex (400).
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Any, Sequence

from node.crypto.bounded_canon import DEFAULT_LIMITS, TooComplex
from node.crypto.cryptosuites import DEFAULT_SUITE
from node.crypto.data_integrity import KeyResolutionError, add_proof, verify_document
from node.crypto.keys import KeyPair, PublicKey
from node.crypto.workers import WorkerCrashed, WorkerPool, WorkTimedOut
from node.verification import VerificationResult
from node.verification.vc_rules import require_conformance

__all__ = ["DocumentSigner", "WorkerCrashed"]

INLINE_SUITES = {"eddsa-jcs-2022"}
# A worker gets the in-process budget per document plus this much before it is killed: the in-process
# deadline is checked inside the algorithm, the kill is for anything that never reaches a checkpoint.
KILL_GRACE_SECONDS = 2.0


class DocumentSigner:
    def __init__(self, workers: int = 0, *, time_budget: float = DEFAULT_LIMITS.time_budget) -> None:
        self._workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._time_budget = time_budget
        self._pool: WorkerPool | None = None

    def _executor(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self._workers, preload=("node.crypto.signer",))
        return self._pool

    def worker_pids(self) -> list[int]:
        return self._pool.pids() if self._pool is not None else []

    async def _run(self, fn, *args, documents: int = 1):
        timeout = self._time_budget * documents + KILL_GRACE_SECONDS
        try:
            return await self._executor().run(fn, *args, timeout=timeout)
        except WorkTimedOut:
            raise TooComplex(f"the document took longer than {timeout:g} s to process; the work was stopped") from None

    async def probe(self, timeout: float) -> None:
        """Readiness: a worker answers a trivial task within `timeout` seconds (starting the pool when it has not
        started yet). Raises when the pool is closed, a worker cannot start, or none answers in time. When every
        worker is busy signing they are alive by definition: the probe does not queue behind real work."""
        pool = self._executor()
        if pool.closed:
            raise WorkerCrashed("the worker pool is closed")
        if pool.saturated():
            return
        await pool.run(_probe, timeout=timeout)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    async def sign(self, document: dict[str, Any], key: KeyPair, *, suite: str = DEFAULT_SUITE, **options: Any) -> dict[str, Any]:
        require_conformance(document)  # a credential that breaks a VC 2.0 / OB 3.0 rule is never signed
        if suite in INLINE_SUITES:
            return add_proof(document, key, suite=suite, **options)
        return await self._run(_sign_one, document, key, suite, options)

    async def sign_many(self, documents: Sequence[dict[str, Any]], key: KeyPair, *, suite: str = DEFAULT_SUITE,
                        chunk_size: int = 0, **options: Any) -> list[dict[str, Any]]:
        """Sign documents across every worker; results keep the input order."""
        if not documents:
            return []
        for index, document in enumerate(documents):
            require_conformance(document, f"document {index}")
        if chunk_size <= 0:
            chunk_size = max(1, min(100, -(-len(documents) // (self._workers * 2))))
        chunks = [list(documents[i:i + chunk_size]) for i in range(0, len(documents), chunk_size)]
        results = await asyncio.gather(*(self._run(_sign_chunk_list, c, key, suite, options, documents=len(c)) for c in chunks))
        return [doc for chunk in results for doc in chunk]

    async def verify(self, document: Any, resolver: Any, *, purpose: str = "assertionMethod", challenge: str | None = None,
                     domain: str | None = None, now: datetime | None = None) -> VerificationResult:
        """Resolve the proofs' keys (async), then verify (in a worker when RDF canonicalization is needed)."""
        proofs = _proof_list(document)
        vm_ids = sorted({p["verificationMethod"] for p in proofs if isinstance(p.get("verificationMethod"), str)})
        keys = await resolver.public_keys(vm_ids, purpose) if vm_ids else {}
        args = (document, keys, purpose, challenge, domain, now)
        if all(p.get("cryptosuite") in INLINE_SUITES for p in proofs):
            return _verify_with_keys(*args)
        try:
            return await self._run(_verify_with_keys, *args, documents=max(1, len(proofs)))
        except TooComplex as exc:  # the worker was stopped: a failed check, never a hang or a 500
            result = VerificationResult(document=document if isinstance(document, dict) else None)
            result.fail("proof", "too_complex", exc.detail)
            return result


def _probe() -> bool:
    return True


def _proof_list(document: Any) -> list[dict[str, Any]]:
    proof = document.get("proof") if isinstance(document, dict) else None
    items = proof if isinstance(proof, list) else [proof] if proof is not None else []
    return [p for p in items if isinstance(p, dict)]


def _sign_one(document: dict[str, Any], key: KeyPair, suite: str, options: dict[str, Any]) -> dict[str, Any]:
    return add_proof(document, key, suite=suite, **options)


def _sign_chunk_list(documents: list[dict[str, Any]], key: KeyPair, suite: str, options: dict[str, Any]) -> list[dict[str, Any]]:
    return [add_proof(doc, key, suite=suite, **options) for doc in documents]


def _verify_with_keys(document: Any, keys: dict[str, PublicKey | KeyResolutionError], purpose: str,
                      challenge: str | None, domain: str | None, now: datetime | None) -> VerificationResult:
    def lookup(vm_id: str) -> PublicKey:
        found = keys.get(vm_id)
        if found is None:
            raise KeyResolutionError(f"{vm_id} was not resolved", "unresolvable_key")
        if isinstance(found, KeyResolutionError):
            raise found
        return found

    return verify_document(document, lookup, purpose=purpose, challenge=challenge, domain=domain, now=now)
