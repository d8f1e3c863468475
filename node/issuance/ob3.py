"""Build an unsigned Open Badges 3.0 `OpenBadgeCredential` (VC 2.0) from a template and a recipient.

Pure and deterministic: ids, salts and times are inputs. Every property used is defined by the VC 2.0
or OB 3.0 contexts (or Puente's own, when the node bundles it), because an undefined term would be
silently dropped by RDF canonicalization and so left unsigned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from node.clock import isoformat_z
from node.issuance.model import AchievementTemplate, Institution, Recipient, add_duration

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
PUENTE_CONTEXT = "https://w3id.org/puente/v1"
RQF_FRAMEWORK = "Regional Qualifications Framework (RQF)"


def achievement_url(base_url: str, template_id: str) -> str:
    return f"{base_url}/achievements/{template_id}"


def credential_url(base_url: str, credential_uuid: str) -> str:
    return f"{base_url}/credentials/{credential_uuid}"


def alignments(template: AchievementTemplate, base_url: str) -> list[dict[str, Any]]:
    """RQF level, national qualification and level, and ESCO skills as OB3 Alignment objects."""
    out: list[dict[str, Any]] = []
    if template.rqf_level is not None:
        out.append({
            "type": ["Alignment"],
            "targetName": f"RQF level {template.rqf_level}",
            "targetCode": str(template.rqf_level),
            "targetFramework": RQF_FRAMEWORK,
            "targetType": "ext:RQFLevel",
            "targetUrl": f"{base_url}/framework/rqf/levels/{template.rqf_level}",
        })
    if template.qualification_code:
        framework = template.framework_id or "national"
        out.append({
            "type": ["Alignment"],
            "targetName": template.qualification_title or template.qualification_code,
            "targetCode": template.qualification_code,
            "targetFramework": framework,
            "targetType": "ceterms:Credential",
            "targetUrl": f"{base_url}/framework/{framework}/qualifications/{template.qualification_code}",
        })
    if template.national_level:
        framework = template.framework_id or "national"
        out.append({
            "type": ["Alignment"],
            "targetName": f"{framework} level {template.national_level}",
            "targetCode": template.national_level,
            "targetFramework": framework,
            "targetType": "ext:NationalLevel",
            "targetUrl": f"{base_url}/framework/{framework}/levels/{template.national_level}",
        })
    for skill in template.esco_skills:
        out.append({
            "type": ["Alignment"],
            "targetName": skill.label,
            "targetFramework": "ESCO",
            "targetType": "ceasn:Competency",
            "targetUrl": skill.uri,
        })
    return out


def achievement(template: AchievementTemplate, base_url: str, *, puente_terms: bool) -> dict[str, Any]:
    narrative = "\n".join(f"- {outcome}" for outcome in template.learning_outcomes) or template.description
    out: dict[str, Any] = {
        "id": achievement_url(base_url, template.id),
        "type": ["Achievement"],
        "achievementType": template.achievement_type,
        "name": template.name,
        "description": template.description,
        "criteria": {"narrative": narrative},
        "inLanguage": template.languages[0] if template.languages else "es",
    }
    if template.qualification_code:
        out["humanCode"] = template.qualification_code
    if template.sector:
        out["fieldOfStudy"] = template.sector
    aligned = alignments(template, base_url)
    if aligned:
        out["alignment"] = aligned
    if puente_terms:
        # Microcredential elements (EU 2022 recommendation) OB3 has no term for.
        for key, value in (
            ("notionalWorkloadHours", template.notional_workload_hours),
            ("assessmentType", template.assessment_type),
            ("qualityAssurance", template.quality_assurance),
            ("participationForm", template.participation_form),
        ):
            if value is not None:
                out[key] = value
    return out


PARTIAL_ACHIEVEMENT_TYPE = "ext:PartialQualification"  # OB 3.0's extension pattern: never read as "Certificate"


def partial_achievement_url(base_url: str, template_id: str, units: Sequence[str]) -> str:
    """Its own id per set of units: a verifier matching achievements by id must never see the qualification's."""
    return f"{achievement_url(base_url, template_id)}/partial?units={quote(','.join(units), safe='')}"


def partial_name(qualification: str, units: Sequence[str]) -> str:
    return f"Partial: {qualification} — units {', '.join(units)}"


def partial_achievement(template: AchievementTemplate, units: Sequence[str], base_url: str) -> dict[str, Any]:
    """What a `partial` RPL decision certifies: only the named units of the qualification.

    Everything a verifier or wallet shows says so: the name ("Partial: <qualification> — units X, Y"), the
    achievement type, the description, the criteria (only the certified units, never the qualification's
    learning outcomes) and the id. Left out on purpose, because each would claim the whole qualification:
    the qualification code (`humanCode`), the RQF, national-level and qualification alignments, the ESCO
    skills of the whole and its notional workload. Plain OB 3.0 terms only, so the unmodified OB 3.0
    schema and every wallet read it.
    """
    units = [u.strip() for u in units if u and u.strip()]
    if not units:
        raise ValueError("a partial achievement names at least one certified unit")
    out: dict[str, Any] = {
        "id": partial_achievement_url(base_url, template.id, units),
        "type": ["Achievement"],
        "achievementType": PARTIAL_ACHIEVEMENT_TYPE,
        "name": partial_name(template.name, units),
        "description": (f"Recognition of prior learning of part of {template.name}: only the units listed are certified. "
                        "This is not the full qualification."),
        "criteria": {"narrative": "\n".join(f"- {unit}" for unit in units)},
        "inLanguage": template.languages[0] if template.languages else "es",
        "tag": ["partial", "recognition of prior learning"],
    }
    if template.sector:
        out["fieldOfStudy"] = template.sector
    return out


def recipient_subject(recipient: Recipient) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [{
        "type": "IdentityObject",
        "identityType": "name",
        "hashed": False,
        "identityHash": recipient.full_name,
    }]
    subject: dict[str, Any] = {"type": ["AchievementSubject"]}
    if recipient.did:
        subject["id"] = recipient.did
    else:
        # Never the e-mail itself: only its salted hash, which the holder can prove by revealing both.
        identifiers.append({
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": recipient.email_hash,
            "salt": recipient.salt,
        })
    subject["identifier"] = identifiers
    return subject


def build_credential(
    *,
    template: AchievementTemplate,
    institution: Institution,
    recipient: Recipient,
    credential_id: str,
    issued_at: datetime,
    credential_status: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    base_url: str,
    extras: Mapping[str, str] | None = None,
    puente_terms: bool = False,
    evidence: Sequence[Mapping[str, Any]] = (),
    partial_units: Sequence[str] = (),
) -> dict[str, Any]:
    """`partial_units`: the credential certifies only these units of the template's qualification."""
    extras = extras or {}
    contexts = [VC_CONTEXT, OB_CONTEXT] + ([PUENTE_CONTEXT] if puente_terms else [])
    subject = recipient_subject(recipient)
    subject["achievement"] = (partial_achievement(template, partial_units, base_url) if partial_units
                              else achievement(template, base_url, puente_terms=puente_terms))
    for column, prop in (
        ("activity_start_date", "activityStartDate"),
        ("activity_end_date", "activityEndDate"),
        ("license_number", "licenseNumber"),
        ("narrative", "narrative"),
        ("term", "term"),
    ):
        if extras.get(column):
            subject[prop] = extras[column]
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": subject["achievement"]["name"],
        "issuer": institution.profile(),
        "validFrom": isoformat_z(issued_at),
    }
    if template.validity:
        credential["validUntil"] = isoformat_z(add_duration(issued_at, template.validity))
    credential["credentialSubject"] = subject
    if evidence:
        credential["evidence"] = [dict(e) for e in evidence]
    if credential_status:
        # One object (the 1-bit revocation entry) whenever there is one entry: the OB 3.0 schema allows a
        # single credentialStatus. Two (revocation + suspension) only where the institution chose them.
        entries = [credential_status] if isinstance(credential_status, Mapping) else list(credential_status)
        credential["credentialStatus"] = dict(entries[0]) if len(entries) == 1 else [dict(e) for e in entries]
    return credential
