"""The publication's JSON Schema and example file: the example is valid, and the content checks catch
a document that is well-formed but incomplete."""

import copy
import json

import jsonschema

from node.framework.publication import SCHEMA_PATH, content_checks, load_schema

EXAMPLE = SCHEMA_PATH.with_name("framework-publication.example.json")


def example():
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_the_example_is_valid_and_complete():
    jsonschema.Draft202012Validator.check_schema(load_schema())
    jsonschema.validate(example(), load_schema())
    assert all(c.ok for c in content_checks(example()))


def test_a_mapping_that_misses_a_level_fails_the_content_check():
    document = example()
    document["credentialSubject"]["mapping"]["rows"].pop(0)
    failed = [c for c in content_checks(document) if not c.ok]
    assert [c.reason for c in failed] == ["incomplete_mapping"] and "levels not mapped" in failed[0].detail


def test_an_unapproved_row_fails_the_schema():
    document = copy.deepcopy(example())
    del document["credentialSubject"]["mapping"]["rows"][0]["approvedBy"]
    failed = [c for c in content_checks(document) if not c.ok]
    assert [c.reason for c in failed] == ["schema_invalid"]


def test_a_bad_isco_code_fails():
    document = example()
    document["credentialSubject"]["qualifications"][0]["isco"] = "71"
    assert not all(c.ok for c in content_checks(document))
