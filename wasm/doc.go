// Command wasm is the engine of wasm-eventsource, built with
// GOOS=js GOARCH=wasm into dist/eventsource.wasm.
//
// The JS module jsglue/eventsource.mjs declares the public EventSource class
// (a real EventTarget subclass, so that constructors can throw and `new.target`
// works) and hands this program a small runtime of dispatch helpers. Everything
// else happens here: reading the init dictionary, fetch with an AbortController,
// checking the response, streaming the body through the sse parser, batching
// parsed events so that one chunk costs one crossing into JS, reconnection with
// Last-Event-ID, and the policy that never re-sends a POST by itself.
//
// Files ending in _js.go hold the syscall/js glue (through hack-pad/safejs);
// the rest is plain Go, tested natively.
package main
