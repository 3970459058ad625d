# ODA Dashboard: `make run` serves the app, `make test` runs the whole suite.
# Each sets itself up on a fresh machine: virtual environment, pinned packages,
# Debian's Chromium (for the browser tests) and the embedded store.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# The open data folder: ../shared/data beside the checkout, unless set.
ODA_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
export ODA_DATA_DIR

.PHONY: run test store chromium lint bench clean help

help:
	@echo "make run    start the app on http://127.0.0.1:8501 (default region)"
	@echo "make test   run the whole test suite"
	@echo "make store  build the embedded store (geodata/oda.duckdb) if out of date"
	@echo "make bench  run the benchmarks in benchmarks/"

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

store: $(STAMP)
	@test -n "$(ODA_DATA_DIR)" || { echo "Set ODA_DATA_DIR to the open data folder (../shared/data)"; exit 2; }
	$(PY) -m loaders build

run: store
	$(VENV)/bin/streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port 8501

test: store chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup -q

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
