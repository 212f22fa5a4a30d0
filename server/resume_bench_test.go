package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// BenchmarkResume: the time to replay a finished answer of 5,000 stored
// tokens from the memory store, over loopback HTTP (ResumeHandler, from
// the first event) and through Follow alone. package redisstore has the
// same benchmark on Redis.
func BenchmarkResume(b *testing.B) {
	store := server.NewMemoryStore(server.MemoryStoreOptions{})
	benchResume(b, store)
}

// benchResume fills store with a 5,000-token answer and measures replaying
// it (server/redisstore has a copy: test files do not export).
func benchResume(b *testing.B, store server.Store) {
	const tokens = 5000
	ctx := context.Background()
	w, err := server.NewWriter(ctx, store, "bench-"+server.NewStreamID())
	if err != nil {
		b.Fatal(err)
	}
	for i := range tokens {
		if _, err := w.Append(ctx, "", fmt.Sprintf(`{"delta":" token%d"}`, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("http", func(b *testing.B) {
		ts := httptest.NewServer(server.ResumeHandler(store, server.StreamOptions{}))
		defer ts.Close()
		for range b.N {
			req, _ := http.NewRequest("GET", ts.URL, nil)
			req.Header.Set("Last-Event-ID", server.ResumeID(w.Stream(), 0))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || strings.Count(string(body), "\n\n") != tokens+1 {
				b.Fatalf("%d events (%v)", strings.Count(string(body), "\n\n")-1, err)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/replay")
	})
	b.Run("follow", func(b *testing.B) {
		for range b.N {
			n := 0
			for _, err := range server.Follow(ctx, store, w.Stream(), 0) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != tokens {
				b.Fatalf("%d entries", n)
			}
		}
		b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/replay")
	})
}
