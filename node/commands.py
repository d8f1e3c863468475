"""Top-level node commands: init, serve, seed, token, audit, did, key, db, backup, restore.

Every command except `init` needs an initialised data directory and says so in one line otherwise.
Secrets are never printed, except a newly created API token (`puente token create`), exactly once.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from node.cli import CommandLine, print_json, settings_from_args
from node.errors import ConfigurationError, InvalidInput
from node.settings import Settings, load_settings

SEED_MODULES = ("node.framework.seed", "node.rpl.seed", "node.issuance.seed")


def register(cli: CommandLine) -> None:
    init = cli.command("init", "Initialise a node: configuration, database, node and ministry DIDs with keys, operator token.",
                       cmd_init)
    init.add_argument("--jurisdiction", help="ISO 3166-1 alpha-2 code of the node's jurisdiction, e.g. GT")
    init.add_argument("--name", help="human name of the node")
    init.add_argument("--base-url", help="public URL of the node; its did:web derives from it, e.g. https://puente.mintrabajo.gob.gt")
    init.add_argument("--force", action="store_true",
                      help="update the configuration of an initialised node and add what is missing (never deletes data)")

    serve = cli.command("serve", "Serve the node over HTTP.", cmd_serve)
    serve.add_argument("--host", help="interface to listen on (default: configured host, 127.0.0.1)")
    serve.add_argument("--port", type=_port_number, help="port to listen on (default: configured port, 8080)")

    seed = cli.command("seed", "Load demo data (frameworks, readiness, issuance); safe to run again.", cmd_seed)
    seed.add_argument("--demo", action="store_true", help="seed the demonstration data set")

    token = cli.subcommand("token", "create", "Create an API token for a role; the token is printed once and never stored.",
                           cmd_token_create, group_help="API tokens for admin operations")
    token.add_argument("--role", required=True, choices=("ministry", "issuer", "operator"))
    token.add_argument("--subject", required=True, help="the person who will hold the token, e.g. \"Ana López\"")
    token.add_argument("--jurisdiction", help="ministry tokens: the jurisdiction they act for (a ministry hosted here), e.g. GT")
    token.add_argument("--institution", help="issuer tokens: the institution they act for (its slug), e.g. intecap")

    cli.subcommand("token", "list", "List API tokens (id, role, subject, scope, dates; never the tokens themselves).", cmd_token_list)
    revoke = cli.subcommand("token", "revoke", "Revoke an API token by the id that puente token list shows.", cmd_token_revoke)
    revoke.add_argument("id")

    audit = cli.subcommand("audit", "list", "List the audit trail of writes (who, what, when), newest first.", cmd_audit_list,
                           group_help="the audit trail of every write")
    audit.add_argument("--since", help="only writes from this date (2026-06-01) or date-time with offset")
    audit.add_argument("--subject", help="only writes by this person (a token's subject, or the name given with --as)")
    audit.add_argument("--limit", default="100", help="at most this many events (1-1000, default 100)")

    document = cli.subcommand("did", "document", "Print the DID document of a DID hosted on this node.", cmd_did_document,
                              group_help="DIDs hosted on this node")
    document.add_argument("did")
    cli.subcommand("did", "list", "List the identities (DIDs) hosted on this node.", cmd_did_list)

    rotate = cli.subcommand("key", "rotate", "Give a hosted DID a new signing key; the old key stays in its DID document.",
                            cmd_key_rotate, group_help="signing keys of hosted DIDs")
    rotate.add_argument("did")

    cli.subcommand("db", "upgrade", "Apply database migrations (also done automatically at start).", cmd_db_upgrade,
                   group_help="database maintenance")
    move = cli.subcommand("db", "move", "Copy every row of this node (sealed keys included) into another, empty database "
                          "(e.g. PostgreSQL) and use it from now on.", cmd_db_move)
    move.add_argument("--to", required=True, help="the target database, e.g. postgresql://puente@db.example/puente")
    move.add_argument("--force", action="store_true", help="replace the target's data if it is not empty")

    backup = cli.command("backup", "Write every database row (sealed keys included; NOT the master key) to one file.",
                         cmd_backup)
    backup.add_argument("--out", required=True, help="the backup file to write (mode 0600), e.g. node.backup.jsonl")
    restore = cli.command("restore", "Restore a backup into an empty node (the master key must already be in place).",
                          cmd_restore)
    restore.add_argument("file", help="a file written by puente backup")
    restore.add_argument("--force", action="store_true", help="replace the data of a node that is not empty")


def node_settings(args: argparse.Namespace) -> Settings:
    """Settings of an initialised node (one-line error, exit 2, otherwise)."""
    from node.node_setup import require_initialised

    return require_initialised(settings_from_args(args))


async def cmd_init(args: argparse.Namespace) -> int:
    from node.node_setup import initialise

    settings = load_settings(data_dir=args.data_dir, database_url=args.database_url, jurisdiction=args.jurisdiction,
                             name=args.name, base_url=args.base_url, port=_explicit_port(args.base_url))
    # A database URL from the environment (it may hold a password) is used now but not copied into
    # node.json; one given with --database-url, or already stored there, is kept.
    persisted = dataclasses.replace(settings, database_url=args.database_url or _stored_database_url(settings))
    result = await initialise(settings, force=args.force, persist=persisted)
    print_json(result)
    return 0


def _explicit_port(base_url: str | None) -> int | None:
    """Listen where the base URL says when it names a port (a demo node); behind a proxy it does not."""
    from urllib.parse import urlsplit

    try:
        return urlsplit(base_url).port if base_url else None
    except ValueError:
        return None  # validation reports the bad URL


def _stored_database_url(settings: Settings) -> str | None:
    import json

    if not settings.config_path.exists():
        return None
    try:
        return json.loads(settings.config_path.read_text()).get("database_url")
    except (OSError, ValueError):
        return None


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from node.app import create_app
    from node.logging import configure_logging, get_logger, log_event
    from node.tokens import SYSTEM, acting_as

    settings = node_settings(args).with_overrides(host=args.host, port=args.port)
    configure_logging(settings)
    log_event(get_logger("node.serve"), "serving", host=settings.host, port=settings.port, base_url=settings.base_url,
              jurisdiction=settings.jurisdiction)
    try:
        # aiohttp calls `print` once the socket listens: that is when the banner is true. The server acts
        # as nobody (the system): each request acts as its token's principal, never as whoever started it.
        with acting_as(SYSTEM):
            # handler_cancellation: a client that goes away cancels its handler, and with it the worker
            # process doing its canonicalization (node.crypto.workers); aiohttp's default keeps it running.
            web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None,
                        handler_cancellation=True,
                        print=lambda _aiohttp_message: print(serve_banner(settings), flush=True))
    except (OSError, OverflowError) as exc:
        raise ConfigurationError(f"cannot listen on {settings.host}:{settings.port}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
    return 0


def serve_banner(settings: Settings) -> str:
    """What an operator needs on start: where the node listens and where its operator token is.
    The token itself is never printed here (it was shown, or written to its file, when it was created)."""
    from node.node_setup import OPERATOR_TOKEN_FILE

    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    token_file = settings.secrets_dir / OPERATOR_TOKEN_FILE
    lines = [f"puente: serving {settings.name or 'node'} ({settings.jurisdiction}) on http://{host}:{settings.port}/",
             f"puente: public URL {settings.base_url} (DID document at {settings.base_url}/.well-known/did.json; "
             f"API at {settings.base_url}/openapi.json)"]
    if token_file.exists():
        lines.append(f"puente: operator token in {token_file.resolve()} (readable by this user only)")
    else:
        lines.append("puente: no operator token file; create a token with "
                     "puente token create --role operator --subject \"YOUR NAME\"")
    lines.append("puente: press Ctrl+C to stop")
    return "\n".join(lines)


def _port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {port}")
    return port


async def cmd_seed(args: argparse.Namespace) -> int:
    from node.optional import import_optional
    from node.services import open_services

    if not args.demo:
        raise InvalidInput("only the demo data set can be seeded: run puente seed --demo")
    summary: dict[str, Any] = {}
    skipped = []
    async with open_services(node_settings(args)) as services:
        for name in SEED_MODULES:
            capability = name.split(".")[-2] if "." in name else name  # node.<capability>.seed
            module = import_optional(name)
            if module is None:
                skipped.append(capability)
                continue
            summary[capability] = await module.seed_demo(services)
    print_json({"seeded": summary, "not_available": skipped})
    return 0


async def cmd_token_create(args: argparse.Namespace) -> int:
    from node.services import open_services
    from node.tokens import authenticate, create_token, digest, token_id

    async with open_services(node_settings(args)) as services:
        async with services.uow() as uow:
            token = await create_token(uow, services.clock, role=args.role, subject=args.subject,
                                       jurisdiction=args.jurisdiction, institution=args.institution)
            created = await authenticate(uow, token)
    print_json({"token": token, "id": token_id(digest(token)), **created.to_json(),
                "note": "store this token now: it is not kept by the node and cannot be shown again"})
    return 0


async def cmd_token_list(args: argparse.Namespace) -> int:
    from node.services import open_services
    from node.tokens import list_tokens

    async with open_services(node_settings(args)) as services:
        async with services.uow() as uow:
            print_json(await list_tokens(uow))
    return 0


async def cmd_token_revoke(args: argparse.Namespace) -> int:
    from node.services import open_services
    from node.tokens import revoke_token_id

    async with open_services(node_settings(args)) as services:
        async with services.uow() as uow:
            print_json(await revoke_token_id(uow, services.clock, args.id))
    return 0


async def cmd_audit_list(args: argparse.Namespace) -> int:
    from node.audit import list_events, parse_limit, parse_since
    from node.services import open_services

    since, limit = parse_since(args.since), parse_limit(args.limit)
    async with open_services(node_settings(args)) as services:
        async with services.uow() as uow:
            print_json(await list_events(uow.session, since=since, subject=args.subject, limit=limit))
    return 0


async def cmd_did_document(args: argparse.Namespace) -> int:
    from node.services import open_services

    async with open_services(node_settings(args)) as services:
        print_json(await services.keystore.did_document(args.did))
    return 0


async def cmd_did_list(args: argparse.Namespace) -> int:
    from node.services import open_services

    async with open_services(node_settings(args)) as services:
        print_json(await services.keystore.identities())
    return 0


async def cmd_key_rotate(args: argparse.Namespace) -> int:
    from node.services import open_services

    async with open_services(node_settings(args)) as services:
        key = await services.keystore.rotate(args.did)
        keys = await services.keystore.keys(args.did)
    print_json({"did": args.did, "current_key": key.id, "publicKeyMultibase": key.public_multibase,
                "retired_keys": [k["id"] for k in keys if k["retired"] is not None]})
    return 0


async def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from node.db.migrate import current_revisions, upgrade
    from node.services import open_services

    settings = node_settings(args)
    await upgrade(settings.db_url)
    async with open_services(settings, migrate=False) as services:
        imported = await services.keystore.import_key_files()  # key files of a node from before key custody
    print_json({"database": "up to date", "revisions": sorted(await current_revisions(settings.db_url)),
                "keys_imported": imported["imported"], "keys_not_imported": imported["not_found"]})
    return 0


async def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from node.backup import write_backup
    from node.services import open_services

    async with open_services(node_settings(args)) as services:
        print_json(await write_backup(services, Path(args.out)))
    return 0


async def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from node.backup import check_master_key, parse_backup, read_backup_file, restore_rows, usable_keys
    from node.clock import SystemClock
    from node.errors import Conflict
    from node.node_setup import prepare_data_dir
    from node.settings import write_config

    settings = settings_from_args(args)  # an initialised node or an empty data directory
    manifest, rows = parse_backup(read_backup_file(Path(args.file)))
    node = manifest.get("node") or {}
    if settings.initialised and settings.base_url != node.get("base_url"):
        raise Conflict(f"this node is {settings.base_url}, the backup is of {node.get('base_url')}: restore into an "
                       "empty data directory (its DIDs derive from its base URL)")
    check_master_key(settings, manifest)  # before anything is written
    prepare_data_dir(settings)
    result = await restore_rows(settings.db_url, manifest, rows, force=args.force, at=SystemClock().now())
    if not settings.initialised:
        write_config(dataclasses.replace(settings, **{k: v for k, v in node.items() if v is not None},
                                         database_url=args.database_url))
    restored = load_settings(data_dir=args.data_dir, database_url=args.database_url)
    print_json({"restored": str(args.file), **result, "identities_that_sign": await usable_keys(restored),
                "data_dir": str(restored.data_dir)})
    return 0


async def cmd_db_move(args: argparse.Namespace) -> int:
    from node.backup import (build_backup, display_url, parse_backup, read_rows, restore_rows, usable_keys)
    from node.clock import isoformat_z
    from node.db.migrate import current_revisions
    from node.services import open_services
    from node.settings import normalise_database_url, write_config

    settings = node_settings(args)
    target = normalise_database_url(args.to)
    if target == settings.db_url:
        raise InvalidInput("the node already uses that database")
    async with open_services(settings) as services:
        data = build_backup(settings, await read_rows(services.engine), await current_revisions(settings.db_url),
                            isoformat_z(services.clock.now()))
    manifest, rows = parse_backup(data)
    result = await restore_rows(target, manifest, rows, force=args.force, action="node.move", at=services.clock.now())
    moved = dataclasses.replace(settings, database_url=args.to)
    signing = await usable_keys(moved)  # the copy opens with this node's master key before we switch to it
    write_config(moved)
    print_json({"moved_to": display_url(target), **result, "identities_that_sign": signing,
                "config": str(settings.config_path),
                "note": "node.json now names the new database; the old one is left as it was"})
    return 0
