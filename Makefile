# kubectl-gitlab — see README.md. `make demo` and `make test` do all set-up.
GO      ?= go
VERSION ?= dev
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
PKG     := gitlab.com/kubectl-gitlab/kubectl-gitlab
LDFLAGS := -s -w -X $(PKG)/pkg/version.Version=$(VERSION) -X $(PKG)/pkg/version.Commit=$(COMMIT)
BIN     := bin/kubectl-gitlab

.PHONY: all build test test-go demo bench lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-gitlab

## test: lint, then every test (unit, in-process integration, e2e through real kubectl)
test: lint test-go

test-go:
	$(GO) test -count=1 -timeout 30m ./...

## demo: a loopback GitLab + KAS, a job-like kubeconfig, real kubectl through the plugin
demo:
	$(GO) run ./hack/demo

lint:
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin dist
