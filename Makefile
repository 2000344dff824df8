# SIGAP: `make run` serves the app on the embedded defaults; `make test` runs
# the whole suite on SQLite and on PostgreSQL.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test vendor lint-imports test-sqlite test-postgres bench bench-registry bench-plan bench-visits install migrate demo messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

# Browser libraries (Leaflet for the map) from the npm registry, as locked
# in package-lock.json, into static/vendor/ (git-ignored): scripts/vendor-js.sh.
static/vendor/.installed: package-lock.json
	@scripts/vendor-js.sh

vendor: static/vendor/.installed

install: $(VENV)/.installed vendor

migrate: install
	$(BIN)/sigap migrate

demo: migrate
	$(BIN)/sigap demo

run: demo
	@echo "SIGAP: http://$${SIGAP_HOST:-127.0.0.1}:$${SIGAP_PORT:-8000}/  (Ctrl+C to stop)"
	$(BIN)/sigap serve

# System packages first (as root they are installed; otherwise the exact
# command is printed), then the services, the architecture contracts and
# both database passes. Every step runs; a failure in one does not hide the next.
test: $(VENV)/.installed-test
	@scripts/install-system-deps.sh
	@$(MAKE) --no-print-directory vendor
	@scripts/test-services.sh
	@status=0; \
	$(BIN)/lint-imports --no-cache || status=1; \
	SIGAP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	SIGAP_TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS) || status=1; \
	exit $$status

lint-imports: $(VENV)/.installed-test
	$(BIN)/lint-imports --no-cache

test-sqlite: $(VENV)/.installed-test
	SIGAP_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	@scripts/test-services.sh
	SIGAP_TEST_DB=postgres $(BIN)/pytest $(PYTEST_ARGS)

# Every main page, per role, and the JSON lists against the bare endpoint, on
# SQLite and PostgreSQL, at 1 and 16 connections, SIGAP and the bare app with
# one worker per core (about 4 min per database at the default 1 s warm-up +
# 5 s per scenario; e.g. BENCH_ARGS="--duration 10 --database sqlite").
bench: $(VENV)/.installed-test
	@scripts/bench-deps.sh
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.visits

# The registry at scale: 100,000 generated LKS (list, search, list page, the
# public register's search as HTML and JSON) and a
# 200 MiB upload, on top of the default scenarios.
bench-registry: $(VENV)/.installed-test
	@scripts/bench-deps.sh
	$(BIN)/python -m bench.run --registry $(BENCH_ARGS)

# The monitoring jobs (plan, alerts) over 100,000 LKS, on SQLite and PostgreSQL.
bench-plan: $(VENV)/.installed-test
	$(BIN)/python -m bench.plan_job --database sqlite $(BENCH_ARGS)
	$(BIN)/python -m bench.plan_job --database postgres $(BENCH_ARGS)

# The visit report (issue 9): the tablet form page's transferred size (first
# load, reload from the service worker) and a 20-photo report sent to
# PostgreSQL + S3 (SeaweedFS), with Debian's Chromium.
bench-visits: $(VENV)/.installed-test
	$(BIN)/python -m bench.visits $(BENCH_ARGS)

# Re-extract translatable strings and merge them into the catalogs.
messages: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 \
	  --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d sigap/locale --ignore-obsolete

clean:
	rm -rf $(VENV) build *.egg-info test-artifacts node_modules static/vendor
