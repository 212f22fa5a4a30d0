package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// clockEvents reads n events from GET /api/clock with lastID (none when
// "").
func clockEvents(t *testing.T, url, lastID string, n int) []sse.Event {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	var p sse.Parser
	var evs []sse.Event
	buf := make([]byte, 1024)
	for len(evs) < n {
		k, err := resp.Body.Read(buf)
		p.Feed(buf[:k], func(e sse.Event) { evs = append(evs, e) })
		if err != nil {
			t.Fatalf("after %d events: %v", len(evs), err)
		}
	}
	return evs[:n]
}

func TestClock(t *testing.T) {
	stop := make(chan struct{})
	ts := httptest.NewServer(newClock(20*time.Millisecond, stop))
	defer ts.Close()
	defer close(stop) // first: ends the streams

	evs := clockEvents(t, ts.URL, "", 3)
	first, _ := strconv.Atoi(evs[0].LastEventID)
	for i, e := range evs {
		if e.LastEventID != strconv.Itoa(first+i) || e.Type != "message" {
			t.Fatalf("event %d: %+v", i, e)
		}
		if _, err := time.Parse(time.RFC3339, e.Data); err != nil {
			t.Fatalf("event %d data %q: %v", i, e.Data, err)
		}
	}
	// A reconnection replays strictly after its Last-Event-ID.
	again := clockEvents(t, ts.URL, evs[0].LastEventID, 2)
	if again[0].LastEventID != evs[1].LastEventID || again[1].LastEventID != evs[2].LastEventID {
		t.Fatalf("replay after %s: %+v", evs[0].LastEventID, again)
	}
	// An id this server never issued (the server restarted): reset first.
	if e := clockEvents(t, ts.URL, "999999", 1)[0]; e.Type != "reset" {
		t.Fatalf("unknown id: first event %+v, want a reset", e)
	}
}

func TestClockStops(t *testing.T) {
	stop := make(chan struct{})
	ts := httptest.NewServer(newClock(10*time.Millisecond, stop))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	close(stop)
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end when the clock stopped")
	}
}
