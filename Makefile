# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both install first (uv, from the lock file), so a clean clone needs nothing else. Bytecode is
# compiled at install: where PYTHONDONTWRITEBYTECODE is set (this machine, most container images)
# Python would otherwise compile every module it imports in every process (importing the
# definitions: 6.4 s without, 1.9 s with; once 17 s for the whole venv, then 0.3 s a sync).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
PYTEST_ARGS ?=

.PHONY: install browser postgres test lint format demo bench clean
CHROMIUM ?= /usr/bin/chromium

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet --compile-bytecode
	@$(UV) run --frozen --no-sync python -m compileall -q -j 0 drift_pipeline benchmarks >/dev/null

# Lint: ruff (rules and formatting), mypy (configured in pyproject.toml) and the layer table
# (drift_pipeline_tests/test_layers.py: no upward imports, no circles) and `dg check defs`; clean at every commit.
lint: install
	@$(UV) run --frozen --no-sync ruff check .
	@$(UV) run --frozen --no-sync ruff format --check .
	@$(UV) run --frozen --no-sync mypy
	@$(UV) run --frozen --no-sync pytest -q -p no:randomly -n 0 -p no:cacheprovider drift_pipeline_tests/test_layers.py drift_pipeline_tests/standards/test_purity.py drift_pipeline_tests/test_module_size.py drift_pipeline_tests/test_store_interface.py
	@$(UV) run --frozen --no-sync dg check defs

format: install
	@$(UV) run --frozen --no-sync ruff check --fix .
	@$(UV) run --frozen --no-sync ruff format .

# Debian's Chromium for the UI test (drift_pipeline_tests/test_ui.py); installed once, never downloaded
# at test time. Where it cannot be installed (no apt-get, no root/sudo) the UI test is skipped with a reason.
browser:
	@test -x $(CHROMIUM) || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null 2>&1; \
	  fi; \
	  test -x $(CHROMIUM) || echo "make browser: $(CHROMIUM) could not be installed; the UI test will be skipped" >&2; \
	}

# Debian's PostgreSQL server binaries for the instance-storage and DuckLake-catalog tests: each test
# starts a private cluster on loopback in a temp dir. Installed once when initdb cannot be found;
# where it cannot be installed those tests are skipped with a reason.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null 2>&1; \
	  fi; \
	  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	    echo "make postgres: PostgreSQL could not be installed; its tests will be skipped" >&2; \
	}

test: install browser postgres
	@$(UV) run --frozen --no-sync pytest -n 2 -q $(PYTEST_ARGS)

demo: install
	@$(UV) run --frozen --no-sync python -m drift_pipeline.demo

# The scale benchmark (not part of `make test`): the path users run (`dagster asset materialize` in its own
# process) beside the in-process one, real clock; prints a table, writes benchmarks/results/*.json.
# Small: BENCH_ARGS="--repos 100 --days 3 --no-trends"; profile: BENCH_ARGS="... --profile DIR".
BENCH_ARGS ?=
bench: install
	@$(UV) run --frozen --no-sync python benchmarks/pipeline.py $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache data .dagster_home .sandbox build
