# Two commands for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)

# The server's environment stays lean (no torch); the tests get their own, with openai-whisper.
RUN_VENV  := .venv
TEST_VENV := .venv-test

# `make test` runs the suite on SQLite; `make test-postgres` runs it again on a PostgreSQL server
# (each session creates its own minsheng_test_* databases there and drops them at the end).
POSTGRES_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-postgres lint clean mutation messages

$(RUN_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(RUN_VENV)
	$(RUN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(RUN_VENV)/bin/pip install --quiet -e .
	touch $@

# torch's CPU build must come before openai-whisper, or pip pulls a multi-GB CUDA build.
$(TEST_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TEST_VENV)
	$(TEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(TEST_VENV)/bin/pip install --quiet torch==2.13.0
	$(TEST_VENV)/bin/pip install --quiet -e '.[openai-whisper,test]'
	touch $@

# axe-core, which the browser tests inject into every page (tests/browser/package.json, pinned by
# its package-lock.json), from the npm registry.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

run: $(RUN_VENV)/.installed
	$(RUN_VENV)/bin/minsheng serve

# Re-read the code and templates and update the message catalogues (api/locale/*/LC_MESSAGES/
# messages.po), keeping their translations; then translate what is new (tests/api/test_i18n.py fails
# on any message without Chinese).
messages: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python -m api.i18n extract

lint: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/ruff check .
	$(TEST_VENV)/bin/mypy intake classify models api bench

test: lint $(AXE)
	$(TEST_VENV)/bin/pytest

# The tests that open no database (marked database_free) already ran in `make test`.
test-postgres: $(TEST_VENV)/.installed $(AXE)
	MINSHENG_TEST_DATABASE_URL='$(POSTGRES_TEST_URL)' $(TEST_VENV)/bin/pytest -m 'not database_free'

# Mutation score of the core modules, each against its own tests (pyproject.toml: [tool.mutmut],
# [tool.minsheng.mutation.modules]); one JSON line per module. Slow: not part of `make test` or CI.
# MUTATION_ARGS='--sample 50' for a quicker figure, '--module api/auth.py' for one module.
mutation: $(TEST_VENV)/.installed
	$(TEST_VENV)/bin/python bench/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf $(RUN_VENV) $(TEST_VENV) .pytest_cache .mypy_cache .ruff_cache mutants tests/browser/node_modules
