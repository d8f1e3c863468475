"""Pure pieces of the platform: OpenAPI merging, If-None-Match, identity paths, JSON logs, fixture policy."""

from __future__ import annotations

import io
import json
import logging

import pytest

from node.errors import InvalidInput
from node.http.io import _matches, etag_of
from node.http.openapi import build_openapi
from node.keystore import key_file_name, normalise_path
from node.logging import JsonFormatter, TextFormatter, configure_logging, get_logger, log_event
from node.settings import Settings


def test_openapi_merges_path_items_and_fragments():
    document = build_openapi([
        {"/a": {"get": {"summary": "A"}}},
        {"paths": {"/a": {"post": {"summary": "A+"}}, "/b": {"get": {}}},
         "components": {"schemas": {"Thing": {"type": "object"}}}},
        {},
    ])
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]["/a"]) == {"get", "post"}
    assert "/b" in document["paths"]
    assert set(document["components"]["schemas"]) == {"Problem", "Thing"}
    assert document["components"]["responses"]["NotFound"]["content"]["application/problem+json"]


def test_undeclared_path_parameters_are_declared():
    document = build_openapi([{"/a/{x}/b/{y}": {"get": {"parameters": [{"name": "y", "in": "path", "required": True}],
                                                       "responses": {"200": {"description": "ok"}}}}}])
    item = document["paths"]["/a/{x}/b/{y}"]
    assert item["parameters"] == [{"name": "x", "in": "path", "required": True, "schema": {"type": "string"}}]


def test_if_none_match():
    etag = etag_of(b"x")
    assert _matches(etag, etag) and _matches(f'"a", {etag}', etag) and _matches(f"W/{etag}", etag)
    assert _matches("*", etag)
    assert not _matches(None, etag) and not _matches('"a"', etag) and not _matches(etag[:-2] + '"', etag)


@pytest.mark.parametrize("kind, path, expected", [
    ("node", None, ""), ("ministry", None, "ministry"), ("ministry", "ministries/co", "ministries/co"),
    ("institution", "/institutions/intecap/", "institutions/intecap"),
    ("institution", "institutions:intecap", "institutions/intecap"),
])
def test_identity_paths(kind, path, expected):
    assert normalise_path(kind, path) == expected


@pytest.mark.parametrize("kind, path", [("institution", None), ("institution", "a/../b"), ("institution", "a/.."),
                                        ("node", "x"), ("other", "x"), ("institution", "UPPER"),
                                        ("institution", "sp ace"), ("ministry", "")])
def test_bad_identity_paths(kind, path):
    with pytest.raises(InvalidInput):
        normalise_path(kind, path)


def test_key_file_names_are_per_key():
    assert key_file_name("", 1, "z6MkAAAAbbbbCCCC") == "node.key-1.bbbbCCCC.json"
    assert key_file_name("institutions/intecap", 2, "z6MkXyz12345678") == "institutions_intecap.key-2.12345678.json"


def test_json_log_lines_carry_fields():
    stream = io.StringIO()
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=stream)
    try:
        log_event(get_logger("test"), "something", answer=42)
        entry = json.loads(stream.getvalue().strip())
        assert entry["event"] == "something" and entry["answer"] == 42 and entry["logger"] == "node.test"
        assert entry["level"] == "info" and entry["time"].endswith("Z")
    finally:
        _reset_node_logger()


def test_text_log_format():
    record = logging.LogRecord("node.x", logging.WARNING, __file__, 1, "hello", None, None)
    record.fields = {"a": 1}
    assert TextFormatter().format(record).endswith("WARNING node.x: hello a=1")
    assert json.loads(JsonFormatter().format(record))["a"] == 1


def _reset_node_logger():
    logger = logging.getLogger("node")
    logger.handlers[:] = []
    logger.propagate = True
    logger.setLevel(logging.NOTSET)


def test_ci_requires_postgres(pytester, monkeypatch):
    """With CI=true an unreachable PostgreSQL fails database tests; without it they are skipped."""
    from pathlib import Path

    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest((Path(__file__).resolve().parent.parent / "conftest.py").read_text())
    pytester.makepyfile(test_db="def test_uses_db(db_url):\n    assert db_url\n")
    monkeypatch.setenv("PUENTE_TEST_POSTGRES_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("CI", raising=False)
    pytester.runpytest_subprocess("--db=postgres", "-p", "no:cacheprovider").assert_outcomes(skipped=1)
    monkeypatch.setenv("CI", "true")
    pytester.runpytest_subprocess("--db=postgres", "-p", "no:cacheprovider").assert_outcomes(errors=1)


def test_import_optional():
    from node.optional import import_optional

    assert import_optional("node.http.core_routes").__name__ == "node.http.core_routes"
    assert import_optional("node.no_such_capability.routes") is None  # the package itself is missing
    assert import_optional("node.http.no_such_module") is None


def test_import_optional_does_not_hide_broken_modules(tmp_path, monkeypatch):
    from node.optional import import_optional

    (tmp_path / "puente_broken_capability.py").write_text("import puente_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        import_optional("puente_broken_capability")


def test_conformance_vectors_come_from_the_checkout_and_are_never_skipped(pytester, monkeypatch, tmp_path):
    """A fresh clone runs the vector tests with nothing beside it; a checkout without them fails, CI or not."""
    from pathlib import Path

    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "conftest.py").write_text((Path(__file__).resolve().parent.parent / "conftest.py").read_text())
    (pytester.path / "tests" / "test_vectors.py").write_text(
        "def test_reads_vectors(conformance_dir):\n    assert (conformance_dir / 'contexts' / 'index.json').is_file()\n")
    monkeypatch.setenv("PUENTE_CONFORMANCE_DIR", str(tmp_path / "missing"))  # an old setting is ignored
    for ci in ("", "true"):
        monkeypatch.setenv("CI", ci)
        pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests").assert_outcomes(errors=1)
    (pytester.path / "tests" / "conformance" / "data" / "contexts").mkdir(parents=True)
    (pytester.path / "tests" / "conformance" / "data" / "contexts" / "index.json").write_text("{}")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests").assert_outcomes(passed=1)
