package server_test

import (
	"testing"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/server/storetest"
)

// BenchmarkResume: the time to replay a finished answer of 5,000 stored
// tokens from the memory store, over loopback HTTP (ResumeHandler, from
// the first event) and through Follow alone. package redisstore has the
// same benchmark on Redis.
func BenchmarkResume(b *testing.B) {
	store := server.NewMemoryStore(server.MemoryStoreOptions{})
	storetest.BenchmarkResume(b, store)
}
