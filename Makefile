# kubectl-gitlab — see README.md. `make demo` and `make test` do all set-up.
GO      ?= go
VERSION ?= dev
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null)
PKG     := gitlab.com/kubectl-gitlab/kubectl-gitlab
LDFLAGS := -s -w -X $(PKG)/pkg/version.Version=$(VERSION) -X $(PKG)/pkg/version.Commit=$(COMMIT)
BIN     := bin/kubectl-gitlab

# The end-to-end tests build the real GitLab agent server and agent (KAS,
# agentk) from the upstream source archives kept in
# internal/testing/realkas/testdata/sources; KUBECTL_GITLAB_AGENT_SOURCES
# may name another directory with the same (pinned) archives.

.PHONY: all build test test-apiserver-binaries test-realkas-binaries test-go test-keyring fuzz demo demo-real bench dist lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/kubectl-gitlab

## test: lint, then every test: unit, in-process integration, e2e through
## real kubectl, a real kube-apiserver, the real KAS and agentk, a real
## Secret Service; then fuzzing
test: lint test-apiserver-binaries test-realkas-binaries test-go test-keyring fuzz

# kube-apiserver and etcd build from the module proxy (minutes when cold);
# build them first, alone, so no test waits on them under a timeout.
test-apiserver-binaries:
	$(GO) test -count=1 -timeout 30m -run '^TestBinaries$$' ./internal/testing/testapiserver/

# KAS, agentk and the fake Gitaly build from the upstream archives (minutes
# when cold); Redis comes from Debian (installed when missing).
test-realkas-binaries:
	hack/realkas/install-redis.sh
	$(GO) test -count=1 -timeout 40m -run '^TestBuild$$' ./internal/testing/realkas/

test-go:
	$(GO) test -count=1 -timeout 20m ./...
	cd test/kasoracle && $(GO) test -count=1 -timeout 10m ./...

# The real-keyring tests run in a private D-Bus session with an unlocked
# gnome-keyring (the script installs the Debian packages when missing).
test-keyring:
	hack/keyring/with-secret-service.sh $(GO) test -tags secretservice -count=1 ./pkg/tokenstore/ ./internal/testing/testkeyring/
	hack/keyring/with-secret-service.sh $(GO) test -tags secretservice -count=1 -run SecretService ./test/e2e/

fuzz:
	FUZZTIME=$${FUZZTIME:-5s} hack/fuzz.sh

## bench: whole-process times side by side, as ratios (see README, Performance)
bench:
	hack/keyring/with-secret-service.sh $(GO) test -run '^$$' -bench . -benchtime $${BENCHTIME:-300x} -count 1 -timeout 30m ./test/bench/

## demo: a loopback GitLab + KAS, a job-like kubeconfig, real kubectl through the plugin
demo:
	$(GO) run ./hack/demo

## demo-real: the same job against the real KAS and agentk in front of a real
## kube-apiserver (builds them first: minutes when cold)
demo-real: test-apiserver-binaries test-realkas-binaries
	$(GO) test -tags demoreal -count=1 -run '^TestDemoReal$$' -v ./hack/demo/

## dist: release archives (linux, darwin, windows × amd64, arm64), checksums.txt
## and the krew manifest plugin.yaml, in dist/: make dist VERSION=v1.2.3
## [DOWNLOAD_URL=… where the manifest says the archives are; default the GitLab release's]
## Run on a release tag, it also replaces ./plugin.yaml, the committed manifest
## of the latest release (not for another DOWNLOAD_URL: that is a test release).
dist:
	$(GO) run ./hack/dist -version "$(VERSION)" -commit "$(COMMIT)" -out dist $(if $(DOWNLOAD_URL),-download-url "$(DOWNLOAD_URL)")
	@if [ -z "$(DOWNLOAD_URL)" ] && [ "$$(git describe --exact-match --tags HEAD 2>/dev/null)" = "$(VERSION)" ]; then \
	  cp dist/plugin.yaml plugin.yaml && echo "plugin.yaml is now the manifest of $(VERSION): commit it"; \
	else echo "plugin.yaml left as is: HEAD is not tagged $(VERSION)"; fi

lint:
	@files=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	$(GO) vet ./...
	cd test/kasoracle && $(GO) vet ./...

clean:
	rm -rf bin dist
