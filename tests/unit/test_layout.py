"""Layout rules (architecture rule 1, issue 8 item 10): the core library imports nothing else of the node,
the regional registry imports only that core library, CLI code lives at the edge, the ministry identity
lives with the other identities, and PyLD stays in the range whose private method we override."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = ("core-library", "registry-core-only")


def lint(root: Path, *contracts: str) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS.exists(), "import-linter is a test dependency (pip install -e '.[test]'); never skipped"
    args = [str(LINT_IMPORTS), "--no-cache", "--no-logo", *(f"--contract={c}" for c in contracts)]
    return subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def tree(tmp_path):
    """A miniature node with the same layout, checked with the repository's own contracts."""
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    files = {
        "node/__init__.py": "", "node/errors.py": "", "node/clock.py": "import node.errors\n",
        "node/cli.py": "import node.crypto.keys\n", "node/db/__init__.py": "import sqlalchemy\n",
        "node/issuance/__init__.py": "", "node/issuance/service.py": "import node.db\nimport node.verification\n",
        "node/verification/__init__.py": "from node.verification.result import VerificationResult\n",
        "node/verification/result.py": "import node.errors\n",
        "node/verification/vc_rules.py": "import node.verification.result\nimport node.clock\n",
        "node/verification/pipeline.py": "import node.issuance.service\nimport node.crypto.keys\n",
        "node/jsonld/__init__.py": "", "node/jsonld/loader.py": "import node.errors\n",
        "node/crypto/__init__.py": "", "node/framework/__init__.py": "", "node/framework/model.py": "",
        "node/rpl/__init__.py": "", "node/rpl/model.py": "", "node/issuance/model.py": "",
        "node/crypto/keys.py": "import node.jsonld.loader\nimport node.verification\nimport node.clock\n",
        "trust_registry/__init__.py": "", "trust_registry/registry.py": "import node.crypto.keys\n",
        "sqlalchemy/__init__.py": "",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_repository_keeps_its_import_contracts():
    proc = lint(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_core_and_registry_contracts_hold_for_the_allowed_arrows(tree):
    # The pipeline may use capabilities (it is not core), the core may use core, the registry the core.
    proc = lint(tree, *CONTRACTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("module,line,broken", [
    ("node/crypto/commands.py", "import node.cli\n", "node.crypto.commands is not allowed to import node.cli"),
    ("node/crypto/did.py", "import node.issuance.service\n", "is not allowed to import node.db"),
    ("node/jsonld/fetch.py", "import node.verification.pipeline\n", "is not allowed to import node.verification.pipeline"),
    ("node/verification/result.py", "import sqlalchemy\n", "node.verification.result is not allowed to import sqlalchemy"),
    ("node/errors.py", "import node.db\n", "node.errors is not allowed to import node.db"),
    ("trust_registry/members.py", "import node.db\n", "trust_registry.members is not allowed to import node.db"),
    ("trust_registry/members.py", "import node.cli\n", "trust_registry.members is not allowed to import node.cli"),
])
def test_an_arrow_out_of_the_core_breaks_a_contract(tree, module, line, broken):
    path = tree / module
    path.write_text((path.read_text() if path.exists() else "") + line)
    proc = lint(tree, *CONTRACTS)
    assert proc.returncode == 1 and broken in proc.stdout, proc.stdout + proc.stderr


def test_cli_code_is_at_the_edge_and_ministries_live_with_identities():
    from node import cli

    assert "node.credential_commands" in cli.COMMAND_MODULES
    assert not any(name.startswith(("node.crypto.", "node.jsonld.")) for name in cli.COMMAND_MODULES)
    assert importlib.util.find_spec("node.crypto.commands") is None
    assert importlib.util.find_spec("node.rpl.ministries") is None
    from node.identities import ensure_ministry, ministry_key  # noqa: F401  (framework and rpl use these)


def test_pyld_is_pinned_to_the_range_whose_private_method_we_override():
    from pyld import jsonld

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pyld = next(Requirement(d.split("#")[0]) for d in dependencies if d.lower().startswith("pyld"))
    assert pyld.specifier and any(s.operator == "<" for s in pyld.specifier), "PyLD needs an upper bound"
    assert version("PyLD") in pyld.specifier
    assert callable(getattr(jsonld.JsonLdProcessor, "_process_context", None))  # node/jsonld/processor.py
