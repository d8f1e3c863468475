"""An RPL (recognition of prior learning) case of one person, as a pure state machine.

    inquiry → guidance → eligibility → identification → documentation → assessment_planned
      → assessed → decision (full | partial | not_yet_competent) → appeal → closed
                          decision ─────────────────────────────────────────→ closed

Any state before `assessed` may also go straight to `closed` (the candidate withdraws or is not
eligible). `assessed` must end in a decision: once someone has been assessed, the outcome is owed to them.
A closed case is final; a reassessment after `partial` or `not_yet_competent` is a new case.

Who may act: the assessor is named when the assessment is planned; only the assessor records that the
assessment took place and the decision. An appeal names a reviewer who must not be the assessor (so
nobody reviews their own judgement), and only that reviewer resolves it. Every transition returns a
`Transition` record (who, when, why) that the service appends to the case's history.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from node.clock import isoformat_z
from node.errors import Conflict, ForbiddenTransition, ValidationFailed
from node.rpl.validation import invalid

INQUIRY = "inquiry"
GUIDANCE = "guidance"
ELIGIBILITY = "eligibility"
IDENTIFICATION = "identification"
DOCUMENTATION = "documentation"
ASSESSMENT_PLANNED = "assessment_planned"
ASSESSED = "assessed"
DECISION = "decision"
APPEAL = "appeal"
CLOSED = "closed"

STATES = (INQUIRY, GUIDANCE, ELIGIBILITY, IDENTIFICATION, DOCUMENTATION, ASSESSMENT_PLANNED, ASSESSED, DECISION, APPEAL, CLOSED)

# The explicit transition table: every allowed (from, to) pair, nothing else.
TRANSITIONS: dict[str, frozenset[str]] = {
    INQUIRY: frozenset({GUIDANCE, CLOSED}),
    GUIDANCE: frozenset({ELIGIBILITY, CLOSED}),
    ELIGIBILITY: frozenset({IDENTIFICATION, CLOSED}),
    IDENTIFICATION: frozenset({DOCUMENTATION, CLOSED}),
    DOCUMENTATION: frozenset({ASSESSMENT_PLANNED, CLOSED}),
    ASSESSMENT_PLANNED: frozenset({ASSESSED, CLOSED}),
    ASSESSED: frozenset({DECISION}),
    DECISION: frozenset({APPEAL, CLOSED}),
    APPEAL: frozenset({CLOSED}),
    CLOSED: frozenset(),
}

FULL = "full"
PARTIAL = "partial"
NOT_YET_COMPETENT = "not_yet_competent"
OUTCOMES = (FULL, PARTIAL, NOT_YET_COMPETENT)
ISSUING_OUTCOMES = (FULL, PARTIAL)  # these decisions issue a credential

UPHELD = "upheld"
OVERTURNED = "overturned"
APPEAL_OUTCOMES = (UPHELD, OVERTURNED)

# Transitions that carry more than (actor, reason) go through their own method, so the data they
# need cannot be skipped by a plain `advance`.
DEDICATED = {ASSESSMENT_PLANNED: "plan_assessment", DECISION: "decide", APPEAL: "appeal"}

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")

# Longest accepted values (the storage columns' sizes): too long is a validation error, never a 500.
MAX_LENGTH = {"name": 200, "actor": 200, "assessor": 200, "reviewer": 200, "method": 500, "identifier": 320,
              "institution": 63, "template": 100, "evidence_name": 300, "media_type": 200, "url": 2000, "unit": 200}
# A partial decision's units become the credential's name, criteria and PDF: bounded, each named once.
MAX_UNITS = 50
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024  # larger files belong in a document store, referenced by URL + digest


def too_long(fields: dict[str, tuple[str | None, str]]) -> list[dict[str, str]]:
    """Errors for values over their limit: {path: (value, limit key)}."""
    return [{"path": path, "error": f"at most {MAX_LENGTH[kind]} characters"}
            for path, (value, kind) in fields.items() if value is not None and len(value) > MAX_LENGTH[kind]]


def check_transition(from_state: str, to_state: str) -> None:
    """Raise ForbiddenTransition unless the table allows from_state → to_state."""
    if to_state not in STATES:
        raise ValidationFailed(f"unknown state {to_state!r}", errors=[{"path": "to", "error": f"one of {', '.join(STATES)}"}])
    if to_state not in TRANSITIONS.get(from_state, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_state, ()))) or "none: the case is closed"
        raise ForbiddenTransition(f"an RPL case cannot go from {from_state} to {to_state} (allowed: {allowed})")


@dataclass(frozen=True)
class Transition:
    """One line of a case's append-only history."""

    case_id: str
    from_state: str | None  # None for the opening of the case
    to_state: str
    actor: str
    reason: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidenceItem:
    """Evidence the candidate brings (certificates, photos, work samples): a digest plus where it is."""

    name: str
    media_type: str
    sha256: str
    url: str | None = None
    content: bytes | None = None  # stored bytes, when the node keeps the file itself

    @classmethod
    def create(cls, *, name: str, media_type: str, sha256: str | None = None, url: str | None = None, content: bytes | None = None) -> "EvidenceItem":
        errors = []
        if not name or not name.strip():
            errors.append({"path": "name", "error": "evidence needs a name"})
        if not media_type or not re.fullmatch(r"[\w.+-]+/[\w.+-]+", media_type):
            errors.append({"path": "media_type", "error": f"not a media type: {media_type!r}"})
        if (url is None) == (content is None):
            errors.append({"path": "url", "error": "give either a URL or the stored bytes, exactly one"})
        if url is not None and not re.match(r"^https?://\S+$", url):
            errors.append({"path": "url", "error": f"not an http(s) URL: {url!r}"})
        errors += too_long({"name": (name, "evidence_name"), "media_type": (media_type, "media_type"), "url": (url, "url")})
        if content is not None and len(content) > MAX_EVIDENCE_BYTES:
            errors.append({"path": "content", "error": f"at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB; store larger files elsewhere and give their URL"})
        if content is not None:
            actual = hashlib.sha256(content).hexdigest()
            if sha256 is not None and sha256.lower() != actual:
                errors.append({"path": "sha256", "error": "does not match the stored bytes"})
            sha256 = actual
        if sha256 is None or not SHA256_RE.match(sha256.lower()):
            errors.append({"path": "sha256", "error": "a 64-hex-digit SHA-256 digest is required for evidence given by URL"})
        if errors:
            raise invalid("invalid RPL evidence", errors)
        return cls(name.strip(), media_type, sha256.lower(), url, content)


@dataclass
class Case:
    id: str
    candidate_given_name: str
    candidate_family_name: str
    candidate_identifier: str  # did:key or e-mail: where the credential goes
    template_id: str  # the achievement (qualification / occupational standard) being recognised
    institution: str  # slug of the issuing institution running the case
    opened_at: datetime
    opened_by: str
    state: str = INQUIRY
    assessor: str | None = None
    assessment_id: str | None = None
    assessment_method: str | None = None
    assessed_at: datetime | None = None
    decision: str | None = None
    units_certified: tuple[str, ...] = ()
    decided_at: datetime | None = None
    reviewer: str | None = None
    appeal_outcome: str | None = None
    credential_id: str | None = None
    follows_case_id: str | None = None  # the earlier case this one reassesses (after partial / not yet competent)

    # -- transitions ----------------------------------------------------------------------------

    def advance(self, to_state: str, *, actor: str, reason: str, at: datetime) -> Transition:
        """A plain step (who and why). Steps that need more data use their own method."""
        check_transition(self.state, to_state)
        if to_state in DEDICATED:
            raise ValidationFailed(f"moving to {to_state} needs more than a reason: use {DEDICATED[to_state]}")
        if self.state == APPEAL:
            raise ValidationFailed("an appeal is closed by its reviewer with an outcome: use resolve_appeal")
        if to_state == ASSESSED:
            self._require_actor(actor, self.assessor, "the assessor")
        return self._move(to_state, actor, reason, at, {})

    def plan_assessment(self, *, assessor: str, method: str, assessment_id: str, actor: str, reason: str, at: datetime) -> Transition:
        check_transition(self.state, ASSESSMENT_PLANNED)
        errors = []
        if not (assessor or "").strip():
            errors.append({"path": "assessor", "error": "an assessment needs a named assessor"})
        if not (method or "").strip():
            errors.append({"path": "method", "error": "say how the candidate will be assessed (e.g. observation, portfolio)"})
        errors += too_long({"assessor": (assessor, "assessor"), "method": (method, "method")})
        if errors:
            raise invalid("cannot plan the assessment", errors)
        details = {"assessor": assessor.strip(), "method": method.strip(), "assessment_id": assessment_id}
        transition = self._move(ASSESSMENT_PLANNED, actor, reason, at, details)
        self.assessor, self.assessment_method, self.assessment_id = details["assessor"], details["method"], assessment_id
        return transition

    def decide(self, *, outcome: str, units: tuple[str, ...] = (), actor: str, reason: str, at: datetime) -> Transition:
        check_transition(self.state, DECISION)
        if outcome not in OUTCOMES:
            raise ValidationFailed(f"unknown decision {outcome!r}", errors=[{"path": "outcome", "error": f"one of {', '.join(OUTCOMES)}"}])
        units = _check_units(units)
        if outcome == PARTIAL and not units:
            raise ValidationFailed("a partial decision must list the units certified", errors=[{"path": "units", "error": "required for partial"}])
        if outcome != PARTIAL and units:
            raise ValidationFailed("only a partial decision lists units", errors=[{"path": "units", "error": f"not allowed for {outcome}"}])
        self._require_actor(actor, self.assessor, "the assessor")
        transition = self._move(DECISION, actor, reason, at, {"outcome": outcome, "units": list(units)})
        self.decision, self.units_certified, self.decided_at = outcome, units, at
        return transition

    def appeal(self, *, reviewer: str, actor: str, reason: str, at: datetime) -> Transition:
        check_transition(self.state, APPEAL)
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise ValidationFailed("an appeal needs a reviewer", errors=[{"path": "reviewer", "error": "required"}])
        if too_long({"reviewer": (reviewer, "reviewer")}):
            raise invalid("cannot open the appeal", too_long({"reviewer": (reviewer, "reviewer")}))
        if _same_person(reviewer, self.assessor):
            raise ValidationFailed(
                f"the appeal reviewer must not be the assessor ({self.assessor})",
                errors=[{"path": "reviewer", "error": "must differ from the assessor"}],
            )
        transition = self._move(APPEAL, actor, reason, at, {"reviewer": reviewer})
        self.reviewer = reviewer
        return transition

    def resolve_appeal(self, *, outcome: str, actor: str, reason: str, at: datetime) -> Transition:
        check_transition(self.state, CLOSED)
        if self.state != APPEAL:
            raise ForbiddenTransition(f"the case is in {self.state}, not appeal")
        if outcome not in APPEAL_OUTCOMES:
            raise ValidationFailed(f"unknown appeal outcome {outcome!r}", errors=[{"path": "outcome", "error": f"one of {', '.join(APPEAL_OUTCOMES)}"}])
        self._require_actor(actor, self.reviewer, "the appeal reviewer")
        transition = self._move(CLOSED, actor, reason, at, {"appeal_outcome": outcome})
        self.appeal_outcome = outcome
        return transition

    # -- evidence -------------------------------------------------------------------------------

    def check_can_attach_evidence(self) -> None:
        """Evidence counts until the assessment is judged; afterwards it would change a closed record."""
        if self.state in (DECISION, APPEAL, CLOSED):
            raise Conflict(f"evidence cannot be added to a case in {self.state}")

    # -- reassessment ---------------------------------------------------------------------------

    def check_can_be_followed_by(self, *, identifier: str, template_id: str) -> None:
        """A reassessment case may follow this one when the candidate was not (fully) recognised: a
        `partial` or `not_yet_competent` decision, or an appeal that was `overturned`. Not while an
        appeal is pending, and only for the same candidate and the same qualification."""
        reassessable = self.decision in (PARTIAL, NOT_YET_COMPETENT) or self.appeal_outcome == OVERTURNED
        if self.state not in (DECISION, CLOSED) or not reassessable:
            raise Conflict(f"case {self.id} ({self.state}, decision {self.decision or 'none'}) does not call for a reassessment")
        errors = []
        if identifier != self.candidate_identifier:
            errors.append({"path": "identifier", "error": f"case {self.id} is another candidate's"})
        if template_id != self.template_id:
            errors.append({"path": "template_id", "error": f"case {self.id} assessed {self.template_id}"})
        if errors:
            raise invalid("a reassessment continues the same candidate's case for the same qualification", errors)

    # -- helpers --------------------------------------------------------------------------------

    @property
    def issues_credential(self) -> bool:
        return self.decision in ISSUING_OUTCOMES

    @property
    def credential_to_revoke(self) -> str | None:
        """The credential an overturned decision leaves without grounds: it must not stay valid."""
        return self.credential_id if self.appeal_outcome == OVERTURNED else None

    def revocation_reason(self, reason: str) -> str:
        """What the status history of the revoked credential says (the appeal, the case, the reviewer's why)."""
        return (f"RPL appeal overturned the {self.decision} decision of case {self.id} "
                f"(reviewer {self.reviewer}): {reason.strip()}")

    def _move(self, to_state: str, actor: str, reason: str, at: datetime, details: dict[str, Any]) -> Transition:
        errors = []
        if not (actor or "").strip():
            errors.append({"path": "actor", "error": "say who makes this change"})
        if not (reason or "").strip():
            errors.append({"path": "reason", "error": "say why (it goes into the case history)"})
        errors += too_long({"actor": (actor, "actor")})
        if errors:
            raise invalid("a transition needs an actor and a reason", errors)
        transition = Transition(self.id, self.state, to_state, actor.strip(), reason.strip(), at, details)
        self.state = to_state
        if to_state == ASSESSED:
            self.assessed_at = at
        return transition

    @staticmethod
    def _require_actor(actor: str, expected: str | None, role: str) -> None:
        if expected is None or not _same_person(actor, expected):
            raise ValidationFailed(f"only {role} ({expected}) may do this, not {actor!r}", errors=[{"path": "actor", "error": f"must be {role}"}])


def _check_units(units: Any) -> tuple[str, ...]:
    """The certified units as given (trimmed, blanks dropped); refused when not text, too long, too many or repeated."""
    if isinstance(units, str) or not isinstance(units, (list, tuple)) or not all(isinstance(u, str) for u in units):
        raise ValidationFailed("units must be a list of unit names", errors=[{"path": "units", "error": "a list of strings"}])
    units = tuple(u.strip() for u in units if u.strip())
    errors = [{"path": f"units/{i}", "error": f"at most {MAX_LENGTH['unit']} characters"}
              for i, unit in enumerate(units) if len(unit) > MAX_LENGTH["unit"]]
    if len(units) > MAX_UNITS:
        errors.append({"path": "units", "error": f"at most {MAX_UNITS} units"})
    if len({" ".join(u.split()).casefold() for u in units}) != len(units):
        errors.append({"path": "units", "error": "each unit at most once"})
    if errors:
        raise invalid("invalid units for the decision", errors)
    return units


def _same_person(a: str | None, b: str | None) -> bool:
    """Names compared without case or surrounding spaces: 'Ana Pérez' and 'ana pérez ' are one person."""
    if a is None or b is None:
        return False
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def assessment_evidence(case: Case, *, structured: bool = False) -> dict[str, Any]:
    """The OB3 `evidence` entry a full/partial decision's credential carries: it points to the assessment.

    Everything is said with OB3's own Evidence terms (id, name, description, narrative, genre), which
    every wallet and verifier understands. The structured Puente terms (assessor, assessmentMethod,
    assessmentDate, rplDecision, unitsCertified) are added only when `structured` is true, i.e. when
    the node bundles the Puente JSON-LD context that defines them: an undefined term would go unsigned.
    """
    if case.decision not in ISSUING_OUTCOMES or case.assessed_at is None:
        raise Conflict("only a full or partial decision after an assessment issues a credential")
    units = list(case.units_certified)
    date = isoformat_z(case.assessed_at)
    description = (f"Method: {case.assessment_method}. Assessor: {case.assessor}. Assessed on: {date[:10]}. "
                   f"Decision: {case.decision}." + (f" Units certified: {', '.join(units)}." if units else ""))
    evidence: dict[str, Any] = {
        "id": case.assessment_id,
        "type": ["Evidence"],
        "name": "Recognition of prior learning assessment",
        "description": description,
        "narrative": f"Recognition of prior learning, case {case.id}. {description}",
        "genre": "RPL assessment",
    }
    if structured:
        evidence.update({"assessmentMethod": case.assessment_method, "assessor": case.assessor, "assessmentDate": date,
                         "rplDecision": case.decision})
        if units:
            evidence["unitsCertified"] = units
    return evidence
