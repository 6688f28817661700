# mediaserver — build, run and test.
#
#   make run     build and run the server with its defaults (RTMP :1935, HTTP :8080)
#   make test    install what the tests need when it is missing, then vet and run every test with -race
#   make build   build bin/mediaserver

GO        ?= go
BIN       := bin/mediaserver
NODE_DEPS := node_modules/.installed

.PHONY: all build run test test-deps test-go vet fmt bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mediaserver

run:
	$(GO) run ./cmd/mediaserver $(ARGS)

test: test-deps vet test-go

# Tools the integration tests drive as real peers. Installed only when missing.
APT_PKGS := $(strip \
	$(if $(shell command -v ffmpeg),,ffmpeg) \
	$(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(shell command -v node),,nodejs) \
	$(if $(shell command -v npm),,npm))

test-deps: $(NODE_DEPS)
	@if [ -n "$(APT_PKGS)" ]; then \
		echo "installing $(APT_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

# npm packages: the players the web UI embeds and playwright-core for browser tests.
$(NODE_DEPS): package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --no-audit --no-fund
	@touch $@

vet:
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 -timeout 20m ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin node_modules
