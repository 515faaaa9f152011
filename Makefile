# cryptocast — two commands set up everything: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
# uv from PATH, else bootstrapped into .tools/ with pip (nothing else to install by hand).
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help setup deps migrate run demo-forecasts train train-workers web worker beat test test-smoke lint fmt typecheck bench clean

help:
	@echo "make run    - set up (venv, locked deps, migrate, sample data) and start web + worker + beat"
	@echo "make test   - set up, then run the whole test suite"
	@echo "make lint   - ruff, import-linter (layers), dead code (vulture), mypy, migrations check"
	@echo "make fmt    - ruff format + fix"
	@echo "make bench  - run the benchmarks in bench/ (prints ratios)"
	@echo "make train  - train every model type for every tracked coin with enough history and issue"
	@echo "              forecasts, here (slow: ~10 min per coin on 2 cores; FORECAST_DEFAULT_MODELS narrows)"
	@echo "make train-workers - the same run sent to the running workers/trainers (returns at once)"
	@echo "make migrate / worker / beat / web - individual pieces"

.tools/bin/uv:
	@echo ">> uv not found: installing it into .tools/ with pip"
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python 3.11
	@touch $@

deps: $(VENV)/.synced

migrate: deps
	$(MANAGE) migrate --noinput

# Everything both `run` and `test` need: dependencies, schema, schedule, demo data.
setup: deps migrate
	$(MANAGE) init_broker
	$(MANAGE) setup_schedule
	$(MANAGE) load_sample_data
	$(MANAGE) replay_fill
	$(MANAGE) load_news_samples

run: setup demo-forecasts
	@echo ""
	@echo ">> cryptocast is starting on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/docs, admin: /admin/)"
	@echo ">> create an admin with: $(MANAGE) createsuperuser"
	@echo ""
	WEB_HOST=$(HOST) WEB_PORT=$(PORT) $(VENV)/bin/honcho start -f Procfile

web: setup
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) --access-log /dev/null config.asgi:application

worker: deps
	$(VENV)/bin/celery -A config worker -l info --pool threads --concurrency 2

beat: deps
	$(VENV)/bin/celery -A config beat -l info -S django_celery_beat.schedulers:DatabaseScheduler

# First start only: quick statistical models so the dashboard shows forecasts at once.
# (The weekly retraining job trains every model type; `make train` does it now.)
ARTIFACTS := $(or $(MODEL_ARTIFACTS_DIR),models/artifacts)
demo-forecasts: setup
	@if [ -f "$(ARTIFACTS)/manifest.json" ]; then echo ">> models already trained ($(ARTIFACTS))"; \
	elif $(MANAGE) train_models --symbols BTC,ETH --models naive,drift,ets; then \
	  $(MANAGE) generate_forecasts --symbols BTC,ETH --models auto,naive,drift,ets; \
	else echo ">> no forecasts yet: no candles to train on (load data, then make train)"; fi

# Every tracked coin (top FORECAST_TOP_N + defaults + watchlists) with enough history, run
# here task by task; train-workers sends the same run to the running workers (training, then
# issuing, spread over however many consume the queues) and returns.
train: setup
	$(MANAGE) train_models --tracked --progress
	$(MANAGE) generate_forecasts --tracked --progress

train-workers: setup
	$(MANAGE) train_models --tracked --fanout

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-smoke: deps
	$(VENV)/bin/pytest -m smoke $(PYTEST_ARGS)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/deadcode.py
	$(PY) scripts/facade_contracts.py --check
	$(VENV)/bin/mypy
	$(MANAGE) makemigrations --check --dry-run

fmt: deps
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: deps
	$(VENV)/bin/mypy

bench: deps
	@for f in bench/[!_]*.py; do \
	  echo "== $$f"; \
	  if [ "$$f" = bench/candle_upsert.py ] && [ -z "$$DATABASE_URL" ]; then \
	    echo "skipped: compares with PostgreSQL COPY, set DATABASE_URL=postgres://..."; continue; fi; \
	  $(PY) $$f || exit 1; \
	done

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
