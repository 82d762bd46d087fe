# Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages the telephony tests drive as real protocol peers (SIP UAs, a browser).
SYSTEM_PACKAGES := baresip-core sip-tester sox espeak-ng chromium chromium-driver

.PHONY: install system-deps run test check lint typecheck imports bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv

# Re-install only when the dependency list changed (the package itself is editable).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --python $(BIN)/python -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Installs the Debian packages when they are missing and we may (root, apt-get present).
system-deps:
	@if ! command -v baresip >/dev/null || ! command -v sipp >/dev/null || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -q $(SYSTEM_PACKAGES) || (apt-get update -q && apt-get install -y -q $(SYSTEM_PACKAGES))) >/dev/null; \
	  else echo "note: install $(SYSTEM_PACKAGES) for the SIP and browser tests"; fi; \
	fi

run: install
	$(BIN)/vozagent serve --host $(HOST) --port $(PORT)

test: install system-deps
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

check: lint typecheck imports test

bench: install
	$(BIN)/python bench/contacts_api.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
