module github.com/wasm-eventsource/wasm-eventsource

go 1.26

require github.com/hack-pad/safejs v0.1.0
