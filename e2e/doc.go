// Package e2e is the browser test suite of wasm-eventsource.
//
// It starts the test server (package server) and one headless Chromium, and
// drives pages from e2e/pages/ (runner.html, trace.mjs) that run a scenario
// with the browser's own EventSource or with ours (dist/eventsource.mjs) and
// record everything a page can observe:
//
//   - TestConformance runs every scenario with both classes, each in its own
//     tab of the same browser, and requires equal traces (events, data, ids,
//     origins, readyState, order) and equal server observations (requests,
//     headers, reconnection delays, with a tolerance). Where a fetch()-based
//     class cannot do what native does, the scenario is a documented
//     difference and checks what ours does instead. When CONFORMANCE_REPORT
//     names a file, it writes a markdown report there, rule by rule of the
//     spec checklist.
//   - TestExtensions checks what only ours does: other methods and bodies,
//     headers, reconnect: false and the close event, error status codes,
//     load(), install(), module workers.
//   - TestHarness checks that the harness catches page exceptions and Go
//     panics.
//
// Run it with `make e2e`, or `go test ./e2e/` after `make build`. It needs
// dist/ and Chromium: $E2E_CHROMIUM, else the first of chromium,
// chromium-browser, google-chrome and google-chrome-stable on PATH (see
// package e2e/chromium, which the bench shares); it fails, never skips,
// when either is missing. E2E_TRACES=1 with -v logs both traces of every
// scenario.
//
// Every test fails on an uncaught exception in its page or on console text
// of a dead Go program (panic:, fatal error:, exit code:, ...), and prints
// the page's console when it fails. The exceptions a scenario's listeners
// throw on purpose (the "throw" action) are counted apart and compared with
// the number the scenario expects. Opening a tab costs 1-2 s on a small
// machine, so the conformance scenarios share a pool of runner tabs (each in
// its own browser context) and each scenario gets a tab to itself while it
// runs; a tab that saw anything wrong is closed, never reused. The other
// tests open a tab of their own.
//
// The package holds only tests; this file makes the directory a package for
// `go vet` and `go build ./...`.
package e2e
