"""The `puente keys` / `puente credential sign|verify` contract, through the real command line."""

import json
import os
import subprocess
import sys

import pytest

from node.crypto.keys import KeyPair


def puente(*args, stdin=None, cwd=None, env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "node", *args], input=stdin, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    return proc


@pytest.fixture
def workdir(tmp_path):
    # an empty data dir: the commands run standalone (no node store)
    return {"cwd": tmp_path, "env_extra": {"PUENTE_DATA_DIR": str(tmp_path / "no-node")}}


def test_keys_generate_prints_a_usable_key_file(workdir, tmp_path):
    proc = puente("keys", "generate", "--controller", "did:web:example.org", **workdir)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"id", "controller", "publicKeyMultibase", "secretKeyMultibase"}
    assert data["controller"] == "did:web:example.org" and data["id"].startswith("did:web:example.org#")
    assert KeyPair.from_json(data).public_multibase == data["publicKeyMultibase"]


@pytest.mark.parametrize("folder,unsigned,signed,suite", [
    ("eddsa/rdfc", "unsigned.json", "signedDataInt.json", "eddsa-rdfc-2022"),
    ("eddsa/rdfc/employ", "employmentAuth.json", "signedDataInt.json", "eddsa-rdfc-2022"),
    ("eddsa/jcs", "unsigned.json", "signedJCS.json", "eddsa-jcs-2022"),
])
def test_sign_reproduces_vector_and_verify_accepts_it(workdir, conformance_dir, folder, unsigned, signed, suite):
    expected = json.loads((conformance_dir / folder / signed).read_text())
    proc = puente("credential", "sign", "--key", str(conformance_dir / "eddsa/rdfc/keyPair.json"), "--suite", suite,
                  "--created", expected["proof"]["created"], str(conformance_dir / folder / unsigned), **workdir)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == expected
    verify = puente("credential", "verify", "--proof-only", str(conformance_dir / folder / signed), **workdir)
    assert verify.returncode == 0, verify.stdout
    assert json.loads(verify.stdout)["verified"] is True


@pytest.mark.parametrize("folder,signed", [("eddsa/rdfc", "signedDataInt.json"), ("eddsa/jcs", "signedJCS.json")])
def test_full_verify_refuses_vectors_with_url_issuers(workdir, conformance_dir, folder, signed):
    # Issue 8: an https issuer has no DID document that could authorise the signing key, so any did:key
    # could sign "as" it. The proof is valid (--proof-only says so); the credential is not bound to its issuer.
    proc = puente("credential", "verify", str(conformance_dir / folder / signed), **workdir)
    assert proc.returncode == 1, proc.stdout
    result = json.loads(proc.stdout)
    assert [(c["check"], c["reason"]) for c in result["checks"] if not c["ok"]] == [("issuer", "issuer_mismatch")]
    assert result["trust"] == "not_consulted"  # no node here: said, not silently passed


def test_full_verify_refuses_employ_vector_signed_by_another_did(workdir, conformance_dir):
    # Its issuer is a P-256 did:key, but the proof is by the Ed25519 vector key: the proof is valid,
    # the credential is not (a credential must be signed by its issuer).
    proc = puente("credential", "verify", str(conformance_dir / "eddsa/rdfc/employ/signedDataInt.json"), **workdir)
    assert proc.returncode == 1
    failed = [c for c in json.loads(proc.stdout)["checks"] if not c["ok"]]
    assert [c["reason"] for c in failed] == ["issuer_mismatch"]


def test_sign_reads_stdin_and_defaults_to_rdfc(workdir, conformance_dir, tmp_path):
    key = KeyPair.generate()
    (tmp_path / "k.json").write_text(json.dumps(key.to_json()))
    unsigned = (conformance_dir / "openbadges/examples/basicOpenBadgeCredential.json").read_text()
    proc = puente("credential", "sign", "--key", str(tmp_path / "k.json"), stdin=unsigned, **workdir)
    assert proc.returncode == 0, proc.stderr
    signed = json.loads(proc.stdout)
    assert signed["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"][0]["verificationMethod"] == key.id
    assert signed["proof"][0]["proofPurpose"] == "assertionMethod"


def test_verify_did_web_issuer_with_did_documents(workdir, conformance_dir, tmp_path):
    issuer = "did:web:issuer.example"
    key = KeyPair.generate(controller=issuer, fragment="key-1")
    (tmp_path / "k.json").write_text(json.dumps(key.to_json()))
    credential = json.loads((conformance_dir / "openbadges/examples/basicOpenBadgeCredential.json").read_text())
    credential["issuer"]["id"] = issuer
    credential.pop("validUntil", None)
    (tmp_path / "c.json").write_text(json.dumps(credential))
    signed = puente("credential", "sign", "--key", str(tmp_path / "k.json"), "--suite", "eddsa-jcs-2022", str(tmp_path / "c.json"), **workdir)
    (tmp_path / "s.json").write_text(signed.stdout)
    did_docs = {issuer: {"id": issuer, "verificationMethod": [key.verification_method()], "assertionMethod": [key.id]}}
    (tmp_path / "dids.json").write_text(json.dumps(did_docs))

    ok = puente("credential", "verify", "--did-documents", str(tmp_path / "dids.json"), str(tmp_path / "s.json"), **workdir)
    assert ok.returncode == 0, ok.stdout
    unknown = puente("credential", "verify", "--offline", str(tmp_path / "s.json"), **workdir)
    assert unknown.returncode == 1
    result = json.loads(unknown.stdout)
    assert result["verified"] is False
    assert {"check": "proof[0].verificationMethod", "ok": False, "reason": "unresolvable_did"}.items() <= {
        k: v for c in result["checks"] if c["check"] == "proof[0].verificationMethod" for k, v in c.items()}.items()


def test_verify_tampered_vector_fails_with_reason(workdir, conformance_dir, tmp_path):
    signed = json.loads((conformance_dir / "eddsa/rdfc/signedDataInt.json").read_text())
    signed["credentialSubject"]["alumniOf"] = "Another School"
    proc = puente("credential", "verify", stdin=json.dumps(signed), **workdir)
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["verified"] is False
    assert any(c["check"] == "proof.signature" and c["reason"] == "bad_signature" for c in result["checks"])


@pytest.mark.parametrize("stdin,reason", [
    ("{not json", "invalid_input"),
    ("[1, 2]", "invalid_input"),
    ('{"@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/x"], "type": ["VerifiableCredential"], '
     '"issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "credentialSubject": {"id": "did:example:1"}}', "unknown_context"),
    ('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", '
     '"issuer": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "credentialSubject": {"id": "did:example:1"}, "proof": 7}', "malformed_proof"),
    ('{"hello": "world"}', "not_a_credential"),
])
def test_bad_input_is_one_line_json_error_and_exit_1(workdir, stdin, reason):
    proc = puente("credential", "verify", stdin=stdin, **workdir)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["verified"] is False
    assert reason in {c["reason"] for c in result["checks"] if not c["ok"]}


def test_usage_errors_exit_2(workdir, tmp_path):
    assert puente("credential", "verify", str(tmp_path / "missing.json"), **workdir).returncode == 2
    assert puente("credential", "sign", **workdir).returncode == 2  # --key is required
    bad_suite = puente("credential", "sign", "--key", "k.json", "--suite", "rsa", **workdir)
    assert bad_suite.returncode == 2


def test_sign_with_bad_key_file_is_one_line_error(workdir, tmp_path):
    (tmp_path / "k.json").write_text("{}")
    proc = puente("credential", "sign", "--key", str(tmp_path / "k.json"), stdin="{}", **workdir)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "secretKeyMultibase" in proc.stderr
