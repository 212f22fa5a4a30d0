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

.PHONY: all build test deps lint fmt vet staticcheck tidy buildcheck unit jstest fuzz benchonce e2e reliability demo screenshots conformance bench clean

all: build

build:
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build $(WASMFLAGS) -o $(DIST)/eventsource.wasm ./wasm
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js
	cp "$(GOROOT)/LICENSE" $(DIST)/wasm_exec.LICENSE
	cp jsglue/eventsource.mjs jsglue/shared.mjs jsglue/shared-worker.mjs jsglue/eventsource.d.ts jsglue/global.mjs jsglue/global.d.mts jsglue/package.json $(DIST)/
	cp jsglue/eventsource.d.ts $(DIST)/eventsource.d.mts
	cp README.md LICENSE $(DIST)/
	@ls -l $(DIST)

# deps installs what the tests need on a fresh machine: a Chromium for the
# browser tests, Node.js for the js/wasm unit tests and a redis-server for
# the Redis store's tests (which start their own on a free loopback port). It never skips: when
# it cannot install, it fails.
deps:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || { \
		echo "no Chromium found: installing Debian's chromium"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v node >/dev/null 2>&1 || { \
		echo "no Node.js found: installing Debian's nodejs"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { \
		echo "no npm found (the package test packs dist/ and builds Vite and webpack apps): installing Debian's npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || { echo "FATAL: no Chromium after install"; exit 1; }
	@command -v node >/dev/null 2>&1 || { echo "FATAL: no node after install"; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "FATAL: no npm after install"; exit 1; }
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "no redis-server found: installing Debian's redis-server (the Redis store's tests start one)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null 2>&1 || { echo "FATAL: no redis-server after install"; exit 1; }

# Every module of the repository: the library (root) and e2e/, a nested
# module holding what needs chromedp (the browser suite, the bench, the
# shared Chromium setup). Found, not listed, so a new one is checked too.
MODULES   := $(shell find . -name go.mod -not -path './.*' -not -path '*/node_modules/*' -printf '%h\n' | sort)
# Tools are pinned and installed into .bin/ (ignored by git). staticcheck
# 2026.2.2 (v0.8.2) is the first to know Go 1.26.
BIN         := $(CURDIR)/.bin
STATICCHECK := $(BIN)/staticcheck-v0.8.2/staticcheck
FUZZTIME  ?= 5s

# lint is what a reviewer checks before reading: formatting, vet and
# staticcheck for both GOOS values, tidy modules, and the js-only build
# constraints (internal/buildcheck). staticcheck findings listed in
# .ci/staticcheck-known are printed but tolerated (see .ci/staticcheck).
lint: fmt vet staticcheck tidy buildcheck

fmt:
	@files="$$(find . -name '*.go' -not -path './.*' -not -path '*/node_modules/*' -not -path '*/testdata/*' | xargs gofmt -l)"; \
	if [ -n "$$files" ]; then echo "gofmt -l: these files are not formatted (run gofmt -w):"; echo "$$files"; exit 1; fi

vet:
	@set -e; for m in $(MODULES); do \
		echo "go vet ($$m, native and js/wasm)"; \
		(cd $$m && $(GO) vet ./... && GOOS=js GOARCH=wasm $(GO) vet ./...); \
	done

$(STATICCHECK):
	GOBIN=$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

staticcheck: $(STATICCHECK)
	@set -e; for m in $(MODULES); do \
		echo "staticcheck ($$m, native and js/wasm)"; \
		(cd $$m && $(CURDIR)/.ci/staticcheck $(STATICCHECK) && GOOS=js GOARCH=wasm $(CURDIR)/.ci/staticcheck $(STATICCHECK)); \
	done

tidy:
	@set -e; for m in $(MODULES); do \
		echo "go mod tidy -diff ($$m)"; \
		(cd $$m && $(GO) mod tidy -diff) || { echo "$$m: go.mod or go.sum is not tidy: run go mod tidy there"; exit 1; }; \
	done

buildcheck:
	$(GO) test -count=1 ./internal/buildcheck

# unit runs the tests of every native package under the race detector:
# all but the browser suite (e2e itself, see the e2e target).
unit:
	@set -e; for m in $(MODULES); do \
		pkgs="$$(cd $$m && $(GO) list ./... | grep -v '/e2e$$' || true)"; \
		[ -z "$$pkgs" ] || (cd $$m && echo "go test -race ($$m)" && $(GO) test -race -count=1 $$pkgs); \
	done

# jstest runs the sse tests as js/wasm under Node.js, and the host
# (eventsource.mjs) with the Go core (eventsource.wasm) from dist/ under
# Node's test runner with a scripted fetch.
jstest: build
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(JSEXEC)" ./sse/...
	node --test jsglue/test/

# fuzz runs each fuzz target of every module for FUZZTIME: every
# `func FuzzX(` in a package's _test.go files, so a new target is found by
# itself (read from the source: listing them through go test would build
# every test binary once more). A failing input is written to the
# package's testdata/fuzz/ to be committed with its fix.
fuzz:
	@set -e; for m in $(MODULES); do \
		(cd $$m && $(GO) list -f '{{.Dir}} {{.ImportPath}}' ./...) | while read -r dir pkg; do \
			for target in $$(cat $$dir/*_test.go 2>/dev/null | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p'); do \
				echo "fuzz $$pkg $$target ($(FUZZTIME))"; \
				(cd $$m && $(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZTIME) $$pkg) || exit 1; \
			done; \
		done; \
	done

# benchonce runs every benchmark once, natively and under Node.js, so that
# none can rot; the numbers mean nothing.
benchonce:
	@set -e; for m in $(MODULES); do \
		pkgs="$$(cd $$m && $(GO) list ./... | grep -v '/e2e$$' || true)"; \
		[ -z "$$pkgs" ] || (cd $$m && echo "benchmarks once ($$m)" && $(GO) test -count=1 -run='^$$' -bench=. -benchtime=1x $$pkgs); \
	done
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec="$(JSEXEC)" -run='^$$' -bench=. -benchtime=1x ./sse/... ./wasm/...

# The browser suite runs in go test's local directory mode (no package
# argument), so its closing summary (the load it ran under, the scenarios
# known to fail) is printed on a passing run too. E2E_TIMEOUT_SCALE
# multiplies its time-outs (default 3). It runs under the race detector:
# the harness, the test server and the chat backend serve real browser
# traffic there, concurrently (measured: 126 s instead of 116 s, plus a
# race build of half a minute).
e2e: build
	cd e2e && $(GO) test -race -count=1 -timeout 10m

test: deps build lint unit jstest fuzz benchonce e2e

# reliability runs the reliability and security suite of the browser tests
# (e2e/reliability_test.go) in its long mode: ten times the connection kills,
# eight rounds of oversized streams, a 24 MiB event, 10,000 create/close
# cycles (about two minutes). make e2e runs the same tests in their short mode.
reliability: deps build
	cd e2e && E2E_RELIABILITY_LONG=1 $(GO) test -count=1 -timeout 30m -run 'TestReliability|TestSecurity'

demo: build
	$(GO) run ./server/cmd/sseserver -addr $(ADDR) -web web -dist $(DIST)

# screenshots drives the demos in headless Chromium (TestDemos) and writes
# docs/screenshots/*.png, which README.md shows.
screenshots: deps build
	cd e2e && UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -timeout 5m -run 'TestDemos' .

conformance: deps build
	cd e2e && CONFORMANCE_REPORT=$(CURDIR)/CONFORMANCE.md $(GO) test -count=1 -timeout 10m -run 'TestConformance'

bench: deps build
	cd e2e && $(GO) run ./bench -dist $(CURDIR)/$(DIST) -work $(CURDIR)/.bench -out $(CURDIR)/BENCHMARKS.md

clean:
	rm -rf $(DIST)
