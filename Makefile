# The two commands of the README:  make plan STACK=prod-east   and   make test
# Both set up what they need on a fresh machine (the program's virtualenv from requirements.txt).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= prod-east

.PHONY: plan test lint bench-plan clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

plan: $(VENV)/.installed
	$(PY) -m cdcctl plan --stack $(STACK)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest

bench-plan: $(VENV)/.installed
	$(PY) scripts/bench_plan.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
