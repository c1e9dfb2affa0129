# The two commands a newcomer needs are `make run` and `make test`; the rest serve them.

SHELL := /bin/bash
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/chat_dev?sslmode=disable
CHAT_LISTEN ?= 127.0.0.1:8000
export DATABASE_URL CHAT_LISTEN

.PHONY: run test lint lint-deploy test-rust test-web test-e2e test-e2e-topology test-topology test-contract test-asyncapi test-faults web openapi bench clean-test-databases

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
test: lint lint-deploy test-rust test-web test-e2e test-e2e-topology test-contract test-asyncapi test-faults

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

# The Caddyfile's placeholders as the topology tests fill them (any ports will do to validate).
TOPOLOGY_PROXY_ENV := CHAT_PROXY_ADMIN=off CHAT_PROXY_PORT=8000 \
	CHAT_PROXY_COMMAND_API="to 127.0.0.1:8001 127.0.0.1:8002" CHAT_PROXY_QUERY_API="to 127.0.0.1:8003" \
	CHAT_PROXY_FANOUT="to 127.0.0.1:8004 127.0.0.1:8005"
# Caddy logs as it validates: its output is shown only when the file is refused.
CADDY_VALIDATE := caddy validate --adapter caddyfile --config deploy/Caddyfile

## lint-deploy: the compose file against the Compose Specification's JSON schema, and the
## Caddyfile as compose runs it and as the topology tests run it
lint-deploy: $(VENV_STAMP)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml
	@out=$$($(CADDY_VALIDATE) 2>&1) || { echo "$$out"; exit 1; }
	@out=$$($(TOPOLOGY_PROXY_ENV) $(CADDY_VALIDATE) 2>&1) || { echo "$$out"; exit 1; }
	@echo "deploy/Caddyfile: valid for compose and for the topology tests"

test-rust:
	cargo nextest run --workspace --no-fail-fast

## test-web: the web client's unit tests, and its API types are those openapi/openapi.json gives
test-web:
	cd web/api-gen && npm ci --no-audit --no-fund && npm run check
	cd web && npm ci --no-audit --no-fund && npm test

# The binaries cargo builds, wherever CARGO_TARGET_DIR puts them.
BIN_DIR := $(abspath $(or $(CARGO_TARGET_DIR),target))
CHAT_BIN ?= $(BIN_DIR)/debug/chat

## test-e2e: the web client in Chromium against a real `chat all` on a fresh database
test-e2e: web
	cargo build --bin chat
	cd web && CHAT_BIN="$(CHAT_BIN)" npm run e2e

## test-e2e-topology: the same stories through Caddy (deploy/Caddyfile) in front of the deployed
## layout: command-api ×2, query-api, projector ×2 and fanout ×2 as processes of their own
test-e2e-topology: web
	cargo build --bin chat
	cd web && CHAT_BIN="$(CHAT_BIN)" CHAT_E2E_LAYOUT=topology npm run e2e

## test-topology: the deployed layout alone: its Rust stories (chat/tests/api/topology/), then
## the browser's stories through its proxy
test-topology:
	cargo nextest run -p chat --test api -E 'test(/^topology::/)'
	$(MAKE) test-e2e-topology

# Schemathesis, pinned in its requirements, in the same virtualenv.
SCHEMATHESIS_REQUIREMENTS := openapi/schemathesis/requirements.txt

$(VENV)/.schemathesis: $(SCHEMATHESIS_REQUIREMENTS)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(SCHEMATHESIS_REQUIREMENTS)
	touch $@

## test-contract: Schemathesis (every phase, every check) against a fresh `chat all`; 0 failures
test-contract: $(VENV)/.schemathesis
	cargo build --bin chat
	CHAT_BIN="$(CHAT_BIN)" SCHEMATHESIS="$(abspath $(VENV))/bin/schemathesis" openapi/schemathesis/run

# Every frame the WebSocket stories receive, recorded for test-asyncapi.
ASYNCAPI_FRAMES ?= $(BIN_DIR)/asyncapi-frames.jsonl

## test-asyncapi: openapi/asyncapi.yaml is valid AsyncAPI 3.0, and every frame the server sends
## in the WebSocket stories is one of its messages for that dialect (and every close code, one
## of its codes)
test-asyncapi:
	cd openapi/asyncapi-check && npm ci --no-audit --no-fund && npm test
	rm -f "$(ASYNCAPI_FRAMES)"
	CHAT_WS_FRAMES="$(ASYNCAPI_FRAMES)" cargo nextest run -p chat --test api \
		-E 'test(/^(websocket_|sockets|stopping|hidden_characters)/)'
	cd openapi/asyncapi-check && node check.mjs ../asyncapi.yaml "$(ASYNCAPI_FRAMES)"

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

## openapi: rewrite the committed OpenAPI document after an intended API change, and the web
## client's types generated from it
openapi:
	cargo run --quiet --bin chat -- openapi > openapi/openapi.json
	cd web/api-gen && npm ci --no-audit --no-fund && npm run generate

## clean-test-databases: drop the databases test runs leave behind (each test makes its own).
## Not part of `make test`: PostgreSQL checkpoints on every DROP DATABASE, which takes long on a
## busy disk, and the leftovers harm nothing but disk space.
clean-test-databases:
	@psql "$(PG_ADMIN_URL)" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'chat\_test\_%'" \
		| while read -r db; do psql "$(PG_ADMIN_URL)" -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; done
