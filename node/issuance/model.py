"""Issuance domain: institutions, achievement templates, recipients and the rules between them.

Pure: no framework imports. Everything here is deterministic given its inputs (salts and ids are
passed in), so the OB3 builder and the batch idempotency rules can be tested without a database.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Mapping, Sequence

from node.clock import parse_datetime
from node.errors import InvalidInput

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DURATION_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")

# Credential lifecycle states a status change moves between.
ACTIVE, REVOKED, SUSPENDED = "active", "revoked", "suspended"


def require_slug(value: Any, what: str) -> str:
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise InvalidInput(f"{what} must be lower-case letters, digits and dashes (got {value!r})")
    return value


@dataclass(frozen=True)
class AccreditationScope:
    """What an institution may certify: an empty tuple means "no restriction on this axis"."""

    sectors: tuple[str, ...] = ()
    isco_groups: tuple[str, ...] = ()  # ISCO-08 codes or prefixes, e.g. "7" or "7112"
    rqf_levels: tuple[int, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "AccreditationScope":
        data = data or {}
        if not isinstance(data, Mapping):
            raise InvalidInput("scope must be an object with sectors, isco_groups and rqf_levels")
        try:
            return cls(
                tuple(str(s) for s in data.get("sectors") or ()),
                tuple(str(g) for g in data.get("isco_groups") or ()),
                tuple(int(level) for level in data.get("rqf_levels") or ()),
            )
        except (TypeError, ValueError):
            raise InvalidInput("scope rqf_levels must be whole numbers") from None

    def to_json(self) -> dict[str, Any]:
        return {"sectors": list(self.sectors), "isco_groups": list(self.isco_groups), "rqf_levels": list(self.rqf_levels)}

    def covers(self, *, sector: str | None, isco_code: str | None, rqf_level: int | None) -> list[str]:
        """Reasons the scope does not cover an achievement; empty when it does."""
        gaps = []
        if self.sectors and sector not in self.sectors:
            gaps.append(f"sector {sector!r} is outside the accredited sectors {list(self.sectors)}")
        if self.isco_groups and not (isco_code and any(isco_code.startswith(g) for g in self.isco_groups)):
            gaps.append(f"ISCO code {isco_code!r} is outside the accredited groups {list(self.isco_groups)}")
        if self.rqf_levels and rqf_level not in self.rqf_levels:
            gaps.append(f"RQF level {rqf_level!r} is outside the accredited levels {list(self.rqf_levels)}")
        return gaps


@dataclass(frozen=True)
class Institution:
    slug: str
    name: str
    did: str
    scope: AccreditationScope = AccreditationScope()
    logo_url: str | None = None
    url: str | None = None
    accredited_from: datetime | None = None
    accredited_until: datetime | None = None
    # Whether new credentials carry a second 1-bit entry (purpose "suspension") besides the revocation
    # one. Off by default: two entries make credentialStatus an array, which the OB 3.0 schema refuses.
    suspension: bool = False

    @property
    def status_purposes(self) -> tuple[str, ...]:
        """The 1-bit status entries a credential issued now gets, in credentialStatus order."""
        return ("revocation", "suspension") if self.suspension else ("revocation",)

    def accredited_at(self, moment: datetime) -> bool:
        if self.accredited_from and moment < self.accredited_from:
            return False
        return not (self.accredited_until and moment >= self.accredited_until)

    def profile(self) -> dict[str, Any]:
        """The OB3 issuer Profile embedded in every credential."""
        out: dict[str, Any] = {"id": self.did, "type": ["Profile"], "name": self.name}
        if self.url:
            out["url"] = self.url
        if self.logo_url:
            out["image"] = {"id": self.logo_url, "type": "Image"}
        return out


@dataclass(frozen=True)
class SkillRef:
    uri: str  # an ESCO skill URI
    label: str

    @classmethod
    def from_json(cls, data: Any) -> "SkillRef":
        if isinstance(data, str):
            return cls(data, data.rsplit("/", 1)[-1])
        if isinstance(data, Mapping) and isinstance(data.get("uri"), str):
            return cls(data["uri"], str(data.get("label") or data["uri"]))
        raise InvalidInput("an ESCO skill is a URI or {uri, label}")


@dataclass(frozen=True)
class AchievementTemplate:
    """An OB3 Achievement a given institution awards, linked to a national qualification."""

    id: str
    institution: str  # institution slug
    name: str
    description: str
    qualification_code: str | None = None
    qualification_title: str | None = None
    framework_id: str | None = None  # national framework, e.g. "gt-mnc"
    national_level: str | None = None
    rqf_level: int | None = None
    sector: str | None = None
    isco_code: str | None = None
    esco_skills: tuple[SkillRef, ...] = ()
    learning_outcomes: tuple[str, ...] = ()
    notional_workload_hours: float | None = None
    assessment_type: str | None = None
    quality_assurance: str | None = None
    participation_form: str | None = None
    validity: str | None = None  # ISO 8601 duration (e.g. "P5Y"); None = no expiry
    languages: tuple[str, ...] = ("es",)
    achievement_type: str = "Certificate"

    FIELDS = (
        "name", "description", "qualification_code", "qualification_title", "framework_id", "national_level",
        "rqf_level", "sector", "isco_code", "esco_skills", "learning_outcomes", "notional_workload_hours",
        "assessment_type", "quality_assurance", "participation_form", "validity", "languages", "achievement_type",
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "AchievementTemplate":
        if not isinstance(data, Mapping):
            raise InvalidInput("a template must be a JSON object")
        for required in ("id", "institution", "name", "description"):
            if not isinstance(data.get(required), str) or not data[required].strip():
                raise InvalidInput(f"template {required} is required")
        require_slug(data["id"], "template id")
        validity = data.get("validity")
        if validity is not None:
            parse_duration(validity)
        rqf = data.get("rqf_level")
        workload = data.get("notional_workload_hours")
        try:
            rqf = None if rqf is None else int(rqf)
            workload = None if workload is None else float(workload)
        except (TypeError, ValueError):
            raise InvalidInput("template rqf_level and notional_workload_hours must be numbers") from None
        if rqf is not None and not 1 <= rqf <= 8:
            raise InvalidInput("template rqf_level must be between 1 and 8")
        languages = tuple(str(x) for x in (data.get("languages") or ("es",)))
        return cls(
            id=data["id"], institution=data["institution"], name=data["name"], description=data["description"],
            qualification_code=_opt(data, "qualification_code"), qualification_title=_opt(data, "qualification_title"),
            framework_id=_opt(data, "framework_id"), national_level=_opt(data, "national_level"), rqf_level=rqf,
            sector=_opt(data, "sector"), isco_code=_opt(data, "isco_code"),
            esco_skills=tuple(SkillRef.from_json(s) for s in data.get("esco_skills") or ()),
            learning_outcomes=tuple(str(x) for x in data.get("learning_outcomes") or ()),
            notional_workload_hours=workload, assessment_type=_opt(data, "assessment_type"),
            quality_assurance=_opt(data, "quality_assurance"), participation_form=_opt(data, "participation_form"),
            validity=validity, languages=languages, achievement_type=str(data.get("achievement_type") or "Certificate"),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "institution": self.institution}
        for name in self.FIELDS:
            value = getattr(self, name)
            if name == "esco_skills":
                value = [{"uri": s.uri, "label": s.label} for s in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def _opt(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None or value == "" else str(value)


# ---------------------------------------------------------------------------------------------
# Validity periods


def parse_duration(value: Any) -> tuple[int, int, int]:
    """(years, months, days) of an ISO 8601 date duration such as P5Y, P18M, P2W or P1Y6M."""
    match = DURATION_RE.match(value) if isinstance(value, str) else None
    if not match or value == "P":
        raise InvalidInput(f"validity must be an ISO 8601 duration like P5Y or P18M (got {value!r})")
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return years, months, weeks * 7 + days


def add_duration(moment: datetime, duration: str) -> datetime:
    """Calendar arithmetic: 29 February + P1Y is 28 February, as a person reading the date expects."""
    years, months, days = parse_duration(duration)
    month_index = moment.month - 1 + months
    year = moment.year + years + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day) + timedelta(days=days)


# ---------------------------------------------------------------------------------------------
# Recipients


@dataclass(frozen=True)
class Recipient:
    """A learner as the credential will carry them: a did:key subject id, or a salted e-mail hash."""

    given_name: str
    family_name: str
    did: str | None = None
    email_hash: str | None = None  # "sha256$<hex>"
    salt: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


def identity_hash(identifier: str, salt: str) -> str:
    """OB3 IdentityHash: sha256 over the UTF-8 identifier with the salt appended."""
    return "sha256$" + hashlib.sha256((identifier + salt).encode("utf-8")).hexdigest()


def normalise_identifier(identifier: Any) -> str:
    """A did:key as given, or a lower-cased e-mail; anything else is refused."""
    if not isinstance(identifier, str) or not identifier.strip():
        raise InvalidInput("identifier is required (a did:key or an e-mail address)")
    identifier = identifier.strip()
    if identifier.startswith("did:"):
        if not re.fullmatch(r"did:key:z[1-9A-HJ-NP-Za-km-z]{20,}", identifier):
            raise InvalidInput(f"identifier {identifier!r} is not a did:key")
        return identifier
    if EMAIL_RE.match(identifier):
        return identifier.lower()
    raise InvalidInput(f"identifier {identifier!r} is neither a did:key nor an e-mail address")


def make_recipient(given_name: Any, family_name: Any, identifier: Any, salt: str) -> Recipient:
    given = given_name.strip() if isinstance(given_name, str) else ""
    family = family_name.strip() if isinstance(family_name, str) else ""
    if not given and not family:
        raise InvalidInput("given_name or family_name is required")
    ident = normalise_identifier(identifier)
    if ident.startswith("did:"):
        return Recipient(given, family, did=ident)
    return Recipient(given, family, email_hash=identity_hash(ident, salt), salt=salt)


# ---------------------------------------------------------------------------------------------
# Issue requests (one row of a batch, or one `issue one` call)

# Optional columns a batch file may carry besides given_name, family_name, identifier.
OPTIONAL_COLUMNS = ("activity_start_date", "activity_end_date", "license_number", "narrative", "term")
REQUIRED_COLUMNS = ("given_name", "family_name", "identifier")


@dataclass(frozen=True)
class IssueRequest:
    template_id: str
    given_name: str
    family_name: str
    identifier: str
    extras: Mapping[str, str] = field(default_factory=dict)
    # OB3 `evidence` entries (e.g. an RPL assessment). Not part of the idempotency key: the caller
    # makes the row content unique per case (its narrative names the case).
    evidence: tuple[Mapping[str, Any], ...] = ()
    # Set for a partial recognition (RPL): the credential certifies only these units, never the whole.
    partial_units: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, template_id: str, row: Mapping[str, Any],
                 evidence: Sequence[Mapping[str, Any]] | None = None,
                 partial_units: Sequence[str] = ()) -> "IssueRequest":
        extras = {}
        for name in OPTIONAL_COLUMNS:
            value = row.get(name)
            if value not in (None, ""):
                value = str(value).strip()
                if name.endswith("_date"):
                    value = _check_date(name, value)
                extras[name] = value
        given, family = str(row.get("given_name") or "").strip(), str(row.get("family_name") or "").strip()
        if not (given or family):
            raise InvalidInput("given_name or family_name is required")
        return cls(
            template_id,
            given,
            family,
            normalise_identifier(row.get("identifier")),
            extras,
            tuple(_check_evidence(evidence or ())),
            _check_units(partial_units),
        )

    def idempotency_key(self) -> str:
        """hash(template, identifier, row content): the same row issued twice is the same credential."""
        content = {"given_name": self.given_name, "family_name": self.family_name, **self.extras}
        if self.partial_units:  # a partial credential is never "the same" as the full one
            content["partial_units"] = list(self.partial_units)
        material = json.dumps([self.template_id, self.identifier, content], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _check_evidence(evidence: Sequence[Any]) -> list[Mapping[str, Any]]:
    for item in evidence:
        types = item.get("type") if isinstance(item, Mapping) else None
        if "Evidence" not in (types if isinstance(types, list) else [types]):
            raise InvalidInput("each evidence entry must be an object whose type includes 'Evidence'")
    return list(evidence)


def _check_units(units: Sequence[Any]) -> tuple[str, ...]:
    if isinstance(units, str) or not all(isinstance(u, str) and u.strip() for u in units):
        raise InvalidInput("partial units must be a list of non-empty unit names")
    return tuple(u.strip() for u in units)


def _check_date(name: str, value: str) -> str:
    try:
        if "T" in value:  # a date-time must carry its offset (XSD dateTimeStamp)
            parse_datetime(value)
            return value
        return date.fromisoformat(value).isoformat() + "T00:00:00Z"
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD) or a date-time with an offset "
                           f"(YYYY-MM-DDThh:mm:ssZ), got {value!r}") from None
