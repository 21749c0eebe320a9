# Churnwatch: the two commands a new machine needs are `make demo` and `make test`.

GO        ?= go
BIN       := bin
DATA_DIR  ?= .churnwatch
GOBIN     := $(shell $(GO) env GOPATH)/bin

.PHONY: demo stop build test test-deps bench eval clean

## demo: build, start the worker on the embedded Temporal server, score and scan the sample book
demo: build
	@scripts/demo.sh

## stop: stop the demo worker
stop:
	@scripts/demo.sh stop

build:
	$(GO) build -o $(BIN)/ ./starter ./worker

## test: install what the tests need (PostgreSQL, the Temporal CLI, Chromium) and run every test
test: test-deps
	. $(DATA_DIR)/test-env && $(GO) test -count=1 -timeout 20m ./...

test-deps:
	@mkdir -p $(DATA_DIR)
	bash scripts/test-deps.sh > $(DATA_DIR)/test-env

## bench: the benchmarks whose figures the closing notes report
bench:
	$(GO) test -run '^$$' -bench '100k' -benchmem -benchtime 3x ./risk
	$(GO) test -run '^$$' -bench 'Score$$|Draft|Validate|Event|SaveScores' -benchmem ./risk ./draft ./store
	$(GO) test -run '^$$' -bench . -benchtime 1x ./backtest ./worker
	$(GO) test -run '^$$' -bench 'Inbox|Dashboard|SignIn' -benchtime 1x ./web

clean:
	rm -rf $(BIN) $(DATA_DIR)
