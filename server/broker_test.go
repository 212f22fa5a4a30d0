package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

func publishN(t testing.TB, b *server.Broker, topic string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		id, err := b.Publish(topic, sse.Message{Data: fmt.Sprint("e", i)})
		if err != nil {
			t.Fatal(err)
		}
		if id != strconv.Itoa(i) {
			t.Fatalf("Publish %d: id %q", i, id)
		}
	}
}

func ev(i int) string { return fmt.Sprintf("id: %d\ndata: e%d\n\n", i, i) }

// nextN reads n events from sub, failing on a wait over 5 s.
func nextN(t *testing.T, sub *server.Subscription, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out string
	for strings.Count(out, "\n\n") < n {
		e, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %q: %v", out, err)
		}
		out += string(e)
	}
	return out
}

func TestBrokerReplayStrictlyAfter(t *testing.T) {
	t.Parallel()
	b := server.NewBroker(server.BrokerOptions{History: 5})
	defer b.Close()
	publishN(t, b, "t", 1, 8) // the history holds 4..8
	for _, tc := range []struct {
		last   string
		replay int // first event replayed; 0: none
		gap    bool
	}{
		{"", 0, false},
		{"8", 0, false},
		{"7", 8, false},
		{"3", 4, false},
		{"2", 0, true}, // 3 is gone
		{"9", 0, true}, // from the future
		{"x", 0, true},
		{"07", 0, true},
	} {
		sub, err := b.Subscribe("t", tc.last)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Gap() != tc.gap {
			t.Errorf("%q: Gap %v, want %v", tc.last, sub.Gap(), tc.gap)
		}
		want := ""
		if tc.replay > 0 {
			for i := tc.replay; i <= 8; i++ {
				want += ev(i)
			}
		}
		b.Publish("other", sse.Message{Data: "x"}) // other topics do not interfere
		if got := nextN(t, sub, len(want)/len(ev(8))); got != want {
			t.Errorf("%q: replay %q, want %q", tc.last, got, want)
		}
		sub.Close()
	}
	// Live delivery follows replay without a gap or a duplicate.
	sub, _ := b.Subscribe("t", "6")
	defer sub.Close()
	publishN(t, b, "t", 9, 10)
	if got, want := nextN(t, sub, 4), ev(7)+ev(8)+ev(9)+ev(10); got != want {
		t.Errorf("replay then live: %q, want %q", got, want)
	}
}

// A subscriber that never reads is dropped once it falls out of the
// history: the publisher never waits, the others get every event, and the
// dropped one holds nothing.
func TestBrokerSlowSubscriberDropped(t *testing.T) {
	t.Parallel()
	const history, n = 64, 1000
	b := server.NewBroker(server.BrokerOptions{History: history})
	defer b.Close()
	slow, _ := b.Subscribe("t", "")
	defer slow.Close()
	var wg sync.WaitGroup
	got := make([]string, 4)
	read := make([]atomic.Int64, len(got)) // events each fast subscriber has read
	for k := range got {
		sub, _ := b.Subscribe("t", "")
		defer sub.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for strings.Count(got[k], "\n\n") < n {
				e, err := sub.Next(context.Background())
				if err != nil {
					t.Errorf("fast subscriber %d: %v after %d bytes", k, err, len(got[k]))
					return
				}
				got[k] += string(e)
				read[k].Store(int64(strings.Count(got[k], "\n\n")))
			}
		}()
	}
	start := time.Now()
	var waited time.Duration
	for i := 1; i <= n; i++ {
		t0 := time.Now()
		b.Publish("t", sse.Message{Data: fmt.Sprint("e", i)})
		// Publish never waits for a subscriber (the slow one never reads):
		// only a machine too loaded to schedule it makes it take long.
		if d := time.Since(t0); d > 2*time.Second {
			t.Errorf("Publish %d took %v", i, d)
		}
		// Keep the fast ones within half the history, however loaded the
		// machine (this wait is the test's, not the broker's).
		w0 := time.Now()
		for k := range read {
			for int64(i)-read[k].Load() > history/2 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		waited += time.Since(w0)
	}
	if d := time.Since(start) - waited; d > 5*time.Second {
		t.Errorf("publishing took %v", d)
	}
	wg.Wait()
	var want string
	for i := 1; i <= n; i++ {
		want += ev(i)
	}
	for k, g := range got {
		if g != want {
			t.Errorf("fast subscriber %d missed events (%d bytes, want %d)", k, len(g), len(want))
		}
	}
	// The slow one learns why it was dropped.
	if _, err := slow.Next(context.Background()); !errors.Is(err, server.ErrSlowSubscriber) {
		t.Errorf("slow subscriber: %v, want ErrSlowSubscriber", err)
	}
}

// Subscribers that leave free what they held.
func TestBrokerUnsubscribeFrees(t *testing.T) {
	b := server.NewBroker(server.BrokerOptions{History: 64})
	defer b.Close()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for round := range 10 {
		var subs []*server.Subscription
		for i := range 1000 {
			s, _ := b.Subscribe("t", "")
			subs = append(subs, s)
			// Made-up topics (a client can name any) are forgotten when
			// their subscribers leave.
			s, _ = b.Subscribe(fmt.Sprint("made-up-", round, "-", i), "")
			subs = append(subs, s)
		}
		b.Publish("t", sse.Message{Data: "x"})
		for _, s := range subs {
			s.Close()
		}
	}
	if after := heap(); after > before+2<<20 {
		t.Errorf("heap grew from %d to %d after 20,000 subscribers of 10,001 topics left", before, after)
	}
}

func TestBrokerClose(t *testing.T) {
	t.Parallel()
	b := server.NewBroker(server.BrokerOptions{})
	sub, _ := b.Subscribe("t", "")
	done := make(chan error)
	go func() {
		_, err := sub.Next(context.Background())
		done <- err
	}()
	b.Close()
	if err := <-done; !errors.Is(err, server.ErrBrokerClosed) {
		t.Errorf("Next: %v, want ErrBrokerClosed", err)
	}
	if _, err := b.Publish("t", sse.Message{}); !errors.Is(err, server.ErrBrokerClosed) {
		t.Errorf("Publish after Close: %v", err)
	}
	if _, err := b.Subscribe("t", ""); !errors.Is(err, server.ErrBrokerClosed) {
		t.Errorf("Subscribe after Close: %v", err)
	}
}

// Over HTTP, a client whose connection is killed again and again and that
// reconnects with its Last-Event-ID sees every event exactly once.
func TestBrokerServeHTTPAcrossKills(t *testing.T) {
	t.Parallel()
	const n = 400
	b := server.NewBroker(server.BrokerOptions{History: n})
	ts := httptest.NewServer(b)
	defer ts.Close()
	defer b.Close()
	go func() {
		for i := 1; i <= n; i++ {
			b.Publish("feed", sse.Message{Data: fmt.Sprint("e", i)})
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var seen []int
	last := "0" // from the start, whenever the publisher started
	for conn := 0; len(seen) < n; conn++ {
		if conn > 2*n {
			t.Fatalf("too many connections; saw %d events", len(seen))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"?topic=feed", nil)
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		// Kill the connection after a few events (more on later ones).
		var p sse.Parser
		buf := make([]byte, 1+conn%7*13)
		for k := 0; k < 1+conn%5 && len(seen) < n; {
			m, err := resp.Body.Read(buf)
			p.Feed(buf[:m], func(e sse.Event) {
				if e.Type == "reset" {
					t.Errorf("reset after %q", last)
				}
				i, _ := strconv.Atoi(e.LastEventID)
				seen = append(seen, i)
				last = e.LastEventID
				k++
			})
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
		}
		cancel()
		resp.Body.Close()
	}
	for i, v := range seen {
		if v != i+1 {
			t.Fatalf("event %d has id %d: duplicates or gaps: %v", i, v, seen)
		}
	}
}
