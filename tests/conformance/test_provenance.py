"""The conformance data carried in the repository is exactly what PROVENANCE.md says: every file is listed
with its source and licence, and its bytes have the SHA-256 recorded there (the copies are unmodified)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def listed() -> dict[str, dict[str, str]]:
    """Rows of the Files table of PROVENANCE.md: path -> {source, path, commit, licence, sha256}."""
    text = (HERE / "PROVENANCE.md").read_text(encoding="utf-8")
    files = text.split("\n## Files\n", 1)[1]
    rows = {}
    for line in files.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("File", "---"):
            rows[cells[0]] = dict(zip(("source", "path", "commit", "licence", "sha256"), cells[1:]))
    return rows


def test_fixture_reads_the_in_repo_copy(conformance_dir):
    assert conformance_dir == DATA


def test_every_file_is_listed_with_its_digest_and_licence():
    rows = listed()
    present = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*") if p.is_file())
    assert present, "tests/conformance/data is empty"
    assert present == sorted(rows), "files and PROVENANCE.md rows differ"
    for name, row in rows.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == row["sha256"], f"{name} changed"
        assert row["source"] and row["licence"], name


def test_provenance_check_catches_a_changed_byte(tmp_path):
    # The check above compares real digests: one byte changed in a copy gives another digest.
    name, row = next(iter(listed().items()))
    body = bytearray((DATA / name).read_bytes())
    body[0] ^= 1
    assert hashlib.sha256(bytes(body)).hexdigest() != row["sha256"]


def test_every_context_in_the_index_is_carried():
    index = json.loads((DATA / "contexts" / "index.json").read_text())
    assert all((DATA / "contexts" / filename).is_file() for filename in index.values())
