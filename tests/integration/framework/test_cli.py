"""`puente framework ...` run in-process against a configured node, on SQLite and PostgreSQL."""

import json
from pathlib import Path


from node.cli import main

DATA = Path(__file__).resolve().parents[3] / "node" / "framework" / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


def run(node, capsys, *args):
    code = main(["--data-dir", str(node.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_map_approve_publish_resolve(node, capsys, tmp_path):
    code, out, _ = run(node, capsys, "framework", "import", str(DATA / "rqf-2026.1-draft.json"))
    assert code == 0 and json.loads(out)["framework"] == "rqf" and json.loads(out)["imported"] is True
    code, out, _ = run(node, capsys, "framework", "import", str(EXAMPLES / "framework-import.csv"))
    summary = json.loads(out)
    assert code == 0 and summary["framework"] == "xx-mnc" and summary["qualifications"] == 2

    code, out, err = run(node, capsys, "framework", "publish", "xx-mnc")
    assert code == 1 and "awaiting approval" in err
    code, _, err = run(node, capsys, "framework", "approve", "--framework", "xx-mnc", "--approver", "Ana López")
    assert code == 1 and "second person" in err
    code, out, _ = run(node, capsys, "framework", "approve", "--framework", "xx-mnc", "--approver", "Carlos Pérez")
    assert code == 0 and json.loads(out)["awaitingApproval"] == 0

    code, out, _ = run(node, capsys, "framework", "publish", "xx-mnc")
    assert code == 0
    signed = json.loads(out)
    assert signed["type"] == ["VerifiableCredential", "FrameworkPublication"] and signed["issuer"].endswith(":ministry")
    code, again, _ = run(node, capsys, "framework", "publish", "xx-mnc")
    assert again == out  # the same stored bytes
    path = tmp_path / "publication.json"
    path.write_text(out)
    code, out, _ = run(node, capsys, "framework", "verify", str(path))
    assert code == 0 and json.loads(out)["verified"] is True
    signed["credentialSubject"]["mapping"]["rows"][0]["relation"] = "broad"
    path.write_text(json.dumps(signed))
    code, out, _ = run(node, capsys, "framework", "verify", str(path))
    assert code == 1 and json.loads(out)["verified"] is False

    code, out, _ = run(node, capsys, "framework", "resolve", "--from", "xx-mnc:XX-HOS-COC-3", "--to", "rqf")
    answer = json.loads(out)
    assert code == 0 and answer["results"][0]["level"] == "3" and answer["results"][0]["chain"][0]["mapping"]["version"] == 1

    # A change after publication is a new draft version; the published one is untouched.
    code, out, _ = run(node, capsys, "framework", "map", "--framework", "xx-mnc", "--from-level", "2", "--to-rqf", "3",
                       "--relation", "partial", "--rationale", "revisado", "--author", "Ana López")
    assert code == 0 and json.loads(out)["version"] == 2
    code, out, _ = run(node, capsys, "framework", "mappings", "xx-mnc")
    assert [(m["version"], m["status"]) for m in json.loads(out)] == [(1, "published"), (2, "draft")]
    code, out, _ = run(node, capsys, "framework", "resolve", "--from", "xx-mnc:2", "--to", "rqf")
    assert json.loads(out)["results"][0]["level"] == "2"  # still the published version 1


def test_an_invalid_import_prints_the_errors_as_json_and_imports_nothing(node, capsys, tmp_path):
    run(node, capsys, "framework", "import", str(DATA / "rqf-2026.1-draft.json"))
    lines = (EXAMPLES / "framework-import.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",7112,", ",71X2,")  # line 6: bad ISCO
    lines[7] = lines[7].replace(",rqf,2026.1-draft,1,", ",rqf,2026.1-draft,12,")  # line 8: unknown RQF level
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(node, capsys, "framework", "import", str(bad))
    report = json.loads(out)
    assert code == 1 and report["imported"] is False and err.startswith("puente: ")
    assert [(e["line"], e.get("column")) for e in report["errors"]] == [(6, "isco"), (8, "target_level")]
    code, out, _ = run(node, capsys, "framework", "list")
    assert [f["id"] for f in json.loads(out)] == ["rqf"]

    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, out, _ = run(node, capsys, "framework", "import", str(broken))
    assert code == 1 and "not valid JSON" in json.loads(out)["error"]
    code, _, err = run(node, capsys, "framework", "import", str(tmp_path / "framework.xlsx"))
    assert code == 1 and ".json or .csv" in err


def test_export_formats(node, capsys):
    run(node, capsys, "framework", "import", str(DATA / "rqf-2026.1-draft.json"))
    code, out, _ = run(node, capsys, "framework", "export", "rqf")
    assert code == 0 and len(json.loads(out)["framework"]["levels"]) == 8
    code, out, _ = run(node, capsys, "framework", "export", "rqf", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("record,") and len(out.splitlines()) == 10
    code, _, err = run(node, capsys, "framework", "export", "nope")
    assert code == 1 and "unknown framework nope" in err


def test_resolve_without_a_mapping_exits_1(node, capsys):
    run(node, capsys, "framework", "import", str(DATA / "rqf-2026.1-draft.json"))
    run(node, capsys, "framework", "import", str(DATA / "eqf-2017.json"))
    code, out, err = run(node, capsys, "framework", "resolve", "--from", "rqf:3", "--to", "eqf")
    assert code == 1 and json.loads(out)["error"] == "no mapping" and "no mapping" in err
    code, _, err = run(node, capsys, "framework", "resolve", "--from", "rqf", "--to", "eqf")
    assert code == 1 and "FRAMEWORK:CODE" in err


def test_seed_then_resolve(node, capsys):
    code, out, err = run(node, capsys, "seed", "--demo")
    assert code == 0, err
    code, out, _ = run(node, capsys, "framework", "resolve", "--from", "ie-nfq:7", "--to", "eqf")
    assert code == 0 and [r["level"] for r in json.loads(out)["results"]] == ["6"]
    code, out, _ = run(node, capsys, "framework", "resolve", "--from", "gt-mnc:GT-CON-ALB-2", "--to", "co-mnc")
    result = json.loads(out)["results"][0]
    assert result["level"] == "2" and result["via"] == ["rqf:2"]
    code, out, _ = run(node, capsys, "framework", "publish", "co-mnc")
    assert json.loads(out)["issuer"].endswith(":ministries:co")
