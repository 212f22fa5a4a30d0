//go:build !js

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// The bench's own endpoints, under /benchapi/, next to the server package's
// handler (which serves /api/stream, /dist/ and the pages):
//
//	/benchapi/llm      LLM tokens: POST with Authorization and a JSON body
//	                   (GET with ?token= for native EventSource)
//	/benchapi/latency  an event every `every` ms carrying its send time
//	/benchapi/million  a long stream that pauses at checkpoints until the
//	                   driver has sampled the page's memory
//
// Every endpoint answers a reconnection (a request with Last-Event-ID) with
// 204, which stops an EventSource: a bench run never reconnects, and a client
// that tries fails its run instead of being measured twice.

const (
	llmToken     = "bench-secret-token"
	llmPrompt    = "Benchmark me: stream the tokens as fast as you can."
	writeTimeout = 60 * time.Second
)

// llmWords are the deltas of the LLM stream, cycled: ASCII words, non-ASCII
// (2-, 3- and 4-byte UTF-8) and characters JSON must escape, so that every
// client really decodes what it receives.
var llmWords = []string{
	" The", " stream", " of", " tokens", ",", " naïve", " café", " 漢字", " 😀", " and",
	` "quoted"`, ` back\slash`, "\n", " done", ".",
}

// llmDelta is the delta of token i (0-based).
func llmDelta(i int) string { return llmWords[i%len(llmWords)] }

// llmRequest is the JSON body clients POST.
type llmRequest struct {
	Prompt    string `json:"prompt"`
	MaxTokens int    `json:"max_tokens"`
}

type benchAPI struct {
	mu    sync.Mutex
	gates map[string]*gate
}

// gate pauses a /benchapi/million stream at its checkpoints: the handler
// sends the checkpoint on reached and waits for release.
type gate struct {
	reached chan int
	release chan struct{}
}

func newBenchAPI() *benchAPI { return &benchAPI{gates: make(map[string]*gate)} }

func (a *benchAPI) newGate(id string) *gate {
	g := &gate{reached: make(chan int, 8), release: make(chan struct{}, 8)}
	a.mu.Lock()
	a.gates[id] = g
	a.mu.Unlock()
	return g
}

func (a *benchAPI) dropGate(id string) {
	a.mu.Lock()
	delete(a.gates, id)
	a.mu.Unlock()
}

func (a *benchAPI) gate(id string) *gate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gates[id]
}

func (a *benchAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Last-Event-ID") != "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch r.URL.Path {
	case "/benchapi/llm":
		a.serveLLM(w, r)
	case "/benchapi/latency":
		a.serveLatency(w, r)
	case "/benchapi/million":
		a.serveMillion(w, r)
	default:
		http.NotFound(w, r)
	}
}

// stream is a response body with a fresh write deadline per write.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startStream(w http.ResponseWriter) *stream {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return &stream{w: w, rc: http.NewResponseController(w)}
}

func (s *stream) Write(p []byte) (int, error) {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return s.w.Write(p)
}

func (s *stream) Flush() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	return s.rc.Flush()
}

func (s *stream) send(p []byte) error {
	if _, err := s.Write(p); err != nil {
		return err
	}
	return s.Flush()
}

func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: want a non-negative integer, got %q", name, v)
	}
	return n, nil
}

// serveLLM: POST with "Authorization: Bearer <llmToken>" and
// {"prompt": llmPrompt, "max_tokens": N}; or GET ?n=N&token=<llmToken>
// (native EventSource cannot send either). Streams ":ok", N events
// data: {"delta": llmDelta(i)}, each flushed, then "event: done".
func (a *benchAPI) serveLLM(w http.ResponseWriter, r *http.Request) {
	var n int
	switch r.Method {
	case http.MethodPost:
		if r.Header.Get("Authorization") != "Bearer "+llmToken {
			http.Error(w, "missing or wrong bearer token", http.StatusUnauthorized)
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			http.Error(w, "Content-Type "+ct+", want application/json", http.StatusUnsupportedMediaType)
			return
		}
		var req llmRequest
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
			http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
			return
		}
		if req.Prompt != llmPrompt || req.MaxTokens <= 0 {
			http.Error(w, "body: wrong prompt or max_tokens", http.StatusBadRequest)
			return
		}
		n = req.MaxTokens
	case http.MethodGet:
		if r.URL.Query().Get("token") != llmToken {
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		var err error
		if n, err = queryInt(r, "n", 0); err != nil || n == 0 {
			http.Error(w, "n: want a positive integer", http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	s := startStream(w)
	if s.send([]byte(":ok\n\n")) != nil {
		return
	}
	var buf []byte
	for i := 0; i < n; i++ {
		buf = appendLLMEvent(buf[:0], i)
		if s.send(buf) != nil {
			return
		}
	}
	buf, _ = sse.AppendMessage(buf[:0], sse.Message{Type: "done", Data: "[DONE]"})
	_ = s.send(buf)
}

func appendLLMEvent(dst []byte, i int) []byte {
	data, _ := json.Marshal(struct {
		Delta string `json:"delta"`
	}{llmDelta(i)})
	dst, _ = sse.AppendMessage(dst, sse.Message{Data: string(data)})
	return dst
}

// serveLatency: ?n=N&every=MS: ":ok", then every MS milliseconds one event
// "data: <i> <send time, ms since the epoch, 3 decimals>", flushed; the time
// is taken right before the write.
func (a *benchAPI) serveLatency(w http.ResponseWriter, r *http.Request) {
	n, err := queryInt(r, "n", 1000)
	every := 5
	if err == nil {
		every, err = queryInt(r, "every", 5)
	}
	if err != nil || every == 0 {
		http.Error(w, "bad n or every", http.StatusBadRequest)
		return
	}
	s := startStream(w)
	if s.send([]byte(":ok\n\n")) != nil {
		return
	}
	t := time.NewTicker(time.Duration(every) * time.Millisecond)
	defer t.Stop()
	var buf []byte
	for i := 1; i <= n; i++ {
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		now := time.Now()
		data := strconv.Itoa(i) + " " + strconv.FormatFloat(float64(now.UnixNano())/1e6, 'f', 3, 64)
		buf, _ = sse.AppendMessage(buf[:0], sse.Message{Data: data})
		if s.send(buf) != nil {
			return
		}
	}
}

// serveMillion: ?n=N&size=B&gate=ID&pause=K1,K2,...: the /api/stream format
// ("id: i", data server.BulkPayload(i, B)) through a 32 KiB buffer, as fast as
// it goes; after event Ki it flushes, reports Ki on the gate and waits for
// the driver to release it.
func (a *benchAPI) serveMillion(w http.ResponseWriter, r *http.Request) {
	n, err := queryInt(r, "n", 1000000)
	size := 32
	if err == nil {
		size, err = queryInt(r, "size", 32)
	}
	g := a.gate(r.URL.Query().Get("gate"))
	if err != nil || g == nil {
		http.Error(w, "bad n, size or gate", http.StatusBadRequest)
		return
	}
	pauses := map[int]bool{}
	for _, p := range strings.Split(r.URL.Query().Get("pause"), ",") {
		if k, err := strconv.Atoi(p); err == nil {
			pauses[k] = true
		}
	}
	s := startStream(w)
	if s.send([]byte(":ok\n\n")) != nil {
		return
	}
	bw := bufio.NewWriterSize(s, 32<<10)
	var buf []byte
	for i := 1; i <= n; i++ {
		buf, _ = sse.AppendMessage(buf[:0], sse.Message{ID: strconv.Itoa(i), Data: server.BulkPayload(i, size)})
		if _, err := bw.Write(buf); err != nil {
			return
		}
		if pauses[i] {
			if bw.Flush() != nil || s.Flush() != nil {
				return
			}
			g.reached <- i
			select {
			case <-g.release:
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Minute):
				return
			}
		}
	}
	if bw.Flush() == nil {
		_ = s.Flush()
	}
}

// expect is what a run must receive.
type expect struct {
	n         int
	dataLen   int    // sum of data lengths in UTF-16 code units (JS string length)
	first     string // data of the first event (LLM: its delta)
	last      string
	lastID    string // "" when not checked
	wireBytes int    // body bytes, for the raw reader; 0 when not checked
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }

// expectBulk is what /api/stream?n=N&size=B (and /benchapi/million) send;
// prefix[k] is the body length up to and including event k, for the
// checkpoints listed (raw reader progress).
func expectBulk(n, size int, checkpoints ...int) (expect, map[int]int) {
	e := expect{n: n, dataLen: n * size, first: server.BulkPayload(1, size), last: server.BulkPayload(n, size), lastID: strconv.Itoa(n)}
	want := map[int]bool{}
	for _, k := range checkpoints {
		want[k] = true
	}
	prefix := map[int]int{}
	wire := len(":ok\n\n")
	var buf []byte
	for i := 1; i <= n; i++ {
		buf, _ = sse.AppendMessage(buf[:0], sse.Message{ID: strconv.Itoa(i), Data: server.BulkPayload(i, size)})
		wire += len(buf)
		if want[i] {
			prefix[i] = wire
		}
	}
	e.wireBytes = wire
	return e, prefix
}

func expectLLM(n int) expect {
	e := expect{n: n, first: llmDelta(0), last: llmDelta(n - 1)}
	wire := len(":ok\n\n")
	var buf []byte
	for i := 0; i < n; i++ {
		e.dataLen += utf16Len(llmDelta(i))
		buf = appendLLMEvent(buf[:0], i)
		wire += len(buf)
	}
	buf, _ = sse.AppendMessage(buf[:0], sse.Message{Type: "done", Data: "[DONE]"})
	e.wireBytes = wire + len(buf)
	return e
}
