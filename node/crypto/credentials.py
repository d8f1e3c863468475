"""The verification pipeline for one Verifiable Credential.

Checks, in order: the document's shape, its JSON-LD contexts, every proof, that the issuer signed it,
and its validity period "as of" the clock; then any extra checks the caller plugs in (status lists,
schema, accreditation). Each yields `Check`s; anything unexpected is a failed check.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Awaitable, Callable, Sequence

from node.clock import Clock, parse_datetime
from node.crypto.did import did_of
from node.errors import UnknownContext
from node.jsonld.loader import check_contexts
from node.verification import Check, VerificationResult

VC_CONTEXTS = {"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"}

# An extra check receives the credential and the moment of verification and returns its checks.
ExtraCheck = Callable[[dict[str, Any], datetime], Awaitable[Sequence[Check]]]


def issuer_id(credential: dict[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def shape_check(credential: Any) -> Check:
    if not isinstance(credential, dict):
        return Check("document", False, "not_an_object", "a credential must be a JSON object")
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    if first not in VC_CONTEXTS:
        return Check("document", False, "not_a_credential", "the first @context must be the VC data model context")
    types = credential.get("type")
    types = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in types:
        return Check("document", False, "not_a_credential", "type must include VerifiableCredential")
    if issuer_id(credential) is None:
        return Check("document", False, "missing_issuer", "the credential has no issuer id")
    if not credential.get("credentialSubject"):
        return Check("document", False, "missing_subject", "the credential has no credentialSubject")
    return Check("document", True)


def context_check(credential: dict[str, Any]) -> Check:
    try:
        check_contexts(credential)
    except UnknownContext as exc:
        return Check("contexts", False, "unknown_context", exc.detail)
    return Check("contexts", True)


def issuer_signed_check(credential: dict[str, Any]) -> Check:
    """At least one proof verified and every proof is by a key of the issuer."""
    issuer = issuer_id(credential)
    proof = credential.get("proof")
    proofs = proof if isinstance(proof, list) else [proof]
    controllers = {did_of(p["verificationMethod"]) for p in proofs if isinstance(p, dict) and isinstance(p.get("verificationMethod"), str)}
    if not controllers:
        return Check("issuer", False, "missing_proof", "no proof names a verification method")
    if not issuer.startswith("did:"):
        # An https issuer (as in the W3C vectors) cannot be bound to a key through a DID document; the
        # proof still binds the content. Trust decisions (accreditation) are separate checks.
        return Check("issuer", True, detail=f"issuer {issuer} is not a DID: signed by {', '.join(sorted(controllers))}, binding not established")
    if controllers != {issuer}:
        others = ", ".join(sorted(c for c in controllers if c != issuer))
        return Check("issuer", False, "issuer_mismatch", f"signed by {others}, but the issuer is {issuer}")
    return Check("issuer", True, detail=issuer)


def validity_check(credential: dict[str, Any], now: datetime) -> Check:
    try:
        valid_from = credential.get("validFrom") or credential.get("issuanceDate")
        valid_until = credential.get("validUntil") or credential.get("expirationDate")
        if valid_from is not None and parse_datetime(valid_from) > now:
            return Check("validity", False, "not_yet_valid", f"valid from {valid_from}")
        if valid_until is not None and parse_datetime(valid_until) < now:
            return Check("validity", False, "expired", f"expired at {valid_until}")
    except (TypeError, ValueError, AttributeError):
        return Check("validity", False, "invalid_date", "validFrom/validUntil is not an XSD dateTime")
    return Check("validity", True)


class CredentialVerifier:
    def __init__(self, signer: Any, resolver: Any, clock: Clock, extra_checks: Sequence[ExtraCheck] = ()) -> None:
        self._signer = signer
        self._resolver = resolver
        self._clock = clock
        self._extra = list(extra_checks)

    async def verify_proofs(self, document: Any, *, purpose: str = "assertionMethod") -> VerificationResult:
        """Only the Data Integrity proofs (for any secured document, not just credentials)."""
        result = VerificationResult(document=document if isinstance(document, dict) else None)
        if not isinstance(document, dict):
            result.fail("document", "not_an_object", "a secured document must be a JSON object")
            return result
        if not result.add(context_check(document)).ok:
            return result
        try:
            result.extend((await self._signer.verify(document, self._resolver, purpose=purpose, now=self._clock.now())).checks)
        except Exception as exc:  # fail closed
            result.fail("proof", "verification_error", f"{type(exc).__name__}: {exc}")
        return result

    async def verify(self, credential: Any, *, purpose: str = "assertionMethod") -> VerificationResult:
        now = self._clock.now()
        result = VerificationResult(document=credential if isinstance(credential, dict) else None)
        shape = result.add(shape_check(credential))
        if not shape.ok:
            return result
        if not result.add(context_check(credential)).ok:
            return result
        try:
            proofs = await self._signer.verify(credential, self._resolver, purpose=purpose, now=now)
        except Exception as exc:  # fail closed
            result.fail("proof", "verification_error", f"{type(exc).__name__}: {exc}")
            return result
        result.extend(proofs.checks)
        result.add(issuer_signed_check(credential))
        result.add(validity_check(credential, now))
        for extra in self._extra:
            try:
                result.extend(await extra(credential, now))
            except Exception as exc:
                name = getattr(extra, "check_name", getattr(extra, "__name__", "extra"))
                result.fail(str(name), "check_error", f"{type(exc).__name__}: {exc}")
        return result
