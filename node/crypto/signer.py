"""The one signing/verifying service every signed document type goes through.

RDF canonicalization is CPU-bound (milliseconds per credential), so eddsa-rdfc-2022 work runs in a
process pool and the event loop never waits on it; eddsa-jcs-2022 is cheap enough to run inline
except in batches. Keys are resolved in the caller (async I/O) and only public keys travel to workers.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any, Sequence

from node.crypto.cryptosuites import DEFAULT_SUITE
from node.crypto.data_integrity import KeyResolutionError, add_proof, verify_document
from node.crypto.keys import KeyPair, PublicKey
from node.crypto.parent_watch import exit_with
from node.errors import PuenteError
from node.verification import VerificationResult

INLINE_SUITES = {"eddsa-jcs-2022"}


class WorkerCrashed(PuenteError):
    slug = "worker-crashed"
    title = "Signing worker failed"
    status = 503


class DocumentSigner:
    def __init__(self, workers: int = 0) -> None:
        self._workers = workers if workers > 0 else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["node.crypto.signer"])
            # Workers exit when this process does, even on SIGKILL (no orphans; see parent_watch).
            self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=context,
                                             initializer=exit_with, initargs=(os.getpid(),))
        return self._pool

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, or could not import the package). Drop the pool
            # so the next call starts fresh, and report a clear failure instead of a traceback.
            self.close()
            raise WorkerCrashed("a canonicalization worker process died; the operation was not completed") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def sign(self, document: dict[str, Any], key: KeyPair, *, suite: str = DEFAULT_SUITE, **options: Any) -> dict[str, Any]:
        if suite in INLINE_SUITES:
            return add_proof(document, key, suite=suite, **options)
        return await self._run(_sign_one, document, key, suite, options)

    async def sign_many(self, documents: Sequence[dict[str, Any]], key: KeyPair, *, suite: str = DEFAULT_SUITE,
                        chunk_size: int = 0, **options: Any) -> list[dict[str, Any]]:
        """Sign documents across every worker; results keep the input order."""
        if not documents:
            return []
        if chunk_size <= 0:
            chunk_size = max(1, min(100, -(-len(documents) // (self._workers * 2))))
        chunks = [list(documents[i:i + chunk_size]) for i in range(0, len(documents), chunk_size)]
        results = await asyncio.gather(*(self._run(_sign_chunk_list, c, key, suite, options) for c in chunks))
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
        return await self._run(_verify_with_keys, *args)


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
