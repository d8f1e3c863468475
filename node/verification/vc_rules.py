"""The VC Data Model 2.0 (and 1.1) MUSTs and the Open Badges 3.0 profile rules, as data.

`violations(document)` lists every rule a credential breaks, each as
`{"path": "$.credentialStatus[0].type", "rule": "status_type_required", "error": "human sentence"}`;
an empty list means it conforms. It is pure and cheap (one walk over a few keys), so the same rules run
where credentials are signed (`require_conformance`: a ValidationFailed listing them all) and where they
are verified (`conformance_checks`: one failed Check per violated rule, `conformance.<rule>`).

Only credentials are held to these rules: a document whose `type` includes `VerifiableCredential`
(`is_credential`). Status lists are credentials too. The JSON schema of OB 3.0
(node/issuance/schemas) checks shapes on Puente's own issuance; the OB rules here are the ones a
verifier needs without the schema, and the ones a schema cannot say (a subject named by `id` or
`identifier`, the OB context in `@context`).

Rule ids are stable (they appear in problem+json and verification results); docs/conformance.md maps
each to the section of the specification that states it and to the test that proves it.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from node.clock import parse_datetime
from node.errors import ValidationFailed
from node.verification.result import Check

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
OB_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
VC_TYPE = "VerifiableCredential"

# URL = an absolute IRI (RFC 3986/3987): a scheme, then no whitespace or characters an IRI never holds.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
# Objects that VC 2.0 requires to carry a `type` (§4.5 table, §4.10, §4.11, §5.4-5.6), and whether their
# `id` is required (credentialSchema) or only must be a URL when present.
_TYPED_OBJECTS = {
    "credentialStatus": ("status", False),
    "credentialSchema": ("schema", True),
    "termsOfUse": ("terms_of_use", False),
    "evidence": ("evidence", False),
    "refreshService": ("refresh_service", False),
}


def is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def is_credential(document: Any) -> bool:
    """A document the VC rules apply to: a JSON object whose type includes VerifiableCredential."""
    if not isinstance(document, dict):
        return False
    types = document.get("type")
    return types == VC_TYPE or (isinstance(types, list) and VC_TYPE in types)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _at(path: str, value: Any, index: int) -> str:
    return f"{path}[{index}]" if isinstance(value, list) else path


class _Collector:
    def __init__(self) -> None:
        self.found: list[dict[str, str]] = []

    def __call__(self, path: str, rule: str, error: str) -> None:
        self.found.append({"path": path, "rule": rule, "error": error})


def violations(document: Any) -> list[dict[str, str]]:
    """Every VC 2.0 (or 1.1, by its first context) and OB 3.0 rule the credential breaks."""
    add = _Collector()
    if not isinstance(document, dict):
        add("$", "credential_object", "a credential must be a JSON object")
        return add.found
    v1 = _contexts(document, add)
    _identifier(document, "$", add)
    _types(document, add)
    _names(document, add)
    _issuer(document, add)
    _subjects(document, add)
    _validity(document, v1, add)
    for key, (rule, id_required) in _TYPED_OBJECTS.items():
        if key in document:
            _typed_objects(document[key], f"$.{key}", rule, id_required, add)
    if "relatedResource" in document:
        _related_resources(document["relatedResource"], add)
    if _is_open_badge(document):
        _open_badge(document, add)
    return add.found


def require_conformance(document: Any, what: str = "the credential") -> None:
    """Refuse to sign a credential that breaks a rule (documents that are not credentials pass)."""
    if not is_credential(document):
        return
    found = violations(document)
    if found:
        first = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ValidationFailed(f"{what} does not conform to the VC data model: {first['path']}: {first['error']}{more}",
                               errors=found)


def conformance_checks(document: Any) -> list[Check]:
    """The verifier's view: one failed check per violated rule (`conformance.<rule>`, reason `nonconforming`),
    or one passing `conformance` check."""
    found = violations(document)
    if not found:
        return [Check("conformance", True)]
    by_rule: dict[str, list[str]] = {}
    for item in found:
        by_rule.setdefault(item["rule"], []).append(f"{item['path']}: {item['error']}")
    return [Check(f"conformance.{rule}", False, "nonconforming", "; ".join(details)) for rule, details in by_rule.items()]


def needs_data_integrity_context(document: Any) -> bool:
    """vc-di-eddsa §3.1 / Data Integrity §2.1: when the document's contexts do not define the proof terms
    (a VC 1.1 credential with only the v1 context), the data-integrity context SHOULD be added. The VC 2.0
    context defines them; so does the data-integrity context itself."""
    if not isinstance(document, dict) or "@context" not in document:
        return False
    contexts = _items(document["@context"])
    return VC_V2 not in contexts and DATA_INTEGRITY_V2 not in contexts


# ---------------------------------------------------------------------------------------------- VC 2.0


def _contexts(document: dict[str, Any], add: _Collector) -> bool:
    """§4.3: @context is present, an ordered set whose first item is the VC 2.0 context, then URLs or
    objects. A first item that is the VC 1.1 context makes this a 1.1 credential (its rules apply)."""
    if "@context" not in document:
        add("$.@context", "context_required", "a credential must have an @context")
        return False
    contexts = document["@context"]
    items = _items(contexts)
    first = items[0] if items else None
    if first not in (VC_V2, VC_V1):
        add("$.@context[0]", "context_first", f"the first @context must be {VC_V2}, not {first!r}")
    for index, item in enumerate(items[1:], start=1):
        if not (is_url(item) or isinstance(item, dict)):
            add(f"$.@context[{index}]", "context_item", "each further @context item must be a URL or an object")
    return first == VC_V1


def _identifier(obj: dict[str, Any], path: str, add: _Collector, rule: str = "id_url") -> None:
    """§4.4: an `id`, when present, is a single URL."""
    if "id" in obj and not is_url(obj["id"]):
        add(f"{path}.id", rule, f"id must be a URL, not {obj['id']!r}")


def _types(document: dict[str, Any], add: _Collector) -> None:
    """§4.5: `type` is present, one or more strings, and includes VerifiableCredential."""
    if "type" not in document:
        add("$.type", "type_required", "a credential must have a type")
        return
    _type_strings(document["type"], "$.type", add)
    if VC_TYPE not in _items(document["type"]):
        add("$.type", "type_verifiable_credential", f"type must include {VC_TYPE}")


def _type_strings(value: Any, path: str, add: _Collector) -> None:
    items = _items(value)
    if not items or not all(isinstance(t, str) and t for t in items):
        add(path, "type_strings", "type must be one or more non-empty strings")


def _names(document: dict[str, Any], add: _Collector) -> None:
    """§4.6: name and description are strings or language value objects."""
    for key in ("name", "description"):
        if key not in document:
            continue
        for index, value in enumerate(_items(document[key])):
            if not (isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("@value"), str))):
                add(_at(f"$.{key}", document[key], index), f"{key}_string", f"{key} must be a string or a language value object")


def _issuer(document: dict[str, Any], add: _Collector) -> None:
    """§4.7: issuer is present: a URL, or an object whose id is a URL."""
    if "issuer" not in document:
        add("$.issuer", "issuer_required", "a credential must have an issuer")
        return
    issuer = document["issuer"]
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            add("$.issuer.id", "issuer_url", f"the issuer's id must be a URL, not {issuer.get('id')!r}")
        if "type" in issuer:
            _type_strings(issuer["type"], "$.issuer.type", add)
    elif not is_url(issuer):
        add("$.issuer", "issuer_url", f"the issuer must be a URL or an object with a URL id, not {issuer!r}")


def _subjects(document: dict[str, Any], add: _Collector) -> None:
    """§4.8: credentialSubject is present: one or more objects, each with at least one claim, an id URL if any."""
    if "credentialSubject" not in document:
        add("$.credentialSubject", "subject_required", "a credential must have a credentialSubject")
        return
    value = document["credentialSubject"]
    items = _items(value)
    if not items:
        add("$.credentialSubject", "subject_required", "credentialSubject must hold at least one subject")
    for index, subject in enumerate(items):
        path = _at("$.credentialSubject", value, index)
        if not isinstance(subject, dict):
            add(path, "subject_object", "each credentialSubject must be an object")
            continue
        if not subject:
            add(path, "subject_empty", "a credentialSubject must make at least one claim or identify its subject")
        _identifier(subject, path, add, "subject_id_url")
        if "type" in subject:
            _type_strings(subject["type"], f"{path}.type", add)


def _validity(document: dict[str, Any], v1: bool, add: _Collector) -> None:
    """§4.9: validFrom/validUntil are XML Schema dateTimeStamps, validFrom not after validUntil.
    VC 1.1 §4.6-4.7: issuanceDate is required, issuanceDate/expirationDate are dateTimes (Puente asks an
    offset of both versions: a time without one is ambiguous across the region's time zones)."""
    pairs = [("validFrom", "validUntil")] + ([("issuanceDate", "expirationDate")] if v1 else [])
    if v1 and "issuanceDate" not in document:
        add("$.issuanceDate", "issuance_date_required", "a VC 1.1 credential must have an issuanceDate")
    moments = {}
    for start, end in pairs:
        for key in (start, end):
            if key not in document:
                continue
            try:
                moments[key] = parse_datetime(document[key])
            except (ValueError, TypeError):
                rule = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower() + "_datetime"
                add(f"$.{key}", rule, f"{key} must be an XML Schema dateTimeStamp (e.g. 2026-06-01T12:00:00Z), not {document[key]!r}")
        if start in moments and end in moments and moments[start] > moments[end]:
            add(f"$.{end}", "validity_order", f"{start} must not be later than {end}")


def _typed_objects(value: Any, path: str, rule: str, id_required: bool, add: _Collector) -> None:
    """§4.10 (credentialStatus), §4.11 (credentialSchema), §5.4-5.6 (refreshService, termsOfUse, evidence):
    objects with a `type`; an `id` that is a URL (credentialSchema: required)."""
    for index, item in enumerate(_items(value)):
        at = _at(path, value, index)
        if not isinstance(item, dict):
            add(at, f"{rule}_object", f"{path[2:]} must hold objects")
            continue
        if "type" not in item:
            add(f"{at}.type", f"{rule}_type_required", f"each {path[2:]} object must have a type")
        else:
            _type_strings(item["type"], f"{at}.type", add)
        if "id" in item or id_required:
            if not is_url(item.get("id")):
                add(f"{at}.id", f"{rule}_id_url", f"the id of a {path[2:]} object must be a URL, not {item.get('id')!r}")


def _related_resources(value: Any, add: _Collector) -> None:
    """§5.3: each relatedResource is an object with a URL id (unique among them) and a digestSRI or
    digestMultibase."""
    seen: set[str] = set()
    for index, item in enumerate(_items(value)):
        at = _at("$.relatedResource", value, index)
        if not isinstance(item, dict):
            add(at, "related_resource_object", "each relatedResource must be an object")
            continue
        rid = item.get("id")
        if not is_url(rid):
            add(f"{at}.id", "related_resource_id", f"each relatedResource must have a URL id, not {rid!r}")
        elif rid in seen:
            add(f"{at}.id", "related_resource_duplicate", f"relatedResource {rid} is listed twice")
        else:
            seen.add(rid)
        if "digestSRI" not in item and "digestMultibase" not in item:
            add(at, "related_resource_digest", "each relatedResource must have a digestSRI or a digestMultibase")


# ---------------------------------------------------------------------------------------------- OB 3.0


def _is_open_badge(document: dict[str, Any]) -> bool:
    return any(t in OB_TYPES for t in _items(document.get("type")) if isinstance(t, str))


def _types_of(value: Any) -> list[Any]:
    return _items(value.get("type")) if isinstance(value, dict) else []


def _open_badge(document: dict[str, Any], add: _Collector) -> None:
    """OB 3.0 §B.1.1 AchievementCredential (alias OpenBadgeCredential), §B.1.2 AchievementSubject,
    §B.1.3 Achievement, §B.2.6 Profile."""
    contexts = _items(document.get("@context"))
    if not any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts):
        add("$.@context", "ob_context", "an Open Badges credential must use the OB 3.0 context")
    if "name" not in document:
        add("$.name", "ob_name_required", "an Open Badges credential must have a name")
    if "validFrom" not in document:
        add("$.validFrom", "ob_valid_from_required", "an Open Badges credential must have a validFrom")
    issuer = document.get("issuer")
    if not isinstance(issuer, dict) or "Profile" not in _types_of(issuer):
        add("$.issuer", "ob_issuer_profile", "the issuer of an Open Badges credential is a Profile object (id and type Profile)")
    subject = document.get("credentialSubject")
    if not isinstance(subject, dict):
        add("$.credentialSubject", "ob_subject_single", "an Open Badges credential has one AchievementSubject object")
        return
    if "AchievementSubject" not in _types_of(subject):
        add("$.credentialSubject.type", "ob_subject_type", "the credentialSubject's type must include AchievementSubject")
    if "id" not in subject and not subject.get("identifier"):
        add("$.credentialSubject", "ob_subject_identity", "the recipient must be named by an id or at least one identifier")
    achievement = subject.get("achievement")
    if not isinstance(achievement, dict):
        add("$.credentialSubject.achievement", "ob_achievement_required", "the credentialSubject must hold an achievement object")
        return
    if not is_url(achievement.get("id")):
        add("$.credentialSubject.achievement.id", "ob_achievement_id", "the achievement must have a URL id")
    if "Achievement" not in _types_of(achievement):
        add("$.credentialSubject.achievement.type", "ob_achievement_type", "the achievement's type must include Achievement")
    for key in ("name", "description"):
        if not isinstance(achievement.get(key), (str, dict)) or not achievement.get(key):
            add(f"$.credentialSubject.achievement.{key}", f"ob_achievement_{key}", f"the achievement must have a {key}")
    if not isinstance(achievement.get("criteria"), dict):
        add("$.credentialSubject.achievement.criteria", "ob_achievement_criteria", "the achievement must have criteria")


def rule_ids(found: Iterable[dict[str, str]]) -> set[str]:
    return {item["rule"] for item in found}
