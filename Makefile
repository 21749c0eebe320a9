# Churnwatch: the two commands a new machine needs are `make demo` and `make test`.

GO        ?= go
BIN       := bin
DATA_DIR  ?= .churnwatch
GOBIN     := $(shell $(GO) env GOPATH)/bin
# The commit `--version` prints: builds here run with -buildvcs=false.
COMMIT    ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)

.PHONY: demo stop build test test-deps test-stop bench eval clean

## demo: build, start the worker on the embedded Temporal server, score and scan the sample book
demo: build
	@scripts/demo.sh

## stop: stop the demo worker, and the PostgreSQL `make test` started
stop: test-stop
	@scripts/demo.sh stop

build:
	$(GO) build -ldflags "-X github.com/churnwatch/churnwatch/buildinfo.commit=$(COMMIT)" -o $(BIN)/ ./starter ./worker

## test: install what the tests need (PostgreSQL, the Temporal CLI, Chromium) and run every test
test: test-deps
	. $(DATA_DIR)/test-env && $(GO) test -count=1 -timeout 20m ./...

# One line for each thing installed or started; the installers' output
# goes to $(DATA_DIR)/test-deps.log.
test-deps:
	@mkdir -p $(DATA_DIR)
	@CHURNWATCH_TEST_DEPS_LOG=$(DATA_DIR)/test-deps.log bash scripts/test-deps.sh > $(DATA_DIR)/test-env

## test-stop: stop the PostgreSQL that `make test` started (.ci/postgres.sh)
test-stop:
	@bash .ci/postgres.sh stop

## bench: the benchmarks whose figures the closing notes report
bench:
	$(GO) test -run '^$$' -bench '100k' -benchmem -benchtime 3x ./risk
	$(GO) test -run '^$$' -bench 'Score$$|Draft|Validate|Event|SaveScores' -benchmem ./risk ./draft ./store
	$(GO) test -run '^$$' -bench . -benchtime 1x ./backtest ./worker
	$(GO) test -run '^$$' -bench 'Inbox|Dashboard|SignIn' -benchtime 1x ./web

clean:
	rm -rf $(BIN) $(DATA_DIR)
