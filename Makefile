# Tollgate. `make dev` runs it locally; `make test` runs every test tier (CI runs exactly that).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.DEFAULT_GOAL := help
.PHONY: help install test test-unit test-functional test-integration test-template lint format openapi bench build deploy dev clean

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/tollgate/requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

$(NPM_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

install: $(STAMP) $(NPM_STAMP) ## Create .venv and install Python and npm tooling

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .

format: $(STAMP) ## ruff format + fixes
	$(VENV)/bin/ruff check --fix .

test: install lint test-unit test-functional test-integration test-template ## Every tier (what CI runs)

test-unit: $(STAMP) ## Domain logic, no AWS
	$(PY) -m pytest -q tests/unit

test-functional: $(STAMP) ## Handlers driven by events/*.json against moto
	$(PY) -m pytest -q tests/functional

test-integration: install ## DynamoDB Local (real engine) + serialised moto server: concurrency, write counts
	$(PY) -m pytest -q tests/integration

test-template: $(STAMP) ## cfn-lint on template.yaml, plus template-driven checks
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) -m pytest -q tests/template

openapi: $(STAMP) ## Regenerate the OpenAPI document served at /v1/openapi.json
	$(PY) scripts/openapi.py --write

bench: install ## Requests, WCU, handler overhead, import times and cost per million debits
	$(PY) scripts/bench.py

build: ## sam build (needs aws-sam-cli and Python 3.12)
	sam build

deploy: build ## sam deploy --guided
	sam deploy --guided

clean: ## Remove build output and caches
	rm -rf .aws-sam .pytest_cache .ruff_cache
