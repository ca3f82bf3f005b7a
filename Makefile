# Airlock build. Every tool comes from the Go module proxy at a pinned version
# and is installed into ./bin; the envtest control plane is built from Go
# module sources by hack/envtest.sh and cached under ~/.cache/airlock.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
export GOFLAGS ?= -mod=mod
export GOTOOLCHAIN ?= local

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
HELM_VERSION ?= v3.22.0
KUBE_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.16

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
HELM ?= $(LOCALBIN)/helm-$(HELM_VERSION)

# Generated files `make verify` checks for staleness.
GENERATED := api/v1alpha1/zz_generated.deepcopy.go config/crd/bases config/rbac/role.yaml config/webhook/manifests.yaml charts/airlock/crds

GO_TEST_FLAGS ?= -count=1 -timeout 40m

.PHONY: all
all: build

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: demo
demo: ## The whole flow locally, narrated and checked: API server, controllers, IdP, sidecar, MCP Inspector (~15 s warm).
	@assets=$$(KUBE_VERSION=$(KUBE_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest.sh); \
	npm=$$(hack/npm-peers.sh); \
	CGO_ENABLED=0 go build -trimpath -o bin/sidecar ./cmd/sidecar; \
	KUBEBUILDER_ASSETS="$$assets" go run ./hack/demo --sidecar=bin/sidecar --npm="$$npm" $(DEMO_FLAGS)

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs, RBAC and webhook configuration; copy CRDs into the chart.
	$(CONTROLLER_GEN) rbac:roleName=airlock-manager crd webhook paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac \
		output:webhook:artifacts:config=config/webhook
	rm -rf charts/airlock/crds && mkdir -p charts/airlock/crds
	cp config/crd/bases/*.yaml charts/airlock/crds/

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## gofmt the tree.
	gofmt -s -w $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')

.PHONY: vet
vet: ## go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## golangci-lint.
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: ## Fail when generated code, CRDs, formatting or go.mod are stale.
	@tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	for p in $(GENERATED); do [ -e "$$p" ] && mkdir -p "$$tmp/$$(dirname $$p)" && cp -r "$$p" "$$tmp/$$p"; done; \
	$(MAKE) --no-print-directory manifests generate >/dev/null; \
	stale=0; for p in $(GENERATED); do \
	  if [ -e "$$tmp/$$p" ] || [ -e "$$p" ]; then \
	    diff -r "$$tmp/$$p" "$$p" >/dev/null 2>&1 || { echo "stale: $$p (run 'make manifests generate')"; stale=1; }; \
	  fi; \
	done; \
	unformatted=$$(gofmt -s -l $$(find . -name '*.go' -not -path './bin/*' -not -path './hack/bench/*')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt'd: $$unformatted"; stale=1; fi; \
	if ! go mod tidy -diff >/dev/null; then echo "go.mod/go.sum not tidy (run 'go mod tidy')"; stale=1; fi; \
	exit $$stale

##@ Build

.PHONY: build
build: ## Build bin/manager, bin/sidecar and bin/kubectl-airlock.
	CGO_ENABLED=0 go build -trimpath -o bin/manager ./cmd/manager
	CGO_ENABLED=0 go build -trimpath -o bin/sidecar ./cmd/sidecar
	CGO_ENABLED=0 go build -trimpath -o bin/kubectl-airlock ./cmd/kubectl-airlock

##@ Test

.PHONY: envtest
envtest: ## Build (first run only) and print the envtest control-plane directory.
	@KUBE_VERSION=$(KUBE_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest.sh

.PHONY: test
test: verify vet lint helm-lint build test-unit ## Everything CI runs.

.PHONY: helm-lint
helm-lint: $(HELM) ## helm lint the chart and render it, with the built-in certificates and with cert-manager.
	$(HELM) lint --strict charts/airlock
	$(HELM) template airlock charts/airlock -n airlock-system >/dev/null
	$(HELM) template airlock charts/airlock -n airlock-system --set certManager.enabled=true >/dev/null

.PHONY: test-unit
test-unit: ## go test on envtest (builds the control plane first if needed).
	@assets=$$(KUBE_VERSION=$(KUBE_VERSION) ETCD_VERSION=$(ETCD_VERSION) hack/envtest.sh); \
	KUBEBUILDER_ASSETS=$$assets go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: ## Benchmarks (compare runs with benchstat).
	go test -run '^$$' -bench . -benchmem ./...

##@ Tools

$(LOCALBIN):
	mkdir -p $(LOCALBIN)

$(CONTROLLER_GEN): | $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_GEN_VERSION))

$(GOLANGCI_LINT): | $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

$(HELM): | $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v3/cmd/helm,$(HELM_VERSION))

.PHONY: tools
tools: $(CONTROLLER_GEN) $(GOLANGCI_LINT) $(HELM) ## Install pinned tools into ./bin.

# go-install-tool installs $(2)@$(3) into bin/ as $(1), outside this module.
define go-install-tool
@[ -f "$(1)" ] || { \
set -e; \
echo "installing $(2)@$(3)"; \
rm -f "$(1)"; \
GOBIN="$(LOCALBIN)" GOFLAGS= go install "$(2)@$(3)"; \
mv "$(LOCALBIN)/$$(basename "$(2)")" "$(1)"; \
}
endef
