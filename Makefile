# The two commands a new user types: `make run` and `make test`.
# Everything else here bootstraps what those two need on a machine that has only python3 and make.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME := $(VENV)/.runtime
SLOTGUARD_TEST_PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export SLOTGUARD_TEST_PG_URL

.PHONY: run test lint typecheck audit pytest bench migrate clean help pg-cluster-up pg-cluster-down

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# Reinstall only when a lock or the project metadata changed. `make run` needs only the
# runtime lock; the test tools (pytest, mypy, ruff, playwright) come with `make test`.
$(RUNTIME): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(RUNTIME)

$(STAMP): requirements-dev.lock requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP) $(RUNTIME)

install: $(STAMP) ## Create .venv and install the locked dependencies (with the test tools).

# Insecure dev mode only when no Retell key variable exists at all; a key that is set but
# empty is refused by the settings with one line instead of silently turning verification off.
run: $(RUNTIME) ## Migrate and start the service on the embedded default (SQLite + local calendar + demo tenant).
	if [ -z "$${SLOTGUARD_RETELL_API_KEY+set}" ] && [ -z "$${SLOTGUARD_INSECURE_DEV+set}" ]; then \
	  SLOTGUARD_INSECURE_DEV=1 ; export SLOTGUARD_INSECURE_DEV ; fi ; \
	$(BIN)/slotguard migrate && exec $(BIN)/slotguard serve

migrate: $(RUNTIME) ## Upgrade the database to the newest schema.
	$(BIN)/slotguard migrate

lint: $(STAMP) ## ruff check and format check.
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) ## mypy --strict on src/.
	$(BIN)/mypy src

pytest: $(STAMP) ## The test suite against SQLite and PostgreSQL.
	$(BIN)/pytest $(PYTEST_ARGS)

audit: $(STAMP) ## Offline dependency audit: the locks against security/advisories.json (SECURITY.md).
	$(BIN)/python scripts/audit_deps.py

test: lint typecheck audit pytest ## Everything CI runs: lint, type-check, dependency audit, tests on both databases.

BENCHES ?= decisions growth latency chaos failover calcom_budget

bench: $(STAMP) ## Benchmarks on PostgreSQL (long); JSON to stdout and bench/results/NAME.json.
	mkdir -p bench/results
	set -e; for name in $(BENCHES); do \
	  echo "== bench/$$name" >&2; \
	  $(BIN)/python -m bench.$$name $(BENCH_ARGS) | tee bench/results/$$name.json; \
	done

pg-cluster-up: ## A local pg_auto_failover cluster (monitor, primary, standby) on loopback; prints its URL.
	scripts/pg-cluster.sh up

pg-cluster-down: ## Stop the local pg_auto_failover cluster and remove its directory.
	scripts/pg-cluster.sh down

clean: ## Remove the venv and local databases.
	rm -rf $(VENV) slotguard.db slotguard.db-wal slotguard.db-shm
