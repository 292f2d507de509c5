# Handoff: `make run` starts the whole local stack, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
export GOFLAGS ?= -buildvcs=false

BINARIES := bin/handoff-worker bin/handoff-api bin/handoff-inbox bin/handoff-payments bin/handoff-carrier bin/handoff-verification bin/localstack bin/starter

.PHONY: run stop clean status tools build test test-unit test-cluster lint fmt help bench faults images deploy-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

run: tools build ## start Temporal, Postgres, MinIO, Mailpit, the webhook inbox, the payment, carrier and verification stand-ins, the worker and the API; Ctrl-C stops them
	bin/localstack run

stop: bin/localstack ## stop every process a `make run` or `make test` left running
	bin/localstack down

status: bin/localstack ## show which parts of the stack answer
	bin/localstack status

clean: ## stop the stack and delete its data (.dev) and the built binaries (bin)
	-[ -x bin/localstack ] && bin/localstack down
	rm -rf .dev bin

tools: ## build the pinned tools (Temporal CLI, MinIO, Mailpit, linters) into ./bin
	deploy/tools.sh

build: ## build the worker, the API, the webhook inbox, the payment, carrier and verification stand-ins, the stack supervisor and the command-line tool
	$(GO) build -o bin/handoff-worker ./worker
	$(GO) build -o bin/handoff-api ./api
	$(GO) build -o bin/handoff-inbox ./deploy/webhookinbox/cmd/handoff-inbox
	$(GO) build -o bin/handoff-payments ./deploy/paymentsim/cmd/handoff-payments
	$(GO) build -o bin/handoff-carrier ./deploy/carriersim/cmd/handoff-carrier
	$(GO) build -o bin/handoff-verification ./deploy/verificationsim/cmd/handoff-verification
	$(GO) build -o bin/localstack ./deploy/localstack
	$(GO) build -o bin/starter ./starter

bin/localstack: $(shell find deploy/localstack config store workflows -name '*.go' 2>/dev/null) go.mod
	$(GO) build -o bin/localstack ./deploy/localstack

# `make test` brings the inbox and the stand-ins up with the rest of the infrastructure.
bin/handoff-inbox: $(shell find deploy/webhookinbox standardwebhooks config telemetry -name '*.go' 2>/dev/null) go.mod
	$(GO) build -o bin/handoff-inbox ./deploy/webhookinbox/cmd/handoff-inbox

bin/handoff-payments: $(shell find deploy/paymentsim payments signedhttp config telemetry -name '*.go' 2>/dev/null) go.mod
	$(GO) build -o bin/handoff-payments ./deploy/paymentsim/cmd/handoff-payments

bin/handoff-carrier: $(shell find deploy/carriersim carrier signedhttp standardwebhooks config telemetry -name '*.go' 2>/dev/null) go.mod
	$(GO) build -o bin/handoff-carrier ./deploy/carriersim/cmd/handoff-carrier

bin/handoff-verification: $(shell find deploy/verificationsim verification signedhttp standardwebhooks config telemetry -name '*.go' 2>/dev/null) go.mod
	$(GO) build -o bin/handoff-verification ./deploy/verificationsim/cmd/handoff-verification

test: bin/localstack bin/handoff-inbox bin/handoff-payments bin/handoff-carrier bin/handoff-verification ## every test: unit tests and integration tests on the real stack (started if not running)
	deploy/tools.sh temporal minio mailpit $(if $(filter cluster,$(TEMPORAL_MODE)),temporal-server temporal-sql-tool temporal-ui-server)
	deploy/test.sh

test-cluster: ## `make test` on a local Temporal cluster (Temporal Server on Postgres, 16 shards) instead of the dev server
	TEMPORAL_MODE=cluster $(MAKE) test

bench: build ## measure the running stack (`make run` first) beside the bare engine; BENCH_FLAGS for more (see README)
	bin/starter bench $(BENCH_FLAGS)

faults: build ## run the fault matrix on a stack of its own (no `make run` needed) and print it; FAULTS_FLAGS for more (-cases 50 for a trial)
	bin/starter faults $(FAULTS_FLAGS)

test-unit: ## unit tests only, no stack needed (workflow tests run on the SDK's test suite)
	$(GO) test -race -count=1 ./...

lint: ## gofmt, go vet, staticcheck and Temporal's workflowcheck
	deploy/tools.sh staticcheck workflowcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	bin/staticcheck ./...
	bin/staticcheck -tags integration ./...
	bin/workflowcheck ./workflows/...

fmt: ## format every Go file
	gofmt -w $$(git ls-files '*.go')

images: ## build the API and worker images with ko, without Docker, as OCI tarballs with SBOMs in .dev/images
	deploy/tools.sh ko
	deploy/images/build.sh

deploy-check: ## build every Kustomize overlay and validate it with kubeconform; check the Compose file against the Compose schema
	deploy/tools.sh kustomize kubeconform
	deploy/check.sh
