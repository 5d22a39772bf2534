# The two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
BIN := bin/dialin
CONFIG ?=
FUZZTIME ?= 30s

.PHONY: build run test test-deps bench bench-go bench-sipp bench-load prompts fuzz vet clean

build:
	$(GO) build -o $(BIN) ./cmd/dialin

# Start the bridge with its embedded defaults (loopback, demo configuration),
# or with CONFIG=path/to/dialin.yaml.
run: build
	./$(BIN) serve $(if $(CONFIG),--config $(CONFIG))

# Every test, with the race detector. Installs sipp when it is missing.
test: test-deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 10m ./...

test-deps:
	@bash scripts/install-test-deps.sh

# Go benchmarks of the hot paths (allocations included), then the sipp
# call-setup-rate run and the sipp load run (CPU and RSS per participant,
# churn). Figures go into BENCHMARKS.md.
bench: bench-go bench-sipp bench-load

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-sipp: test-deps
	bash scripts/bench-sipp.sh

# About 17 minutes; STEPS, WINDOW_SECONDS, CHURN_CALLS... in
# scripts/bench-load.sh.
bench-load: test-deps
	bash scripts/bench-load.sh

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
