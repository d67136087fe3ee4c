# Trợ lý số: two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install dev lint typecheck check-content bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

install: $(STAMP)

run: install
	$(BIN)/trolyso db upgrade
	$(BIN)/trolyso run

dev: install
	$(BIN)/pip install -q -e '.[dev]'
