# One target per thing a person does. `make dev` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TOOLS_STAMP := $(TOOLS)/.installed

.PHONY: help venv tools dev test lint unit contract fmt seed invoke bench build deploy destroy clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(TOOLS_STAMP): .ci/tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r .ci/tools.txt
	@touch $@

venv: $(STAMP) ## create the virtualenv with the service and its dev tools

tools: $(TOOLS_STAMP) ## create the template/container tools virtualenv (sam, cfn-lint, checkov, hadolint)

lint: $(STAMP) ## ruff and mypy
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy

fmt: $(STAMP) ## format and fix what ruff can
	$(VENV)/bin/ruff format
	$(VENV)/bin/ruff check --fix

test: $(STAMP) $(TOOLS_STAMP) lint ## lint, then every test tier (unit, contract, infra, e2e)
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

unit: $(STAMP) ## only the unit tests (no AWS emulator, no templates, no processes)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

contract: $(STAMP) ## only the contract tier: every events/ sample through the Lambda handlers (moto in-process)
	$(PY) -m pytest tests/contract $(PYTEST_ARGS)

clean: ## remove virtualenvs and build output
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# Each area keeps its own targets in make/<area>.mk (infra: deploy/destroy and the
# SAM build targets; dev: dev/seed/invoke; bench: bench). They may use the
# variables above: $(PY), $(VENV), $(TOOLS), $(STAMP), $(TOOLS_STAMP).
-include make/*.mk
