# Cloud Connect Operator. `make up` brings everything up locally; `make test` runs every test.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# The project pins its own Node (npm package `node`, Node 24 LTS); nothing uses the machine's node.
# Bootstrap: the pinned runtime is installed alone first, in the cache beside the cluster binaries
# (kept across `make down` and shared by clones), so that npm itself runs on Node 24 when it installs
# the project: no EBADENGINE warnings from the machine's older Node.
LOCAL := $(CURDIR)/.local
CACHE := $(or $(CLOUDCONNECT_CACHE),$(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/cloudconnect-operator)
NODE_VERSION := $(shell sed -n 's/^ *"node": "\([0-9][0-9.]*\)".*/\1/p' package.json)
RUNTIME := $(CACHE)/node-$(NODE_VERSION)
# test/cluster/build.sh and bin-path.sh read the same cache from this variable.
export CLOUDCONNECT_CACHE := $(CACHE)
export PATH := $(CURDIR)/node_modules/.bin:$(RUNTIME)/node_modules/.bin:$(PATH)
NODE := $(CURDIR)/node_modules/.bin/node

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

RUNTIME_STAMP := $(RUNTIME)/.complete
$(RUNTIME_STAMP):
	@echo "[deps] installing the pinned Node $(NODE_VERSION) (npm package node) for npm to run on"
	@mkdir -p $(RUNTIME) && echo '{"private": true, "allowScripts": {"node": true}}' > $(RUNTIME)/package.json
	npm install --prefix $(RUNTIME) --no-save --no-package-lock --no-audit --no-fund --loglevel=error node@$(NODE_VERSION)
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json | $(RUNTIME_STAMP)
	@echo "[deps] npm ci on Node $$(node --version)"
	npm ci --no-audit --no-fund --foreground-scripts=false
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install the pinned Node runtime and npm dependencies.

.PHONY: system-deps
system-deps: ## Install the system tools the tests use (promtool, lua5.4, shellcheck) when missing.
	test/install-system-deps.sh

.PHONY: generate
generate: deps ## Write crds/ (and the chart's copy) from the typed API in operator/api, the chart's Vault policies, and its values.schema.json.
	$(NODE) operator/api/generate.ts
	$(NODE) test/chart/values-schema.ts
	$(NODE) test/chart/vault-policies.ts

.PHONY: verify
verify: deps ## Fail on drift of generated files, formatting, lint, import direction, dead code or types.
	$(NODE) operator/api/generate.ts --check
	$(NODE) test/chart/values-schema.ts --check
	$(NODE) test/chart/vault-policies.ts --check
	biome ci --reporter=summary .
	depcruise operator --config .dependency-cruiser.cjs
	knip --no-progress
	tsc --noEmit -p tsconfig.json

.PHONY: fmt
fmt: deps ## Format the tree and apply Biome's safe fixes (import order, import type).
	biome check --write .

.PHONY: cluster-binaries
cluster-binaries: ## Build (or reuse from cache) etcd, kube-*, kubectl, kwok, kubelet + kube-proxy, Vault, nats-server, helm and actionlint.
	test/cluster/build.sh

.PHONY: image
image: deps system-deps ## Build (or reuse from cache) the operator's container image as an OCI tarball, no Docker engine; prints IMAGE=... TAR=...
	test/image/build.sh operator

.PHONY: up
up: deps system-deps cluster-binaries ## Start cluster, Vault, CRDs, operator, examples and the demo clinic locally (safe to re-run).
	test/local/up.sh

.PHONY: demo-send
demo-send: ## After `make up`: the simulated Ocean sends COUNT (3) messages to every demo relay; one line per message.
	$(NODE) test/local/demo/send.ts --count $(or $(COUNT),3)

.PHONY: down
down: ## Stop everything `make up` started and remove its state.
	test/local/down.sh

.PHONY: test
test: deps system-deps cluster-binaries ## Unit tests, integration tests against a real control plane, then e2e tests on a real node; ends with "N passed, N failed".
	@mkdir -p test-results && rm -f test-results/*.json
	@status=0; \
	vitest run --project unit --reporter=default --reporter=json --outputFile.json=test-results/unit.json || status=1; \
	vitest run --project integration --reporter=default --reporter=json --outputFile.json=test-results/integration.json || status=1; \
	vitest run --project e2e --reporter=default --reporter=json --outputFile.json=test-results/e2e.json || status=1; \
	$(NODE) test/summarize.ts test-results/unit.json test-results/integration.json test-results/e2e.json || status=1; \
	exit $$status

.PHONY: test-unit
test-unit: deps ## Unit tests only (no I/O).
	vitest run --project unit

.PHONY: test-integration
test-integration: deps system-deps cluster-binaries ## Integration tests only (starts and stops its own control plane).
	vitest run --project integration

.PHONY: bench-sites
bench-sites: deps ## Benchmark: 1,000 OceanSites to Ready, then 5 idle minutes (BENCH_SITES, BENCH_IDLE_SECONDS).
	$(NODE) test/bench/sites.ts

.PHONY: bench-fleet
bench-fleet: deps ## Benchmark: 10,000 OceanSites + 10,000 EmrIntegrations (one Accuro simulator) to Ready, requests per object, RSS, idle writes (BENCH_SITES).
	BENCH_INTEGRATIONS=1 BENCH_SITES=$${BENCH_SITES:-10000} BENCH_OPERATOR_MEMORY_LIMIT=$${BENCH_OPERATOR_MEMORY_LIMIT:-2Gi} $(NODE) test/bench/sites.ts

.PHONY: bench-sync
bench-sync: deps ## Benchmark: Full sync of 20,000 patients / 5,000 appointments vs a plain AES-256-GCM loop.
	$(NODE) test/bench/sync.ts

.PHONY: bench-schedule
bench-schedule: deps ## Benchmark: 200 SyncSchedules vs 200 CronJobs, same minute and spread by H/5, each alone and together: p50/p99 of Job created − tick (BENCH_PASSES, BENCH_PHASES, BENCH_TICKS).
	$(NODE) test/bench/schedule.ts

.PHONY: bench-relay
bench-relay: deps ## Benchmark: relay webhook → EMR simulator msgs/s and p50/p99 on a real nats-server vs a raw JetStream loop and a fair ceiling (JetStream + the same EMR calls) (BENCH_MESSAGES).
	$(NODE) test/bench/relay.ts
