"""The data directory holds learners' personal data, private keys and tokens: 0700 for directories and
0600 for the database, configuration, key and token files, also when the directory already existed with a
wider mode and whatever the umask (SQLite files only exist on the SQLite backend)."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from node.settings import load_settings


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_init_into_an_existing_world_readable_directory_makes_it_private(tmp_path, loose_umask):
    from node.node_setup import initialise

    data_dir = tmp_path / "existing"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    settings = load_settings(environ={}, data_dir=data_dir, jurisdiction="GT", name="Nodo GT",
                             base_url="http://127.0.0.1:18999")
    asyncio.run(initialise(settings))

    assert mode(data_dir) == 0o700
    assert mode(data_dir / "puente.sqlite3") == 0o600
    assert mode(data_dir / "node.json") == 0o600
    for private in ("keys", "secrets"):  # keys/ stays empty: private keys are sealed in the database
        assert mode(data_dir / private) == 0o700
    files = [p for p in (data_dir / "secrets").iterdir() if p.is_file()]
    assert {p.name for p in files} == {"master.key", "operator-token"} and all(mode(p) == 0o600 for p in files)
    for sidecar in ("puente.sqlite3-wal", "puente.sqlite3-shm"):
        if (data_dir / sidecar).exists():
            assert mode(data_dir / sidecar) == 0o600


def test_an_existing_database_file_is_made_private_when_opened(tmp_path, loose_umask):
    from node.db.migrate import upgrade

    database = tmp_path / "old.sqlite3"
    database.touch()
    os.chmod(database, 0o644)
    asyncio.run(upgrade(f"sqlite:///{database}"))
    assert mode(database) == 0o600


def test_a_new_database_file_is_created_private(tmp_path, loose_umask):
    from node.db.migrate import upgrade

    database = tmp_path / "new.sqlite3"
    asyncio.run(upgrade(f"sqlite:///{database}"))
    assert mode(database) == 0o600


def test_a_data_directory_that_is_a_file_is_one_line_exit_2(tmp_path, capsys):
    from node.cli import main

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    code = main(["--data-dir", str(a_file), "init", "--jurisdiction", "GT", "--name", "N",
                 "--base-url", "http://127.0.0.1:18998"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("puente: ") and "is a file" in err and len(err.strip().splitlines()) == 1
