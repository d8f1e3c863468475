# Every target works from a fresh clone: `make venv` creates .venv with the project installed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PUENTE_DATA ?= ./var/node

.PHONY: venv run demo test test-sqlite test-postgres lint bench clean

$(BIN)/puente: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(BIN)/puente

venv: $(BIN)/puente

# Install, create a demo node (keys, database, seed data) if there is none, and serve it on :8080.
run: venv
	@test -f $(PUENTE_DATA)/node.json || $(BIN)/puente --data-dir $(PUENTE_DATA) init --jurisdiction GT --name "Puente demo node (Guatemala)" --base-url http://127.0.0.1:8080
	$(BIN)/puente --data-dir $(PUENTE_DATA) seed --demo
	$(BIN)/puente --data-dir $(PUENTE_DATA) serve --host 127.0.0.1 --port 8080

# The whole suite: import contracts, then every test; database tests run against SQLite and
# PostgreSQL (PUENTE_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/test).
test: venv
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-sqlite: venv
	$(BIN)/python -m pytest -q --db=sqlite

test-postgres: venv
	$(BIN)/python -m pytest -q --db=postgres

lint: venv
	$(BIN)/lint-imports --no-cache

bench: venv
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache build *.egg-info
