"""The issuance command-line contract, through the real `puente` command on SQLite and PostgreSQL."""

import json
import os
import subprocess
import sys

import pytest

TEMPLATE = {
    "id": "intecap-cocina-3", "institution": "intecap", "name": "Cocinero (nivel 3)", "description": "Cocina profesional.",
    "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
    "sector": "hospitality", "isco_code": "5120", "validity": "P5Y",
}


@pytest.fixture
def puente(settings, services, tmp_path):
    work = tmp_path / "work"  # not the data dir's parent: a ./node folder would shadow the package
    work.mkdir()

    def run(*args):
        env = {**os.environ, "PUENTE_DATA_DIR": str(settings.data_dir)}
        return subprocess.run([sys.executable, "-m", "node", *args], capture_output=True, text=True, cwd=work, env=env,
                              timeout=120)

    run.work = work
    return run


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_institution_template_batch_revoke_verify(puente):
    work = puente.work
    created = ok(puente("institution", "create", "--slug", "intecap", "--name", "INTECAP", "--sector", "hospitality",
                        "--rqf-level", "3"))
    assert created["did"].endswith(":institutions:intecap")
    assert [i["slug"] for i in ok(puente("institution", "list"))] == ["intecap"]
    (work / "t.json").write_text(json.dumps(TEMPLATE))
    ok(puente("template", "create", str(work / "t.json")))
    assert [t["id"] for t in ok(puente("template", "list"))] == ["intecap-cocina-3"]

    (work / "people.csv").write_text(
        "given_name,family_name,identifier,activity_end_date\n"
        "Ana,López,ana@example.org,2026-05-30\n"
        "Luis,Pérez,did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK,\n"
        "Sin,Identificador,,\n"
        "Eva,Ruiz,eva@example.org,\n", encoding="utf-8")
    args = ("issue", "batch", "--template", "intecap-cocina-3", "--file", str(work / "people.csv"),
            "--suite", "eddsa-jcs-2022", "--out", str(work / "out"))
    first = ok(puente(*args))
    assert first == {"issued": 3, "skipped": 0, "failed": [{"line": 4, "error": first["failed"][0]["error"]}]}
    files = sorted((work / "out").iterdir())
    assert len(files) == 3
    for path in files:
        credential = json.loads(path.read_text())
        assert path.name == credential["id"].rsplit("/", 1)[-1] + ".json"
    again = ok(puente(*args))
    assert (again["issued"], again["skipped"], len(again["failed"])) == (0, 3, 1)
    assert len(list((work / "out").iterdir())) == 3

    target = str(files[0])
    assert ok(puente("credential", "verify", target))["verified"] is True
    credential_id = json.loads(files[0].read_text())["id"]
    revoked = ok(puente("credential", "revoke", credential_id, "--reason", "certificado anulado"))
    assert revoked["state"] == "revoked"
    verify = puente("credential", "verify", target)
    assert verify.returncode == 1
    failures = {c["check"]: c["reason"] for c in json.loads(verify.stdout)["checks"] if not c["ok"]}
    assert failures == {"status": "revoked"}

    again = puente("credential", "revoke", credential_id, "--reason", "x")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "Traceback" not in again.stderr
    one = ok(puente("issue", "one", "--template", "intecap-cocina-3", "--given-name", "Rosa", "--family-name", "Mejía",
                    "--identifier", "rosa@example.org", "--suite", "eddsa-jcs-2022"))
    assert one["credentialSubject"]["achievement"]["humanCode"] == "GT-HOS-COC-3"
    suffix = one["id"].rsplit("/", 1)[-1]
    ok(puente("credential", "suspend", suffix, "--reason", "revisión"))
    assert ok(puente("credential", "status", suffix))["state"] == "suspended"
    ok(puente("credential", "export", suffix, "--format", "pdf", "--out", str(work / "c.pdf")))
    assert (work / "c.pdf").read_bytes().startswith(b"%PDF-")


def test_bad_input_gives_one_line_and_nonzero_exit(puente):
    for args in (("issue", "batch", "--template", "nope", "--file", "missing.csv", "--out", "out"),
                 ("credential", "revoke", "nope", "--reason", "x"),
                 ("template", "create", "missing.json"),
                 ("institution", "create", "--slug", "Bad Slug", "--name", "X")):
        proc = puente(*args)
        assert proc.returncode != 0 and proc.stderr.startswith("puente: ") and "Traceback" not in proc.stderr, (args, proc.stderr)
