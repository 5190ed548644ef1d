# Every target installs what it needs from nothing: a fresh clone runs `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install services demo test lint typecheck bench docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash demo/run.sh

lint: $(STAMP)
	$(BIN)/ruff check
	$(BIN)/ruff format --check

typecheck: $(STAMP)
	$(BIN)/mypy

# Servers the tests use for real: PostgreSQL (the scale-out store) and a
# headless Chromium (the HTML report); Debian's packages, installed when missing.
services:
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh >/dev/null

test: lint typecheck services
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache bench/results bench/.data

docs: $(STAMP)
	$(BIN)/python -m flowctl.lint.docs > docs/rules.md
