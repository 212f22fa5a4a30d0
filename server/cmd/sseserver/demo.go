package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// The demo server's own routes, in front of the test server's (see
// testserver.Options.Wrap):
//
//	/dist/                the built package, precompressed (static.go)
//	/favicon.ico, .svg    the icon
//	/api/dashboard        a high-rate stream of named events for the dashboard
//	/api/clock            a tick a second (clock.go, on server.Broker)
//	POST /api/demo/drop   drops every /api/chat… stream in flight, as a
//	                      network failure would (the chat's "drop" button)
//	other non-API paths   the pages of -web
type demo struct {
	web, dist *static
	stop      <-chan struct{}
	clock     *clock

	mu    sync.Mutex
	chats map[*atomic.Bool]struct{} // the drop flags of the chat streams in flight
}

func newDemo(web, dist string, stop <-chan struct{}, logf func(string, ...any)) *demo {
	d := &demo{
		web:   newStatic("/", web, logf),
		dist:  newStatic("/dist/", dist, logf),
		stop:  stop,
		clock: newClock(time.Second, stop),
		chats: make(map[*atomic.Bool]struct{}),
	}
	d.dist.warm()
	return d
}

// wrap is the testserver.Options.Wrap of the demo.
func (d *demo) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/favicon.ico" || p == "/favicon.svg":
			serveFavicon(w, r)
		case strings.HasPrefix(p, "/dist/") || p == "/dist":
			d.dist.ServeHTTP(w, r)
		case p == "/api/dashboard":
			d.serveDashboard(w, r)
		case p == "/api/clock":
			d.clock.ServeHTTP(w, r)
		case p == "/api/demo/drop":
			d.serveDrop(w, r)
		case p == "/api/chat" || strings.HasPrefix(p, "/api/chat/"):
			d.droppable(next, w, r)
		case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/s/"):
			next.ServeHTTP(w, r)
		default:
			d.web.ServeHTTP(w, r)
		}
	})
}

// droppable serves r with next, and lets POST /api/demo/drop cut its
// connection: the next write after a drop aborts the handler, which makes
// net/http close the connection without ending the chunked body, the way a
// network failure looks to the browser.
func (d *demo) droppable(next http.Handler, w http.ResponseWriter, r *http.Request) {
	flag := new(atomic.Bool)
	d.mu.Lock()
	d.chats[flag] = struct{}{}
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.chats, flag)
		d.mu.Unlock()
	}()
	next.ServeHTTP(&dropWriter{ResponseWriter: w, dropped: flag}, r)
}

type dropWriter struct {
	http.ResponseWriter
	dropped *atomic.Bool
}

func (w *dropWriter) Write(b []byte) (int, error) {
	if w.dropped.Load() {
		panic(http.ErrAbortHandler)
	}
	return w.ResponseWriter.Write(b)
}

func (w *dropWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serveDrop is POST /api/demo/drop: {"dropped": <streams dropped>}.
func (d *demo) serveDrop(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	d.mu.Lock()
	n := len(d.chats)
	for f := range d.chats {
		f.Store(true)
	}
	d.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]int{"dropped": n})
}

// Dashboard symbols and their starting prices.
var dashSymbols = []struct {
	name  string
	price float64
}{{"ACME", 182.4}, {"GLOBX", 41.9}, {"INITECH", 97.1}, {"UMBR", 12.6}, {"WAYNE", 233.0}, {"STARK", 301.7}}

var dashServices = []string{"api", "auth", "billing", "search", "worker"}

var dashMessages = []string{"request served", "cache miss", "retrying upstream", "slow query", "token refreshed", "job done", "queue drained", "connection reset by peer"}

// serveDashboard is GET /api/dashboard?rate=N: about N events a second
// (default 400, at most 5000) in ticks of 50 ms, of three named types:
//
//	event: price   data: {"symbol":"ACME","price":182.41,"change":0.01}
//	event: log     data: {"level":"info","service":"api","msg":"…"}
//	event: metrics data: {"rps":…,"p99":…,"errors":…}   (one per tick)
//
// Every event has an increasing id; a reconnection with Last-Event-ID
// continues the numbering. It ends when the client goes or the server stops.
func (d *demo) serveDashboard(w http.ResponseWriter, r *http.Request) {
	rate := 400
	if v := r.URL.Query().Get("rate"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			http.Error(w, "rate: want an integer in [1, 5000]", http.StatusBadRequest)
			return
		}
		rate = n
	}
	id, _ := strconv.ParseUint(r.Header.Get("Last-Event-ID"), 10, 64)
	// The library's stream: headers, the opening comment and retry flushed
	// at once, a write deadline on every write, the end with the client.
	st, err := server.NewStream(w, r, server.StreamOptions{Retry: time.Second, WriteTimeout: 10 * time.Second, Heartbeat: -1})
	if err != nil {
		return
	}
	defer st.Close()

	const tick = 50 * time.Millisecond
	perTick := max(1, rate*int(tick/time.Millisecond)/1000)
	rng := rand.New(rand.NewPCG(id, 7))
	prices := make([]float64, len(dashSymbols))
	for i, s := range dashSymbols {
		prices[i] = s.price
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var buf []byte
	for {
		for i := 0; i < perTick; i++ {
			id++
			buf = fmt.Appendf(buf, "id: %d\n", id)
			if rng.IntN(4) > 0 {
				k := rng.IntN(len(prices))
				old := prices[k]
				prices[k] = math.Max(1, math.Round((old+old*rng.NormFloat64()*0.002)*100)/100)
				buf = fmt.Appendf(buf, "event: price\ndata: {\"symbol\":%q,\"price\":%.2f,\"change\":%.2f}\n\n",
					dashSymbols[k].name, prices[k], prices[k]-old)
			} else {
				level := "info"
				switch n := rng.IntN(20); {
				case n == 0:
					level = "error"
				case n < 4:
					level = "warn"
				}
				buf = fmt.Appendf(buf, "event: log\ndata: {\"level\":%q,\"service\":%q,\"msg\":%q}\n\n",
					level, dashServices[rng.IntN(len(dashServices))], dashMessages[rng.IntN(len(dashMessages))])
			}
		}
		buf = fmt.Appendf(buf, "event: metrics\ndata: {\"rps\":%d,\"p99\":%.1f,\"errors\":%d}\n\n",
			900+rng.IntN(300), 40+rng.Float64()*60, rng.IntN(5))
		if err := st.SendEncoded(buf); err != nil {
			return
		}
		buf = buf[:0]
		select {
		case <-t.C:
		case <-st.Done():
			return
		case <-d.stop:
			return
		}
	}
}
