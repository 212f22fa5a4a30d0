package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/server/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) server.Store {
		return server.NewMemoryStore(server.MemoryStoreOptions{})
	})
}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestMemoryStoreExpiry(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	m := server.NewMemoryStore(server.MemoryStoreOptions{TTL: time.Minute, Now: clk.Now})
	ctx := context.Background()
	w, err := server.NewWriter(ctx, m, "a")
	if err != nil {
		t.Fatal(err)
	}
	clk.add(50 * time.Second)
	if _, err := w.Append(ctx, "", "x"); err != nil { // a write extends the life
		t.Fatal(err)
	}
	clk.add(50 * time.Second)
	if got, _, err := m.Read(ctx, "a", 0, 0); err != nil || len(got) != 1 {
		t.Fatalf("Read 100 s after creation, 50 s after the last write: %v %v", got, err)
	}
	clk.add(11 * time.Second)
	if _, _, err := m.Read(ctx, "a", 0, 0); !errors.Is(err, server.ErrStreamNotFound) {
		t.Fatalf("Read after the TTL: %v, want ErrStreamNotFound", err)
	}
	if err := m.Create(ctx, "a"); err != nil {
		t.Fatalf("Create again after expiry: %v", err)
	}
}

// Expired streams that nobody reads again do not stay in memory: a later
// Create removes them.
func TestMemoryStoreSweeps(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	m := server.NewMemoryStore(server.MemoryStoreOptions{TTL: time.Minute, Now: clk.Now})
	ctx := context.Background()
	for i := range 100 {
		w, err := server.NewWriter(ctx, m, fmt.Sprint("old", i))
		if err != nil {
			t.Fatal(err)
		}
		w.Append(ctx, "", strings.Repeat("x", 1000))
	}
	clk.add(2 * time.Minute)
	if err := m.Create(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	if n := m.Len(); n != 1 {
		t.Fatalf("%d streams held after the others expired, want 1", n)
	}
}

func TestMemoryStoreBounds(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	m := server.NewMemoryStore(server.MemoryStoreOptions{TTL: time.Minute, MaxStreams: 2, MaxEntries: 3, Now: clk.Now})
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := m.Create(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Create(ctx, "c"); !errors.Is(err, server.ErrStoreFull) {
		t.Fatalf("third Create: %v, want ErrStoreFull", err)
	}
	clk.add(2 * time.Minute)
	if err := m.Create(ctx, "c"); err != nil {
		t.Fatalf("Create once the others expired: %v", err)
	}
	for seq := uint64(1); seq <= 3; seq++ {
		if err := m.Append(ctx, "c", server.Entry{Seq: seq}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Append(ctx, "c", server.Entry{Seq: 4}); !errors.Is(err, server.ErrStreamFull) {
		t.Fatalf("fourth Append: %v, want ErrStreamFull", err)
	}
}

func TestParseResumeID(t *testing.T) {
	for _, tc := range []struct {
		in     string
		stream string
		seq    uint64
		ok     bool
	}{
		{"abc.1", "abc", 1, true},
		{"a.b.c.42", "a.b.c", 42, true},
		{"abc.0", "abc", 0, true},
		{"abc.01", "", 0, false},
		{"abc.", "", 0, false},
		{".1", "", 0, false},
		{"abc", "", 0, false},
		{"abc.-1", "", 0, false},
		{"abc.+1", "", 0, false},
		{"abc.18446744073709551616", "", 0, false},
		{"", "", 0, false},
	} {
		s, q, ok := server.ParseResumeID(tc.in)
		if s != tc.stream || q != tc.seq || ok != tc.ok {
			t.Errorf("ParseResumeID(%q) = %q, %d, %v; want %q, %d, %v", tc.in, s, q, ok, tc.stream, tc.seq, tc.ok)
		}
		if ok && server.ResumeID(s, q) != tc.in {
			t.Errorf("ResumeID(%q, %d) = %q, want %q", s, q, server.ResumeID(s, q), tc.in)
		}
	}
}

func FuzzParseResumeID(f *testing.F) {
	for _, s := range []string{"abc.1", "a.b.0", "x.01", ".1", "abc.", "abc.18446744073709551615", "\x00.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		stream, seq, ok := server.ParseResumeID(id)
		if !ok {
			return
		}
		if stream == "" {
			t.Fatalf("%q: empty stream accepted", id)
		}
		if back := server.ResumeID(stream, seq); back != id {
			t.Fatalf("%q parsed as (%q, %d), which prints as %q", id, stream, seq, back)
		}
	})
}
