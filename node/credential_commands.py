"""`puente keys generate`, `puente credential sign`, `puente credential verify`.

CLI code, so it lives at the edge (next to node/cli.py), not inside the core library node.crypto.

The verify contract: JSON on stdout with "verified" and "checks"; exit 0 only when verified, 1 when not
(bad input included: the error goes in the JSON), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from node.cli import CommandLine, print_json, settings_from_args
from node.clock import SystemClock, parse_datetime
from node.crypto.cryptosuites import DEFAULT_SUITE, SUITES
from node.crypto.keys import KeyPair
from node import jsonio
from node.errors import InvalidInput, PuenteError
from node.verification import Check, VerificationResult


def register(cli: CommandLine) -> None:
    keys = cli.subcommand("keys", "generate", "Generate an Ed25519 Multikey key file (JSON on stdout).", cmd_keys_generate,
                          group_help="Key files")
    keys.add_argument("--controller", help="DID that controls the key (default: the key's own did:key)")
    keys.add_argument("--fragment", help="fragment of the key id (default: the public key multibase)")

    sign = cli.subcommand("credential", "sign", "Add a Data Integrity proof to a credential (signed JSON on stdout).",
                          cmd_credential_sign, group_help="Sign, verify and manage credentials")
    sign.add_argument("--key", required=True, metavar="KEYFILE", help="key file {id, controller, publicKeyMultibase, secretKeyMultibase}")
    sign.add_argument("--suite", choices=sorted(SUITES), default=DEFAULT_SUITE, help=f"cryptosuite (default {DEFAULT_SUITE})")
    sign.add_argument("--purpose", default="assertionMethod", help="proofPurpose (default assertionMethod)")
    sign.add_argument("--created", help="proof creation time (XSD dateTime; default now)")
    sign.add_argument("file", nargs="?", default="-", help="unsigned credential (default: stdin)")

    verify = cli.subcommand("credential", "verify", "Verify a credential's proofs, issuer, validity and status (JSON result).",
                            cmd_credential_verify)
    verify.add_argument("--did-documents", metavar="FILE", help="JSON object mapping DID -> DID document, for did:web issuers")
    verify.add_argument("--purpose", default="assertionMethod", help="expected proofPurpose (default assertionMethod)")
    verify.add_argument("--offline", action="store_true", help="do not fetch status lists or DID documents over HTTP")
    verify.add_argument("--proof-only", action="store_true",
                        help="check only the Data Integrity proofs (not issuer binding, validity period or status)")
    verify.add_argument("file", nargs="?", default="-", help="credential to verify (default: stdin)")


def read_input(path: str) -> str:
    """Read FILE or stdin; an unreadable path is a usage error (exit 2)."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise _UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None


class _UsageError(PuenteError):
    slug = "usage"
    title = "Usage error"
    status = 400
    exit_code = 2


def parse_json_object(text: str, what: str = "input") -> dict[str, Any]:
    value = jsonio.loads(text, what=what)  # depth, size, NaN/Infinity, out-of-range numbers, NUL: InvalidInput
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def cmd_keys_generate(args: argparse.Namespace) -> int:
    print_json(KeyPair.generate(controller=args.controller, fragment=args.fragment).to_json())
    return 0


def cmd_credential_sign(args: argparse.Namespace) -> int:
    from node.crypto.data_integrity import add_proof
    from node.verification.vc_rules import require_conformance

    key = KeyPair.load(args.key)
    document = parse_json_object(read_input(args.file), "the credential")
    created = args.created or SystemClock().now()
    if args.created:
        try:
            parse_datetime(args.created)
        except ValueError:
            raise _UsageError(f"--created is not an XSD dateTime: {args.created!r}") from None
    require_conformance(document)  # ValidationFailed: one `puente: ...` line naming the first violation, exit 1
    print_json(add_proof(document, key, suite=args.suite, purpose=args.purpose, created=created))
    return 0


async def cmd_credential_verify(args: argparse.Namespace) -> int:
    try:
        credential = parse_json_object(read_input(args.file), "the credential")
        documents = _load_did_documents(args.did_documents) if args.did_documents else {}
    except _UsageError:
        raise
    except PuenteError as exc:
        return _report(_input_failure(exc))
    async with _verifier(args, documents) as verifier:
        if args.proof_only:
            result = await verifier.verify_proofs(credential, purpose=args.purpose)
        else:
            result = await verifier.verify(credential, purpose=args.purpose)
    return _report(result)


def _report(result: VerificationResult) -> int:
    print_json(result.to_json())
    return 0 if result.verified else 1


def _input_failure(exc: PuenteError) -> VerificationResult:
    result = VerificationResult()
    result.add(Check("input", False, exc.slug.replace("-", "_"), exc.detail))
    return result


def _load_did_documents(path: str) -> dict[str, dict]:
    documents = parse_json_object(read_input(path), "--did-documents")
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in documents.items()):
        raise InvalidInput("--did-documents must map each DID to a DID document object")
    return documents


@contextlib.asynccontextmanager
async def _verifier(args: argparse.Namespace, documents: dict[str, dict]):
    """The node's own verifier (the one POST /verify uses) when this data directory holds a node; else
    the same pipeline standalone, with an outbound client opened for this run (none with --offline)."""
    from node.crypto.did import DidResolver
    from node.crypto.signer import DocumentSigner
    from node.issuance.verify import public_verifier, standalone_verifier
    from node.outbound import FetchPolicy, OutboundClient

    settings = settings_from_args(args)
    if settings.initialised:
        from node.services import open_services

        async with open_services(settings) as services:
            yield public_verifier(services, resolver=services.resolver.with_documents(documents), offline=args.offline)
        return
    signer = DocumentSigner(workers=1)
    outbound = None if args.offline else OutboundClient(FetchPolicy.parse(settings.fetch_allow))
    try:
        yield standalone_verifier(signer, DidResolver(documents=documents), SystemClock(), outbound)
    finally:
        signer.close()
        if outbound is not None:
            await outbound.close()
