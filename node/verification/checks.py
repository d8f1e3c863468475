"""The checks of the credential pipeline that need no capability: shape, contexts, issuer binding, validity.

Each returns a `Check`; the pipeline (pipeline.py) decides the order and what runs after what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from node.clock import parse_datetime
from node.crypto.data_integrity import KeyResolutionError
from node.crypto.did import did_of, find_verification_method
from node.errors import UnknownContext
from node.jsonld.loader import check_contexts
from node.verification.result import Check

VC_CONTEXTS = {"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/2018/credentials/v1"}
ISSUER = "issuer"
ISSUER_MISMATCH = "issuer_mismatch"
ASSERTION = "assertionMethod"


def issuer_id(credential: Any) -> str | None:
    issuer = credential.get("issuer") if isinstance(credential, dict) else None
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    items = proof if isinstance(proof, list) else [proof] if proof is not None else []
    return [p for p in items if isinstance(p, dict)]


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


def context_check(document: dict[str, Any]) -> Check:
    try:
        check_contexts(document)
    except UnknownContext as exc:
        return Check("contexts", False, "unknown_context", exc.detail)
    return Check("contexts", True)


async def issuer_binding(document: dict[str, Any], resolver: Any) -> Check:
    """The issuer is bound to the document when its DID controls a proof's verification method and
    lists that method under `assertionMethod` in its DID document (did:key computed, did:web resolved).

    An issuer that is not a DID (an https URL, as in the W3C examples) has no document that could
    authorise a key: no binding, so the check fails. In a proof set, at least one proof must be the
    issuer's; the other proofs (co-signers) are checked by the proof checks like any other.
    """
    issuer = issuer_id(document)
    proofs = proofs_of(document)
    methods = [p["verificationMethod"] for p in proofs if isinstance(p.get("verificationMethod"), str)]
    if not methods:
        return Check(ISSUER, False, "missing_proof", "no proof names a verification method")
    if not isinstance(issuer, str) or not issuer.startswith("did:"):
        return Check(ISSUER, False, ISSUER_MISMATCH,
                     f"the issuer {issuer!r} is not a DID: no key can be bound to it (signed by {', '.join(sorted(set(map(did_of, methods))))})")
    own = [p for p in proofs if isinstance(p.get("verificationMethod"), str) and did_of(p["verificationMethod"]) == issuer]
    if not own:
        others = ", ".join(sorted({did_of(m) for m in methods}))
        return Check(ISSUER, False, ISSUER_MISMATCH, f"signed by {others}, but the issuer is {issuer}")
    try:
        issuer_document = await resolver.resolve(issuer)
    except KeyResolutionError as exc:
        return Check(ISSUER, False, ISSUER_MISMATCH, f"the issuer's DID document cannot be resolved ({exc.reason})")
    refusals = []
    for proof in own:
        if proof.get("proofPurpose") != ASSERTION:
            refusals.append(f"{proof['verificationMethod']} signed for {proof.get('proofPurpose')!r}, not {ASSERTION}")
            continue
        try:
            find_verification_method(issuer_document, proof["verificationMethod"], ASSERTION)
        except KeyResolutionError as exc:
            refusals.append(f"{proof['verificationMethod']}: {exc.reason}")
            continue
        return Check(ISSUER, True, detail=issuer)
    return Check(ISSUER, False, ISSUER_MISMATCH, f"no proof by an assertion key of {issuer}: {'; '.join(refusals)}")


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


def _proof_label(document: dict[str, Any], index: int, count: int) -> str:
    """The label node.crypto.data_integrity.verify_document gives a proof's checks."""
    return f"proof[{index}]" if count > 1 or isinstance(document.get("proof"), list) else "proof"


def signers_of(document: dict[str, Any], checks: list[Check]) -> list[dict[str, Any]]:
    """Who signed what: one entry per proof (issuer, witness, endorser...), with whether it verified.

    A proof verified when its signature check passed and none of its checks failed; a failure of the
    whole proof stage (`proof`: too complex, a verification error) leaves every proof unverified."""
    proof = document.get("proof")
    items = proof if isinstance(proof, list) else [proof] if proof is not None else []
    issuer = issuer_id(document)
    stage_failed = any(c.check == "proof" and not c.ok for c in checks)
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        label = _proof_label(document, index, len(items))
        own = [c for c in checks if c.check.startswith(label + ".")]
        method = item.get("verificationMethod")
        controller = did_of(method) if isinstance(method, str) else None
        out.append({
            "proof": index,
            "id": item.get("id"),
            "controller": controller,
            "verificationMethod": method,
            "purpose": item.get("proofPurpose"),
            "previousProof": item.get("previousProof"),
            "issuer": controller is not None and controller == issuer,
            "verified": (not stage_failed and all(c.ok for c in own)
                         and any(c.check == f"{label}.signature" and c.ok for c in own)),
        })
    return out


def required_signer_checks(signers: list[dict[str, Any]], required: Any) -> list[Check]:
    """Documents that need a proof by each named party (agreements): one check per party, failing with
    `missing_signer` unless a verified proof's key is controlled by that DID."""
    verified = {s["controller"] for s in signers if s["verified"]}
    return [Check(f"signers.{did}", did in verified, None if did in verified else "missing_signer",
                  None if did in verified else f"no verified proof by {did}") for did in required]
