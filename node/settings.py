"""One frozen Settings object. Nothing else in the node reads os.environ or the config file.

Precedence: explicit overrides (CLI flags) > environment (PUENTE_*) > `<data_dir>/node.json`
(written by `puente init`) > defaults. Secrets (admin tokens) live in `<data_dir>/secrets/`, with file
mode 0600, and are never printed or logged.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from node.errors import ConfigurationError

CONFIG_FILE = "node.json"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./var/node")
    database_url: str | None = None  # default: SQLite file inside data_dir
    jurisdiction: str | None = None  # ISO 3166-1 alpha-2, e.g. "GT"
    name: str | None = None
    base_url: str | None = None  # public URL of this node; its did:web derives from it
    host: str = "127.0.0.1"
    port: int = 8080
    log_level: str = "INFO"
    log_format: str = "json"  # "json" or "text"
    workers: int = 0  # process-pool size for canonicalization and batch signing; 0 = one per core
    # Hosts (host or host:port) and networks (CIDR) the outbound client may reach although they are
    # private/loopback/link-local (peers on a private network; 127.0.0.1 in tests and demos). Default: none.
    fetch_allow: tuple[str, ...] = ()
    # The node master key (base64url, 32 bytes) from PUENTE_MASTER_KEY; without it the key custody reads
    # `<data_dir>/secrets/master.key`. Never written to node.json, never shown (repr=False).
    master_key: str | None = field(default=None, repr=False)
    # PostgreSQL connection pool of each process (SQLite keeps SQLAlchemy's own pool: one file, one writer).
    # Size them so that processes x (pool + overflow) stays below the server's max_connections minus a
    # reserve (docs/operator.md, "One node, many processes and hosts").
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 30.0  # seconds a request waits for a free connection before failing

    @property
    def db_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'puente.sqlite3').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE

    @property
    def initialised(self) -> bool:
        return self.config_path.exists()

    def with_overrides(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def normalise_database_url(url: str) -> str:
    """Accept the URLs people write (postgresql://, sqlite:///) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///"):]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ConfigurationError(f"unsupported database URL scheme: {url.split(':', 1)[0]!r} (use sqlite:/// or postgresql://)")


_ENV = {
    "PUENTE_DATA_DIR": "data_dir",
    "PUENTE_DATABASE_URL": "database_url",
    "PUENTE_JURISDICTION": "jurisdiction",
    "PUENTE_NAME": "name",
    "PUENTE_BASE_URL": "base_url",
    "PUENTE_HOST": "host",
    "PUENTE_PORT": "port",
    "PUENTE_LOG_LEVEL": "log_level",
    "PUENTE_LOG_FORMAT": "log_format",
    "PUENTE_WORKERS": "workers",
    "PUENTE_FETCH_ALLOW": "fetch_allow",
    "PUENTE_MASTER_KEY": "master_key",
    "PUENTE_DB_POOL_SIZE": "db_pool_size",
    "PUENTE_DB_MAX_OVERFLOW": "db_max_overflow",
    "PUENTE_DB_POOL_TIMEOUT": "db_pool_timeout",
}
_FILE_KEYS = {"database_url", "jurisdiction", "name", "base_url", "host", "port", "log_level", "log_format", "workers",
              "fetch_allow", "db_pool_size", "db_max_overflow", "db_pool_timeout"}


_POOL_KEYS = {"db_pool_size", "db_max_overflow", "db_pool_timeout"}


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    env_values = {field_: environ[var] for var, field_ in _ENV.items() if environ.get(var)}
    data_dir = Path(overrides.get("data_dir") or env_values.get("data_dir") or Settings.data_dir)
    config_path = data_dir / CONFIG_FILE
    if config_path.exists():
        try:
            stored = json.loads(config_path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read {config_path}: {exc}") from exc
        values.update({k: v for k, v in stored.items() if k in _FILE_KEYS})
    values.update(env_values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = data_dir
    for int_field in ("port", "workers"):
        if int_field in values:
            try:
                values[int_field] = int(values[int_field])
            except (TypeError, ValueError):
                raise ConfigurationError(f"{int_field} must be a whole number, not {values[int_field]!r}") from None
    for name, low in (("db_pool_size", 1), ("db_max_overflow", 0)):
        if name in values:
            values[name] = _bounded_int(name, values[name], low)
    if "db_pool_timeout" in values:
        values["db_pool_timeout"] = _pool_timeout(values["db_pool_timeout"])
    if "fetch_allow" in values:
        values["fetch_allow"] = _fetch_allow(values["fetch_allow"])
    if values.get("jurisdiction"):
        values["jurisdiction"] = str(values["jurisdiction"]).upper()
    return Settings(**values)


def _bounded_int(name: str, value: Any, low: int) -> int:
    """A whole number >= low; bool is refused (True would read as a pool of 1)."""
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if number < low:
        raise ConfigurationError(f"{name} must be at least {low}, not {number}")
    return number


def _pool_timeout(value: Any) -> float:
    """Seconds (> 0, finite): a request that cannot get a connection in time fails instead of queueing forever."""
    import math

    try:
        seconds = float(str(value).strip()) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigurationError(f"db_pool_timeout must be a number of seconds greater than 0, not {value!r}")
    return seconds


def _fetch_allow(value: Any) -> tuple[str, ...]:
    """A comma list (environment) or a JSON list (node.json) of host[:port] or CIDR entries, validated now."""
    from node.outbound.policy import FetchPolicy

    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, (list, tuple)) or not all(isinstance(e, str) for e in entries):
        raise ConfigurationError("fetch_allow must be a comma-separated list of host[:port] or CIDR entries")
    cleaned = tuple(e.strip() for e in entries if e.strip())
    FetchPolicy.parse(cleaned)  # a typo is a configuration error at start, not a silent refusal later
    return cleaned


def write_config(settings: Settings) -> None:
    """Persist the non-secret settings chosen at `puente init`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    config = {k: getattr(settings, k) for k in sorted(_FILE_KEYS) if getattr(settings, k) not in (None, ())
              and not (k in _POOL_KEYS and getattr(settings, k) == getattr(Settings, k))}  # defaults stay defaults
    # 0600: a database URL given with --database-url may carry a password.
    fd = os.open(settings.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps(config, indent=2) + "\n")
    os.chmod(settings.config_path, 0o600)  # an existing file keeps its mode through O_CREAT
