"""Database pool sizes come from settings (PUENTE_DB_POOL_SIZE, PUENTE_DB_MAX_OVERFLOW, PUENTE_DB_POOL_TIMEOUT),
are validated at start (a typo is a configuration error, not a pool of 0), and reach the PostgreSQL engine."""

from __future__ import annotations

import json

import pytest

from node.db.engine import engine_for
from node.errors import ConfigurationError
from node.settings import load_settings, write_config

PG = "postgresql://postgres@127.0.0.1:5432/none"  # creating an engine does not connect


def test_defaults_are_a_pool_of_ten_plus_ten_with_a_thirty_second_wait(tmp_path):
    settings = load_settings(environ={}, data_dir=tmp_path)
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout) == (10, 10, 30.0)


def test_environment_sets_the_pool_and_the_engine_uses_it(tmp_path):
    settings = load_settings(environ={"PUENTE_DB_POOL_SIZE": "4", "PUENTE_DB_MAX_OVERFLOW": "0",
                                      "PUENTE_DB_POOL_TIMEOUT": "2.5", "PUENTE_DATABASE_URL": PG}, data_dir=tmp_path)
    assert (settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout) == (4, 0, 2.5)
    pool = engine_for(settings).sync_engine.pool
    assert pool.size() == 4 and pool._max_overflow == 0 and pool._timeout == 2.5


def test_node_json_sets_the_pool_and_environment_wins(tmp_path):
    (tmp_path / "node.json").write_text(json.dumps({"db_pool_size": 3, "db_max_overflow": 1}))
    assert load_settings(environ={}, data_dir=tmp_path).db_pool_size == 3
    settings = load_settings(environ={"PUENTE_DB_POOL_SIZE": "6"}, data_dir=tmp_path)
    assert (settings.db_pool_size, settings.db_max_overflow) == (6, 1)


def test_write_config_keeps_only_pool_values_an_operator_chose(tmp_path):
    write_config(load_settings(environ={}, data_dir=tmp_path))
    assert not {"db_pool_size", "db_max_overflow", "db_pool_timeout"} & set(json.loads((tmp_path / "node.json").read_text()))
    write_config(load_settings(environ={"PUENTE_DB_POOL_SIZE": "5"}, data_dir=tmp_path))
    assert json.loads((tmp_path / "node.json").read_text())["db_pool_size"] == 5


@pytest.mark.parametrize("name, value", [
    ("PUENTE_DB_POOL_SIZE", "0"), ("PUENTE_DB_POOL_SIZE", "ten"), ("PUENTE_DB_POOL_SIZE", "-1"),
    ("PUENTE_DB_MAX_OVERFLOW", "-1"), ("PUENTE_DB_MAX_OVERFLOW", "1.5"),
    ("PUENTE_DB_POOL_TIMEOUT", "0"), ("PUENTE_DB_POOL_TIMEOUT", "nan"), ("PUENTE_DB_POOL_TIMEOUT", "inf"),
    ("PUENTE_DB_POOL_TIMEOUT", "soon"),
])
def test_a_bad_pool_value_is_a_configuration_error(tmp_path, name, value):
    with pytest.raises(ConfigurationError) as raised:
        load_settings(environ={name: value}, data_dir=tmp_path)
    assert name.removeprefix("PUENTE_").lower() in raised.value.detail


def test_sqlite_keeps_its_own_pool(tmp_path):
    settings = load_settings(environ={"PUENTE_DB_POOL_SIZE": "2"}, data_dir=tmp_path)
    pool = engine_for(settings).sync_engine.pool
    assert getattr(pool, "size", lambda: None)() != 2  # SQLAlchemy's pool for a file, not the PostgreSQL sizing
