"""The verification result shared by every check the node makes.

A verification never answers a bare boolean: it lists each check with its verdict and, on failure,
a typed reason. Anything unexpected inside a check (an exception, a missing field, an unknown
value) becomes a failed check, so a result is verified only when it has checks and all passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class Check:
    check: str  # what was checked, e.g. "proof[0].signature", "status.revocation"
    ok: bool
    reason: str | None = None  # a stable, machine-readable reason when ok is False (e.g. "bad_signature")
    detail: str | None = None  # a human sentence
    stale: bool = False  # the verdict relied on a document past its nextUpdate

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"check": self.check, "ok": self.ok, "reason": self.reason}
        if self.detail:
            out["detail"] = self.detail
        if self.stale:
            out["stale"] = True
        return out


NOT_CONSULTED = "not_consulted"  # `trust` when no trust data (accreditation, trust lists) was consulted


@dataclass
class VerificationResult:
    checks: list[Check] = field(default_factory=list)
    document: dict[str, Any] | None = None
    # "consulted" when a trust check (accreditation, trust lists) ran; "not_consulted" when the verifier
    # had no trust data (the CLI without a node): said out loud, never a silent pass. None: not applicable.
    trust: str | None = None
    # Who signed what (the pipeline fills it for credentials): one entry per proof, {"proof": index, "id",
    # "controller", "verificationMethod", "purpose", "previousProof", "issuer": bool, "verified": bool}.
    signers: list[dict[str, Any]] | None = None

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    def extend_and_return(self, checks: Iterable[Check]) -> list[Check]:
        added = list(checks)
        self.checks.extend(added)
        return added

    def fail(self, check: str, reason: str, detail: str | None = None) -> Check:
        return self.add(Check(check, False, reason, detail))

    def ok(self, check: str, detail: str | None = None) -> Check:
        return self.add(Check(check, True, None, detail))

    def run(self, check: str, fn: Callable[[], Check | None], reason: str = "error") -> Check:
        """Run one check; an exception inside it is a failed check, never a pass."""
        try:
            outcome = fn()
        except Exception as exc:  # fail closed by design
            return self.fail(check, reason, f"{type(exc).__name__}: {exc}")
        if outcome is None:
            return self.ok(check)
        return self.add(Check(check, outcome.ok, outcome.reason, outcome.detail, outcome.stale))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verified": self.verified,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.trust is not None:
            out["trust"] = self.trust
        if self.signers is not None:
            out["signers"] = self.signers
        errors = [f"{c.check}: {c.reason}" for c in self.failures]
        if errors:
            out["errors"] = errors
        return out
