# radpulse: `make demo` runs the offline demo dashboard, `make test` runs the whole test suite.
# Both create the virtual environment (.venv) from pyproject.toml when it is missing or stale.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.radpulse-installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_ARGS ?=
BENCH_ARGS ?=

.PHONY: demo test test-fast bench services venv clean help fixtures check-fixtures

help:
	@echo "make demo    build the synthetic demo database and serve the dashboard (http://127.0.0.1:8050)"
	@echo "make test    set up, start PostgreSQL and Chromium if needed, run every test"
	@echo "make bench   print the benchmark figures"
	@echo "make fixtures  download the recorded test payloads into \$$RADPULSE_FIXTURES or ../shared/fixtures"

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel 2>&1 | grep -v '^WARNING: Location' || true
	$(PIP) install -c constraints.txt -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
	$(BIN)/python -c "import radpulse.collectors, radpulse.analysis, radpulse.dashboards"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/radpulse demo $(DEMO_ARGS)

services:
	@bash .ci/services.sh

# the recorded payloads the tests replay: RADPULSE_FIXTURES, else ../shared/fixtures (see .ci/fixtures.py)
check-fixtures:
	@$(PYTHON) .ci/fixtures.py check

fixtures:
	$(PYTHON) .ci/fixtures.py fetch

test: check-fixtures $(STAMP) services
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q -p no:cacheprovider

test-fast: check-fixtures $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -x -p no:cacheprovider

bench: $(STAMP) services
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
