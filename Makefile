# The two commands: `make run` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .data/tools
UV := $(TOOLS)/bin/uv-$(UV_VERSION)
VENV := .venv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
CODE := src tests migrations $(wildcard bench)

export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never

.PHONY: help deps run test test-pooled lint format stack-up stack-down stack-status migrate bench bench-ws admin admin-down demo clean-data

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	ln -sf uv $(UV)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	$(BIN)/python -m compileall -q src
	@touch $@

deps: $(SYNCED) ## Create .venv with the locked dependencies

API_REPLICAS ?= 1
run: deps ## Start PostgreSQL + FerretDB, migrate, serve on :8000 (Ctrl-C stops all; API_REPLICAS=3: behind nginx)
	$(BIN)/oneenglish run --api-replicas $(API_REPLICAS)

# Tests run on TEST_WORKERS processes (pytest-xdist), each with its own databases and fault
# stacks; worksteal keeps both busy when the slow files (fuzzer, crash tests) come last.
TEST_WORKERS ?= 2

test: deps lint ## Lint, then the whole test suite against real PostgreSQL and FerretDB, then again behind PgBouncer
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal
	TEST_PGBOUNCER=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(POOLED_TESTS)

# The suite again with every application connection through a real PgBouncer in transaction
# pooling mode (README "PgBouncer"), but for the tests that stop, kill or start servers
# themselves (tests/faults, tests/stack), which are about the servers, not the connections.
POOLED_TESTS ?= tests --ignore=tests/faults --ignore=tests/stack
test-pooled: deps ## The test suite behind PgBouncer (transaction pooling); README "PgBouncer"
	TEST_PGBOUNCER=1 $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal $(POOLED_TESTS)

lint: deps ## ruff, ruff format --check, mypy --strict (src, tests and bench)
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy src tests bench

format: deps ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

admin: deps ## pgAdmin on :5050 and Mongo Express on :8081 for the local stack (README "Admin tools")
	$(BIN)/oneenglish admin up

admin-down: deps ## Stop pgAdmin and Mongo Express
	$(BIN)/oneenglish admin down

LEARNERS ?= 200
demo: deps ## Demo data: courses A1-C2, teachers, LEARNERS learners and 60 days of their activity
	$(BIN)/oneenglish stack up
	$(BIN)/oneenglish migrate
	$(BIN)/oneenglish seed-demo --learners $(LEARNERS)

stack-up: deps ## Start the local databases only
	$(BIN)/oneenglish stack up

stack-down: deps ## Stop the local databases
	$(BIN)/oneenglish stack down

stack-status: deps ## Show the local databases
	$(BIN)/oneenglish stack status

migrate: deps ## Apply migrations and MongoDB indexes to the configured databases
	$(BIN)/oneenglish migrate

SCALE ?= small
BENCH_ARGS ?=
SCENARIO ?=
bench: deps ## Benchmarks on their own stack (SCALE=small|large, BENCH_ARGS=..., SCENARIO=scale: scaling out; bench/README.md)
ifeq ($(SCENARIO),scale)
	$(BIN)/python -m bench.scale --scale $(SCALE) $(BENCH_ARGS)
else
	$(BIN)/python -m bench --scale $(SCALE) $(BENCH_ARGS)
endif

WS_ARGS ?=
bench-ws: deps ## WebSockets under load: 1,000 sockets, delivery latency, memory (WS_ARGS=--connections N)
	$(BIN)/python -m bench.realtime $(WS_ARGS)

clean-data: ## Stop the stack and delete .data (all local databases and built binaries)
	-$(BIN)/oneenglish stack down
	rm -rf .data
