"""The issuance command-line contract, through the real `puente` command on SQLite and PostgreSQL."""

import json
import os
import subprocess
import sys

import pytest

from node.issuance.schema import schema_errors

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
    run = puente(*args)
    assert run.returncode == 1, run.stderr  # a row failed: the batch as a whole did not succeed
    first = json.loads(run.stdout)
    assert {k: first[k] for k in ("issued", "skipped", "failed")} == {
        "issued": 3, "skipped": 0, "failed": [{"line": 4, "error": first["failed"][0]["error"]}]}
    manifest = [json.loads(line) for line in open(first["manifest"], encoding="utf-8")]
    assert [(m["line"], m["status"]) for m in manifest] == [(2, "issued"), (3, "issued"), (4, "failed"), (5, "issued")]
    files = sorted((work / "out").glob("*.json"))
    assert len(files) == 3
    for path in files:
        credential = json.loads(path.read_text())
        assert path.name == credential["id"].rsplit("/", 1)[-1] + ".json"
        assert schema_errors(credential) == []
    again = json.loads(puente(*args).stdout)
    assert (again["issued"], again["skipped"], len(again["failed"])) == (0, 3, 1)
    assert again["manifest"] == first["manifest"]  # same file, same batch, same manifest
    assert len(list((work / "out").glob("*.json"))) == 3

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
    ok(puente("institution", "status-purposes", "intecap", "--suspension", "on"))  # so Rosa's can be suspended
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


def test_batch_killed_half_way_then_rerun_yields_each_credential_once(puente, settings):
    """A real crash: SIGKILL the process after a few chunks are committed, then run the same command."""
    import signal

    work = puente.work
    rows = 400
    (work / "people.csv").write_text("given_name,family_name,identifier\n" + "".join(
        f"P{i},X,p{i}@example.org\n" for i in range(rows)), encoding="utf-8")
    ok(puente("institution", "create", "--slug", "intecap", "--name", "INTECAP"))
    (work / "t.json").write_text(json.dumps(TEMPLATE))
    ok(puente("template", "create", str(work / "t.json")))
    args = [sys.executable, "-m", "node", "issue", "batch", "--template", "intecap-cocina-3", "--file", str(work / "people.csv"),
            "--suite", "eddsa-jcs-2022", "--chunk-size", "25", "--out", str(work / "out")]
    env = {**os.environ, "PUENTE_DATA_DIR": str(settings.data_dir)}
    proc = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    for line in proc.stderr:  # progress lines: "... N rows, ..."
        if int(line.split(": ")[-1].split(" of ")[0]) >= 75:
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list((work / "out").glob("*.json")))
    assert 75 <= done_before < rows
    resumed = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True, timeout=120)
    summary = json.loads(resumed.stdout)
    assert resumed.returncode == 0 and summary["failed"] == []
    assert summary["issued"] + summary["skipped"] == rows and summary["skipped"] >= done_before
    files = sorted((work / "out").glob("*.json"))
    assert len(files) == rows and not list((work / "out").glob("*.tmp"))
    subjects = set()
    for path in files:
        credential = json.loads(path.read_text())
        assert schema_errors(credential) == []
        subjects.add(credential["credentialSubject"]["identifier"][0]["identityHash"])
    assert len(subjects) == rows  # P0..P399: everyone exactly once
