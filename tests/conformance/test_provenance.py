"""The conformance data carried in the repository is exactly what PROVENANCE.md says: every file is listed
with its source and licence, and its bytes have the SHA-256 recorded there (the copies are unmodified)."""

from __future__ import annotations

import hashlib
import json
import shutil
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


def problems(data: Path, rows: dict[str, dict[str, str]]) -> list[str]:
    """Every way the copy under `data` differs from the PROVENANCE.md rows."""
    present = {p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file()}
    found = [f"not listed in PROVENANCE.md: {n}" for n in sorted(present - set(rows))]
    found += [f"listed but missing: {n}" for n in sorted(set(rows) - present)]
    for name in sorted(present & set(rows)):
        if hashlib.sha256((data / name).read_bytes()).hexdigest() != rows[name]["sha256"]:
            found.append(f"changed: {name}")
        if not (rows[name]["source"] and rows[name]["licence"]):
            found.append(f"no source or licence: {name}")
    return found


def test_every_file_is_listed_with_its_digest_and_licence():
    rows = listed()
    assert len(rows) >= 50 and any(DATA.rglob("*.json"))
    assert problems(DATA, rows) == []


def test_a_changed_added_or_removed_file_is_caught(tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(DATA, copy)
    rows = listed()
    changed = copy / "eddsa" / "rdfc" / "signedDataInt.json"
    changed.write_bytes(changed.read_bytes().replace(b"z", b"y", 1))
    (copy / "contexts" / "extra.jsonld").write_text("{}")
    (copy / "status" / "revocable-credential.json").unlink()
    assert problems(copy, rows) == ["not listed in PROVENANCE.md: contexts/extra.jsonld",
                                    "listed but missing: status/revocable-credential.json",
                                    "changed: eddsa/rdfc/signedDataInt.json"]


def test_every_context_in_the_index_is_carried():
    index = json.loads((DATA / "contexts" / "index.json").read_text())
    assert all((DATA / "contexts" / filename).is_file() for filename in index.values())
