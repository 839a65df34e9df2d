# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both install first (uv, from the lock file), so a clean clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=

.PHONY: install test lint format demo clean

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

# Lint: ruff (rules and formatting) and mypy, configured in pyproject.toml; clean at every commit.
lint: install
	@$(UV) run --frozen --no-sync ruff check .
	@$(UV) run --frozen --no-sync ruff format --check .
	@$(UV) run --frozen --no-sync mypy

format: install
	@$(UV) run --frozen --no-sync ruff check --fix .
	@$(UV) run --frozen --no-sync ruff format .

test: install
	@$(UV) run --frozen --no-sync pytest -n 2 -q $(PYTEST_ARGS)

demo: install
	@$(UV) run --frozen --no-sync python -m drift_pipeline.demo

clean:
	rm -rf .venv .pytest_cache data .dagster_home .sandbox
