"""The one verification pipeline for credentials and the node's other secured documents.

Every verifier of the node is this class, wired with different stages: `puente credential verify`,
`POST /verify` and the QR page (issuance/verify.py wires status, schema and accreditation), framework
publications and readiness assessments (their content checks). The order is fixed here:

1. shape and JSON-LD contexts (nothing else runs on a document that is not a credential), then the VC 2.0 /
   OB 3.0 rules (vc_rules.py: one failed `conformance.<rule>` check per violated rule; a non-conforming
   credential never verifies and makes the node fetch nothing);
2. every Data Integrity proof (keys resolved through the resolver; an unknown did:web may be fetched
   through the verification's fetch budget: it is needed to check the proof at all);
3. issuer binding: the issuer is a DID that lists a proof's key under `assertionMethod` (checks.py); other
   parties' proofs (a witness, an endorser; proof sets and previousProof chains) must verify too, and the
   result reports who signed what (`signers`), and any `required_signers` missing;
4. validity period, then the caller's local checks (schema, content);
5. only when 2 and 3 passed: the checks that fetch (status lists). A document whose proof failed makes
   the node fetch nothing more; its status is reported `not_checked`;
6. trust (accreditation, trust lists) when the caller has trust data; otherwise the result says
   `"trust": "not_consulted"`, never a silent pass.

Each stage yields `Check`s; an exception inside a stage is a failed check, never a pass.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from node.clock import Clock
from node.verification.checks import (context_check, issuer_binding, issuer_id, required_signer_checks, shape_check,
                                      signers_of, validity_check)
from node.verification.result import NOT_CONSULTED, Check, VerificationResult
from node.verification.vc_rules import conformance_checks

CONSULTED = "consulted"
NOT_CHECKED = "not_checked"

# A local check receives the credential and the moment of verification and returns its checks.
ExtraCheck = Callable[[dict[str, Any], datetime], Awaitable[Sequence[Check]]]


@dataclass
class Fetching:
    """What a fetching stage may use during one verification: the clock's moment, the verification's
    fetch budget (capped, SSRF-checked; None when offline) and a verifier for the documents it fetches
    (proofs and issuer binding, same resolver and budget)."""

    now: datetime
    fetch_json: Callable[[str], Awaitable[Any]] | None
    verify_signed: Callable[[dict[str, Any]], Awaitable[VerificationResult]]


FetchingCheck = Callable[[dict[str, Any], Fetching], Awaitable[Sequence[Check]]]


class VerifiedDocuments:
    """Signed documents a credential relies on (status lists) that recently passed proofs and issuer
    binding, by the SHA-256 of their JSON: a popular list is verified once per `ttl`, not per request.
    Only passes are remembered; any change to a list changes its digest. Held by the node's services."""

    def __init__(self, ttl: float = 300.0, entries: int = 1024, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._entries = entries
        self._monotonic = monotonic
        self._until: OrderedDict[str, float] = OrderedDict()

    @staticmethod
    def digest(document: Any) -> str:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __contains__(self, digest: str) -> bool:
        until = self._until.get(digest)
        if until is None or until <= self._monotonic():
            self._until.pop(digest, None)
            return False
        return True

    def add(self, digest: str) -> None:
        self._until[digest] = self._monotonic() + self._ttl
        self._until.move_to_end(digest)
        while len(self._until) > self._entries:
            self._until.popitem(last=False)


class CredentialVerifier:
    """`await CredentialVerifier(signer, resolver, clock, ...).verify(credential)` -> VerificationResult.

    extra_checks: local checks that always run (schema, a publication's content). status: the check
    that fetches, run only for a document whose proofs and issuer verified. trust: accreditation or
    trust-list check; None means no trust data here (reported). outbound: the node's OutboundClient;
    None means offline (no did:web or status list is fetched).
    """

    def __init__(self, signer: Any, resolver: Any, clock: Clock, extra_checks: Sequence[ExtraCheck] = (), *,
                 status: FetchingCheck | None = None, trust: ExtraCheck | None = None, outbound: Any = None,
                 verified: VerifiedDocuments | None = None) -> None:
        self._signer = signer
        self._resolver = resolver
        self._clock = clock
        self._extra = list(extra_checks)
        self._status = status
        self._trust = trust
        self._outbound = outbound
        self._verified = verified

    def _session(self) -> tuple[Any, Callable[[str], Awaitable[Any]] | None]:
        """This verification's resolver and fetch function, sharing one fetch budget."""
        if self._outbound is None:
            return self._resolver, None
        budget = self._outbound.budget()
        with_remote = getattr(self._resolver, "with_remote", None)
        resolver = with_remote(budget.did_document) if with_remote is not None else self._resolver
        return resolver, budget.get_json

    async def verify_proofs(self, document: Any, *, purpose: str = "assertionMethod") -> VerificationResult:
        """Only the Data Integrity proofs (for any secured document, not just credentials)."""
        result = VerificationResult(document=document if isinstance(document, dict) else None)
        if not isinstance(document, dict):
            result.fail("document", "not_an_object", "a secured document must be a JSON object")
            return result
        if not result.add(context_check(document)).ok:
            return result
        resolver, _fetch = self._session()
        await self._proofs(result, document, resolver, purpose)
        return result

    async def verify(self, credential: Any, *, purpose: str = "assertionMethod",
                     required_signers: Sequence[str] = ()) -> VerificationResult:
        """required_signers: DIDs each of which must have signed a verified proof (agreements: one proof
        per named party), besides the issuer binding every credential needs."""
        now = self._clock.now()
        result = VerificationResult(document=credential if isinstance(credential, dict) else None)
        if not result.add(shape_check(credential)).ok:
            return result
        if not result.add(context_check(credential)).ok:
            return result
        conforming = all(c.ok for c in result.extend_and_return(conformance_checks(credential)))
        resolver, fetch = self._session()
        if not await self._proofs(result, credential, resolver, purpose):
            return result
        proofs_ok = all(c.ok for c in result.checks)
        signed_by_issuer = (await self._binding(result, credential, resolver)).ok and proofs_ok and conforming
        result.signers = signers_of(credential, result.checks)
        if required_signers:
            result.extend(required_signer_checks(result.signers, required_signers))
        result.add(validity_check(credential, now))
        for extra in self._extra:
            await self._run(result, extra, credential, now)
        if self._status is not None:
            if signed_by_issuer:
                fetching = Fetching(now, fetch, lambda document: self._verify_signed(document, resolver, now))
                await self._run(result, self._status, credential, fetching, name="status")
            elif credential.get("credentialStatus") is not None:
                result.fail("status", NOT_CHECKED, "not checked: the proof or the issuer did not verify, so nothing was fetched")
        if self._trust is None:
            result.trust = NOT_CONSULTED
        else:
            result.trust = CONSULTED
            await self._run(result, self._trust, credential, now, name="trust")
        return result

    async def _proofs(self, result: VerificationResult, document: dict[str, Any], resolver: Any, purpose: str) -> bool:
        try:
            proofs = await self._signer.verify(document, resolver, purpose=purpose, now=self._clock.now())
        except Exception as exc:  # fail closed
            result.fail("proof", "verification_error", f"{type(exc).__name__}: {exc}")
            return False
        result.extend(proofs.checks)
        return True

    async def _binding(self, result: VerificationResult, document: dict[str, Any], resolver: Any) -> Check:
        try:
            return result.add(await issuer_binding(document, resolver))
        except Exception as exc:  # fail closed
            return result.fail("issuer", "issuer_mismatch", f"the issuer binding could not be checked ({type(exc).__name__})")

    async def _verify_signed(self, document: Any, resolver: Any, now: datetime) -> VerificationResult:
        """A fetched or stored document the credential relies on (a status list): contexts, proofs and
        issuer binding, with this verification's resolver and budget."""
        result = VerificationResult(document=document if isinstance(document, dict) else None)
        if not isinstance(document, dict) or issuer_id(document) is None:
            result.fail("document", "not_a_credential", "the document has no issuer")
            return result
        digest = VerifiedDocuments.digest(document) if self._verified is not None else None
        if digest is not None and digest in self._verified:
            result.ok("document", "verified (proofs and issuer) within the last minutes")
            return result
        if (result.add(context_check(document)).ok and all(c.ok for c in result.extend_and_return(conformance_checks(document)))
                and await self._proofs(result, document, resolver, "assertionMethod")):
            await self._binding(result, document, resolver)
        if digest is not None and result.verified:
            self._verified.add(digest)
        return result

    @staticmethod
    async def _run(result: VerificationResult, check: Callable[..., Awaitable[Sequence[Check]]], *args: Any,
                   name: str | None = None) -> None:
        try:
            result.extend(await check(*args))
        except Exception as exc:  # fail closed
            label = name or getattr(check, "check_name", getattr(check, "__name__", "extra"))
            result.fail(str(label), "check_error", f"{type(exc).__name__}: {exc}")
