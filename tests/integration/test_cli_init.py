"""`puente` node commands, run in-process through node.cli.main (and once as a real process)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

from node.cli import main


def run(capsys, *argv: str) -> tuple[int, object, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    return code, out, captured.err


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "node"


@pytest.fixture
def init_args(data_dir, db_url):
    return ("--data-dir", str(data_dir), "--database-url", db_url, "init", "--jurisdiction", "gt",
            "--name", "Nodo de prueba", "--base-url", "http://127.0.0.1:8123")


def test_init_creates_a_node(capsys, data_dir, init_args):
    code, out, err = run(capsys, *init_args)
    assert code == 0, err
    assert out["node_did"] == "did:web:127.0.0.1%3A8123"
    assert out["ministry_did"] == "did:web:127.0.0.1%3A8123:ministry"
    token_file = data_dir / "secrets" / "operator-token"
    assert out["operator_token_file"] == str(token_file)
    token = token_file.read_text().strip()
    assert token.startswith("pnt_") and token not in json.dumps(out)  # the token itself is not printed
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700  # the database inside holds personal data
    master_key = data_dir / "secrets" / "master.key"  # seals the private keys kept in the database
    assert out["master_key"] == str(master_key) and stat.S_IMODE(master_key.stat().st_mode) == 0o600
    assert list((data_dir / "keys").iterdir()) == []
    config = json.loads((data_dir / "node.json").read_text())
    assert config["jurisdiction"] == "GT" and config["port"] == 8123
    assert "secretKeyMultibase" not in config


def test_reinit_is_refused_and_force_keeps_data(capsys, data_dir, init_args):
    assert run(capsys, *init_args)[0] == 0
    token = (data_dir / "secrets" / "operator-token").read_text()
    keys = (data_dir / "secrets" / "master.key").read_text()
    code, out, err = run(capsys, *init_args)
    assert code == 1 and out is None
    assert err.count("\n") == 1 and "already initialised" in err and "--force" in err
    code, out, err = run(capsys, *init_args[:-6], "--force", "--name", "Nodo renombrado")
    assert code == 0, err
    assert out["created"] == []
    assert (data_dir / "secrets" / "operator-token").read_text() == token
    assert (data_dir / "secrets" / "master.key").read_text() == keys  # never replaced
    assert json.loads((data_dir / "node.json").read_text())["name"] == "Nodo renombrado"


@pytest.mark.parametrize("flags, message", [
    (("--jurisdiction", "Guatemala", "--name", "n", "--base-url", "http://127.0.0.1:1"), "jurisdiction must be"),
    (("--jurisdiction", "GT", "--name", "n", "--base-url", "ftp://x"), "base URL must be"),
    (("--jurisdiction", "GT", "--name", "n", "--base-url", "http://x:port"), "bad port"),
    (("--jurisdiction", "GT"), "missing --name, --base-url"),
])
def test_init_rejects_bad_input_without_writing(capsys, tmp_path, flags, message):
    data_dir = tmp_path / "node"
    code, out, err = run(capsys, "--data-dir", str(data_dir), "init", *flags)
    assert code == 1 and out is None
    assert err.startswith("puente: ") and err.count("\n") == 1 and message in err
    assert not (data_dir / "node.json").exists()


def test_init_with_unreachable_database_is_one_line(capsys, tmp_path):
    code, _, err = run(capsys, "--data-dir", str(tmp_path / "n"), "--database-url", "postgresql://nobody@127.0.0.1:1/x",
                       "init", "--jurisdiction", "GT", "--name", "n", "--base-url", "http://127.0.0.1:1")
    assert code == 2 and err.count("\n") == 1 and "cannot connect to the database" in err
    assert not (tmp_path / "n" / "node.json").exists()


@pytest.mark.parametrize("argv", [("did", "list"), ("did", "document", "did:web:x"), ("key", "rotate", "did:web:x"),
                                  ("token", "create", "--role", "operator", "--subject", "a"), ("audit", "list"), ("db", "upgrade"),
                                  ("seed", "--demo"), ("serve",)])
def test_commands_need_an_initialised_node(capsys, tmp_path, argv):
    code, out, err = run(capsys, "--data-dir", str(tmp_path / "empty"), *argv)
    assert code == 2 and out is None
    assert err.count("\n") == 1 and err.startswith("puente: node not initialised: run puente init")


def test_did_key_and_token_commands(capsys, data_dir, init_args):
    assert run(capsys, *init_args)[0] == 0
    base = ("--data-dir", str(data_dir))
    ministry = "did:web:127.0.0.1%3A8123:ministry"
    code, document, _ = run(capsys, *base, "did", "document", ministry)
    assert code == 0 and document["id"] == ministry and len(document["verificationMethod"]) == 1
    code, rotated, _ = run(capsys, *base, "key", "rotate", ministry)
    assert code == 0 and rotated["current_key"] == ministry + "#key-2"
    assert rotated["retired_keys"] == [ministry + "#key-1"] and "secret" not in json.dumps(rotated).lower()
    code, document, _ = run(capsys, *base, "did", "document", ministry)
    assert [vm["id"] for vm in document["verificationMethod"]] == [ministry + "#key-1", ministry + "#key-2"]
    code, out, err = run(capsys, *base, "did", "document", "did:web:elsewhere.example")
    assert code == 1 and out is None and err.count("\n") == 1 and "not hosted on this node" in err
    code, listed, _ = run(capsys, *base, "did", "list")
    assert [i["kind"] for i in listed] == ["node", "ministry"]
    code, token, _ = run(capsys, *base, "token", "create", "--role", "ministry", "--subject", "Ana López", "--jurisdiction", "gt")
    assert code == 0 and token["token"].startswith("pnt_") and token["role"] == "ministry"
    assert token["subject"] == "Ana López" and token["scope"] == "jurisdiction:GT"
    code, out, err = run(capsys, *base, "token", "create", "--role", "ministry", "--subject", "  ", "--jurisdiction", "GT")
    assert code == 1 and err.count("\n") == 1
    # no token for an institution that does not exist, nor for a jurisdiction this node does not host
    code, out, err = run(capsys, *base, "token", "create", "--role", "issuer", "--subject", "Eva", "--institution", "intecap")
    assert code == 1 and out is None and err.count("\n") == 1 and "no institution 'intecap'" in err
    code, out, err = run(capsys, *base, "token", "create", "--role", "ministry", "--subject", "Eva", "--jurisdiction", "CO")
    assert code == 1 and out is None and err.count("\n") == 1 and "hosts no ministry of CO" in err


def test_token_list_and_revoke(capsys, data_dir, init_args):
    assert run(capsys, *init_args)[0] == 0
    base = ("--data-dir", str(data_dir))
    _, created, _ = run(capsys, *base, "token", "create", "--role", "ministry", "--subject", "Carlos Pérez", "--jurisdiction", "GT")
    code, listed, _ = run(capsys, *base, "token", "list")
    assert code == 0 and [(t["role"], t["subject"], t["scope"]) for t in listed] == [
        ("operator", "operator", None), ("ministry", "Carlos Pérez", "jurisdiction:GT")]
    assert created["token"] not in json.dumps(listed) and listed[1]["id"] == created["id"] and listed[1]["revoked"] is None
    code, revoked, _ = run(capsys, *base, "token", "revoke", created["id"])
    assert code == 0 and revoked["revoked"]
    _, listed, _ = run(capsys, *base, "token", "list")
    assert listed[1]["revoked"] == revoked["revoked"] and listed[0]["revoked"] is None
    code, _, err = run(capsys, *base, "token", "revoke", "0" * 12)
    assert code == 1 and "no token with id" in err
    code, _, err = run(capsys, *base, "token", "revoke", "xyz")
    assert code == 1 and err.count("\n") == 1


def test_db_upgrade_is_idempotent(capsys, data_dir, init_args):
    from node.db.migrate import head_revisions

    assert run(capsys, *init_args)[0] == 0
    for _ in range(2):
        code, out, _ = run(capsys, "--data-dir", str(data_dir), "db", "upgrade")
        assert code == 0 and set(out["revisions"]) == head_revisions()


def test_seed_requires_demo_flag(capsys, data_dir, init_args):
    assert run(capsys, *init_args)[0] == 0
    code, _, err = run(capsys, "--data-dir", str(data_dir), "seed")
    assert code == 1 and "puente seed --demo" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_as_a_real_process(capsys, tmp_path):
    """`puente init` then `puente serve`: /health and the DID document answer over HTTP; logs are JSON lines."""
    port = _free_port()
    data_dir = tmp_path / "node"
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "init", "--jurisdiction", "GT", "--name", "n",
                       "--base-url", f"http://127.0.0.1:{port}")
    assert code == 0
    env = {**os.environ, "PUENTE_LOG_FORMAT": "json"}
    process = subprocess.Popen([sys.executable, "-m", "node", "--data-dir", str(data_dir), "serve", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/health")
        assert health["did"] == out["node_did"] and health["database"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/.well-known/did.json", timeout=5) as response:
            assert json.loads(response.read())["id"] == out["node_did"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    requests = [line for line in lines if line["event"] == "request"]
    assert {r["path"] for r in requests} >= {"/health", "/.well-known/did.json"}
    assert all({"method", "path", "status", "duration_ms"} <= set(r) for r in requests)
    token = (data_dir / "secrets" / "operator-token").read_text().strip()
    assert token not in stderr.decode()


def _wait_for(url: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_force_cannot_move_the_node_to_another_base_url(capsys, data_dir, init_args):
    assert run(capsys, *init_args)[0] == 0
    before = (data_dir / "node.json").read_text()
    code, out, err = run(capsys, "--data-dir", str(data_dir), "init", "--force", "--base-url", "http://127.0.0.1:9999")
    assert code == 1 and out is None and err.count("\n") == 1 and "already is did:web:127.0.0.1%3A8123" in err
    assert (data_dir / "node.json").read_text() == before  # nothing half-changed


def test_seed_runs_capability_seeds_in_order_and_skips_missing_ones(capsys, data_dir, init_args, tmp_path, monkeypatch):
    import uuid

    import node.commands

    assert run(capsys, *init_args)[0] == 0
    calls = tmp_path / "calls.txt"
    suffix = uuid.uuid4().hex[:8]  # fresh module names: each parametrised run writes to its own tmp_path
    first, second = f"puente_fake_first_{suffix}", f"puente_fake_second_{suffix}"
    for module in (first, second):
        (tmp_path / f"{module}.py").write_text(
            "async def seed_demo(services):\n"
            f"    open({str(calls)!r}, 'a').write({module!r} + '\\n')\n"
            f"    return {{'jurisdiction': services.settings.jurisdiction}}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(node.commands, "SEED_MODULES", (second, "node.nothing_here.seed", first))
    code, out, _ = run(capsys, "--data-dir", str(data_dir), "seed", "--demo")
    assert code == 0
    assert out == {"seeded": {second: {"jurisdiction": "GT"}, first: {"jurisdiction": "GT"}},
                   "not_available": ["nothing_here"]}
    assert calls.read_text().split() == [second, first]


def test_demo_seed_is_idempotent(capsys, data_dir, init_args):
    """`make run` seeds at every start: the real capability seeds must succeed twice in a row."""
    assert run(capsys, *init_args)[0] == 0
    code, first, err = run(capsys, "--data-dir", str(data_dir), "seed", "--demo")
    assert code == 0, err
    code, second, err = run(capsys, "--data-dir", str(data_dir), "seed", "--demo")
    assert code == 0, err
    assert set(first["seeded"]) == set(second["seeded"])


def test_a_database_url_from_the_environment_is_used_but_not_written(capsys, tmp_path, db_url, monkeypatch):
    data_dir = tmp_path / "node"
    monkeypatch.setenv("PUENTE_DATABASE_URL", db_url)
    code, out, err = run(capsys, "--data-dir", str(data_dir), "init", "--jurisdiction", "GT", "--name", "n",
                         "--base-url", "http://127.0.0.1:8124")
    assert code == 0, err
    assert "database_url" not in json.loads((data_dir / "node.json").read_text())
    assert not (data_dir / "puente.sqlite3").exists()  # the environment's database was used
    code, listed, _ = run(capsys, "--data-dir", str(data_dir), "did", "list")
    assert code == 0 and len(listed) == 2
