"""The manifest of a batch run: one JSON line per row of the input file, in line order.

`puente issue batch` writes it as `<out>/batch-<batch id>.jsonl` (the batch id is the same when the
same file is run again, so a resumed run rewrites the same manifest). Each line answers "what happened
to row N": `{"line", "status": "issued" | "already_issued" | "failed", "credential", "verify_url",
"file", "pdf", "error"}` — the credential id (its URL), where a person checks it, and the files written
for it (paths relative to the manifest, `null` when not written). Rows repeated inside the file are
issued once, for their first line; the repeats appear in no line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BatchManifest:
    batch_id: str = ""
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def file_name(self) -> str:
        return f"batch-{self.batch_id}.jsonl"

    def credential(self, line: int | None, *, uri: str, verify_url: str, new: bool, file: str | None,
                   pdf: str | None = None) -> None:
        self.rows[line or 0] = {"line": line, "status": "issued" if new else "already_issued", "credential": uri,
                                "verify_url": verify_url, "file": file, "pdf": pdf, "error": None}

    def failure(self, line: int, error: str) -> None:
        self.rows[line] = {"line": line, "status": "failed", "credential": None, "verify_url": None, "file": None,
                           "pdf": None, "error": error}

    def to_jsonl(self) -> bytes:
        return "".join(json.dumps(self.rows[k], ensure_ascii=False) + "\n" for k in sorted(self.rows)).encode("utf-8")
