"""`puente serve` as an operator runs it: a real process on 127.0.0.1 (SQLite and PostgreSQL).

- It says where it listens and where the operator token is, never the token itself.
- Killed with SIGKILL (out-of-memory killer, `kill -9`, a crashed container init) it leaves no orphaned
  processes: the forkserver and the rdfc canonicalization workers exit with it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

TEMPLATE = {
    "id": "intecap-cocina-3", "institution": "intecap", "name": "Cocinero (nivel 3)", "description": "Cocina profesional.",
    "qualification_code": "GT-HOS-COC-3", "framework_id": "gt-mnc", "national_level": "3", "rqf_level": 3,
    "sector": "hospitality", "isco_code": "5120", "validity": "P5Y",
}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_members(session_id: int) -> set[int]:
    """Live (not zombie) processes of a session, from /proc: the server and everything it started."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)": state ppid pgrp session ...
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.add(int(entry.name))
    return members


@pytest.fixture
def served(node, tmp_path):
    """Start `puente serve` in its own session; yields (process, banner lines, base URL); kills the session after."""
    port = free_port()
    env = {**os.environ, "PUENTE_DATA_DIR": str(node.data_dir), "PUENTE_WORKERS": "2", "PUENTE_LOG_LEVEL": "WARNING"}
    work = tmp_path / "cwd"
    work.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "node", "serve", "--port", str(port)], cwd=work, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        banner = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            banner.append(line.rstrip("\n"))
            if "Ctrl+C" in line:
                break
        assert banner and "Ctrl+C" in banner[-1], (banner, process.poll(), process.stderr.read() if process.poll() else "")
        yield process, banner, f"http://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # never leave anything behind, whatever the test did
        except ProcessLookupError:
            pass
        for pid in session_members(process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(timeout=10)


def call(method: str, url: str, body=None, token: str | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_serve_prints_where_it_listens_and_where_the_token_is_never_the_token(node, served):
    process, banner, url = served
    token_file = node.secrets_dir / "operator-token"
    token = token_file.read_text().strip()
    text = "\n".join(banner)
    assert f"on {url}/" in text
    assert str(token_file.resolve()) in text
    assert token not in text
    assert all(line.startswith("puente: ") for line in banner)
    status, health = call("GET", url + "/health")
    assert status == 200 and health["status"] == "ok"
    os.kill(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    assert token not in process.stdout.read() + process.stderr.read()


def test_serve_without_an_operator_token_file_says_how_to_make_one(node, tmp_path):
    from node.commands import serve_banner

    (node.secrets_dir / "operator-token").unlink()
    banner = serve_banner(node)
    assert "puente token create --role operator" in banner and "operator-token" not in banner


def test_sigkill_of_serve_leaves_no_orphaned_workers(node, served):
    process, _banner, url = served
    token = (node.secrets_dir / "operator-token").read_text().strip()
    status, body = call("POST", url + "/institutions", {"slug": "intecap", "name": "INTECAP",
                                                        "scope": {"sectors": ["hospitality"], "rqf_levels": [3]}}, token)
    assert status == 201, body
    status, body = call("POST", url + "/templates", TEMPLATE, token)
    assert status == 201, body
    status, body = call("POST", url + "/credentials", {"template": TEMPLATE["id"], "given_name": "Ana",
                                                       "family_name": "López", "identifier": "ana@example.org",
                                                       "suite": "eddsa-rdfc-2022"}, token)
    assert status == 201, body  # signed with rdfc: the forkserver and its workers are running now
    children = session_members(process.pid) - {process.pid}
    assert len(children) >= 2, children  # at least the forkserver and one worker

    process.kill()  # SIGKILL: no shutdown handler runs
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and session_members(process.pid):
        time.sleep(0.1)
    left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:120] for pid in session_members(process.pid)}
    assert left == {}, "orphaned processes outlived puente serve"
