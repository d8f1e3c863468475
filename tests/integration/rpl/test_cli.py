"""The `puente readiness` and `puente rpl` commands, run in-process against a configured node."""

import asyncio
import json

import pytest

from node.cli import main
from node.rpl.catalogue import bundled_catalogue


@pytest.fixture
def node_with_template(node, clock, make_intecap):
    from node.services import open_services

    async def setup():
        async with open_services(node, clock, migrate=False) as services:
            await make_intecap(services)

    asyncio.run(setup())
    return node


def run(node, capsys, *args):
    code = main(["--data-dir", str(node.data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def answers_file(tmp_path, **overrides):
    items = []
    for c in bundled_catalogue().checkpoints:
        value = overrides.get(c.id, "met")
        item = {"checkpoint": c.id, "answer": value}
        if value == "met":
            item["supportingEvidence"] = [{"description": "decree", "url": "https://gob.example/d"}]
        items.append(item)
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"answers": items}))
    return path


def test_readiness_from_catalogue_to_signed_publication(node, capsys, tmp_path):
    code, out, err = run(node, capsys, "readiness", "record", "GT", "--file", str(answers_file(tmp_path)))
    assert code == 1 and "catalogue load" in err and out == ""
    code, out, _ = run(node, capsys, "readiness", "catalogue", "load", "bundled")
    assert code == 0 and json.loads(out)["status"] == "loaded"
    code, out, _ = run(node, capsys, "readiness", "catalogue", "show")
    assert json.loads(out)["version"] == "2026.1-draft"

    code, out, _ = run(node, capsys, "readiness", "record", "GT", "--file", str(answers_file(tmp_path)))
    assert code == 0 and json.loads(out)["result"] == "ready"
    code, out, _ = run(node, capsys, "readiness", "publish", "GT")
    assert code == 0
    signed = json.loads(out)
    assert signed["type"] == ["VerifiableCredential", "ReadinessAssessmentCredential"]
    assert signed["issuer"].endswith(":ministry") and signed["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    code, again, _ = run(node, capsys, "readiness", "publish", "GT")
    assert again == out  # the same stored bytes
    code, out, _ = run(node, capsys, "readiness", "show", "gt")
    assert json.loads(out)["published"]["sha256"]


def test_readiness_verify_command(node, capsys, tmp_path):
    run(node, capsys, "readiness", "catalogue", "load", "bundled")
    run(node, capsys, "readiness", "record", "GT", "--file", str(answers_file(tmp_path)))
    code, out, _ = run(node, capsys, "readiness", "publish", "GT")
    signed = json.loads(out)
    path = tmp_path / "signed.json"
    path.write_text(out)
    code, out, _ = run(node, capsys, "readiness", "verify", str(path))
    assert code == 0 and json.loads(out)["verified"] is True
    signed["credentialSubject"]["result"] = "not_ready"
    path.write_text(json.dumps(signed))
    code, out, _ = run(node, capsys, "readiness", "verify", str(path))
    assert code == 1 and json.loads(out)["verified"] is False


def test_readiness_errors_are_one_line(node, capsys, tmp_path):
    run(node, capsys, "readiness", "catalogue", "load", "bundled")
    path = answers_file(tmp_path, **{"legal-basis": "mostly"})
    code, out, err = run(node, capsys, "readiness", "record", "GT", "--file", str(path))
    assert code == 1 and out == "" and err.count("\n") == 1 and err.startswith("puente: ")
    code, _, err = run(node, capsys, "readiness", "publish", "GT")
    assert code == 1 and "no readiness assessment recorded for GT" in err
    code, _, err = run(node, capsys, "readiness", "publish", "CO")
    assert code == 1 and "does not host the ministry of CO" in err
    code, _, err = run(node, capsys, "readiness", "record", "CO", "--file", str(answers_file(tmp_path)))
    assert code == 1 and "does not host the ministry of CO" in err
    code, _, err = run(node, capsys, "readiness", "record", "GT", "--file", str(tmp_path / "missing.json"))
    assert code == 1 and "cannot read" in err
    code, _, err = run(node, capsys, "readiness", "show", "Guatemala")
    assert code == 1 and "ISO 3166" in err


def test_rpl_case_through_the_command_line(node_with_template, capsys, tmp_path):
    node = node_with_template
    code, out, _ = run(node, capsys, "rpl", "open", "--institution", "intecap", "--template", "intecap-albanileria-2", "--given-name", "Ana",
                       "--family-name", "Pérez", "--identifier", "ana@example.org", "--actor", "front desk")
    assert code == 0
    case_id = json.loads(out)["id"]
    for state in ("guidance", "eligibility", "identification", "documentation"):
        code, out, err = run(node, capsys, "rpl", "advance", case_id, "--to", state, "--actor", "coordinator", "--reason", "next")
        assert code == 0, err
    code, _, err = run(node, capsys, "rpl", "advance", case_id, "--to", "assessment_planned", "--actor", "c", "--reason", "r")
    assert code == 1 and "--assessor" in err
    code, out, _ = run(node, capsys, "rpl", "advance", case_id, "--to", "assessment_planned", "--assessor", "Marta",
                       "--method", "observation", "--actor", "coordinator", "--reason", "file complete")
    assert code == 0 and json.loads(out)["assessment"]["assessor"] == "Marta"
    evidence = tmp_path / "photo.jpg"
    evidence.write_bytes(b"\xff\xd8photo")
    code, out, _ = run(node, capsys, "rpl", "evidence", case_id, "--file", str(evidence), "--actor", "Ana")
    assert code == 0 and json.loads(out)["mediaType"] == "image/jpeg"
    code, _, err = run(node, capsys, "rpl", "advance", case_id, "--to", "decision", "--actor", "Marta", "--reason", "r")
    assert code == 1 and "forbidden" not in err.lower() and "cannot go from assessment_planned to decision" in err
    code, out, _ = run(node, capsys, "rpl", "advance", case_id, "--to", "assessed", "--actor", "Marta", "--reason", "observed")
    assert code == 0
    code, out, _ = run(node, capsys, "rpl", "decide", case_id, "--outcome", "not_yet_competent", "--actor", "Marta", "--reason", "gaps")
    assert code == 0 and json.loads(out)["decision"]["outcome"] == "not_yet_competent"
    code, _, err = run(node, capsys, "rpl", "appeal", case_id, "--reviewer", "marta", "--actor", "Ana", "--reason", "unfair")
    assert code == 1 and "must not be the assessor" in err
    code, out, _ = run(node, capsys, "rpl", "appeal", case_id, "--reviewer", "Luis", "--actor", "Ana", "--reason", "unfair")
    assert code == 0
    code, out, _ = run(node, capsys, "rpl", "resolve-appeal", case_id, "--outcome", "upheld", "--actor", "Luis", "--reason", "fair")
    assert code == 0 and json.loads(out)["state"] == "closed"
    code, out, _ = run(node, capsys, "rpl", "show", case_id)
    shown = json.loads(out)
    assert [h["to"] for h in shown["history"]][-3:] == ["decision", "appeal", "closed"] and len(shown["evidence"]) == 1
    code, out, _ = run(node, capsys, "rpl", "list", "--state", "closed")
    assert [c["id"] for c in json.loads(out)] == [case_id]
    code, _, err = run(node, capsys, "rpl", "show", "nope")
    assert code == 1 and "no RPL case nope" in err
