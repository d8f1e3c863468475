"""Setting a node up: the one init path shared by `puente init`, `make run` and the test fixtures.

`initialise()` validates the configuration, prepares the data directory, applies migrations, creates
the master key (node.key_custody), the node and ministry identities with their sealed keys and an
operator token, and writes `node.json` LAST,
so a failure part-way leaves a node that is still "not initialised" and can simply be initialised
again. Nothing here deletes or overwrites existing keys, identities or tokens.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from node.clock import Clock
from node.errors import ConfigurationError, Conflict, InvalidInput, NotInitialised
from node.settings import Settings, write_config

OPERATOR_TOKEN_FILE = "operator-token"
_JURISDICTION = re.compile(r"^[A-Z]{2}$")


def require_initialised(settings: Settings) -> Settings:
    if not settings.initialised:
        raise NotInitialised(f"node not initialised: run puente init --jurisdiction CC --name NAME --base-url URL "
                             f"(data dir {settings.data_dir})")
    return settings


def validate_node_settings(settings: Settings) -> None:
    missing = [flag for flag, value in (("--jurisdiction", settings.jurisdiction), ("--name", settings.name),
                                        ("--base-url", settings.base_url)) if not value]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}: e.g. puente init --jurisdiction GT --name \"Nodo GT\" "
                           "--base-url https://puente.example.gt")
    if not _JURISDICTION.match(settings.jurisdiction):
        raise InvalidInput(f"jurisdiction must be an ISO 3166-1 alpha-2 code such as GT, not {settings.jurisdiction!r}")
    if not settings.name or not settings.name.strip():
        raise InvalidInput("the node needs a name (--name)")
    parts = urlsplit(settings.base_url or "")
    try:
        parts.port  # raises on a non-numeric port
    except ValueError:
        raise InvalidInput(f"base URL has a bad port: {settings.base_url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InvalidInput(f"base URL must be an http(s) URL such as https://puente.example.gt, not {settings.base_url!r}")


def prepare_data_dir(settings: Settings) -> None:
    # The data directory holds learners' personal data (the SQLite database), private keys and tokens:
    # it is private to the node's user (0700), also when it already existed with a wider mode.
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise ConfigurationError(f"the data directory {settings.data_dir} is a file, not a directory")
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(settings.data_dir, 0o700)
        for private in (settings.keys_dir, settings.secrets_dir):
            if private.exists() and not private.is_dir():
                raise ConfigurationError(f"{private} is a file; the node keeps a directory there")
            private.mkdir(mode=0o700, exist_ok=True)
            os.chmod(private, 0o700)
    except OSError as exc:
        raise ConfigurationError(f"cannot prepare the data directory {settings.data_dir}: "
                                 f"{(exc.strerror or str(exc)).lower()}") from None


async def initialise(settings: Settings, *, force: bool = False, clock: Clock | None = None,
                     persist: Settings | None = None) -> dict[str, Any]:
    """`puente init`: refuse an initialised node unless `force` (which only adds what is missing).

    `persist` is what goes into node.json when it differs from the settings used to run (the CLI
    leaves out a database URL that came from the environment).
    """
    from node.services import open_services

    if settings.initialised and not force:
        raise Conflict(f"node already initialised in {settings.data_dir}: use --force to update its configuration "
                       "(no data is deleted)")
    validate_node_settings(settings)
    prepare_data_dir(settings)
    async with open_services(settings, clock) as services:
        result = await setup_identities(services)
    write_config(persist or settings)
    return {"data_dir": str(settings.data_dir), "jurisdiction": settings.jurisdiction, **result}


async def setup_identities(services) -> dict[str, Any]:
    """Create what a node needs in its database and key store, skipping whatever already exists."""
    from node.tokens import create_token

    settings: Settings = services.settings
    keystore = services.keystore
    prepare_data_dir(settings)
    # The master key that seals the node's private keys in the database: PUENTE_MASTER_KEY, or a file in
    # secrets/ created now. It never enters the database or a backup: back it up separately.
    await keystore.check_master_key_for_database()  # another host of an existing node needs its master key
    master = keystore.ensure_master_key()
    await keystore.import_key_files()  # a node from before key custody: its key files, sealed once
    existing = [i["did"] for i in await keystore.identities() if i["kind"] == "node"]
    if existing and existing[0] != keystore.node_did:
        raise Conflict(f"this node already is {existing[0]}; its base URL cannot change to {settings.base_url} "
                       "(its DIDs are in everything it has signed)")
    node_did, node_created = await keystore.ensure_identity("node", settings.name)
    ministry_did, ministry_created = await keystore.ensure_identity(
        "ministry", f"Ministry of labour ({settings.jurisdiction})")
    token_file = settings.secrets_dir / OPERATOR_TOKEN_FILE
    token_created = False
    if not token_file.exists():
        async with services.uow() as uow:
            token = await create_token(uow, services.clock, role="operator", subject="operator")
        write_secret(token_file, token)
        token_created = True
    return {
        "node_did": node_did,
        "ministry_did": ministry_did,
        "operator_token_file": str(token_file),
        "master_key": master.source,
        "created": [name for name, made in (("node_identity", node_created), ("ministry_identity", ministry_created),
                                            ("operator_token", token_created)) if made],
    }


def write_secret(path: Path, value: str) -> None:
    """Write a secret readable by the owner only; the file is created with mode 0600, never widened."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
