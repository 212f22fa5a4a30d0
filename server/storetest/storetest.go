// Package storetest checks that an implementation of server.Store behaves
// as the interface says: the same tests run against the in-memory store and
// the Redis one, and against any store a user writes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// Run runs the conformance tests, each on a fresh store from newStore (which
// registers its own cleanup with t). Stream IDs are unique per test, so
// stores may be shared.
func Run(t *testing.T, newStore func(t *testing.T) server.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, s server.Store, id string)
	}{
		{"CreateAndExists", testCreate},
		{"NotFound", testNotFound},
		{"AppendOrder", testAppendOrder},
		{"ReadAfter", testReadAfter},
		{"WaitForAppend", testWaitForAppend},
		{"WaitTimesOut", testWaitTimesOut},
		{"FinishEndsReaders", testFinish},
		{"FollowConcurrent", testFollowConcurrent},
		{"ContentRoundTrip", testContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newStore(t), fmt.Sprintf("%s-%s", tc.name, server.NewStreamID()[:8]))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustCreate(t *testing.T, s server.Store, id string) {
	t.Helper()
	if err := s.Create(ctx(t), id); err != nil {
		t.Fatalf("Create(%q): %v", id, err)
	}
}

func appendN(t *testing.T, s server.Store, id string, from, to uint64) {
	t.Helper()
	for i := from; i <= to; i++ {
		if err := s.Append(ctx(t), id, server.Entry{Seq: i, Data: fmt.Sprint("d", i)}); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
}

// readAll reads every entry after after until finished (or t fails).
func readAll(t *testing.T, s server.Store, id string, after uint64) []server.Entry {
	t.Helper()
	var out []server.Entry
	for e, err := range server.Follow(ctx(t), s, id, after) {
		if err != nil {
			t.Fatalf("Follow: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func checkSeqs(t *testing.T, got []server.Entry, from, to uint64) {
	t.Helper()
	if uint64(len(got)) != to-from+1 && !(to < from && len(got) == 0) {
		t.Fatalf("got %d entries, want seq %d..%d", len(got), from, to)
	}
	for i, e := range got {
		if e.Seq != from+uint64(i) || e.Data != fmt.Sprint("d", e.Seq) {
			t.Fatalf("entry %d: %+v, want seq %d", i, e, from+uint64(i))
		}
	}
}

func testCreate(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	if err := s.Create(ctx(t), id); !errors.Is(err, server.ErrStreamExists) {
		t.Fatalf("second Create: %v, want ErrStreamExists", err)
	}
	got, fin, err := s.Read(ctx(t), id, 0, 0)
	if err != nil || fin || len(got) != 0 {
		t.Fatalf("Read of an empty stream: %v %v %v, want nothing, not finished", got, fin, err)
	}
}

func testNotFound(t *testing.T, s server.Store, id string) {
	if _, _, err := s.Read(ctx(t), id, 0, 0); !errors.Is(err, server.ErrStreamNotFound) {
		t.Errorf("Read: %v, want ErrStreamNotFound", err)
	}
	if _, _, err := s.Read(ctx(t), id, 0, 50*time.Millisecond); !errors.Is(err, server.ErrStreamNotFound) {
		t.Errorf("Read with wait: %v, want ErrStreamNotFound", err)
	}
	if err := s.Append(ctx(t), id, server.Entry{Seq: 1}); !errors.Is(err, server.ErrStreamNotFound) {
		t.Errorf("Append: %v, want ErrStreamNotFound", err)
	}
	if err := s.Finish(ctx(t), id); !errors.Is(err, server.ErrStreamNotFound) {
		t.Errorf("Finish: %v, want ErrStreamNotFound", err)
	}
}

func testAppendOrder(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	appendN(t, s, id, 1, 2)
	for _, seq := range []uint64{0, 1, 2, 4} {
		if err := s.Append(ctx(t), id, server.Entry{Seq: seq}); err == nil {
			t.Errorf("Append seq %d after 2 succeeded", seq)
		}
	}
	appendN(t, s, id, 3, 3)
	if err := s.Finish(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(ctx(t), id, server.Entry{Seq: 4}); !errors.Is(err, server.ErrStreamFinished) {
		t.Errorf("Append after Finish: %v, want ErrStreamFinished", err)
	}
	checkSeqs(t, readAll(t, s, id, 0), 1, 3)
}

func testReadAfter(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	appendN(t, s, id, 1, 10)
	if err := s.Finish(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	for after := uint64(0); after <= 11; after++ {
		got := readAll(t, s, id, after)
		if after >= 10 {
			if len(got) != 0 {
				t.Errorf("after %d: %d entries, want none", after, len(got))
			}
			continue
		}
		checkSeqs(t, got, after+1, 10)
	}
}

func testWaitForAppend(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	appended := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		appended <- s.Append(context.Background(), id, server.Entry{Seq: 1, Data: "d1"})
	}()
	defer func() {
		if err := <-appended; err != nil {
			t.Errorf("Append: %v", err)
		}
	}()
	start := time.Now()
	got, fin, err := s.Read(ctx(t), id, 0, 5*time.Second)
	if err != nil || fin {
		t.Fatalf("Read: %v finished=%v", err, fin)
	}
	if len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("Read: %+v, want seq 1", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Read returned after %v, want right after the append", d)
	}
}

func testWaitTimesOut(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	start := time.Now()
	got, fin, err := s.Read(ctx(t), id, 0, 100*time.Millisecond)
	if err != nil || fin || len(got) != 0 {
		t.Fatalf("Read: %v %v %v, want nothing", got, fin, err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 3*time.Second {
		t.Errorf("Read waited %v, want about 100ms", d)
	}
}

func testFinish(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	appendN(t, s, id, 1, 2)
	done := make(chan []server.Entry)
	go func() {
		var out []server.Entry
		for e, err := range server.Follow(context.Background(), s, id, 0) {
			if err != nil {
				t.Errorf("Follow: %v", err)
				break
			}
			out = append(out, e)
		}
		done <- out
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Finish(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		checkSeqs(t, got, 1, 2)
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not end after Finish")
	}
	if got, fin, err := s.Read(ctx(t), id, 2, time.Second); err != nil || !fin || len(got) != 0 {
		t.Errorf("Read at the end: %v %v %v, want finished", got, fin, err)
	}
}

// testFollowConcurrent: a producer appends while readers join at every
// point; each sees every entry after its start exactly once, in order.
func testFollowConcurrent(t *testing.T, s server.Store, id string) {
	const n = 300
	mustCreate(t, s, id)
	var wg sync.WaitGroup
	for r := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := uint64(r * n / 8)
			// Wait until the stream got there, so that the reader starts
			// in the middle of a live stream.
			for {
				got, _, err := s.Read(ctx(t), id, 0, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if uint64(len(got)) >= after || len(got) >= 4096 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			got := readAll(t, s, id, after)
			checkSeqs(t, got, after+1, n)
		}()
	}
	for i := uint64(1); i <= n; i++ {
		appendN(t, s, id, i, i)
		if i%50 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := s.Finish(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func testContent(t *testing.T, s server.Store, id string) {
	mustCreate(t, s, id)
	in := []server.Entry{
		{Seq: 1, Type: "token", Data: ""},
		{Seq: 2, Data: "line 1\nline 2\r\nnaïve 😀 \x00 end"},
		{Seq: 3, Type: "done", Data: "[DONE]"},
	}
	for _, e := range in {
		if err := s.Append(ctx(t), id, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(ctx(t), id); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s, id, 0)
	if !slices.Equal(got, in) {
		t.Errorf("got %+v\nwant %+v", got, in)
	}
}

// BenchmarkResume fills store with a finished answer of 5,000 tokens and
// measures replaying it from the first event: over loopback HTTP
// (server.ResumeHandler) and through server.Follow alone. Every replay
// checks it got every token. The memory store and the Redis one report it
// in BENCHMARKS.md; a user's store can run it the same way.
func BenchmarkResume(b *testing.B, store server.Store) {
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
