package main

import (
	"net/http"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// clock is GET /api/clock, the native-vs-ours demo's stream, built on
// server.Broker: one event a second, "id: <seq>" and the time (RFC 3339),
// to every subscriber. A reconnection with Last-Event-ID replays what it
// missed (the last 1000 ticks are kept); after a server restart the ids
// start over, and a client coming back with an id the new server never
// issued gets an "event: reset" first, then the live ticks.
type clock struct {
	b        *server.Broker
	interval time.Duration
}

// newClock starts ticking; it stops, and ends every stream, when stop is
// closed.
func newClock(interval time.Duration, stop <-chan struct{}) *clock {
	c := &clock{
		b: server.NewBroker(server.BrokerOptions{
			History: 1000,
			Topic:   func(*http.Request) string { return "clock" },
			Stream:  server.StreamOptions{Heartbeat: 15 * time.Second},
		}),
		interval: interval,
	}
	go c.run(stop)
	return c
}

func (c *clock) run(stop <-chan struct{}) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			c.b.Publish("clock", sse.Message{Data: now.UTC().Format(time.RFC3339)})
		case <-stop:
			c.b.Close()
			return
		}
	}
}

func (c *clock) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.b.ServeHTTP(w, r) }
