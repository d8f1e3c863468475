"""Fixtures for interoperability tests against other implementations, run as separate programs.

js_verifiers   async callable `await js_verifiers("verifier-core"|"digitalbazaar", credential)` -> the JSON
               tests/js/verify.mjs prints. The npm packages are installed once per session with `npm ci`
               (exact versions from tests/js/package-lock.json) into tests/js/node_modules when missing.
               Without node/npm, or when `npm ci` fails, the test is skipped; with CI=true it FAILS instead.
               The script is offline: it reaches 127.0.0.1 and Puente's bundled contexts only.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parents[1] / "js"
TIMEOUT = 120  # seconds per verification: loading the libraries dominates


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(message: str):
    if _in_ci():  # CI must never pass by skipping the wallets' verifiers
        pytest.fail(message + " (CI=true requires the npm interop tests to run)", pytrace=False)
    pytest.skip(message)


def _installed() -> bool:
    return (JS / "node_modules" / "@digitalcredentials" / "verifier-core" / "package.json").is_file() and (
        JS / "node_modules" / "@digitalbazaar" / "vc-bitstring-status-list" / "package.json").is_file()


@pytest.fixture(scope="session")
def js_runtime() -> str:
    """The `node` executable, with tests/js/node_modules installed (npm ci once per session if missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        _unavailable("node and npm are needed for the wallet interop tests: apt-get install nodejs npm")
    if not _installed():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS, capture_output=True, text=True,
                              timeout=600)
        if done.returncode != 0 or not _installed():
            _unavailable(f"npm ci in {JS} failed: {done.stderr.strip()[-2000:]}")
    return node


@pytest.fixture
def js_verifiers(js_runtime):
    async def run(verifier: str, credential: dict) -> dict:
        # Asynchronous on purpose: the node the script calls back (DID documents, status lists) is served
        # by this test's event loop, which a blocking subprocess call would stall.
        process = await asyncio.create_subprocess_exec(
            js_runtime, str(JS / "verify.mjs"), verifier, cwd=JS,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        stdout, stderr = await asyncio.wait_for(process.communicate(json.dumps({"credential": credential}).encode()),
                                                TIMEOUT)
        assert process.returncode == 0, stderr.decode()
        out = json.loads(stdout)
        assert out["refused"] == [], f"{verifier} tried to leave 127.0.0.1: {out['refused']}"
        return out

    return run
