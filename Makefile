# unionaid: `make run` serves the demo, `make test` runs the suite. Nothing else is needed:
# the first run creates .venv and installs the locked dependencies.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test browser-test lint fmt bench lock wheelhouse clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# A laptop demo (the web app, a task worker and the scheduler of the periodic jobs): without DEBUG, encryption keys derived from SECRET_KEY must be asked for
# explicitly (production refuses to start without real keys; docs/architecture.md).
run: export UNIONAID_DEV_KEYS ?= 1
run: install
	$(BIN)/unionaid migrate --noinput
	$(BIN)/unionaid collectstatic --noinput -v0
	$(BIN)/unionaid demo --if-empty
	$(BIN)/unionaid demo_logins
	@echo "unionaid: http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@$(BIN)/unionaid db_worker & worker=$$!; \
	  $(BIN)/unionaid scheduler -v 0 & scheduler=$$!; \
	  trap 'kill $$worker $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/unionaid runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The real-browser suite (tests/browser: each persona's journeys on phone and desktop sizes in
# Debian's chromium, driven by Playwright). Installs chromium with apt-get when it is missing;
# fails, saying why, when it cannot. Not part of `make test`.
browser-test: install
	@scripts/ensure_chromium.sh
	$(BIN)/pytest tests/browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Re-resolve the lock file from pyproject.toml (maintainers only).
lock:
	rm -rf .lockenv && $(PY) -m venv .lockenv
	.lockenv/bin/pip install -q -e '.[dev]'
	.lockenv/bin/pip freeze --all --exclude-editable | grep -v -e "^-e" -e "^pip==" -e "^wheel==" > requirements.lock
	rm -rf .lockenv

# The offline install kit for an intranet server (docs/deploy.md): the project's wheel and its
# production dependencies as pinned by requirements.lock, in dist/unionaid-*.tar.gz (+ .sha256).
# Run on a connected machine with the server's OS and Python (PY=python3.11). Not part of make test.
wheelhouse:
	PY=$(PY) scripts/wheelhouse.sh

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache
