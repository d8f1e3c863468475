"""Every write is audited: each function that commits a unit of work also adds its audit row
(node.audit.record) in that transaction, or is listed here with the reason it need not.

A static check over node/: a new write path (a capability, a federation sync) that commits without an
audit row fails this test until it records one.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

NODE = Path(__file__).resolve().parents[2] / "node"

# (module path, function) -> why committing there needs no audit row of its own
EXEMPT = {
    ("node/db/uow.py", "commit"): "the unit of work itself",
    ("node/db/migrate.py", "upgrade"): "schema migrations, not data writes",
    ("node/db/migrations/env.py", "run"): "schema migrations, not data writes",
    ("node/db/migrations/env.py", "_run_online_standalone"): "schema migrations, not data writes",
    ("node/framework/service.py", "_commit"): "a helper: its callers record before calling it",
    ("node/issuance/service.py", "issue_one"): "store records credential.issue in this transaction",
    ("node/issuance/service.py", "change_status"): "change_status_in records credential.<action> in this transaction",
    ("node/issuance/batch.py", "_store_chunk"): "IssuanceService.store records batch.issue in this transaction",
    ("node/issuance/lists.py", "reserve"): "status-list slots and new empty lists: bookkeeping; the credentials "
                                           "they end up in are recorded by credential.issue / batch.issue",
    ("node/issuance/batch.py", "_close_job"): "job bookkeeping of a batch whose start and chunks are recorded",
}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def _committing_functions_without_record() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(NODE.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            calls = [n for n in ast.walk(fn) if isinstance(n, ast.Call)]
            names = {_name(c) for c in calls}
            commits = "_commit" in names or any(_name(c) == "commit" and isinstance(c.func, ast.Attribute) for c in calls)
            if commits and "record" not in names:
                found.add((path.relative_to(NODE.parent).as_posix(), fn.name))
    return found


def test_every_committing_function_records_an_audit_row_or_says_why_not():
    unaudited = _committing_functions_without_record()
    assert unaudited - set(EXEMPT) == set(), "these commit without node.audit.record(...) in the same transaction"
    assert set(EXEMPT) - unaudited == set(), "stale exemptions: these functions no longer commit, or now record"


def test_the_check_sees_a_write_without_an_audit_row(tmp_path, monkeypatch):
    """The scan itself finds an unaudited commit (so the test above can fail)."""
    module = tmp_path / "node" / "federation" / "sync.py"
    module.parent.mkdir(parents=True)
    module.write_text("async def pull(uow):\n    uow.session.add(object())\n    await uow.commit()\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "NODE", tmp_path / "node")
    assert _committing_functions_without_record() == {("node/federation/sync.py", "pull")}
