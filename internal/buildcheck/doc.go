// Package buildcheck holds one test, TestJSConstraints, that walks every Go
// file of the repository (the root module and any nested one) and fails
// when a file that needs GOOS=js can be built for another GOOS, or when a
// file named for GOOS=js carries a constraint that keeps it out of the
// js/wasm build. `go vet` and the compilers catch such a file only on the
// GOOS they happen to build for; this check reads the files themselves.
//
// The package holds only that test; this file makes the directory a package
// for `go vet` and `go build ./...`.
package buildcheck
