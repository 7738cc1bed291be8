# Everything runs inside .venv; `make test` on a fresh machine installs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help install test test-fast lint demo bench bench-optimizers docs docs-serve clean

help: ## Show this help.
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-17s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,openai,docs]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the package with all extras (idempotent).

test: $(STAMP) ## Run the whole test suite, integration tests included.
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## Run the unit tests only.
	$(BIN)/python -m pytest -q -m "not integration"

lint: $(STAMP) ## Ruff, mypy and a strict docs build.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy tests/typing
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir .site

demo: $(STAMP) ## Run the main example (offline unless LLM_STRATEGY_MODEL=provider:model is set).
	$(BIN)/python examples/meta_optimization.py

bench: $(STAMP) ## Run the benchmarks and print ratios against baselines measured in the same run.
	$(BIN)/python benchmarks/run.py

bench-optimizers: $(STAMP) ## OPRO's linear-regression protocol for every optimizer (MODEL=provider:model; offline smoke test without).
	MODEL=$(MODEL) STEPS=$(STEPS) REPEATS=$(REPEATS) $(BIN)/python benchmarks/optimizers.py

docs: $(STAMP) ## Build the documentation into site/.
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: $(STAMP) ## Serve the documentation on http://127.0.0.1:8000.
	$(BIN)/mkdocs serve

clean: ## Remove the virtual environment and build outputs.
	rm -rf $(VENV) site .site .pytest_cache .mypy_cache .ruff_cache
