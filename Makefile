# The two set-up commands are `make run` and `make test`; both install what they need first.
# `make test-fast` is the inner loop: unit and SQLite tests only (about 2 minutes on 2 cores).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-fast lint format bench load chaos clean ui ui-test

install: $(STAMP)

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python 3.11 --quiet
	touch $(STAMP)

run: install ui
	$(BIN)/invite-service serve --migrate

# Every backend, whatever INVITE_TEST_BACKENDS says in the caller's environment.
test: install ui ui-test
	INVITE_TEST_BACKENDS=sqlite,postgresql $(BIN)/pytest

# The inner loop: the database tests on SQLite only, and none of the production shape (Celery workers,
# RabbitMQ), the browser, the deployment recipe or the tests marked slow. `make test` runs all of them.
FAST_SKIP := --ignore=tests/production --ignore=tests/ui --ignore=tests/deploy -m "not slow"
test-fast: install
	INVITE_TEST_BACKENDS=sqlite $(BIN)/pytest $(FAST_SKIP)

# The web UI (frontend/): npm ci when the lock file changed, the API client checked against the service's
# OpenAPI document every time (scripts/api.mjs: rewritten locally, a failure in CI when stale), and a
# Vite build into src/invite_service/ui only when a source is newer than the last build.
UI_DIR := frontend
UI_OUT := src/invite_service/ui
UI_DEPS := $(UI_DIR)/node_modules/.package-lock.json

ui: install $(UI_DEPS)
	cd $(UI_DIR) && node scripts/api.mjs
	@$(MAKE) --no-print-directory $(UI_OUT)/index.html

$(UI_DEPS): $(UI_DIR)/package.json $(UI_DIR)/package-lock.json
	cd $(UI_DIR) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error
	touch $@

$(UI_OUT)/index.html: $(UI_DEPS) $(UI_DIR)/index.html $(UI_DIR)/tsconfig.json $(UI_DIR)/vite.config.ts $(UI_DIR)/openapi.json \
		$(shell find $(UI_DIR)/src -type f 2>/dev/null)
	cd $(UI_DIR) && npx tsc -p tsconfig.json --noEmit && npx vite build --logLevel warn
	touch $@

ui-test: $(UI_DEPS)
	cd $(UI_DIR) && npx vitest run

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m bench

# Locust against the production shape it starts itself (API x2, Celery workers and beat, PostgreSQL, Redis,
# RabbitMQ, the sandbox platform), each piece the run's own: 200 users for 60 s by default; exits non-zero on
# a 5xx. LOAD_USERS, LOAD_SECONDS; LOAD_TARGET_URL for a deployment (README "Load test").
load: install
	$(BIN)/python -m load

# The whole never-twice matrix on the production shape (Celery, RabbitMQ, Redis, PostgreSQL): ~10 minutes.
chaos: install
	INVITE_CHAOS_FULL=1 $(BIN)/pytest tests/production/test_never_twice_celery.py

clean:
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
