# Trợ lý số. Two commands on a fresh machine:
#   make run    creates .venv, installs, applies migrations and starts the assistant
#   make test   installs dev dependencies and system packages, then runs the whole suite
# Python 3.12 when it is installed (on PATH or through pyenv), else python3 (>= 3.11): under
# 3.12 coverage measures lines with sys.monitoring ([tool.coverage.run] core): its overhead on
# a part of the suite fell from ~75 % to ~25 % of the CPU time without coverage (issue 14).
PYENV_ROOT ?= $(HOME)/.pyenv
PY ?= $(shell for p in python3.12 $(wildcard $(PYENV_ROOT)/versions/3.12*/bin/python3.12) python3; \
	do "$$p" -c 'import ensurepip, venv' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SYS_STAMP := $(VENV)/.system-packages
# Debian packages the project needs: espeak-ng (offline speech), libopus0 (voice messages),
# chromium (browser tests).

.PHONY: run test install dev system-packages lint typecheck check-content bench clean chat

# Dependencies are installed with uv (from PyPI, into .venv, with pip): it downloads and unpacks
# in parallel and compiles no bytecode ahead (Python compiles what is imported). On a fresh
# clone, measured in CPU s: pip 50 (about 150 s wall), uv 7.5 (about 40 s wall), issue 14.
# Where uv cannot be installed or cannot reach the index (uv does not read pip's configuration),
# pip installs everything as before.
$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q uv || true

PIP_INSTALL = { [ -x $(BIN)/uv ] && $(BIN)/uv pip install -q --python $(BIN)/python $(1); } || \
	{ $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q $(1); }

$(STAMP): pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e .)
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(call PIP_INSTALL,-e '.[dev]')
	touch $@

install: $(STAMP)

dev: $(DEV_STAMP)

run: install
	$(BIN)/trolyso db upgrade
	$(BIN)/trolyso run

chat: install
	$(BIN)/trolyso db upgrade
	$(BIN)/trolyso chat

# Installs missing Debian packages (needs root or sudo; skipped when all are present).
system-packages:
	@missing=""; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ldconfig -p 2>/dev/null | grep -q 'libopus\.so\.0' || missing="$$missing libopus0"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

lint: dev
	$(BIN)/ruff check core nlu flows broadcast console bot tests bench
	$(BIN)/mypy

check-content: install
	$(BIN)/trolyso content check

# pytest runs on every core (pytest-xdist), one database per test; line coverage printed last.
# --dist worksteal: a worker that finishes early takes tests queued for the other, so a few long
# tests (real processes, browsers) do not leave one core idle at the end (tests/conftest.py runs
# the files with slow tests first).
# TEST_WORKERS: pytest-xdist's -n (auto: one worker per core). `make test TEST_WORKERS=3` tries
# one worker more than cores (not yet measured on a quiet machine; issue 14).
TEST_WORKERS ?= auto
# mypy and the content check run beside pytest, at a lower priority: they take the CPU that
# pytest's workers leave idle while they wait (processes starting, databases being created);
# their reports are printed after pytest's, and any of them failing fails the target.
test: dev system-packages
	$(BIN)/ruff check core nlu flows broadcast console bot tests bench
	@log=$$(mktemp); \
	{ nice -n 10 $(BIN)/mypy; a=$$?; nice -n 10 $(BIN)/trolyso content check; b=$$?; \
	  [ $$a = 0 ] && [ $$b = 0 ]; } >"$$log" 2>&1 & \
	checks=$$!; \
	echo "$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term" \
	     "(beside it: mypy, then trolyso content check)"; \
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal --cov --cov-report=term; tests=$$?; \
	wait $$checks; rc=$$?; echo "$(BIN)/mypy, $(BIN)/trolyso content check:"; cat "$$log"; \
	rm -f "$$log"; [ $$tests = 0 ] && [ $$rc = 0 ]

bench: dev system-packages
	@for f in bench/*_bench.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
