# The two commands of the README:  make plan STACK=prod-east   and   make test
# Both set up what they need on a fresh machine: the program's virtualenv (requirements.txt) and, for
# the tests, the rehearsal engine's (requirements-engine.txt), a Java runtime for Flink and Debezium,
# and PostgreSQL 15 for the CDC rehearsal.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_VENV := .engine-venv
STACK ?= prod-east

.PHONY: plan test lint engine java postgres promtool golden bench-plan bench-cli bench-routing bench-cdc clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(ENGINE_VENV)/.installed: requirements-engine.txt
	$(PYTHON) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(ENGINE_VENV)/bin/python -m pip install --quiet -r requirements-engine.txt
	touch $@

# Flink and Debezium need a JDK/JRE 11+ (17 here); install Debian's if the machine has none.
java:
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }

# The CDC rehearsal starts its own PostgreSQL 15 (Debian's server binaries) with TLS (openssl).
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb && command -v openssl >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq postgresql-15 openssl; }

# The alert-rule tests run the real promtool (`check config`, `check rules`, `test rules`), which
# Debian's prometheus package ships (2.42 on bookworm). No recommends: the node exporter is not needed.
# On a machine with systemd the package also enables its Prometheus server; the tests never use it.
promtool:
	@command -v promtool >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }

engine: java postgres $(ENGINE_VENV)/.installed

plan: $(VENV)/.installed
	$(PY) -m cdcctl plan --stack $(STACK)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint engine promtool
	$(PY) -m pytest

# Deliberately, after an infrastructure change: rewrite the stacks' golden plans (review the diff).
golden: $(VENV)/.installed
	$(PY) scripts/refresh_golden.py

bench-plan: $(VENV)/.installed
	$(PY) scripts/bench_plan.py

bench-cli: $(VENV)/.installed
	$(PY) scripts/bench_cli.py

bench-routing: engine
	PYTHONPATH=. $(ENGINE_VENV)/bin/python scripts/bench_routing.py

bench-cdc: engine $(VENV)/.installed
	PYTHONPATH=. $(PY) scripts/bench_cdc.py

clean:
	rm -rf $(VENV) $(ENGINE_VENV) .pytest_cache .mypy_cache .ruff_cache

# Mutation testing (mutmut, pinned in requirements-dev.txt: never part of what a deploy installs) of the
# modules the fast tests must pin down: compiler, routes, settings, policy rules. Only the fast tier runs
# (pyproject.toml [tool.mutmut]); prints killed/total per module and fails below MUTATION_MIN percent.
MUTATION_MIN ?= 85
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
.PHONY: mutation

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

mutation: $(VENV)/.dev-installed
	rm -rf mutants  # a fresh copy: mutmut keeps stale copies of files it does not mutate
	mkdir mutants
	$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) > mutants/mutmut-run.log 2>&1 || \
	  { tail -c 3000 mutants/mutmut-run.log; exit 1; }
	$(PY) scripts/mutation_report.py --min $(MUTATION_MIN)
