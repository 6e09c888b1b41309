# podium: continuous delivery for machine-learning models.
# `make help` lists the targets.

SHELL      := /bin/bash
GO         ?= go
BIN        ?= bin/podium
PKG        := github.com/podium-ml/podium
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT     ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE       ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS    := -s -w -X $(PKG)/internal/version.Version=$(VERSION) \
              -X $(PKG)/internal/version.Commit=$(COMMIT) \
              -X $(PKG)/internal/version.Date=$(DATE)

.PHONY: help build test test-short lint fmt fuzz demo bench image image-smoke e2e-runners release-dist clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build a static, version-stamped bin/podium
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/podium

test: ## vet, then every test with the race detector (what CI runs)
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -count=1 -timeout=20m ./...

test-short: ## the quick tests, no race detector
	$(GO) test -short -count=1 ./...

lint: ## gofmt check, vet, actionlint on workflows, schema checks
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool actionlint
	@bash scripts/check-schemas.sh

fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	@bash scripts/fuzz.sh $${FUZZTIME:-30s}

demo: build ## run the example pipeline end to end: validate, test, train, compare, record, report
	@bash scripts/demo.sh

bench: build ## performance checks: Go benchmarks and the bench/ scripts
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...
	@for s in bench/*.sh; do [ -f "$$s" ] && bash "$$s"; done; true

e2e-runners: ## the shipped workflows in act and the GitLab example in gitlab-ci-local, offline
	@bash scripts/e2e-runners.sh

release-dist: ## the release's assets in dist/: podium for linux/darwin x amd64/arm64, checksums.txt
	@rm -rf dist && mkdir -p dist
	@for p in linux/amd64 linux/arm64 darwin/amd64 darwin/arm64; do \
	  GOOS=$${p%/*} GOARCH=$${p#*/} CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	    -o dist/podium_$${p%/*}_$${p#*/} ./cmd/podium || exit 1; \
	done
	@cd dist && sha256sum podium_* > checksums.txt && cat checksums.txt

image: ## build the container image with docker, podman or buildah
	@bash scripts/image.sh

image-smoke: ## build the FROM-scratch smoke image and run podium version in it
	@bash scripts/image.sh smoke

clean: ## remove build and demo output
	rm -rf bin .demo dist
