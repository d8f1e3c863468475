"""Data Integrity proofs (W3C VC Data Integrity 1.0) with the eddsa cryptosuites.

`add_proof` and `verify_document` are pure and synchronous: keys come in, documents go out. The async
`DocumentSigner` (signer.py) runs them in worker processes when the server calls them.

Proof sets: a document may carry several proofs (an agreement carries one per party). Each proof in a
set signs the document without any proofs; a proof naming `previousProof` (a proof chain) also signs
the proofs it names.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Callable

from node.clock import isoformat_z, parse_datetime
from node.crypto import multibase
from node.crypto.bounded_canon import check_structure
from node.crypto.cryptosuites import DEFAULT_SUITE, get_suite
from node.crypto.keys import KeyPair, PublicKey
from node.errors import InvalidInput, PuenteError
from node.jsonld.errors import UnsafeDocument
from node.jsonld.terms import check_document
from node.verification import Check, VerificationResult
from node.verification.vc_rules import DATA_INTEGRITY_V2, needs_data_integrity_context

PROOF_TYPE = "DataIntegrityProof"
# Credentials whose JSON Schema (1EdTech OB 3.0 / CLR 2.0) requires `proof` to be an array.
_ARRAY_PROOF_TYPES = {"OpenBadgeCredential", "AchievementCredential", "ClrCredential", "EndorsementCredential"}

KeyLookup = Callable[[str], PublicKey]


class KeyResolutionError(PuenteError):
    slug = "key-resolution-failed"
    title = "Verification method cannot be resolved"
    status = 422

    def __init__(self, detail: str, reason: str = "unresolvable_key") -> None:
        super().__init__(detail)
        self.reason = reason

    def __reduce__(self):  # keep the reason when sent to a worker process
        return (type(self), (self.detail, self.reason))


def add_proof(
    document: dict[str, Any],
    key: KeyPair,
    *,
    suite: str = DEFAULT_SUITE,
    purpose: str = "assertionMethod",
    created: datetime | str | None = None,
    challenge: str | None = None,
    domain: str | list[str] | None = None,
    expires: datetime | None = None,
    proof_id: str | None = None,
    previous_proof: str | list[str] | None = None,
    array: bool | None = None,
) -> dict[str, Any]:
    """Return a copy of `document` with one more proof.

    Raw signing: it does not hold credentials to the VC data model rules (node.verification.vc_rules);
    the signing entry points (DocumentSigner, `puente credential sign`) refuse non-conforming ones first.

    The first proof is a plain object (as the W3C vectors are) unless the credential's schema wants
    an array (OB 3.0) or `array=True`; adding to existing proofs always yields a proof set.
    """
    if not isinstance(document, dict):
        raise InvalidInput("a document to sign must be a JSON object")
    cryptosuite = get_suite(suite)
    if not _proofs_of(document) and needs_data_integrity_context(document):
        # vc-di-eddsa §3 / Data Integrity §2.1: a document whose contexts do not define the proof terms (a
        # VC 1.1 credential with only the v1 context) gets the data-integrity context, which the proof covers.
        document = {**document, "@context": [*_context_list(document["@context"]), DATA_INTEGRITY_V2]}
    existing = _proofs_of(document)
    unsecured = {k: v for k, v in document.items() if k != "proof"}

    proof: dict[str, Any] = {}
    if proof_id:
        proof["id"] = proof_id
    proof["type"] = PROOF_TYPE
    proof["cryptosuite"] = cryptosuite.name
    if created is not None:
        proof["created"] = created if isinstance(created, str) else isoformat_z(created)
    if expires is not None:
        proof["expires"] = isoformat_z(expires)
    proof["verificationMethod"] = key.id
    proof["proofPurpose"] = purpose
    if challenge is not None:
        proof["challenge"] = challenge
    if domain is not None:
        proof["domain"] = domain
    if previous_proof is not None:
        proof["previousProof"] = previous_proof
    if cryptosuite.context_in_proof and "@context" in document:
        proof["@context"] = copy.deepcopy(document["@context"])

    signed_over = _with_previous_proofs(unsecured, proof, existing)
    hash_data = _hash_data(cryptosuite, signed_over, proof)
    proof["proofValue"] = multibase.encode_base58btc(key.sign(hash_data))

    out = dict(document)
    if existing:
        out["proof"] = existing + [proof]
    elif array if array is not None else _wants_proof_array(document):
        out["proof"] = [proof]
    else:
        out["proof"] = proof
    return out


def verify_document(
    document: Any,
    key_lookup: KeyLookup,
    *,
    purpose: str = "assertionMethod",
    challenge: str | None = None,
    domain: str | None = None,
    now: datetime | None = None,
) -> VerificationResult:
    """Verify every proof on `document`; the result lists one group of checks per proof."""
    result = VerificationResult(document=document if isinstance(document, dict) else None)
    if not isinstance(document, dict):
        result.fail("document", "not_an_object", "a secured document must be a JSON object")
        return result
    try:
        proofs = _proofs_of(document)
    except InvalidInput as exc:
        result.fail("proof", "malformed_proof", exc.detail)
        return result
    if not proofs:
        result.fail("proof", "missing_proof", "the document carries no proof")
        return result
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    for index, proof in enumerate(proofs):
        _verify_one(result, f"proof[{index}]" if len(proofs) > 1 or isinstance(document.get("proof"), list) else "proof",
                    unsecured, proof, proofs, key_lookup, purpose, challenge, domain, now)
    return result


def _verify_one(result, label, unsecured, proof, all_proofs, key_lookup, purpose, challenge, domain, now) -> None:
    if not isinstance(proof, dict):
        result.fail(label, "malformed_proof", "a proof must be a JSON object")
        return
    if proof.get("type") != PROOF_TYPE:
        result.fail(f"{label}.type", "unsupported_proof_type", f"proof type {proof.get('type')!r} is not {PROOF_TYPE}")
        return
    try:
        cryptosuite = get_suite(proof.get("cryptosuite"))
    except InvalidInput as exc:
        result.fail(f"{label}.cryptosuite", "unknown_cryptosuite", exc.detail)
        return
    result.ok(f"{label}.cryptosuite", cryptosuite.name)

    if proof.get("proofPurpose") != purpose:
        result.fail(f"{label}.purpose", "wrong_proof_purpose", f"proofPurpose is {proof.get('proofPurpose')!r}, expected {purpose!r}")
    else:
        result.ok(f"{label}.purpose")

    result.run(f"{label}.created", lambda: _check_times(proof, now), reason="bad_created")
    if challenge is not None:
        if proof.get("challenge") == challenge:
            result.ok(f"{label}.challenge")
        else:
            result.fail(f"{label}.challenge", "challenge_mismatch", "proof challenge does not match the expected one")
    if domain is not None:
        domains = proof.get("domain")
        domains = domains if isinstance(domains, list) else [domains]
        if domain in domains:
            result.ok(f"{label}.domain")
        else:
            result.fail(f"{label}.domain", "domain_mismatch", "proof domain does not match the expected one")

    try:
        signature = multibase.decode_base58btc(proof.get("proofValue"))
        if len(signature) != 64:
            raise multibase.MultibaseError(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
    except multibase.MultibaseError as exc:
        result.fail(f"{label}.proofValue", "malformed_proof_value", str(exc))
        return

    vm = proof.get("verificationMethod")
    try:
        if not isinstance(vm, str):
            raise KeyResolutionError("proof has no verificationMethod", "missing_verification_method")
        public_key = key_lookup(vm)
    except KeyResolutionError as exc:
        result.fail(f"{label}.verificationMethod", exc.reason, exc.detail)
        return
    except Exception as exc:  # fail closed on anything the resolver raises
        result.fail(f"{label}.verificationMethod", "unresolvable_key", f"{type(exc).__name__}: {exc}")
        return
    result.ok(f"{label}.verificationMethod", vm)

    def signature_check() -> Check:
        if cryptosuite.context_in_proof and "@context" in proof:
            _check_context_prefix(unsecured, proof)
            if unsecured.get("@context") != proof["@context"]:
                # contexts appended after signing (allowed by eddsa-jcs-2022) may not respell what was signed
                check_structure(unsecured)
                check_document(unsecured)
        signed_over = _with_previous_proofs(unsecured, proof, all_proofs)
        if cryptosuite.context_in_proof and "@context" in proof:
            signed_over = {**signed_over, "@context": proof["@context"]}
        hash_data = _hash_data(cryptosuite, signed_over, proof)
        if public_key.verify(signature, hash_data):
            return Check(f"{label}.signature", True)
        return Check(f"{label}.signature", False, "bad_signature", "the signature does not match the document")

    try:
        result.add(signature_check())
    except UnsafeDocument as exc:  # respelled keys, dropped data: the proof would not cover what checks read
        result.fail(f"{label}.signature", exc.reason, exc.detail)
    except PuenteError as exc:
        reason = exc.slug.replace("-", "_") if exc.slug in ("unknown-context", "undefined-term", "too-complex") else "canonicalization_failed"
        result.fail(f"{label}.signature", reason, exc.detail)
    except Exception as exc:
        result.fail(f"{label}.signature", "verification_error", f"{type(exc).__name__}: {exc}")


def _hash_data(cryptosuite, signed_over: dict[str, Any], proof: dict[str, Any]) -> bytes:
    """The bytes Ed25519 signs, for a document and proof held to one spelling (architecture rule 9).

    Both the document and the proof configuration must use only the terms their contexts define and
    lose nothing to JSON-LD processing, whatever the suite: the checks read JSON keys, so the keys must
    be what the proof covers (node/jsonld/terms.py; rdfc also canonicalizes in safe mode).
    """
    config = cryptosuite.proof_config(proof, signed_over)
    if cryptosuite.context_in_proof:
        # jcs: canonical JSON is cheap and bounds the document's shape first (rule 10), so the walk
        # that follows needs no separate structure scan
        hash_data = cryptosuite.hash_data(signed_over, config)
        check_document(signed_over)
        check_document(config)
        return hash_data
    # rdfc: refuse a misspelled document cheaply, with its JSON path, before costly canonicalization
    check_structure(signed_over)  # bounded work first (rule 10): the term walk recurses
    check_document(signed_over)
    check_document(config)
    return cryptosuite.hash_data(signed_over, config)


def _check_times(proof: dict[str, Any], now: datetime | None) -> Check | None:
    created = proof.get("created")
    if created is not None:
        if not isinstance(created, str):
            return Check("", False, "bad_created", "created must be a dateTime string")
        moment = parse_datetime(created)
        if now is not None and moment > now.replace(microsecond=0) and (moment - now).total_seconds() > 300:
            return Check("", False, "created_in_future", f"proof created {created} is in the future")
    expires = proof.get("expires")
    if expires is not None and now is not None and parse_datetime(expires) < now:
        return Check("", False, "proof_expired", f"proof expired at {expires}")
    return None


def _check_context_prefix(unsecured: dict[str, Any], proof: dict[str, Any]) -> None:
    doc_ctx = unsecured.get("@context")
    proof_ctx = proof["@context"]
    doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
    proof_list = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
    if doc_list[: len(proof_list)] != proof_list:
        raise InvalidInput("the document's @context does not start with the proof's @context")


def _with_previous_proofs(unsecured: dict[str, Any], proof: dict[str, Any], proofs: list[dict[str, Any]]) -> dict[str, Any]:
    previous = proof.get("previousProof")
    if previous is None:
        return unsecured
    wanted = previous if isinstance(previous, list) else [previous]
    by_id = {p.get("id"): p for p in proofs if isinstance(p, dict) and p.get("id")}
    missing = [pid for pid in wanted if pid not in by_id]
    if missing:
        raise InvalidInput(f"previousProof {missing[0]!r} is not in the proof set")
    chained = [by_id[pid] for pid in wanted]
    return {**unsecured, "proof": chained[0] if len(chained) == 1 else chained}


def _proofs_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    if proof is None:
        return []
    if isinstance(proof, dict):
        return [proof]
    if isinstance(proof, list):
        return list(proof)
    raise InvalidInput("proof must be an object or an array of objects")


def _context_list(context: Any) -> list[Any]:
    return list(context) if isinstance(context, list) else [context]


def _wants_proof_array(document: dict[str, Any]) -> bool:
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return any(t in _ARRAY_PROOF_TYPES for t in types)
