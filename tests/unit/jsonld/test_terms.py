"""One spelling per signed document (architecture rule 9): keys are the terms their contexts define, and
nothing is dropped by JSON-LD processing. Each respelling class of issue 8 is refused by the pure term
walk (both suites) and, for what JSON-LD would drop, by the safe pyld processor (rdfc)."""

import copy

import pytest

from node.crypto.canonicalize import CanonicalizationError, rdfc
from node.errors import InvalidInput, UnknownContext
from node.jsonld.errors import ContextProcessingFailed, DroppedData, NoncanonicalTerm, UndefinedTerm
from node.jsonld.terms import check_document

CRED = "https://www.w3.org/2018/credentials#"
VC2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
STATUS = {
    "id": "https://puente.example/status/1#7",
    "type": "BitstringStatusListEntry",
    "statusPurpose": "revocation",
    "statusListIndex": "7",
    "statusListCredential": "https://puente.example/status/1",
}


def credential() -> dict:
    return {
        "@context": [VC2, OB],
        "id": "urn:uuid:4f8c1e0a-7d2b-4c55-9a3e-1b6f0c2d9e71",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Albañilería",
        "issuer": {"id": "did:web:puente.example:institutions:intecap", "type": ["Profile"], "name": "INTECAP"},
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2031-01-01T00:00:00Z",
        "credentialStatus": dict(STATUS),
        "credentialSubject": {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://puente.example/achievements/alb-2",
                "type": ["Achievement"],
                "name": "Albañil",
                "description": "Construye muros.",
                "criteria": {"narrative": "Evaluación práctica."},
            },
        },
    }


def respelled(key: str, new_key: str, extra_context: dict | None = None) -> dict:
    doc = credential()
    value = doc.pop(key)
    doc[new_key] = value
    if extra_context is not None:
        doc["@context"] = doc["@context"] + [extra_context]
    return doc


def test_the_canonical_credential_passes_both_checks():
    check_document(credential())
    assert "credentials#credentialStatus" in rdfc(credential())


@pytest.mark.parametrize("key", ["credentialStatus", "validUntil", "validFrom", "issuer", "credentialSubject"])
def test_full_iri_key_is_refused(key):
    with pytest.raises(NoncanonicalTerm) as caught:
        check_document(respelled(key, CRED + key))
    assert caught.value.path == f"$.{CRED + key}"
    assert caught.value.reason == "noncanonical_term"


def test_compact_iri_key_is_refused():
    with pytest.raises(NoncanonicalTerm, match="is an IRI"):
        check_document(respelled("credentialStatus", "cred:credentialStatus", {"cred": CRED}))


def test_inline_alias_term_is_refused():
    with pytest.raises(NoncanonicalTerm, match="calls 'credentialStatus'"):
        check_document(respelled("credentialStatus", "foo", {"foo": CRED + "credentialStatus"}))


def test_inline_alias_of_a_date_is_refused():
    with pytest.raises(NoncanonicalTerm):
        check_document(respelled("validUntil", "ends", {"ends": {"@id": CRED + "validUntil", "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}}))


def test_vocab_relative_key_that_lands_on_a_term_iri_is_refused():
    with pytest.raises(NoncanonicalTerm):
        check_document(respelled("credentialStatus", "credentials#credentialStatus", {"@vocab": "https://www.w3.org/2018/"}))


def test_type_written_as_keyword_is_refused():
    doc = credential()
    doc["@type"] = doc.pop("type")
    with pytest.raises(NoncanonicalTerm, match="write 'type'"):
        check_document(doc)


def test_id_written_as_keyword_is_refused():
    doc = credential()
    doc["@id"] = doc.pop("id")
    with pytest.raises(NoncanonicalTerm, match="write 'id'"):
        check_document(doc)


@pytest.mark.parametrize("keyword", ["@id", "@type", "@included", "@graph"])
def test_inline_keyword_alias_is_refused(keyword):
    doc = credential()
    doc["@context"] = doc["@context"] + [{"alias": keyword}]
    doc["alias"] = doc.pop("id") if keyword == "@id" else doc.pop("type") if keyword == "@type" else [{"id": "urn:x", "name": "x"}]
    with pytest.raises(NoncanonicalTerm, match="alias"):
        check_document(doc)


@pytest.mark.parametrize("keyword", ["@included", "@graph", "@reverse", "@nest", "@index"])
def test_structural_keywords_are_refused(keyword):
    doc = credential()
    doc[keyword] = [{"id": "urn:x", "credentialStatus": dict(STATUS)}] if keyword != "@index" else "i"
    with pytest.raises(NoncanonicalTerm, match=keyword):
        check_document(doc)


def test_graph_wrapping_is_refused():
    inner = credential()
    context = inner.pop("@context")
    with pytest.raises(NoncanonicalTerm, match="@graph"):
        check_document({"@context": context, "@graph": [inner]})


def test_compact_iri_in_a_type_is_refused():
    doc = credential()
    doc["@context"] = doc["@context"] + [{"cred": CRED}]
    doc["type"] = ["cred:VerifiableCredential", "OpenBadgeCredential"]
    with pytest.raises(NoncanonicalTerm, match="compact IRI"):
        check_document(doc)


def test_full_iri_type_that_a_term_names_is_refused():
    doc = credential()
    doc["type"] = [CRED + "VerifiableCredential", "OpenBadgeCredential"]
    with pytest.raises(NoncanonicalTerm, match="'VerifiableCredential'"):
        check_document(doc)


def test_embedded_context_may_not_set_base():
    doc = credential()
    doc["@context"] = doc["@context"] + [{"@base": "https://puente.example/"}]
    with pytest.raises(NoncanonicalTerm, match="@base"):
        check_document(doc)


def test_redefining_a_protected_term_is_a_typed_refusal():
    doc = credential()
    doc["@context"] = doc["@context"] + [{"name": "https://example.org/notAName"}]
    with pytest.raises(ContextProcessingFailed, match="protected"):
        check_document(doc)


def test_a_redefinition_undone_by_the_type_scoped_context_changes_nothing():
    # VC 2.0 defines validUntil in VerifiableCredential's (protected) type-scoped context, which is
    # applied after the embedded one: the key still means cred:validUntil, in the JSON and the graph.
    doc = credential()
    doc["@context"] = doc["@context"] + [{"validUntil": "https://example.org/notTheEnd"}]
    check_document(doc)
    assert f"<{CRED}validUntil>" in rdfc(doc) and "notTheEnd" not in rdfc(doc)


def test_a_new_term_in_an_embedded_context_is_fine():
    doc = credential()
    doc["@context"] = doc["@context"] + [{"cohort": "https://puente.example/terms#cohort"}]
    doc["cohort"] = "2026-A"
    check_document(doc)
    assert "<https://puente.example/terms#cohort>" in rdfc(doc)


# -- dropped data ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad_id", ["https ://not-a-url/x", "relative/path", "urn:bad id", "http://x/<y>"])
def test_invalid_or_relative_id_is_dropped_data(bad_id):
    doc = credential()
    doc["id"] = bad_id
    with pytest.raises(DroppedData) as caught:
        check_document(doc)
    assert caught.value.path == "$.id"
    with pytest.raises(DroppedData):
        rdfc(doc)


@pytest.mark.parametrize("bad_type", ["InvalidType", "../Relative", "Relative/Type"])
def test_undefined_or_relative_type_is_dropped_data(bad_type):
    doc = credential()
    doc["type"] = ["VerifiableCredential", "OpenBadgeCredential", bad_type]
    with pytest.raises(DroppedData) as caught:
        check_document(doc)
    assert caught.value.path == "$.type[2]"
    with pytest.raises(DroppedData):
        rdfc(doc)


def test_relative_iri_value_of_an_id_typed_term_is_dropped_data():
    doc = credential()
    doc["credentialStatus"]["statusListCredential"] = "status/1"
    with pytest.raises(DroppedData, match="statusListCredential"):
        check_document(doc)


def test_undefined_key_is_refused_for_jcs_too():
    doc = credential()
    doc["notATerm"] = "unsigned under rdfc"
    with pytest.raises(UndefinedTerm) as caught:
        check_document(doc)
    assert caught.value.path == "$.notATerm" and caught.value.reason == "undefined_term"


def test_keyword_lookalike_is_dropped_data():
    doc = credential()
    doc["@ignored"] = "x"
    with pytest.raises(DroppedData):
        check_document(doc)


def test_null_value_object_is_dropped_data():
    doc = credential()
    doc["name"] = {"@value": None}
    with pytest.raises(DroppedData):
        check_document(doc)
    with pytest.raises(DroppedData):
        rdfc(doc)


def test_id_only_top_level_document_is_dropped_data_in_rdfc():
    with pytest.raises(DroppedData):
        rdfc({"@context": [VC2], "id": "urn:uuid:only"})


@pytest.mark.parametrize("check", [check_document, rdfc])
def test_vocab_null_is_a_typed_invalid_input_not_a_crash(check):
    doc = credential()
    doc["@context"] = doc["@context"] + [{"@vocab": None}]
    with pytest.raises(InvalidInput) as caught:
        check(doc)
    assert isinstance(caught.value, (ContextProcessingFailed, CanonicalizationError))


def test_unknown_context_keeps_its_own_error():
    doc = credential()
    doc["@context"] = doc["@context"] + ["https://example.org/unknown/v1"]
    with pytest.raises(UnknownContext):
        check_document(doc)


def test_respelling_is_found_at_any_depth():
    doc = credential()
    achievement = doc["credentialSubject"]["achievement"]
    achievement["https://schema.org/name"] = achievement.pop("name")
    with pytest.raises(NoncanonicalTerm) as caught:
        check_document(doc)
    assert caught.value.path == "$.credentialSubject.achievement.https://schema.org/name"


def test_check_does_not_change_the_document():
    doc = credential()
    before = copy.deepcopy(doc)
    check_document(doc)
    assert doc == before


@pytest.mark.parametrize("context,key", [
    ({"@vocab": "relative/"}, "extra"),  # a relative @vocab: the key would expand to a relative IRI
    ({"extra": "_:blank"}, "extra"),  # a blank-node predicate: RDF has none
    ({"extra": "relative#extra"}, "extra"),
])
def test_terms_that_expand_to_no_predicate_are_dropped_data(context, key):
    doc = credential()
    doc["@context"] = doc["@context"] + [context]
    doc["credentialSubject"]["achievement"][key] = "x"
    with pytest.raises((DroppedData, ContextProcessingFailed)):  # (pyld itself refuses a relative term IRI)
        check_document(doc)
    with pytest.raises((DroppedData, CanonicalizationError)):
        rdfc(doc)
