"""Backing up, restoring and moving a node: every database row, the sealed keys included, as one file.

A backup is JSON Lines: line 1 is the manifest (format, version, the node's configuration, the schema
revisions, row counts and SHA-256 per table, the SHA-256 of everything after line 1, and the id of the
master key that sealed the keys); every further line is one row, `{"t": table, "r": {column: value}}`,
tables in dependency order. Signed documents are stored as exact text or bytes, so a restored node
serves status lists and credentials byte for byte.

The master key is NOT in the backup: the private keys in it are sealed under that key, so the file
alone signs nothing. Restoring needs the same master key (PUENTE_MASTER_KEY or secrets/master.key),
checked by its id before anything is written. A restore goes into an empty database (refused
otherwise, unless `force`, which drops and recreates the schema first) and needs the schema revisions
of the backup: restore with the version of puente that made it, then upgrade.

`move` is a backup and a restore without the file (e.g. SQLite to PostgreSQL).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import DateTime, Integer, LargeBinary, func, select, text

from node.errors import ConfigurationError, Conflict, InvalidInput
from node.key_custody import load_master_key, master_key_file, sealed_under

FORMAT = "puente-backup"
VERSION = 1
NODE_FIELDS = ("jurisdiction", "name", "base_url", "port")
_CHUNK = 500


def _tables():
    from node.db.tables import metadata

    return list(metadata.sorted_tables)  # parents before children


def _encode(column, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary) or isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(column, value: Any) -> Any:
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, LargeBinary):
        return base64.b64decode(value)
    if isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
        return datetime.fromisoformat(value)
    return value


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


async def read_rows(engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the node, JSON-ready, in primary-key order (one consistent read)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        for table in _tables():
            result = await conn.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [{c.name: _encode(c, row._mapping[c.name]) for c in table.columns} for row in result]
    return rows


def _master_key_ids(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    return sorted({mk for row in rows.get("identity_keys", []) if (mk := sealed_under(row.get("sealed_key")))})


def build_backup(settings, rows: dict[str, list[dict[str, Any]]], revisions: Iterable[str], created: str) -> bytes:
    body = bytearray()
    tables = {}
    for table in _tables():
        chunk = b"".join(_line({"t": table.name, "r": row}) for row in rows.get(table.name, []))
        tables[table.name] = {"rows": len(rows.get(table.name, [])), "sha256": hashlib.sha256(chunk).hexdigest()}
        body += chunk
    manifest = {
        "format": FORMAT, "version": VERSION, "created": created,
        "node": {name: getattr(settings, name) for name in NODE_FIELDS},
        "revisions": sorted(revisions), "tables": tables, "sha256": hashlib.sha256(bytes(body)).hexdigest(),
        "master_key": {"included": False, "ids": _master_key_ids(rows),
                       "note": "the private keys in this file are sealed under the node master key, which is "
                               "not in it: back the master key up separately"},
    }
    return _line(manifest) + bytes(body)


def parse_backup(data: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """The manifest and the rows per table; InvalidInput unless every digest and count matches."""
    first, _, body = data.partition(b"\n")
    try:
        manifest = json.loads(first)
    except ValueError:
        raise InvalidInput("not a puente backup (its first line is not a JSON manifest)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput("not a puente backup (no puente-backup manifest)")
    if manifest.get("version") != VERSION:
        raise InvalidInput(f"backup format version {manifest.get('version')!r} is not supported (this puente reads {VERSION})")
    if hashlib.sha256(body).hexdigest() != manifest.get("sha256"):
        raise InvalidInput("the backup is damaged or incomplete: its SHA-256 does not match its manifest")
    known = {t.name for t in _tables()}
    expected = manifest.get("tables") or {}
    if set(expected) != known:
        raise InvalidInput("the backup's tables are not this version's: restore with the puente version that made it")
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in known}
    for number, line in enumerate(body.splitlines(), start=2):
        try:
            item = json.loads(line)
            rows[item["t"]].append(item["r"])
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(f"the backup is damaged at line {number}") from None
    for name, info in expected.items():
        if len(rows[name]) != info.get("rows"):
            raise InvalidInput(f"the backup is damaged: table {name} has {len(rows[name])} rows, its manifest says {info.get('rows')}")
    return manifest, rows


async def write_backup(services, out: Path) -> dict[str, Any]:
    from node.clock import isoformat_z
    from node.db.migrate import current_revisions

    rows = await read_rows(services.engine)
    data = build_backup(services.settings, rows, await current_revisions(services.settings.db_url),
                        isoformat_z(services.clock.now()))
    _write_private(out, data)
    manifest = json.loads(data.partition(b"\n")[0])
    return {"backup": str(out), "sha256": hashlib.sha256(data).hexdigest(),
            "rows": sum(t["rows"] for t in manifest["tables"].values()),
            "master_key": {"included": False, "ids": manifest["master_key"]["ids"],
                           "where": where_master_key_is(services.settings),
                           "note": "back the master key up separately: without it the backup's keys cannot sign"}}


def where_master_key_is(settings) -> str:
    if settings.master_key:
        return "the PUENTE_MASTER_KEY environment variable"
    return str(master_key_file(settings.secrets_dir).resolve())


def _write_private(path: Path, data: bytes) -> None:
    """0600 (the backup holds personal data), written whole then renamed into place."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory: give a file name, e.g. {path / 'node.backup.jsonl'}")
    if not path.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: directory {path.parent} does not exist")
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {(exc.strerror or str(exc)).lower()}") from None


def check_master_key(settings, manifest: dict[str, Any]) -> None:
    """Fail before writing anything when this node cannot open the backup's keys."""
    needed = manifest.get("master_key", {}).get("ids") or []
    if not needed:
        return
    master = load_master_key(settings.master_key, settings.secrets_dir)
    where = f"PUENTE_MASTER_KEY or {master_key_file(settings.secrets_dir)}"
    if master is None:
        raise ConfigurationError(f"the backup's keys are sealed under master key {', '.join(needed)}, and this node has "
                                 f"no master key: put that key in {where} (mode 0600) and restore again")
    if master.fingerprint not in needed or len(needed) > 1:
        raise ConfigurationError(f"the backup's keys are sealed under master key {', '.join(needed)}, not this node's "
                                 f"{master.fingerprint} (from {master.source}): use the master key of the backed-up node")


async def _row_counts(conn) -> dict[str, int]:
    counts = {}
    for table in _tables():
        counts[table.name] = await conn.scalar(select(func.count()).select_from(table))
    return counts


async def _wipe(url: str) -> None:
    """`--force`: drop the node's schema (the append-only audit trail included) so it can be recreated."""
    from node.db.engine import make_engine
    from node.db.tables import metadata

    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            if conn.dialect.name == "postgresql":  # the migrations' trigger functions (append-only guards)
                functions = (await conn.execute(text(
                    "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                    "WHERE n.nspname = current_schema() AND p.prorettype = 'trigger'::regtype"))).scalars().all()
                for function in functions:
                    await conn.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))
    finally:
        await engine.dispose()


async def restore_rows(url: str, manifest: dict[str, Any], rows: dict[str, list[dict[str, Any]]], *,
                       at: datetime, action: str = "node.restore", force: bool = False) -> dict[str, Any]:
    """Load the rows into the database at `url` (migrated here); it must be empty unless `force`.

    The restored audit trail gets one more row, in the same transaction: who restored (or moved) which
    backup (its SHA-256) and when."""
    from node.db.engine import make_engine
    from node.db.migrate import current_revisions, upgrade

    await upgrade(url)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            counts = await _row_counts(conn)
        if any(counts.values()):
            if not force:
                filled = sorted(name for name, n in counts.items() if n)
                raise Conflict(f"the target database is not empty ({sum(counts.values())} rows in {', '.join(filled[:4])}"
                               f"{'...' if len(filled) > 4 else ''}): restore into an empty node, or add --force to "
                               "replace all its data")
    finally:
        await engine.dispose()
    if any(counts.values()):
        await _wipe(url)
        await upgrade(url)
    revisions = await current_revisions(url)
    if set(manifest.get("revisions") or []) != revisions:
        raise Conflict(f"the backup is at schema revisions {sorted(manifest.get('revisions') or [])}, this puente at "
                       f"{sorted(revisions)}: restore with the puente version that made the backup, then upgrade")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            for table in _tables():
                columns = {c.name: c for c in table.columns}
                batch = [{name: _decode(columns[name], value) for name, value in row.items() if name in columns}
                         for row in rows[table.name]]
                for start in range(0, len(batch), _CHUNK):
                    await conn.execute(table.insert(), batch[start:start + _CHUNK])
            if conn.dialect.name == "postgresql":
                await _reset_sequences(conn)
            await conn.execute(_audit_row(action, f"backup:{manifest.get('sha256', '')[:16]}", at))
    finally:
        await engine.dispose()
    return {"rows": sum(len(r) for r in rows.values()), "replaced": bool(any(counts.values()))}


def _audit_row(action: str, object_id: str, at: datetime):
    from node.db.orm import AuditEvent
    from node.tokens import acting_principal

    who = acting_principal()
    return AuditEvent.__table__.insert().values(at=at, subject=who.subject[:300], role=who.role, scope=who.scope,
                                                action=action, object_id=object_id)


async def _reset_sequences(conn) -> None:
    """Rows came with their ids: serial sequences continue after the highest one."""
    for table in _tables():
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and (column.autoincrement is True or (
                    column.autoincrement == "auto" and len(table.primary_key.columns) == 1)):
                sequence = await conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                             {"t": table.name, "c": column.name})
                if sequence:
                    await conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                                            f'"{table.name}"), 1), (SELECT COUNT(*) > 0 FROM "{table.name}"))'),
                                       {"s": sequence})


def read_backup_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None


async def usable_keys(settings) -> int:
    """How many hosted identities can sign here (each current key unsealed); KeyUnavailable otherwise."""
    from node.services import open_services

    async with open_services(settings, migrate=False) as services:
        identities = await services.keystore.identities()
        for identity in identities:
            await services.keystore.signing_key(identity["did"])
    return len(identities)


def display_url(url: str) -> str:
    """A database URL without its password, for output."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
