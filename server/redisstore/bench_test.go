package redisstore_test

import (
	"context"
	"testing"

	"github.com/wasm-eventsource/wasm-eventsource/internal/redistest"
	"github.com/wasm-eventsource/wasm-eventsource/server/redisstore"
	"github.com/wasm-eventsource/wasm-eventsource/server/storetest"
)

// BenchmarkResume: the time to replay a finished answer of 5,000 stored
// tokens from Redis (a redis-server on loopback), over loopback HTTP
// (server.ResumeHandler) and through server.Follow alone.
func BenchmarkResume(b *testing.B) {
	s, closeFn, err := redisstore.Open(context.Background(), redistest.Start(b), redisstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	storetest.BenchmarkResume(b, s)
}
