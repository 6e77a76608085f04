# Customer Journey Workbook: developer entry points (GNU make). `make help` lists the targets.
#
# Everything runs from the project-local virtual environment .venv, created on first use by
# $(PYTHON) -m venv and installed from the lock file:
#     pip install -c constraints.txt -e ".[dev]"
# The stamp .venv/.installed depends on pyproject.toml and constraints.txt, so the install is
# repeated only when one of them changes. Nothing is installed outside .venv.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip
# Extra arguments for the tests/ run, e.g. `make test PYTEST_ARGS="-m 'not slow' -x"`.
PYTEST_ARGS ?=

# wildcard drops folders that do not exist yet (git does not keep empty folders).
LINT_PATHS := $(wildcard journeylib tests notebooks benchmarks examples)
# Scheduled notebooks (executed by nbval); notebooks/exploratory/ is outside the pipeline.
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# Every notebook, exploratory ones included: outputs can hold client data, so all get stripped.
ALL_NOTEBOOKS := $(sort $(shell find notebooks -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null))

# Exit 0 when the interpreter given as the first argument is Python >= 3.11.
PY_VERSION_OK := -c 'import sys; sys.exit(sys.version_info < (3, 11))'

# Exit 0 when the kernel named python3 (the one papermill and nbval start) runs this venv's
# python. ipykernel's wheel ships share/jupyter/kernels/python3 into the venv with argv
# "python", which jupyter_client replaces by the calling interpreter; jupyter_core (>= 5) looks
# in the venv before ~/.local/share/jupyter, so a user-level python3 spec does not shadow it.
define KERNEL_CHECK
import os, sys
from jupyter_client.manager import KernelManager
km = KernelManager(kernel_name="python3")
cmd = km.format_kernel_cmd()
ok = os.path.abspath(cmd[0]) == os.path.abspath(sys.executable)
print(f"kernel python3: {km.kernel_spec.resource_dir} runs {cmd[0]}" + ("" if ok else f", not {sys.executable}"))
sys.exit(0 if ok else 1)
endef
export KERNEL_CHECK

define LOCK_HEADER
# constraints.txt: the lock file. Exact pins of the full resolved dependency set of
# `pip install -e ".[dev,spark]"` (runtime + dev and spark extras, all transitive dependencies),
# resolved on Python 3.11 (Linux x86_64). Installing only ".[dev]" leaves the spark pins unused.
#
# Install:     pip install -c constraints.txt -e ".[dev]"    (what `make venv` runs)
# Regenerate:  make lock    (fresh throw-away venv, unconstrained install, `pip freeze`)
#
# pyproject.toml holds the supported ranges; this file pins one tested point inside them.
# tests/test_packaging.py checks that every direct dependency is pinned here and that each
# pin satisfies pyproject's specifier. Do not edit by hand; run `make lock` and commit.
endef
export LOCK_HEADER

# The Spark engine's tests run in a venv of their own: PySpark is an optional extra, and once it
# is installed pandera imports it with every journeylib import, so the default .venv stays
# without it. Inside $(VENV), so git ignores it and `make distclean` removes it.
SPARK_VENV ?= $(VENV)/spark
SPARK_BIN := $(SPARK_VENV)/bin
SPARK_STAMP := $(SPARK_VENV)/.installed

.PHONY: help venv demo sample test test-py test-notebooks test-spark lint format strip hooks lock bench bench-scale clean distclean

help: ## List the targets
	@echo "Customer Journey Workbook. Quick start: make demo, then make test."
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: PYTHON=$(PYTHON) (interpreter for the venv, >= 3.11), PYTEST_ARGS=..."

venv: $(STAMP) ## Create/refresh .venv from constraints.txt (only when pyproject.toml or constraints.txt changed)

$(STAMP): pyproject.toml constraints.txt
	@if ! $(BIN)/python $(PY_VERSION_OK) 2>/dev/null; then \
	  if ! command -v $(PYTHON) >/dev/null 2>&1; then \
	    echo "error: '$(PYTHON)' not found. Install Python 3.11+ or run e.g. 'make PYTHON=python3.12 $(MAKECMDGOALS)'." >&2; exit 1; \
	  fi; \
	  if ! $(PYTHON) $(PY_VERSION_OK); then \
	    echo "error: journeylib needs Python >= 3.11, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	    echo "       Run e.g. 'make PYTHON=python3.11 $(MAKECMDGOALS)'." >&2; exit 1; \
	  fi; \
	  echo "creating $(VENV) with $$($(PYTHON) --version 2>&1) ($$(command -v $(PYTHON)))"; \
	  $(PYTHON) -m venv --clear $(VENV) || { \
	    echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu system Python: apt install python3-venv." >&2; exit 1; }; \
	fi
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e ".[dev]"
	@$(BIN)/python -c "$$KERNEL_CHECK" || { \
	  echo "installing the python3 kernelspec into $(VENV)"; \
	  $(BIN)/python -m ipykernel install --sys-prefix --name python3 && $(BIN)/python -c "$$KERNEL_CHECK"; } || { \
	  echo "error: the python3 Jupyter kernel does not use $(BIN)/python; see 'jupyter kernelspec list'" >&2; \
	  echo "       (a python3 spec in JUPYTER_PATH or with JUPYTER_PREFER_ENV_PATH=0 can shadow the venv's)." >&2; exit 1; }
	@touch $@
	@echo "$(VENV) is ready."

demo: $(STAMP) ## Build the demo: sample data if missing, every notebook, HTML report (prints its path)
	$(BIN)/journey demo

# The notebooks' defaults read the committed demo sample; a checkout without it (an empty
# data/sample/) gets it generated with the same defaults `journey demo` uses. Existing files are
# never rewritten.
sample: $(STAMP) ## Generate the demo sample in data/sample/ if that folder is empty
	@if [ -z "$$(find data/sample -type f ! -name .gitkeep 2>/dev/null | head -n1)" ]; then \
	  echo "data/sample/ is empty: generating the demo sample"; $(BIN)/journey synth; \
	fi

test: $(STAMP) ## Whole suite: ruff check, pytest tests/, notebooks on their defaults (nbval)
	$(BIN)/ruff check $(LINT_PATHS)
	@$(MAKE) test-py test-notebooks

test-py: $(STAMP) ## pytest tests/ only (pass options with PYTEST_ARGS=...)
	$(BIN)/pytest $(PYTEST_ARGS)

# nbval starts each notebook's kernel in the notebook's folder; notebooks resolve paths against
# the project root themselves (journeylib.paths), so the working directory does not matter.
test-notebooks: $(STAMP) sample ## Execute notebooks/*.ipynb on their parameter defaults (pytest --nbval-lax)
ifeq ($(NOTEBOOKS),)
	@echo "no notebooks/*.ipynb yet: nothing for nbval to run"
else
	$(BIN)/pytest --nbval-lax --nbval-current-env $(NOTEBOOKS)
endif

$(SPARK_STAMP): $(STAMP) pyproject.toml constraints.txt
	$(BIN)/python -m venv --clear $(SPARK_VENV)
	$(SPARK_BIN)/python -m pip install --upgrade pip
	$(SPARK_BIN)/python -m pip install -c constraints.txt -e ".[dev,spark]"
	@touch $@

# JOURNEY_REQUIRE_SPARK=1: a missing PySpark or Java fails the spark tests instead of skipping.
test-spark: $(SPARK_STAMP) ## Spark engine tests (pytest -m spark, PySpark local mode; own venv, needs Java 17+)
	@command -v java >/dev/null 2>&1 || [ -n "$${JAVA_HOME:-}" ] || { \
	  echo "error: PySpark needs Java 17 or newer: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)" >&2; exit 1; }
	JOURNEY_REQUIRE_SPARK=1 $(SPARK_BIN)/python -m pytest -m spark $(PYTEST_ARGS)

lint: $(STAMP) ## ruff check + ruff format --check (.py and .ipynb)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: $(STAMP) ## Apply ruff's safe fixes (imports etc.), then ruff format
	$(BIN)/ruff check --fix-only $(LINT_PATHS)
	$(BIN)/ruff format $(LINT_PATHS)

strip: $(STAMP) ## Strip outputs and execution counts from every notebook (keeps tags, kernelspec)
ifeq ($(ALL_NOTEBOOKS),)
	@echo "no notebooks to strip"
else
	$(BIN)/nbstripout --keep-id $(ALL_NOTEBOOKS)
endif

hooks: $(STAMP) ## Register nbstripout as this clone's git filter (git config is local: run once per clone)
	$(BIN)/nbstripout --install --keep-id --attributes .gitattributes
	$(BIN)/nbstripout --status

lock: ## Re-resolve every dependency in a throw-away venv and rewrite constraints.txt
	@$(PYTHON) $(PY_VERSION_OK) || { echo "error: make lock needs Python >= 3.11 (PYTHON=$(PYTHON))" >&2; exit 1; }
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "resolving in $$tmp/venv with $$($(PYTHON) --version 2>&1)"; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install -e ".[dev,spark]"; \
	{ printf '%s\n' "$$LOCK_HEADER"; \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -v -i -e '^journeylib\b' -e '^-e ' -e '^#'; \
	} > constraints.txt.new; \
	mv constraints.txt.new constraints.txt
	@echo "constraints.txt rewritten; review 'git diff constraints.txt', run 'make test', commit."

BENCH_CUSTOMERS ?= 1m
BENCH_STAGES ?= journey

bench: $(STAMP) ## Benchmarks (slow, not part of test): time + peak memory per stage; see benchmarks/README.md
	@test -x benchmarks/.venv-retentioneering/bin/python || { $(PYTHON) -m venv benchmarks/.venv-retentioneering && benchmarks/.venv-retentioneering/bin/pip install retentioneering==5.2.4; }
	$(BIN)/python benchmarks/run.py --customers $(BENCH_CUSTOMERS) --stages $(BENCH_STAGES) --compare retentioneering
	$(BIN)/python benchmarks/report.py --plot

bench-scale: $(STAMP) ## The scale suite: every pipeline stage at 100k, 1M and 10M customers (hours; ~60 GB of data)
	$(BIN)/python benchmarks/run.py --customers 100k,1m,10m --stages scale --timeout 5400 --max-rss-gb 21
	$(BIN)/python benchmarks/report.py --plot

clean: ## Remove caches and build artefacts (keeps .venv, data/ and reports/)
	rm -rf .pytest_cache .ruff_cache build dist ./*.egg-info constraints.txt.new
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
	  \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean ## clean, and delete .venv (the next target rebuilds it)
	rm -rf $(VENV)
