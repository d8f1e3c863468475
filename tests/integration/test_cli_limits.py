"""Hostile JSON files on the command line (issue 8, item 2): one line on stderr, exit 1, never a traceback
and never a stall. Every file goes through node.jsonio, the reader HTTP bodies use too."""

import json
import os
import subprocess
import sys

import pytest

from benchmarks._poison import clique, deep_json, deep_nesting, with_fake_proof
from node.crypto.keys import KeyPair

HANG_GUARD = 120  # seconds: only so a regression fails instead of hanging the run


def puente(*args, cwd, stdin=None):
    env = {**os.environ, "PUENTE_DATA_DIR": str(cwd / "no-node")}
    return subprocess.run([sys.executable, "-m", "node", *args], input=stdin, capture_output=True, cwd=cwd, env=env,
                          timeout=HANG_GUARD)


def one_line_refusal(proc, *words):
    err = proc.stderr.decode()
    assert proc.returncode == 1, (proc.returncode, err)
    assert err.startswith("puente: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


def refused(proc, word):
    """`credential verify` answers a verdict (stdout JSON, check `input`), other commands one stderr line."""
    assert b"Traceback" not in proc.stderr and proc.returncode == 1, proc.stderr
    if proc.stderr:
        return one_line_refusal(proc, word)
    verdict = json.loads(proc.stdout)
    assert verdict["verified"] is False
    assert any(word in (c.get("detail") or "") for c in verdict["checks"]), verdict


HOSTILE = {
    "1000-deep": (deep_json(1000), "nested"),
    "100000-deep": (b"[" * 100_000 + b"]" * 100_000, "nested"),
    "NaN": (b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "n": NaN}', "NaN"),
    "Infinity": (b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "n": Infinity}', "Infinity"),
    "1e400": (b'{"@context": ["https://www.w3.org/ns/credentials/v2"], "n": 1e400}', "out of range"),
    "huge integer": (b'{"index": 123456789012345678901234567890}', "out of range"),
    "NUL": (b'{"name": "a\\u0000"}', "NUL"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_credential_verify_refuses_hostile_json_in_one_line(tmp_path, name):
    data, word = HOSTILE[name]
    (tmp_path / "input.json").write_bytes(data)
    refused(puente("credential", "verify", "--offline", "input.json", cwd=tmp_path), word)
    (tmp_path / "key.json").write_text(json.dumps(KeyPair.from_seed(bytes(32)).to_json(include_secret=True)))
    one_line_refusal(puente("credential", "sign", "--key", "key.json", "input.json", cwd=tmp_path), word)


@pytest.mark.parametrize("name", ["1000-deep", "NaN"])
def test_stdin_goes_through_the_same_reader(tmp_path, name):
    data, word = HOSTILE[name]
    refused(puente("credential", "verify", "--offline", cwd=tmp_path, stdin=data), word)


def test_signing_a_document_too_complex_to_canonicalize_is_one_line(tmp_path):
    key = KeyPair.from_seed(bytes(32))
    (tmp_path / "key.json").write_text(json.dumps(key.to_json(include_secret=True)))
    for name, document in {"clique": clique(9), "deep": deep_nesting(400)}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
        one_line_refusal(puente("credential", "sign", "--key", "key.json", f"{name}.json", cwd=tmp_path))


def test_verifying_a_poison_credential_names_too_complex(tmp_path):
    key = KeyPair.from_seed(bytes(32))
    poison = with_fake_proof({**clique(8), "issuer": key.controller})
    poison["proof"]["verificationMethod"] = key.id
    (tmp_path / "poison.json").write_text(json.dumps(poison))
    proc = puente("credential", "verify", "--offline", "--proof-only", "poison.json", cwd=tmp_path)
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["verified"] is False
    assert "too_complex" in [c["reason"] for c in verdict["checks"]]
