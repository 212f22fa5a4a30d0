# wasm-eventsource — build, test, demo, conformance and benchmarks.
#
#   make demo   build dist/ and serve the demo pages on http://127.0.0.1:8080
#   make test   everything CI runs (installs Chromium and Node.js when missing)

GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
DIST      := dist
ADDR      ?= 127.0.0.1:8080
# Size matters in a browser. Inlining is kept where the event path runs (the
# runtime, this module, UTF-8 and byte scanning, encoding/binary) and turned
# off elsewhere (fmt, reflect, safejs, ... reached on setup and error paths):
# 2.93 MB raw / 592 KB brotli instead of 2.82 MB / 603 KB.
NOINLINE  := -gcflags=all=-l -gcflags=runtime= -gcflags=github.com/wasm-eventsource/wasm-eventsource/...= \
             -gcflags=unicode/utf8= -gcflags=internal/bytealg= -gcflags=encoding/binary=
WASMFLAGS := -trimpath -ldflags="-s -w" $(NOINLINE)
JSEXEC    := $(GOROOT)/lib/wasm/go_js_wasm_exec

.PHONY: all build test deps vet unit jstest e2e demo conformance bench clean

all: build

build:
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build $(WASMFLAGS) -o $(DIST)/eventsource.wasm ./wasm
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js
	cp "$(GOROOT)/LICENSE" $(DIST)/wasm_exec.LICENSE
	cp jsglue/eventsource.mjs jsglue/eventsource.d.ts jsglue/global.mjs jsglue/global.d.mts jsglue/package.json $(DIST)/
	cp jsglue/eventsource.d.ts $(DIST)/eventsource.d.mts
	cp README.md LICENSE $(DIST)/
	@ls -l $(DIST)

# deps installs what the tests need on a fresh machine: a Chromium for the
# browser tests and Node.js for the js/wasm unit tests. It never skips: when
# it cannot install, it fails.
deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || { \
		echo "no Chromium found: installing Debian's chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v node >/dev/null 2>&1 || { \
		echo "no Node.js found: installing Debian's nodejs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || { echo "FATAL: no Chromium after install"; exit 1; }
	@command -v node >/dev/null 2>&1 || { echo "FATAL: no node after install"; exit 1; }

# Two modules: the library (root) and e2e/, a nested module holding what
# needs chromedp (the browser suite, the bench, the shared Chromium setup).
vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...
	cd e2e && $(GO) vet ./...
	cd e2e && GOOS=js GOARCH=wasm $(GO) vet ./...

unit:
	$(GO) test -count=1 ./sse/... ./wasm/...
	$(GO) test -race -count=1 ./server/... ./internal/...
	cd e2e && $(GO) test -count=1 ./bench/...

jstest:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(JSEXEC)" ./sse/... ./wasm/...

e2e: build
	cd e2e && $(GO) test -count=1 -timeout 10m .

test: deps build vet unit jstest e2e

demo: build
	$(GO) run ./server/cmd/sseserver -addr $(ADDR) -web web -dist $(DIST)

conformance: deps build
	cd e2e && CONFORMANCE_REPORT=$(CURDIR)/CONFORMANCE.md $(GO) test -count=1 -timeout 10m -run 'TestConformance' .

bench: deps build
	cd e2e && $(GO) run ./bench -dist $(CURDIR)/$(DIST) -web $(CURDIR)/web -work $(CURDIR)/.bench -out $(CURDIR)/BENCHMARKS.md

clean:
	rm -rf $(DIST)
