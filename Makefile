PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov pins many packages that clash with the app's, so it gets a virtualenv of its own, remade only when
# its pin (tools/checkov-requirements.txt) changes: a few minutes of installs no edit of this file should cost.
CHECKOV_VENV := .venv-checkov
CHECKOV_REQUIREMENTS := tools/checkov-requirements.txt
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: install checkov run demo test lint typecheck complexity format bench clean clean-data wheels image

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CHECKOV_STAMP): $(CHECKOV_REQUIREMENTS)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r $(CHECKOV_REQUIREMENTS)
	touch $(CHECKOV_STAMP)

checkov: $(CHECKOV_STAMP)

run: $(STAMP)
	$(PY) -m bot

# The suite runs in parallel (pytest-xdist): `auto` is two workers per CPU, at most 8 (tests/conftest.py
# says why); tests are dealt one by one except an xdist_group's, which stay on one worker (the Prometheus
# module starts one Prometheus). TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= auto
test: $(STAMP) $(CHECKOV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m tools.complexity
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m tools.complexity

# mypy over bot/, adapters/ and storage/ as pyproject.toml's [tool.mypy] says (strict in storage and adapters).
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# ruff's C901 against tools/complexity_baseline.txt, which only goes down (tools/complexity.py says how).
complexity: $(STAMP)
	$(PY) -m tools.complexity

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Benchmarks run by hand and print figures (README has the measured ones); this runs each at a small size,
# then the CPU-ratio tests (marked perf, which `make test` leaves out).
bench: $(STAMP)
	$(PY) -m bench.store_bulk --records 2000 --items 3000 --show-calls 20 --list-calls 5
	$(PY) -m bench.store_links --reports 60
	$(PY) -m bench.sync_backfill --tickets 2000 --stories 1000 --memory-sizes 2000
	$(PY) -m bench.slack_intake --messages 500
	$(PY) -m bench.metrics_refresh 10000
	$(PY) -m bench.scale_reads dynamodb --sizes 1000 3000
	$(PY) -m bench.scale_reads sqlite --sizes 1000 10000
	$(PY) -m bench.suggestions --records 2000 --queries 500
	$(PY) -m bench.public_at_scale --members 400 2000
	$(PY) -m bench.status_updates --tickets 2000 --reports 50
	$(PY) -m bench.safe_output --tickets 20000 --views 1000
	$(PY) -m bench.linear_parsing
	$(PY) -m pytest -m perf -q -p no:cacheprovider tests/perf

# The image (Dockerfile): podman, or docker where that is what the machine has. BASE=... another base image.
CONTAINER_ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || echo docker)
IMAGE ?= bugtracker:latest
BASE ?=
WHEELS := build/wheels
# The image is linux/amd64 whatever this machine is (the task definition runs X86_64; a Mac would otherwise
# build arm64): PLATFORM=linux/arm64 for Graviton, with cpuArchitecture ARM64 in the task definition.
PLATFORM ?= linux/amd64
# The wheels are for the image (Linux, CPython 3.11, glibc up to Debian bookworm's 2.36, PLATFORM's CPU),
# whatever this machine is: binary wheels only, so nothing is compiled here or in the image.
WHEEL_ARCH := $(if $(filter linux/arm64,$(PLATFORM)),aarch64,x86_64)
WHEEL_PLATFORMS := --platform manylinux2014_$(WHEEL_ARCH) \
	$(foreach minor,17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36,--platform manylinux_2_$(minor)_$(WHEEL_ARCH))

wheels: $(STAMP)
	rm -rf $(WHEELS)
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir $(WHEELS) .
	$(PY) -m pip download --quiet --dest $(WHEELS) --only-binary=:all: --python-version 3.11 \
		--implementation cp --abi cp311 $(WHEEL_PLATFORMS) $(WHEELS)/unified_bugtracker-*.whl

image: wheels
	$(CONTAINER_ENGINE) build --platform $(PLATFORM) $(if $(filter podman,$(notdir $(CONTAINER_ENGINE))),--format docker) \
		$(if $(BASE),--build-arg BASE=$(BASE)) --tag $(IMAGE) .

# Keeps the local store (bugtracker.db); `make clean-data` removes it.
clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache build

clean-data:
	rm -f bugtracker.db bugtracker.db-wal bugtracker.db-shm

# The whole loop with no account anywhere: fake Zendesk and Shortcut (tests/fakes) with sample tickets and
# stories, one pull, then the bot's console on a store of its own (docs/tutorial.md walks through it).
demo: $(STAMP)
	$(PY) -m tests.fakes.demo
