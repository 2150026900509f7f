# The two commands: `make run` (local stack with demo data) and `make test` (install everything, run every test).
SHELL := /bin/bash
PY := .venv/bin/python
export SAM_CLI_TELEMETRY := 0

.PHONY: setup run test test-unit test-integration test-e2e test-template lint fmt typecheck bench build validate deploy keys pr docs template

setup:  ## install the venv, Java 17+ and DynamoDB Local (idempotent)
	@bash devtools/setup.sh

run: setup  ## the local stack on 127.0.0.1:3000 with demo data; Ctrl-C stops it
	@$(PY) -m devtools.local_stack $(ARGS)

test: setup  ## every test: unit, integration (moto), end-to-end (local stack over HTTP), template checks
	@$(PY) -m pytest $(ARGS)

test-unit: setup
	@$(PY) -m pytest tests/unit $(ARGS)

test-integration: setup
	@$(PY) -m pytest tests/integration $(ARGS)

test-e2e: setup
	@$(PY) -m pytest tests/e2e $(ARGS)

test-template: setup
	@$(PY) -m pytest tests/template $(ARGS)

lint: setup  ## ruff lint and format check; template.yaml equals its sources (template/*.yaml)
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@$(PY) -m devtools.assemble_template --check

template: setup  ## assemble template.yaml from template/*.yaml (edit those, then run this)
	@$(PY) -m devtools.assemble_template

fmt: setup
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

typecheck: setup
	@.venv/bin/mypy layers/shared/export_service devtools client/export_client

pr: lint typecheck test  ## the gate before a merge

bench: setup  ## export 10,000 and 100,000 records through the handler vs a bare Query loop (prints figures)
	@$(PY) -m devtools.bench $(ARGS)

docs: setup  ## regenerate docs/openapi.json from the routes and docs/api.md from it (tests fail when they are stale)
	@$(PY) -m devtools.openapi
	@$(PY) -m devtools.api_docs

keys: setup  ## API keys: make keys ARGS="create --tenant acme --permissions AUDIT_READ"
	@$(PY) -m devtools.keys $(ARGS)

validate: setup
	@.venv/bin/sam validate --lint

build: validate
	@.venv/bin/sam build

deploy: build  ## needs AWS credentials
	@.venv/bin/sam deploy --guided
