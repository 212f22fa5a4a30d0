//go:build !js

package main

import "os"

// main explains itself when the engine is built for the wrong platform.
func main() {
	os.Stderr.WriteString("wasm-eventsource: build this command with GOOS=js GOARCH=wasm (see `make build`)\n")
	os.Exit(2)
}
