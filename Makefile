# The two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BIN := bin/dialin
CONFIG ?=
FUZZTIME ?= 30s

.PHONY: build run test test-deps lint lint-deps check-deploy bench bench-go bench-sipp bench-load bench-cluster prompts fuzz vet clean screenshots

# -buildvcs=auto stamps the git revision into the binary (dialin --version)
# even where GOFLAGS turns stamping off; outside a checkout it stamps none.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/dialin

# Start the bridge with its embedded defaults (loopback, demo configuration),
# or with CONFIG=path/to/dialin.yaml.
run: build
	./$(BIN) serve $(if $(CONFIG),--config $(CONFIG))

# The lint, then every test with the race detector. Installs sipp and the
# lint tools when they are missing.
test: test-deps lint
	$(GO) test -race -count=1 -timeout 10m ./...

# The service files: systemd-analyze verify (and an offline security score)
# on deploy/systemd/dialin.service, the Dockerfile's structure (hadolint too
# where installed), and a docker build where a daemon answers and the base
# images are present locally (tests never pull). make test runs these too.
check-deploy:
	$(GO) test -count=1 -v ./deploy

test-deps:
	@GO=$(GO) bash scripts/install-test-deps.sh

# go vet, staticcheck and deadcode (no production code may be unreachable
# from the programs; scripts/deadcode-testonly.txt names the test helpers).
lint: lint-deps
	@GO=$(GO) bash scripts/lint.sh

lint-deps:
	@GO=$(GO) bash scripts/install-test-deps.sh --lint

# Go benchmarks of the hot paths (allocations included), then the sipp
# call-setup-rate run and the sipp load run (CPU and RSS per participant,
# churn), then the cluster's off-home cost. Figures go into BENCHMARKS.md.
bench: bench-go bench-sipp bench-load bench-cluster

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-sipp: test-deps
	bash scripts/bench-sipp.sh

# About 17 minutes; STEPS, WINDOW_SECONDS, CHURN_CALLS... in
# scripts/bench-load.sh.
bench-load: test-deps
	bash scripts/bench-load.sh

# Two cluster nodes on one PostgreSQL: what a caller off the meeting's
# home costs and adds in delay (cmd/dialin/cluster_bench_test.go; about 2
# minutes; MEETINGS, SIZE, WINDOW, PROBES).
bench-cluster: test-deps
	DIALIN_CLUSTER_BENCH=1 $(GO) test -count=1 -v -run '^TestClusterLoadBench$$' -timeout 20m ./cmd/dialin

# Pictures of the admin center's pages, taken in headless Chromium by the
# browser tests, into screenshots/ (not committed).
screenshots: test-deps
	DIALIN_SCREENSHOTS=$(CURDIR)/screenshots $(GO) test -count=1 -run 'InBrowser' ./cmd/dialin

# Regenerate the spoken prompts with espeak-ng (the WAVs are committed; the
# build and the tests do not need espeak-ng).
prompts:
	bash scripts/make-prompts.sh

# Run each fuzz target for FUZZTIME.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$target"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME); \
	  done; \
	done

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
