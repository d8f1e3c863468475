import json

import pytest
from sqlalchemy import func, select

from node.errors import InvalidInput
from node.issuance.batch import BatchIssuer, file_digest, read_rows
from node.issuance.orm import CredentialRow
from node.issuance.schema import schema_errors

TEMPLATE = "intecap-albanileria-2"


def write_csv(path, good: int, bad_lines: dict[int, str] | None = None):
    lines = ["given_name,family_name,identifier,activity_end_date"]
    for i in range(good):
        lines.append(f"Persona{i},Apellido{i},persona{i}@example.org,2026-05-{(i % 28) + 1:02d}")
    for position, text in sorted((bad_lines or {}).items()):
        lines.insert(position - 1, text)  # position = the line number it will have in the file
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Crash(Exception):
    pass


async def run(issuance, path, out, **kw):
    written = {}

    def keep(issued):
        written[issued.id] = issued.document

    summary = await BatchIssuer(issuance).run(TEMPLATE, read_rows(path), source_digest=file_digest(path),
                                              on_credential=keep, **kw)
    out.update(written)
    return summary


async def count_credentials(services):
    async with services.uow() as uow:
        return await uow.session.scalar(select(func.count()).select_from(CredentialRow))


async def test_bad_rows_are_reported_by_line_and_good_rows_issued(issuance, services, tmp_path):
    path = write_csv(tmp_path / "people.csv", 5, {3: "Sin,Correo,", 5: "Mal,Correo,no-es-correo", 7: "Ana,López,ana@example.org,31/12/2026"})
    out = {}
    summary = await run(issuance, path, out, suite="eddsa-jcs-2022")
    report = summary.to_json()
    assert report["issued"] == 5 and report["skipped"] == 0
    assert [f["line"] for f in report["failed"]] == [3, 5, 7]
    assert "identifier" in report["failed"][0]["error"] and "activity_end_date" in report["failed"][2]["error"]
    assert len(out) == 5 and all(schema_errors(json.loads(d)) == [] for d in out.values())
    assert "persona0@example.org" not in "".join(out.values())


async def test_crash_half_way_then_resume_issues_each_row_exactly_once(issuance, services, tmp_path):
    # 26 good rows; line 4 shares an e-mail with line 2 but is another person (different name).
    path = write_csv(tmp_path / "people.csv", 25, {4: "Otra,Persona,persona0@example.org"})
    out = {}

    def crash_after_two_chunks(summary):
        if summary.processed >= 10:
            raise Crash("power cut")

    with pytest.raises(Crash):
        await run(issuance, path, out, suite="eddsa-jcs-2022", chunk_size=5, after_chunk=crash_after_two_chunks)
    assert await count_credentials(services) == 10  # two chunks committed before the crash
    resumed = (await run(issuance, path, out, suite="eddsa-jcs-2022", chunk_size=5)).to_json()
    assert resumed["issued"] == 16 and resumed["skipped"] == 10 and resumed["failed"] == []
    total = await count_credentials(services)
    assert total == 26 and len(out) == 26
    ids = {json.loads(d)["id"] for d in out.values()}
    assert len(ids) == 26
    again = (await run(issuance, path, out, suite="eddsa-jcs-2022", chunk_size=7)).to_json()
    assert again["issued"] == 0 and again["skipped"] == 26 and await count_credentials(services) == 26


async def test_crash_inside_a_chunk_leaves_nothing_half_written(issuance, services, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "people.csv", 12)
    original = issuance.signer.sign_many
    calls = {"n": 0}

    async def failing_sign_many(docs, key, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash("worker died")
        return await original(docs, key, **kw)

    monkeypatch.setattr(issuance.signer, "sign_many", failing_sign_many)
    with pytest.raises(Crash):
        await run(issuance, path, {}, suite="eddsa-jcs-2022", chunk_size=5)
    assert await count_credentials(services) == 5
    monkeypatch.setattr(issuance.signer, "sign_many", original)
    out = {}
    summary = (await run(issuance, path, out, suite="eddsa-jcs-2022", chunk_size=5)).to_json()
    assert (summary["issued"], summary["skipped"], len(out)) == (7, 5, 12)
    indexes = []
    async with services.uow() as uow:
        for row in (await uow.session.execute(select(CredentialRow))).scalars():
            assert row.status_list is None and row.suspension_list is None  # one 1-bit revocation entry each
            indexes.append((row.revocation_list, row.revocation_index))
    assert len(set(indexes)) == 12


async def test_file_level_errors(issuance, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,mail\nAna,ana@example.org\n")
    with pytest.raises(InvalidInput, match="missing column"):
        read_rows(bad)
    with pytest.raises(InvalidInput):
        read_rows(tmp_path / "missing.csv")
    js = tmp_path / "people.json"
    js.write_text(json.dumps([{"given_name": "Ana", "family_name": "L", "identifier": "ana@example.org"}, "oops"]))
    summary = (await run(issuance, js, {}, suite="eddsa-jcs-2022")).to_json()
    assert summary["issued"] == 1 and summary["failed"][0]["line"] == 2


def test_encodings(tmp_path):
    from node.issuance.batch import count_rows

    latin = tmp_path / "excel.csv"
    latin.write_bytes("given_name,family_name,identifier\nJosé,Muñoz,jose@example.org\n".encode("cp1252"))
    with pytest.raises(InvalidInput, match="CSV UTF-8"):
        count_rows(latin)
    rows = list(read_rows(latin, "cp1252"))
    assert rows == [(2, {"given_name": "José", "family_name": "Muñoz", "identifier": "jose@example.org"})]
    with pytest.raises(InvalidInput, match="unknown text encoding"):
        read_rows(latin, "klingon")


def test_json_lines_rows_and_bad_lines(tmp_path):
    path = tmp_path / "people.jsonl"
    path.write_text('{"given_name": "Ana", "family_name": "L", "identifier": "ana@example.org"}\n\nnot json\n[1]\n')
    rows = list(read_rows(path))
    assert [line for line, _ in rows] == [1, 3, 4] and all("_invalid" in r for _, r in rows[1:])
    path.write_bytes(b'{"given_name": "Jos\xe9"}\n')
    with pytest.raises(InvalidInput, match="not UTF-8"):
        list(read_rows(path))
