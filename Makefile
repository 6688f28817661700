# mediaserver — build, run and test.
#
#   make run     build and run the server with its defaults (RTMP :1935, HTTP :8080)
#   make test    install what the tests need when it is missing, then vet, lint and run every test with -race
#   make build   build bin/mediaserver

GO        ?= go
BIN       := bin/mediaserver
NODE_DEPS := node_modules/.installed

.PHONY: all build run test test-deps test-go vet lint fmt bench bench-load bench-floor bench-smoke bench-llhls bench-cluster web clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mediaserver

run:
	$(GO) run ./cmd/mediaserver $(ARGS)

test: test-deps web vet lint test-go

# The players the web UI embeds, copied from node_modules (as package-lock.json
# pins them) to web/static/vendor/, where go:embed finds them. The copies are
# committed, so a plain `go build` works without npm; web's tests check they
# equal node_modules.
WEB_VENDOR := web/static/vendor

web: $(NODE_DEPS)
	@mkdir -p $(WEB_VENDOR)/hls.js $(WEB_VENDOR)/mpegts.js
	cp node_modules/hls.js/dist/hls.min.js $(WEB_VENDOR)/hls.js/hls.min.js
	cp node_modules/hls.js/LICENSE $(WEB_VENDOR)/hls.js/LICENSE.txt
	cp node_modules/mpegts.js/dist/mpegts.js $(WEB_VENDOR)/mpegts.js/mpegts.js
	cp node_modules/mpegts.js/dist/mpegts.js.LICENSE.txt $(WEB_VENDOR)/mpegts.js/mpegts.js.LICENSE.txt
	cp node_modules/mpegts.js/LICENSE $(WEB_VENDOR)/mpegts.js/LICENSE.txt

# GStreamer's HLS demuxer and decoders read the fMP4 playlists in the HLS tests.
GST_PKGS := gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav

# Tools the integration tests drive as real peers (openssl mints a signed play
# URL the way README shows; the cluster tests start Redis and nginx on
# loopback ports themselves). Installed only when missing.
APT_PKGS := $(strip \
	$(if $(shell command -v ffmpeg),,ffmpeg) \
	$(if $(shell command -v openssl),,openssl) \
	$(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(shell command -v node),,nodejs) \
	$(if $(shell command -v npm),,npm) \
	$(if $(shell command -v redis-server),,redis-server) \
	$(if $(wildcard /usr/sbin/nginx),,nginx-light) \
	$(if $(shell gst-inspect-1.0 hlsdemux >/dev/null 2>&1 && echo ok),,$(GST_PKGS)))

test-deps: $(NODE_DEPS)
	@if [ -n "$(APT_PKGS)" ]; then \
		echo "installing $(APT_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	fi

# npm packages: the players the web UI embeds and playwright-core for browser tests.
$(NODE_DEPS): package.json package-lock.json
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

vet:
	$(GO) vet ./...

# staticcheck at a pinned version, fetched through the module proxy on first
# use; its checks are in staticcheck.conf. The tree is kept clean of findings.
STATICCHECK_VERSION := v0.8.2

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Packages run one at a time (-p 1): the integration tests drive real ffmpeg
# and Chromium peers in real time, and on a 2-core machine two packages of
# them at once would starve each other.
test-go:
	$(GO) test -race -count=1 -p 1 -timeout 25m ./...

fmt:
	gofmt -l -w $$(git ls-files '*.go')

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Load test: one 720p30 2.5 Mbit/s publisher and VIEWERS viewers over PROTO
# (flv, ws, rtmp, hls) for DURATION against a freshly built server on spare
# ports. Not a CI test; results go to docs/BENCHMARKS.md.
VIEWERS    ?= 100
PROTO      ?= flv
DURATION   ?= 60s
BENCH_RTMP ?= 127.0.0.1:29350
BENCH_HTTP ?= 127.0.0.1:28080
BENCH_SERVER = -server-cmd "$(BIN) -rtmp-addr $(BENCH_RTMP) -http-addr $(BENCH_HTTP) -log-level warn" \
	-rtmp rtmp://$(BENCH_RTMP)/live -http http://$(BENCH_HTTP)

# Every viewer comes from 127.0.0.1: the per-address caps are lifted. The
# profiler lets the tool read the server's exact live heap.
BENCH_ENV := MEDIASERVER_HTTP_MAX_CONNS_PER_IP=-1 MEDIASERVER_RTMP_MAX_CONNS_PER_IP=-1 MEDIASERVER_HTTP_PPROF=true

bench-load: build
	$(BENCH_ENV) $(GO) run ./cmd/mediabench -viewers $(VIEWERS) -proto $(PROTO) -duration $(DURATION) $(BENCH_SERVER) -markdown $(BENCH_ARGS)

# The bare fan-out (cmd/flvfloor) under the same load, for comparison.
bench-floor:
	$(GO) build -o bin/flvfloor ./cmd/flvfloor
	$(GO) run ./cmd/mediabench -viewers $(VIEWERS) -proto flv -duration $(DURATION) -markdown $(BENCH_ARGS) \
		-server-cmd "bin/flvfloor -rtmp-addr $(BENCH_RTMP) -http-addr $(BENCH_HTTP)" \
		-rtmp rtmp://$(BENCH_RTMP)/live -http http://$(BENCH_HTTP)

# A 10-second smoke run of the load tool (small generated input, cached).
bench-smoke: build
	$(GO) run ./cmd/mediabench -viewers 10 -proto flv -duration 10s -warmup 2s \
		-gen-size 640x360 -gen-kbps 800 -gen-duration 10s $(BENCH_SERVER)

# Cluster figures: cost per HTTP-FLV viewer on an origin and on an edge, and
# an origin's cost with HLS clients behind nginx (scripts/bench-cluster.sh).
bench-cluster:
	scripts/bench-cluster.sh $(BENCH_ARGS)
# LL-HLS figures (issue #16): a 1 s GOP, 1 s segments of 200 ms parts. In
# turn: part availability (one client waiting on blocking reloads, no
# hints), LL_VIEWERS LL-HLS clients and as many HTTP-FLV viewers on the same
# input, then glass-to-glass in hls.js (lowLatencyMode) in headless
# Chromium while the tool publishes.
LL_VIEWERS ?= 1000
LL_ENV := MEDIASERVER_HLS_VARIANT=lowlatency MEDIASERVER_HLS_SEGMENT_DURATION=1s MEDIASERVER_HLS_PART_DURATION=200ms
LL_BENCH := $(BENCH_ENV) $(LL_ENV) bin/mediabench -gop 1s $(BENCH_SERVER)
GLASS_SECONDS ?= 30
# Viewers that join in turn, at different points of the GOP, for the
# glass-to-glass figure.
GLASS_JOINS ?= 8
# hls.js's maxLiveSyncPlaybackRate: 1 (its default) keeps the latency
# playback started with; above 1 it speeds up to reach its target.
GLASS_RATE ?= 1

bench-llhls: build $(NODE_DEPS)
	$(GO) build -o bin/mediabench ./cmd/mediabench
	$(LL_BENCH) -proto llhls -ll-probe -viewers 1 -duration $(DURATION) -markdown $(BENCH_ARGS)
	$(LL_BENCH) -proto llhls -viewers $(LL_VIEWERS) -duration $(DURATION) -warmup 30s -markdown $(BENCH_ARGS)
	$(LL_BENCH) -proto flv -viewers $(LL_VIEWERS) -duration $(DURATION) -warmup 30s -markdown $(BENCH_ARGS)
	$(LL_BENCH) -viewers 0 -duration $$(( $(GLASS_JOINS) * ($(GLASS_SECONDS) + 3) + 15 ))s & publisher=$$!; sleep 10; \
		node cmd/mediabench/glass.mjs '{"url": "http://$(BENCH_HTTP)/live/bench.m3u8", "seconds": $(GLASS_SECONDS), "warmup": 5, "joins": $(GLASS_JOINS), "maxLiveSyncPlaybackRate": $(GLASS_RATE)}'; \
		status=$$?; wait $$publisher; exit $$status

clean:
	rm -rf bin node_modules
