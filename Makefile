# Entry points; scripts/bootstrap.sh prepares the machine and .venv (idempotent).
VENV ?= .venv
export VENV

.PHONY: bootstrap demo test lint

bootstrap:
	scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/bin/outage demo

test: bootstrap
	scripts/test.sh

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
