"""The VC API's requests and answers, as pure data: what an option means, which options are refused,
and how a Puente verification result reads in the VC API's shape.

VC API (w3c/vcalm oas.yaml, components/*.yml): `POST /credentials/issue` takes `{credential, options}`
and answers `{verifiableCredential}`; `POST /credentials/verify` takes `{verifiableCredential, options}`
and answers `{verified, checks, warnings, errors, problemDetails}`; `POST /credentials/status` takes
`{credentialId, credentialStatus: {type, statusPurpose}, status}`. An option Puente does not know is a 400
of type UNKNOWN_OPTION_PROVIDED (VCALM "Error Handling"), never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from node.clock import parse_datetime
from node.errors import InvalidInput, PuenteError
from node.verification.result import Check, VerificationResult

SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022")
VCALM = "https://www.w3.org/TR/vcalm#"
VCDM = "https://www.w3.org/TR/vc-data-model-2.0/#"


class UnknownOption(InvalidInput):
    """An option the VC API caller sent that Puente does not implement (VCALM UNKNOWN_OPTION_PROVIDED)."""

    slug = "unknown-option"
    title = "Unknown option provided"

    @property
    def type_uri(self) -> str:
        return VCALM + "UNKNOWN_OPTION_PROVIDED"


class NonConforming(InvalidInput):
    """A credential the issuer may not sign (VC 2.0 / OB 3.0 rules): 400, as the VC API says for issue,
    with every violation in `errors`."""

    slug = "non-conforming-credential"
    title = "Non-conforming credential"


class NotImplementedYet(PuenteError):
    slug = "not-implemented"
    title = "Not implemented"
    status = 501


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{what} must be a JSON object")
    return value


def _options(body: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    options = body.get("options", {})
    options = {} if options is None else _object(options, "options")
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UnknownOption(f"unknown option(s) {', '.join(unknown)}; this node accepts {', '.join(sorted(known))}",
                            errors=[{"path": f"$.options.{name}", "error": "unknown option"} for name in unknown])
    return options


def _fields(body: dict[str, Any], known: Iterable[str], what: str) -> None:
    unknown = sorted(set(body) - set(known))
    if unknown:
        raise InvalidInput(f"unknown field(s) in {what}: {', '.join(unknown)}")


# -- issue -----------------------------------------------------------------------------------------

ISSUE_OPTIONS = ("credentialId", "created", "cryptosuite", "mandatoryPointers", "challenge", "domain")


@dataclass(frozen=True)
class IssueOrder:
    credential: dict[str, Any]
    credential_id: str | None  # options.credentialId: how the caller names a credential without `id`
    created: datetime | None  # the proof's `created` (default: now)
    suite: str


def issue_order(body: Any) -> IssueOrder:
    body = _object(body, "the request body")
    _fields(body, ("credential", "options"), "an issue request")
    credential = _object(body.get("credential"), "credential")
    options = _options(body, ISSUE_OPTIONS)
    # challenge/domain bind a proof to one presentation exchange; an issued credential's assertion proof has
    # no such exchange. mandatoryPointers are for selective-disclosure suites; eddsa signs everything.
    for name, why in (("challenge", "a credential's proof is not bound to a challenge (presentations are)"),
                      ("domain", "a credential's proof is not bound to a domain (presentations are)"),
                      ("mandatoryPointers", "eddsa-rdfc-2022 and eddsa-jcs-2022 have no selective disclosure")):
        if name in options:
            raise UnknownOption(f"option {name} is not supported when issuing: {why}",
                                errors=[{"path": f"$.options.{name}", "error": why}])
    credential_id = options.get("credentialId")
    if credential_id is not None and (not isinstance(credential_id, str) or not credential_id.strip()):
        raise InvalidInput("options.credentialId must be a non-empty string")
    if credential_id is not None and "id" in credential and credential_id != credential["id"]:
        raise InvalidInput("options.credentialId names another credential than credential.id; send one of them")
    created = None
    if "created" in options:
        try:
            created = parse_datetime(options["created"])
        except ValueError as exc:
            raise InvalidInput(f"options.created: {exc}") from None
    suite = options.get("cryptosuite", SUITES[0])
    if suite not in SUITES:
        raise InvalidInput(f"options.cryptosuite must be one of {', '.join(SUITES)}")
    if "proof" in credential:
        raise InvalidInput("credential already has a proof; send the unsecured credential (this issuer adds one proof)")
    if "credentialStatus" in credential:
        raise InvalidInput("credential.credentialStatus is set by this issuer (its own status lists); leave it out")
    return IssueOrder(credential, credential_id, created, suite)


# -- status ----------------------------------------------------------------------------------------

STATUS_TYPES = ("BitstringStatusListEntry", "BitstringStatusList")


@dataclass(frozen=True)
class StatusOrder:
    credential_id: str
    action: str  # revoke, suspend, unsuspend
    reason: str | None


def status_order(body: Any) -> StatusOrder:
    """`{credentialId, credentialStatus: {type, statusPurpose}, status: bool}` (VCALM UpdateCredentialStatusRequest)
    -> the status change. Revocation cannot be undone (status false on revocation is refused)."""
    body = _object(body, "the request body")
    _fields(body, ("credentialId", "credentialStatus", "status", "reason"), "a status request")
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id.strip():
        raise InvalidInput("credentialId (the credential's id) is required")
    entry = body.get("credentialStatus")
    if isinstance(entry, list) and len(entry) == 1:  # the older VC API draft sent a one-item list
        entry = entry[0]
    entry = _object(entry, "credentialStatus")
    _fields(entry, ("id", "type", "statusPurpose", "statusListIndex", "statusListCredential"), "credentialStatus")
    if entry.get("type") not in STATUS_TYPES:
        raise InvalidInput(f"credentialStatus.type must be {' or '.join(STATUS_TYPES)}")
    purpose, status = entry.get("statusPurpose"), body.get("status")
    if not isinstance(status, bool):
        raise InvalidInput("status must be true (set the status) or false (clear it)")
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be a string")
    if purpose == "revocation":
        if not status:
            raise InvalidInput("a revocation cannot be undone: status false is refused for statusPurpose revocation")
        return StatusOrder(credential_id, "revoke", reason or "revoked through the VC API")
    if purpose == "suspension":
        return StatusOrder(credential_id, "suspend" if status else "unsuspend", reason)
    raise InvalidInput("credentialStatus.statusPurpose must be revocation or suspension")


# -- verify ----------------------------------------------------------------------------------------

VERIFY_OPTIONS = ("checks", "challenge", "domain", "returnResults", "returnProblemDetails", "returnCredential")
# The check groups a caller may name in options.checks, and the names of Puente's checks in each. The
# document, contexts, proofs and issuer binding always count: a caller cannot turn cryptography off.
OPTIONAL_GROUPS = {
    "status": ("status",), "credentialStatus": ("status",),
    "validity": ("validity",), "expiration": ("validity",), "validFrom": ("validity",), "validUntil": ("validity",),
    "schema": ("schema",), "credentialSchema": ("schema",),
    "accreditation": ("accreditation", "trust"), "trust": ("accreditation", "trust"),
}
ALWAYS = ("proof", "issuer", "document", "contexts", "conformance")
CHECK_NAMES = ALWAYS + tuple(OPTIONAL_GROUPS)


@dataclass(frozen=True)
class VerifyOrder:
    credential: Any
    counted: frozenset[str] | None  # optional groups that count toward `verified`; None: every check counts
    return_credential: bool
    return_results: bool


def verify_order(body: Any) -> VerifyOrder:
    body = _object(body, "the request body")
    _fields(body, ("verifiableCredential", "options"), "a verify request")
    if "verifiableCredential" not in body:
        raise InvalidInput("verifiableCredential is required")
    credential = _object(body["verifiableCredential"], "verifiableCredential")
    options = _options(body, VERIFY_OPTIONS)
    # challenge/domain are checked on presentations; a credential's assertion proof carries neither.
    for name in ("challenge", "domain"):
        if name in options:
            raise UnknownOption(f"option {name} applies to presentations (POST /presentations/verify), not to credentials",
                                errors=[{"path": f"$.options.{name}", "error": "not applicable to a credential"}])
    for name in ("returnResults", "returnProblemDetails", "returnCredential"):
        if name in options and not isinstance(options[name], bool):
            raise InvalidInput(f"options.{name} must be true or false")
    counted = None
    if "checks" in options:
        checks = options["checks"]
        if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
            raise InvalidInput("options.checks must be a list of check names")
        unknown = sorted(set(checks) - set(CHECK_NAMES))
        if unknown:
            raise UnknownOption(f"unknown check(s) {', '.join(unknown)}; known: {', '.join(CHECK_NAMES)}",
                                errors=[{"path": "$.options.checks", "error": f"unknown check {c}"} for c in unknown])
        counted = frozenset(name for c in checks for name in OPTIONAL_GROUPS.get(c, ()))
    return VerifyOrder(credential, counted, options.get("returnCredential", False), options.get("returnResults", False))


def _group(check: Check) -> str:
    head = check.check.split("[", 1)[0].split(".", 1)[0]
    return head


# Our typed reasons -> the VC Data Model 2.0 §7.2 problem types (the rest: a Puente problem type).
_VCDM_PROBLEMS = {"proof": "CRYPTOGRAPHIC_SECURITY_ERROR", "issuer": "CRYPTOGRAPHIC_SECURITY_ERROR",
                  "document": "MALFORMED_VALUE_ERROR", "conformance": "MALFORMED_VALUE_ERROR",
                  "contexts": "PARSING_ERROR", "validity": "RANGE_ERROR"}


def problem_of(check: Check) -> dict[str, Any]:
    group = _group(check)
    vcdm = _VCDM_PROBLEMS.get(group)
    problem = {"type": VCDM + vcdm if vcdm else f"https://puente.example/problems/{check.reason or 'failed'}",
               "title": vcdm or (check.reason or "failed"),
               "detail": f"{check.check}: {check.reason}" + (f" ({check.detail})" if check.detail else "")}
    return problem


def verify_answer(order: VerifyOrder, result: VerificationResult) -> dict[str, Any]:
    """The VC API answer for one verification by the pipeline. A failed check of a group the caller left out
    of options.checks is a warning (reported, not counted); every other failed check is an error, and
    `verified` is true exactly when there is no error (VCALM "Verification Errors vs. Warnings")."""
    errors, warnings, ran = [], [], []
    for check in result.checks:
        ran.append(check.check)
        if check.ok:
            continue
        group = _group(check)
        counted = order.counted is None or group in ALWAYS or group in order.counted or group not in _OPTIONAL_NAMES
        (errors if counted else warnings).append(problem_of(check))
    answer: dict[str, Any] = {"verified": bool(result.checks) and not errors, "checks": ran,
                              "warnings": warnings, "errors": errors, "problemDetails": errors + warnings}
    if order.return_results:
        answer["results"] = [c.to_json() for c in result.checks]
    if order.return_credential:
        answer["credential"] = order.credential
    return answer


_OPTIONAL_NAMES = frozenset(name for names in OPTIONAL_GROUPS.values() for name in names)
