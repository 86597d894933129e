PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov pins many packages that clash with the app's, so it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_SPEC := checkov>=3.2,<4
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: install checkov run test lint format bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CHECKOV_STAMP): Makefile
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet '$(CHECKOV_SPEC)'
	touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)

run: $(STAMP)
	$(PY) -m bot

test: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks run by hand and print figures (README has the measured ones); this runs each at a small size.
bench: $(STAMP)
	$(PY) -m bench.store_bulk --records 2000 --items 3000 --show-calls 20 --list-calls 5
	$(PY) -m bench.store_links --reports 60
	$(PY) -m bench.sync_backfill --tickets 2000 --stories 1000 --memory-sizes 2000
	$(PY) -m bench.slack_intake --messages 500
	$(PY) -m bench.metrics_refresh 10000
	$(PY) -m bench.scale_reads dynamodb --sizes 1000 3000
	$(PY) -m bench.scale_reads sqlite --sizes 1000 10000
	$(PY) -m bench.suggestions --records 2000 --queries 500
	$(PY) -m bench.status_updates --tickets 2000 --reports 50
	$(PY) -m bench.safe_output --tickets 20000 --views 1000
	$(PY) -m bench.linear_parsing

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache bugtracker.db
