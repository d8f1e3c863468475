"""Batch issuance: a job that streams rows, issues in chunks, and can be resumed after a crash.

Each chunk is stored in one transaction (credentials + job progress), so a crash loses at most the
chunk in flight, and nothing half-written; its status entries are reserved as one block in a short
transaction before it is signed (outside any transaction). A crash between the two leaves unused slots,
which read 0 (valid) and are held by nobody. Every row has an idempotency key
(template, identifier, row content): running the same file again skips what was already issued, so a
resumed job ends with exactly one credential per good row. Bad rows are reported by line and do not
stop the good ones.
"""

from __future__ import annotations

import csv
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Iterator

from sqlalchemy.exc import IntegrityError

from node.audit import record
from node import jsonio
from node.errors import Conflict, InvalidInput, PuenteError
from node.issuance.model import REQUIRED_COLUMNS, IssueRequest
from node.issuance.orm import BatchRow
from node.issuance.repository import IssuanceRepository
from node.issuance.service import DEFAULT_SUITE, SUITES, IssuanceService, IssuedCredential

CHUNK_SIZE = 200
Row = tuple[int, dict[str, Any]]


# ---------------------------------------------------------------------------------------------
# Reading input files (streamed: a file of any size is never held in memory)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def read_rows(path: Path, encoding: str = "utf-8-sig") -> Iterator[Row]:
    """(line, row) pairs from CSV (line = line number in the file, header is line 1) or JSON
    (an array of objects, or JSON Lines; line = position, counting from 1)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"cannot read {path}: {'it is a directory' if path.is_dir() else 'no such file'}")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_rows(path)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_rows(path)
    return _csv_rows(path, encoding)


def _unreadable(path: Path, exc: Exception, encoding: str) -> InvalidInput:
    if isinstance(exc, UnicodeDecodeError):
        # Spreadsheets often export Windows-1252: say so, rather than guess and garble names.
        return InvalidInput(f"{path.name} is not {encoding.replace('-sig', '').upper()} text: save it as 'CSV UTF-8' "
                            "or give its encoding (e.g. --encoding cp1252)")
    return InvalidInput(f"{path.name} is not a readable CSV file: {exc}")


def _csv_rows(path: Path, encoding: str) -> Iterator[Row]:
    try:
        fh = open(path, newline="", encoding=encoding)
    except LookupError:
        raise InvalidInput(f"unknown text encoding {encoding!r}") from None
    reader = csv.DictReader(fh)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        fh.close()
        raise _unreadable(path, exc, encoding) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        fh.close()
        raise InvalidInput(f"{path.name}: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED_COLUMNS)})")
    reader.fieldnames = header

    def rows() -> Iterator[Row]:
        with fh:
            try:
                for row in reader:
                    if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                        continue  # blank line
                    yield reader.line_num, row
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(path, exc, encoding) from None

    return rows()


def _json_rows(path: Path) -> Iterator[Row]:
    data = jsonio.load_file(path, what=path.name)
    if isinstance(data, dict) and isinstance(data.get("recipients"), list):
        data = data["recipients"]
    if not isinstance(data, list):
        raise InvalidInput(f"{path.name}: expected a JSON array of recipients")
    return ((i, row if isinstance(row, dict) else {"_invalid": row}) for i, row in enumerate(data, start=1))


def _jsonl_rows(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8") as fh:
        try:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    row = jsonio.loads(text, what=f"line {number}")
                except InvalidInput:
                    row = {"_invalid": text.strip()}
                yield number, row if isinstance(row, dict) else {"_invalid": row}
        except UnicodeDecodeError as exc:
            raise _unreadable(path, exc, "utf-8") from None


def count_rows(path: Path, encoding: str = "utf-8-sig") -> int:
    """Rows a file will yield (streamed), so progress can say "N of T"; also proves the whole file is
    readable before anything is issued."""
    return sum(1 for _ in read_rows(path, encoding))


def chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------------------------------------
# The job


@dataclass
class BatchSummary:
    batch_id: str
    issued: int = 0
    skipped: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    processed: int = 0
    total: int | None = None  # rows in the file, when the caller counted them first (for progress)

    def to_json(self) -> dict[str, Any]:
        # Exactly the CLI contract's keys; the job id is reported on stderr and by `issue status`.
        return {"issued": self.issued, "skipped": self.skipped, "failed": sorted(self.failed, key=lambda f: f["line"])}


OnCredential = Callable[[IssuedCredential], Any]
AfterChunk = Callable[[BatchSummary], Awaitable[None] | None]


class BatchIssuer:
    def __init__(self, service: IssuanceService) -> None:
        self.service = service

    async def run(self, template_id: str, rows: Iterable[Row], *, source_digest: str, suite: str = DEFAULT_SUITE,
                  chunk_size: int = CHUNK_SIZE, on_credential: OnCredential | None = None,
                  after_chunk: AfterChunk | None = None, expected_total: int | None = None) -> BatchSummary:
        """Issue every good row once; `on_credential` sees every credential of the file (new or earlier)."""
        if suite not in SUITES:
            raise InvalidInput(f"unknown cryptosuite {suite!r}; use one of {', '.join(SUITES)}")
        await self.service.require_template(template_id)
        batch_id = await self._open_job(template_id, source_digest, suite, expected_total or 0)
        summary = BatchSummary(batch_id, total=expected_total)
        seen: set[str] = set()  # a row repeated inside the file is issued once
        for chunk in chunks(rows, chunk_size):
            await self._run_chunk(template_id, batch_id, chunk, suite, summary, seen, on_credential)
            if after_chunk is not None:
                outcome = after_chunk(summary)
                if hasattr(outcome, "__await__"):
                    await outcome
        await self._close_job(batch_id, summary)
        return summary

    async def _open_job(self, template_id: str, source_digest: str, suite: str, total: int) -> str:
        now = self.service.clock.now()
        async with self.service.uow() as uow:
            repo = IssuanceRepository(uow.session)
            job = await repo.batch_for_source(template_id, source_digest)
            if job is None:
                job = BatchRow(id=str(uuid.uuid4()), template_id=template_id, source_digest=source_digest, suite=suite,
                               state="running", total=total, processed=0, issued=0, failed=[], created_at=now, updated_at=now)
                repo.add(job)
            else:  # resuming (or re-running) the same file: same job
                job.state, job.processed, job.total, job.updated_at = "running", 0, total, now
            record(uow.session, "batch.start", job.id, at=now)  # also when every row fails
            try:
                await uow.commit()
            except IntegrityError:
                raise Conflict("this batch was just started by another run; wait for it, then run it again") from None
            return job.id

    async def _run_chunk(self, template_id: str, batch_id: str, chunk: list[Row], suite: str, summary: BatchSummary,
                         seen: set[str], on_credential: OnCredential | None) -> None:
        requests: list[tuple[int, IssueRequest]] = []
        failed: list[dict[str, Any]] = []
        for line, row in chunk:
            try:
                if "_invalid" in row:
                    raise InvalidInput("row is not an object with given_name, family_name, identifier")
                request = IssueRequest.from_row(template_id, row)
            except PuenteError as exc:
                failed.append({"line": line, "error": exc.detail})
                continue
            requests.append((line, request))
        earlier: list[IssuedCredential] = []
        try:
            issued = await self._store_chunk(template_id, batch_id, chunk, requests, failed, suite, seen, earlier, summary)
        except IntegrityError:
            raise Conflict("another run of this batch is issuing the same rows right now; wait for it, "
                           "then run the batch again to finish") from None
        summary.processed += len(chunk)
        summary.issued += len(issued)
        summary.skipped += len(earlier)
        summary.failed.extend(failed)
        if on_credential is not None:
            for credential in earlier + issued:
                on_credential(credential)

    async def _store_chunk(self, template_id: str, batch_id: str, chunk: list[Row], requests, failed, suite: str,
                           seen: set[str], earlier: list[IssuedCredential], summary: BatchSummary) -> list[IssuedCredential]:
        """Skip what exists (a read), reserve the chunk's status entries as one block and sign outside any
        transaction, then one transaction stores the credentials and the job's progress."""
        fresh, plan = [], None
        async with self.service.uow() as uow:
            repo = IssuanceRepository(uow.session)
            existing = await repo.credentials_by_keys(r.idempotency_key() for _, r in requests)
            for line, request in requests:
                key = request.idempotency_key()
                if key in seen:
                    summary.skipped += 1
                    continue
                seen.add(key)
                if key in existing:
                    row = existing[key]
                    earlier.append(IssuedCredential(row.id, row.uri, row.document, line, new=False))
                else:
                    fresh.append((line, request))
            if fresh:
                plan = await self.service.plan(repo, template_id, suite)
        signed = await self.service.sign_requests(plan, fresh) if plan is not None else []
        async with self.service.uow() as uow:
            repo = IssuanceRepository(uow.session)
            issued, errors = await self.service.store(repo, plan, signed, batch_id=batch_id) if signed else ([], [])
            failed.extend(errors)
            job = await repo.batch(batch_id)
            job.processed += len(chunk)
            job.total = max(job.total, job.processed)
            job.issued += len(issued)
            job.failed = _merge_failures(job.failed, failed)
            job.updated_at = self.service.clock.now()
            await uow.commit()  # the chunk's credentials and the job's progress, together
        return issued

    async def _close_job(self, batch_id: str, summary: BatchSummary) -> None:
        async with self.service.uow() as uow:
            job = await IssuanceRepository(uow.session).batch(batch_id)
            job.state = "completed"
            job.total = summary.processed
            job.updated_at = self.service.clock.now()
            await uow.commit()

    async def credentials(self, batch_id: str, *, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        """One page of the credentials issued by a batch, in row order: {batch, offset, limit, total, items}."""
        from sqlalchemy import func, select

        from node.issuance.orm import CredentialRow

        async with self.service.uow() as uow:
            await IssuanceRepository(uow.session).batch(batch_id)  # NotFound for an unknown batch
            total = await uow.session.scalar(select(func.count()).select_from(CredentialRow)
                                             .where(CredentialRow.batch_id == batch_id))
            rows = (await uow.session.execute(
                select(CredentialRow.line, CredentialRow.uri, CredentialRow.state)
                .where(CredentialRow.batch_id == batch_id)
                .order_by(CredentialRow.line, CredentialRow.id).offset(offset).limit(limit))).all()
        return {"batch": batch_id, "offset": offset, "limit": limit, "total": total,
                "items": [{"line": line, "id": uri, "state": state} for line, uri, state in rows]}

    async def progress(self, batch_id: str) -> dict[str, Any]:
        async with self.service.uow() as uow:
            job = await IssuanceRepository(uow.session).batch(batch_id)
            return {"batch": job.id, "template": job.template_id, "state": job.state, "processed": job.processed,
                    "total": job.total, "issued": job.issued, "failed": job.failed, "suite": job.suite}


def _merge_failures(previous: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_line = {f["line"]: f for f in previous or []}
    by_line.update({f["line"]: f for f in new})
    return [by_line[k] for k in sorted(by_line, key=lambda x: (x is None, x))]
