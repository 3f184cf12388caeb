# The two commands users need: `make run` (the app) and `make test` (the suite).
# Both create .venv and install everything on first use; torch is pinned to the
# CPU build (2.13.0) through constraints.txt so no resolver can pull a CUDA one.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed

.PHONY: install run test lint bench eval clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[dev,local-llm]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) app.py

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

eval: install
	$(VENV)/bin/paperlens eval ../shared/eval/dev_queries.jsonl

clean:
	rm -rf $(VENV) .pytest_cache
