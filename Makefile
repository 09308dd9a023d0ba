# opencwpp — every target creates what it needs from the project's own files.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
LAKE   ?= duckdb://$(CURDIR)/out/demo-lake.duckdb
PYTEST_ARGS ?=

.PHONY: help install demo test lint typecheck unit integration bench bench-peers clean

help:
	@echo "make demo   - install, then scan an emulated AWS estate into a DuckDB lake and report"
	@echo "make test   - install, then lint, type-check and run all tests"
	@echo "make lint | typecheck | unit | integration | bench | clean"

$(STAMP): pyproject.toml requirements.lock src/opencwpp/detect/ingest/_scan.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p out
	rm -f out/demo-lake.duckdb out/demo-lake.duckdb.wal
	$(BIN)/cwpp demo --lake "$(LAKE)" --output out/demo-report.html

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest tests/integration -q $(PYTEST_ARGS)

test: lint typecheck
	bash scripts/install-browser.sh
	bash scripts/install-azurite.sh
	bash scripts/install-test-tools.sh
	$(BIN)/pytest tests -q -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

# opencwpp vs Prowler and ScoutSuite (each in its own venv under bench/) on one moto estate.
PEERS_ARGS ?= --scales 1x3,10x2
bench-peers: $(STAMP)
	$(BIN)/python -m bench.peers $(PEERS_ARGS)

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache

# Detection: ingest and rule evaluation throughput beside the public pySigma DuckDB backend
# (pinned in bench/requirements-pysigma.txt, installed into its own venv bench/.venv-pysigma).
.PHONY: bench-detect-peers
DETECT_ARGS ?= --events 1000000
bench-detect-peers: $(STAMP)
	$(BIN)/python bench/detect_bench.py $(DETECT_ARGS)
