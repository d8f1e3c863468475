import copy
import json

import pytest

from node.errors import InvalidInput, ValidationFailed
from node.rpl.catalogue import bundled_catalogue, parse_catalogue, read_catalogue_file


def test_bundled_draft_has_the_domain_checkpoints_in_three_languages():
    catalogue = bundled_catalogue()
    assert (catalogue.id, catalogue.version) == ("regional-scheme-checkpoints", "2026.1-draft")
    assert len(catalogue.checkpoints) == 13
    assert "access-for-migrants" in catalogue.mandatory_ids
    assert "standards-comparison-method" not in catalogue.mandatory_ids
    for checkpoint in catalogue.checkpoints:
        assert {"es", "en", "pt"} <= set(checkpoint.question)
        assert {"es", "en", "pt"} <= set(checkpoint.evidence_expected)


def test_a_new_version_is_only_data(tmp_path):
    document = copy.deepcopy(dict(bundled_catalogue().document))
    document["version"] = "2027.1"
    document["checkpoints"].append(
        {"id": "digital-credentials", "dimension": "transparency", "mandatory": True,
         "question": {"es": "¿...?", "en": "Are certificates issued as verifiable digital credentials?", "pt": "...?"},
         "evidenceExpected": {"es": "URL", "en": "URL", "pt": "URL"}}
    )
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    catalogue = read_catalogue_file(path)
    assert catalogue.version == "2027.1"
    assert "digital-credentials" in catalogue.mandatory_ids
    assert catalogue.digest() != bundled_catalogue().digest()


def test_digest_ignores_key_order():
    document = dict(bundled_catalogue().document)
    reordered = dict(reversed(list(document.items())))
    assert parse_catalogue(reordered).digest() == parse_catalogue(document).digest()


def test_schema_errors_name_the_path():
    document = copy.deepcopy(dict(bundled_catalogue().document))
    del document["checkpoints"][2]["question"]["pt"]
    document["checkpoints"][4]["mandatory"] = "yes"
    with pytest.raises(ValidationFailed) as info:
        parse_catalogue(document)
    paths = [e["path"] for e in info.value.extensions["errors"]]
    assert "$.checkpoints[2].question" in paths
    assert "$.checkpoints[4].mandatory" in paths


def test_duplicate_checkpoint_ids_are_refused():
    document = copy.deepcopy(dict(bundled_catalogue().document))
    document["checkpoints"].append(copy.deepcopy(document["checkpoints"][0]))
    with pytest.raises(ValidationFailed, match="repeats"):
        parse_catalogue(document)


def test_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInput, match="cannot read"):
        read_catalogue_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        read_catalogue_file(bad)
