// Package e2e is the browser test suite of wasm-eventsource.
//
// It starts the test server (package server) and one headless Chromium, and
// drives pages from web/test/ that run the same scenario with the browser's
// own EventSource and with ours (dist/eventsource.mjs):
//
//   - TestConformance runs every scenario with both classes, each in its own
//     tab of the same browser, and requires equal traces (events, data, ids,
//     origins, readyState, order) and equal server observations (requests,
//     headers, reconnection delays). When CONFORMANCE_REPORT names a file,
//     it writes a markdown report there, rule by rule of the spec checklist.
//   - TestExtensions checks what only ours does: POST bodies, headers,
//     reconnect: false, error status codes, load(), install(), workers.
//   - TestHarness checks that the harness itself catches page exceptions and
//     Go panics.
//
// Run it with `make e2e` (or `go test ./e2e/` after `make build`). It needs
// dist/ (`make build`) and Chromium at /usr/bin/chromium (or $E2E_CHROMIUM);
// it fails, never skips, when either is missing.
//
// The package holds only tests; this file exists so that the directory is a
// package for `go vet` and `go build ./...`.
package e2e
