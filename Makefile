# The two commands a newcomer needs are `make run` and `make test`; the rest serve them.

SHELL := /bin/bash
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/chat_dev?sslmode=disable
CHAT_LISTEN ?= 127.0.0.1:8000
export DATABASE_URL CHAT_LISTEN

.PHONY: run test lint lint-deploy test-rust test-web test-e2e test-faults web openapi bench clean-test-databases

## run: build everything and start the whole system (all roles, web client at /) in dev mode
run: web
	cargo build --bin chat
	@psql "$(PG_ADMIN_URL)" -tAc "SELECT 1 FROM pg_database WHERE datname = 'chat_dev'" | grep -q 1 \
		|| psql "$(PG_ADMIN_URL)" -qc "CREATE DATABASE chat_dev"
	@echo ""
	@echo "  Open http://$(CHAT_LISTEN)/  (API docs: http://$(CHAT_LISTEN)/docs/)"
	@echo ""
	cargo run --quiet --bin chat -- all --dev

## test: formatting, lints, and every test suite against the local PostgreSQL and RabbitMQ
test: lint lint-deploy test-rust test-web test-e2e test-faults

## lint: formatting, clippy, and no dependency a crate does not use
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo machete

# Python tools of the checks, pinned, in a virtualenv of the clone's own (git ignores it). The
# stamp names the versions, so changing a pin installs again.
VENV := .venv
CHECK_JSONSCHEMA_VERSION := 0.39.0
VENV_STAMP := $(VENV)/.check-jsonschema-$(CHECK_JSONSCHEMA_VERSION)

$(VENV_STAMP):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check check-jsonschema==$(CHECK_JSONSCHEMA_VERSION)
	touch $@

## lint-deploy: the compose file against the Compose Specification's JSON schema
lint-deploy: $(VENV_STAMP)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml

test-rust:
	cargo nextest run --workspace --no-fail-fast

test-web:
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm test; fi

# The binaries cargo builds, wherever CARGO_TARGET_DIR puts them.
BIN_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
CHAT_BIN ?= $(BIN_DIR)/debug/chat

## test-e2e: the web client in Chromium against a real `chat all` on a fresh database
test-e2e: web
	cargo build --bin chat
	cd web && CHAT_BIN="$(CHAT_BIN)" npm run e2e

## test-faults: `bench faults --quick` on the debug build: each role its own process, faults under
## load; fails when a fault loses, duplicates or reorders a message or delivery does not resume.
## Its results go to a scratch directory: RELIABILITY.md holds the full run's.
test-faults:
	cargo build -p bench -p chat
	@out=$$(mktemp -d) && $(BIN_DIR)/debug/bench faults --quick \
		--markdown $$out/RELIABILITY.md --results-dir $$out/results; \
		status=$$?; rm -rf $$out; exit $$status

## web: build the web client into web/dist (served by `chat all` from CHAT_WEB_DIR)
web:
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm run build; fi

## bench: every benchmark scenario beside its baseline; results go to BENCHMARKS.md
## (The binary is run directly: `cargo run -p bench` alone would unify dependency features
## differently from the build with chat, and compile half the tree again.)
bench:
	cargo build --release -p bench -p chat
	$(BIN_DIR)/release/bench all

## openapi: rewrite the committed OpenAPI document after an intended API change
openapi:
	cargo run --quiet --bin chat -- openapi > openapi/openapi.json

## clean-test-databases: drop the databases test runs leave behind (each test makes its own).
## Not part of `make test`: PostgreSQL checkpoints on every DROP DATABASE, which takes long on a
## busy disk, and the leftovers harm nothing but disk space.
clean-test-databases:
	@psql "$(PG_ADMIN_URL)" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'chat\_test\_%'" \
		| while read -r db; do psql "$(PG_ADMIN_URL)" -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
