# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both install first (uv, from the lock file), so a clean clone needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=

.PHONY: install test demo clean

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

test: install
	@$(UV) run --frozen --no-sync pytest -n 2 -q $(PYTEST_ARGS)

demo: install
	@$(UV) run --frozen --no-sync python -m drift_pipeline.demo

clean:
	rm -rf .venv .pytest_cache data .dagster_home .sandbox
