package main

import (
	"github.com/hack-pad/safejs"
)

// bootName is the global through which eventsource.mjs hands over its
// runtime and receives the engine; the module deletes it right after.
const bootName = "__wasmEventSourceBoot"

func main() {
	boot, err := safejs.Global().Get(bootName)
	if err != nil || boot.Type() != safejs.TypeObject {
		println("wasm-eventsource: load eventsource.wasm through eventsource.mjs (globalThis." + bootName + " is missing)")
		return
	}
	rt, err := boot.Get("runtime")
	if err != nil {
		println("wasm-eventsource:", err.Error())
		return
	}
	e, err := newEngine(rt)
	if err != nil {
		println(err.Error())
		return
	}
	exports, err := e.exports()
	if err != nil {
		println("wasm-eventsource:", err.Error())
		return
	}
	if _, err := boot.Call("ready", exports); err != nil {
		println("wasm-eventsource:", err.Error())
		return
	}
	select {}
}
