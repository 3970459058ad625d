# ODA Dashboard: `make run` serves the app, `make test` runs the whole suite.
# Each sets itself up on a fresh machine: virtual environment, pinned packages,
# Debian's Chromium and axe-core (for the browser tests) and the embedded store.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The open data folder: ../shared/data beside the checkout, unless set.
ODA_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export ODA_DATA_DIR

.PHONY: run run-postgres test store chromium node postgres lint bench clean help

help:
	@echo "make run    start the app on http://127.0.0.1:8501 (default region)"
	@echo "make test   run the whole test suite (both store backends)"
	@echo "make run-postgres  the app on a throwaway local PostgreSQL store"
	@echo "make store  build the embedded store (geodata/oda.duckdb) if out of date"
	@echo "make bench  run the benchmarks in benchmarks/"

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# Chromium draws the browser tests and prints the ward report; poppler's pdftotext and
# pdftoppm read the report back in its test.
chromium:
	@command -v chromium >/dev/null && command -v pdftoppm >/dev/null || { \
	  echo "installing Debian's chromium and poppler-utils"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
	    poppler-utils >/dev/null; }

# axe-core, the accessibility scanner the browser tests inject into every page, at the
# version package-lock.json pins (Debian's npm if there is none).
node: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { \
	  echo "installing Debian's npm for the accessibility scan"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }
	npm ci --no-audit --no-fund --loglevel=error

# PostgreSQL 15 + PostGIS 3 for the second store backend (tests start a throwaway
# cluster from these binaries), and nginx for the replicas of the load benchmark.
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb -a -f /usr/share/postgresql/15/extension/postgis.control \
	  -a -x /usr/sbin/nginx || { \
	  echo "installing Debian's postgresql-15-postgis-3 and nginx"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-15 \
	    postgresql-15-postgis-3 postgresql-client-15 nginx-light >/dev/null; }

store: $(STAMP)
	@test -n "$(ODA_DATA_DIR)" || { echo "Set ODA_DATA_DIR to the open data folder (../shared/data)"; exit 2; }
	$(PY) -m loaders build

run: store chromium
	$(VENV)/bin/streamlit run serve.py --server.address 127.0.0.1 --server.port 8501

# The app on the PostgreSQL backend: a throwaway local cluster, the store published
# into it, then the app (the cluster is deleted when the app stops).
run-postgres: store postgres
	$(PY) -m deploy.pgcluster run -- bash -c 'export ODA_DATABASE_URL=$$ODA_TEST_DATABASE_URL; \
	  $(PY) -m loaders build && $(VENV)/bin/streamlit run serve.py \
	  --server.address 127.0.0.1 --server.port 8501'

# Two test processes, each taking whole test files (--dist loadfile): a file's app
# server, Chromium or store copy is then built once, not once per process that runs
# one of its tests. Files go out in the order collected, the slowest first
# (tests/conftest.py, SLOW_FILES). The slowest 15 tests are listed at the end. Each
# process keeps the linear algebra library to one thread: two processes on two cores
# with two threads each only wait on each other (a small least-squares solve took 7
# times as long).
test: store chromium node postgres
	$(VENV)/bin/ruff check .
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
	$(PY) -m deploy.pgcluster run -- $(PY) -m pytest -n 2 --dist loadfile \
	  --no-loadscope-reorder -q --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: store chromium
	$(PY) benchmarks/build_time.py
	$(PY) benchmarks/map_payload.py
	$(PY) benchmarks/page_ready.py
	$(PY) benchmarks/hotspots.py
	$(PY) benchmarks/ingest_speed.py

clean:
	rm -rf $(VENV) geodata/*.duckdb geodata/*.building
