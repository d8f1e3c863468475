"""Edges a new user hits on the command line: every failure is one `puente: ...` line and an exit code,
never a traceback, and a bad `--out` is refused BEFORE anything is issued (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from node.cli import main

TEMPLATE = {
    "id": "intecap-cocina-3", "institution": "intecap", "name": "Cocinero (nivel 3)", "description": "Cocina profesional.",
    "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
    "sector": "hospitality", "isco_code": "5120", "validity": "P5Y",
}
ONE = ("issue", "one", "--template", "intecap-cocina-3", "--given-name", "Ana", "--family-name", "López",
       "--identifier", "ana@example.org", "--suite", "eddsa-jcs-2022")


@pytest.fixture
def cli(node, capsys, monkeypatch, tmp_path):
    """Run `puente ...` in-process against the test node; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("PUENTE_DATA_DIR", str(node.data_dir))
    monkeypatch.chdir(tmp_path)

    def run(*args):
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = run("institution", "create", "--slug", "intecap", "--name", "INTECAP", "--sector", "hospitality",
                       "--rqf-level", "3")
    assert code == 0, err
    (tmp_path / "template.json").write_text(json.dumps(TEMPLATE))
    code, _, err = run("template", "create", tmp_path / "template.json")
    assert code == 0, err
    return run


def one_line_error(code: int, err: str, expected_code: int = 1) -> str:
    assert code == expected_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("puente: "), err
    assert "Traceback" not in err
    return lines[0]


def test_issue_one_out_to_a_file_is_refused_before_issuing(cli, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    line = one_line_error(*cli(*ONE, "--out", a_file)[::2])
    assert "is a file, not a directory" in line
    # nothing was issued: the same request now issues a NEW credential
    code, out, err = cli(*ONE, "--out", tmp_path / "creds")
    assert code == 0, err
    assert json.loads(out)["new"] is True


def test_issue_one_out_to_a_missing_directory_creates_it(cli, tmp_path):
    code, out, err = cli(*ONE, "--out", tmp_path / "missing" / "dir")
    assert code == 0, err
    written = json.loads(out)["file"]
    assert json.loads(open(written).read())["credentialSubject"]
    assert not list((tmp_path / "missing" / "dir").glob("*.tmp"))


def test_issue_one_out_under_a_file_is_one_line(cli, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    line = one_line_error(*cli(*ONE, "--out", a_file / "sub")[::2])
    assert str(a_file) in line


def test_batch_out_to_a_file_is_refused_before_issuing(cli, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("given_name,family_name,identifier\nAna,López,ana@example.org\n", encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    line = one_line_error(*cli("issue", "batch", "--template", "intecap-cocina-3", "--file", rows, "--out", a_file)[::2])
    assert "is a file, not a directory" in line
    code, out, err = cli(*ONE, "--out", tmp_path / "o")  # same person and template: not issued before
    assert json.loads(out)["new"] is True


def test_batch_file_that_is_a_directory(cli, tmp_path):
    line = one_line_error(*cli("issue", "batch", "--template", "intecap-cocina-3", "--file", tmp_path,
                               "--out", tmp_path / "o")[::2])
    assert "is a directory" in line


@pytest.mark.parametrize("where", ["missing-dir", "directory", "under-a-file"])
def test_export_out_errors_are_one_line(cli, tmp_path, where):
    code, out, err = cli(*ONE)
    credential_id = json.loads(out)["id"]
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    target = {"missing-dir": tmp_path / "missing" / "x.svg", "directory": tmp_path,
              "under-a-file": a_file / "x.svg"}[where]
    line = one_line_error(*cli("credential", "export", credential_id, "--format", "svg", "--out", target)[::2])
    assert str(target if where == "directory" else target.parent) in line
    assert a_file.read_text() == "x"


def test_export_writes_the_file(cli, tmp_path):
    code, out, err = cli(*ONE)
    credential_id = json.loads(out)["id"]
    code, out, err = cli("credential", "export", credential_id, "--format", "svg", "--out", tmp_path / "qr.svg")
    assert code == 0, err
    assert (tmp_path / "qr.svg").read_bytes().lstrip().startswith(b"<")


@pytest.mark.parametrize("command", [
    ("template", "create", "{bad}"),
    ("framework", "import", "{bad}"),
    ("framework", "verify", "{bad}"),
    ("framework", "accept", "{bad}"),
    ("readiness", "catalogue", "load", "{bad}"),
    ("readiness", "record", "GT", "--file", "{bad}"),
    ("readiness", "verify", "{bad}"),
    ("credential", "verify", "{bad}"),
    ("issue", "batch", "--template", "intecap-cocina-3", "--file", "{bad}", "--out", "o"),
])
@pytest.mark.parametrize("bad", ["missing", "directory", "not-utf8"])
def test_unreadable_input_files_are_one_line(cli, tmp_path, command, bad):
    path = {"missing": tmp_path / "missing.json", "directory": tmp_path / "folder.json",
            "not-utf8": tmp_path / "latin1.json"}[bad]
    if bad == "directory":
        path.mkdir()
    if bad == "not-utf8":
        path.write_bytes(b'{"name": "Jos\xe9"}')
    code, out, err = cli(*[str(path) if part == "{bad}" else part for part in command])
    if command[:2] == ("credential", "verify") and bad == "not-utf8":
        assert code == 1 and json.loads(out)["verified"] is False  # verify reports input errors in its JSON
        return
    assert code in (1, 2), err
    one_line_error(code, err, code)


def test_serve_port_out_of_range_is_a_usage_error(cli):
    with pytest.raises(SystemExit) as exit_:
        cli("serve", "--port", "99999")
    assert exit_.value.code == 2


def test_an_unexpected_error_is_one_line_and_debug_shows_it(cli, monkeypatch):
    import node.issuance.commands as commands

    async def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(commands, "cmd_institution_list", broken)  # main() builds the parser, so it binds this
    line = one_line_error(*cli("institution", "list")[::2])
    assert "RuntimeError: boom" in line and "--debug" in line and "second line" not in line
    with pytest.raises(RuntimeError):
        main(["--debug", "institution", "list"])


def test_an_os_error_anywhere_is_one_line(cli, monkeypatch):
    import node.issuance.commands as commands

    async def broken(args):
        open("/nonexistent-puente-dir/x")

    monkeypatch.setattr(commands, "cmd_institution_list", broken)
    line = one_line_error(*cli("institution", "list")[::2])
    assert line == "puente: no such file or directory: /nonexistent-puente-dir/x"


def test_deep_json_input_is_one_line(cli, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, out, err = cli("template", "create", deep)
    one_line_error(code, err)


def test_batch_with_a_failed_row_exits_1_and_writes_a_manifest(cli, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("given_name,family_name,identifier\nAna,López,ana@example.org\nSin,Identificador,\n"
                    "Bo,Ng,bo@example.org\n", encoding="utf-8")
    args = ("issue", "batch", "--template", "intecap-cocina-3", "--file", rows, "--suite", "eddsa-jcs-2022",
            "--out", tmp_path / "out", "--pdf")
    code, out, err = cli(*args)
    assert code == 1, err
    summary = json.loads(out)
    assert summary["issued"] == 2 and [f["line"] for f in summary["failed"]] == [3]
    manifest_path = tmp_path / "out" / f"batch-{summary['batch']}.jsonl"
    assert summary["manifest"] == str(manifest_path)
    lines = [json.loads(line) for line in manifest_path.read_text(encoding="utf-8").splitlines()]
    assert [(m["line"], m["status"]) for m in lines] == [(2, "issued"), (3, "failed"), (4, "issued")]
    assert "identifier" in lines[1]["error"] and lines[1]["credential"] is None
    for entry in (lines[0], lines[2]):
        credential = json.loads((tmp_path / "out" / entry["file"]).read_text())
        assert credential["id"] == entry["credential"]
        assert entry["verify_url"].endswith("/verify/" + entry["file"].removesuffix(".json"))
        assert (tmp_path / "out" / entry["pdf"]).read_bytes().startswith(b"%PDF-")

    code, out, err = cli(*args)  # run again: nothing new, same manifest, still exit 1 (the bad row is still bad)
    assert code == 1 and json.loads(out)["manifest"] == str(manifest_path)
    again = [json.loads(line) for line in manifest_path.read_text(encoding="utf-8").splitlines()]
    assert [(m["line"], m["status"]) for m in again] == [(2, "already_issued"), (3, "failed"), (4, "already_issued")]
    assert [m["credential"] for m in again] == [m["credential"] for m in lines]


def test_batch_without_failures_exits_0(cli, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("given_name,family_name,identifier\nAna,López,ana@example.org\n", encoding="utf-8")
    code, out, err = cli("issue", "batch", "--template", "intecap-cocina-3", "--file", rows, "--suite", "eddsa-jcs-2022",
                         "--out", tmp_path / "out")
    assert code == 0, err
    (entry,) = [json.loads(line) for line in open(json.loads(out)["manifest"], encoding="utf-8")]
    assert entry["status"] == "issued" and entry["pdf"] is None
