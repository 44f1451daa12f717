# Tollgate. `make dev` runs it locally; `make test` runs every test tier (CI runs exactly that).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
# The dashboard (dashboard/): rebuilt when dist is missing or older than its sources.
DASH_NPM_STAMP := dashboard/node_modules/.installed
DASH_BUILD := dashboard/dist/index.html
DASH_SOURCES := $(shell find dashboard/src -type f 2>/dev/null) $(wildcard dashboard/index.html dashboard/vite.config.ts dashboard/tsconfig.json)

.DEFAULT_GOAL := help
# Nothing leaves this machine: SAM CLI's usage telemetry stays off.
export SAM_CLI_TELEMETRY := 0
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
# sam build needs a Python matching the runtime (python3.12); pyenv provides it where present.
# A real interpreter, not a pyenv shim (a shim for an inactive version hangs or fails).
PY312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null))
LOCAL := PYTHONPATH=local $(PY) -m tollgate_local
SUB ?= alice
# The dashboard's sign-in in make dev: its dev page, or oidc (a local issuer, as deployed).
SIGN_IN ?= dev
ROLES ?= user

.PHONY: help install dashboard test test-in-process lane-workflow-load lane-e2e-template-browser test-load test-unit test-functional test-faults test-integration test-workflow test-e2e test-browser test-fuzz test-template lint format openapi bench \
	build deploy dev token schedule reset clean

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): requirements-dev.txt layers/tollgate/requirements.txt sdk/pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The Python SDK (sdk/), editable: its tests (unit and e2e) import the working copy.
	$(PIP) install --quiet --disable-pip-version-check -e ./sdk
	touch $(STAMP)

$(NPM_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

$(DASH_NPM_STAMP): dashboard/package.json
	npm --prefix dashboard install --no-audit --no-fund --loglevel=error
	touch $(DASH_NPM_STAMP)

$(DASH_BUILD): $(DASH_NPM_STAMP) $(DASH_SOURCES)
	npm --prefix dashboard run --silent build
	touch $(DASH_BUILD)

dashboard: $(DASH_BUILD) ## Build the dashboard into dashboard/dist (make dev serves it)

$(SAM_STAMP):
	test -d $(SAM_VENV) || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0
	touch $(SAM_STAMP)

install: $(STAMP) $(NPM_STAMP) ## Create .venv and install Python and npm tooling

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .

format: $(STAMP) ## ruff format + fixes
	$(VENV)/bin/ruff check --fix .

# The in-process tiers keep both cores busy, and so do integration (two workers) and fuzz: each runs
# alone. The workflow tier mostly waits on its executions, so the load tier follows it in one lane
# and e2e, template and browser run beside them (-O: each lane's output together, as it ends).
test: ## Every tier (what CI runs): what they need installs first, then the tiers (workflow and load beside e2e, template, browser)
	$(MAKE) -j2 install $(SAM_STAMP) $(DASH_BUILD) $(CHROMIUM_STAMP)
	$(MAKE) lint test-in-process test-integration test-fuzz
	$(MAKE) -j2 -O lane-workflow-load lane-e2e-template-browser

lane-workflow-load:
	$(MAKE) test-workflow test-load

lane-e2e-template-browser:
	$(MAKE) test-e2e test-template test-browser

# make test runs the three in-process tiers in one pytest session (one start of its two workers, not three).
test-in-process: $(STAMP)
	$(PY) -m pytest -q -n 2 tests/unit tests/functional tests/faults

test-unit: $(STAMP) ## Domain logic, no AWS
	$(PY) -m pytest -q -n 2 tests/unit

test-functional: $(STAMP) ## Handlers driven by events/*.json against moto
	$(PY) -m pytest -q -n 2 tests/functional

test-faults: $(STAMP) ## Every money path under injected DynamoDB and gateway faults (report in test-output/faults)
	$(PY) -m pytest -q -n 2 tests/faults

test-integration: install ## DynamoDB Local (real engine) + serialised moto server: concurrency, write counts
	$(PY) -m pytest -q -n 2 --dist loadfile tests/integration

test-load: install ## make load on small loads: exact under 8 processes, sharded and resharded 4 -> 16 -> 2, and the capacity model
	$(PY) -m pytest -q tests/load

test-workflow: install ## The real .asl.json executed by moto, real handlers and local gateways (failures, compensation)
	$(PY) -m pytest -q tests/workflow

test-e2e: install ## The local stack over HTTP (DynamoDB Local, moto, localstripe, the local gateway)
	$(PY) -m pytest -q tests/e2e

# Debian's Chromium for the browser tier (Playwright's own browser download cannot run here):
# installed once, as root, only where no `chromium` is on PATH (fonts-liberation: the fonts its
# screenshots are read in).
CHROMIUM_STAMP := $(VENV)/.chromium
$(CHROMIUM_STAMP): | $(STAMP)
	command -v chromium >/dev/null || { \
	  test "$$(id -u)" = 0 || { echo "the browser tier needs Debian's chromium: apt-get install chromium (as root)"; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; }
	touch $(CHROMIUM_STAMP)

test-browser: install $(DASH_BUILD) $(CHROMIUM_STAMP) ## The dashboard in headless Chromium against the local stack (screenshots in test-output/browser)
	$(PY) -m pytest -q tests/browser

test-fuzz: install ## Schemathesis against the local stack: every operation, a user, an admin and an API key
	$(PY) -m pytest -q -s tests/fuzz

test-template: $(STAMP) $(SAM_STAMP) $(DASH_BUILD) ## sam validate --lint, cfn-lint, and template-driven checks
	AWS_DEFAULT_REGION=us-east-1 $(SAM) validate --lint --template template.yaml
	$(PY) -m pytest -q tests/template

openapi: $(STAMP) ## Regenerate the OpenAPI document served at /v1/openapi.json
	$(PY) scripts/openapi.py --write

bench: install ## Requests, WCU, handler overhead, import times and cost per million debits
	$(PY) scripts/bench.py

.PHONY: load
load: install ## One wallet debited by 32 worker processes on DynamoDB Local, then its per-partition capacity model (LOAD_ARGS="--debits 2000")
	$(PY) scripts/load.py $(LOAD_ARGS)
	$(PY) scripts/capacity.py --log test-output/load/requests.jsonl --target 150 --target 5000

build: $(SAM_STAMP) ## sam build with Python 3.12 (the functions' runtime)
	@test -n "$(PY312)" || { echo "sam build needs Python 3.12 on PATH (e.g. pyenv install 3.12)"; exit 1; }
	PATH="$(dir $(PY312)):$$PATH" $(SAM) build

deploy: build ## sam deploy --guided (asks for JwtIssuer and JwtAudience)
	$(SAM) deploy --guided

dev: install $(DASH_BUILD) ## Run Tollgate locally on 127.0.0.1:3000 (Ctrl-C stops everything); SIGN_IN=oidc: a local OIDC issuer
	$(LOCAL) dev --sign-in $(SIGN_IN)

token: $(STAMP) ## Print a signed dev JWT: make token SUB=alice ROLES=user (or ROLES="admin user")
	@$(LOCAL) token --sub "$(SUB)" --roles "$(ROLES)"

schedule: $(STAMP) ## Run a scheduled function now in the running make dev: make schedule NAME=HoldsSweeperFunction
	@test -n "$(NAME)" || { echo "usage: make schedule NAME=<FunctionLogicalName>"; exit 2; }
	@$(LOCAL) schedule "$(NAME)"

reset: $(STAMP) ## Wipe local data (DynamoDB Local files, stream checkpoints)
	$(LOCAL) reset

clean: ## Remove build output and caches
	rm -rf .aws-sam .pytest_cache .ruff_cache
