//go:build !js

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/wasm-eventsource/wasm-eventsource/internal/chat"
	"github.com/wasm-eventsource/wasm-eventsource/internal/httpx"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
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
	llmToken  = "bench-secret-token"
	llmPrompt = "Benchmark me: stream the tokens as fast as you can."
	// writeTimeout bounds every write of every endpoint, the server
	// package's (through testserver.Options) and ours.
	writeTimeout = testserver.DefaultWriteTimeout
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

// startStream sets the event stream headers, sends the opening comment
// and returns the stream, or nil when the client is already gone.
func startStream(w http.ResponseWriter) *testserver.Stream {
	testserver.SetStreamHeaders(w.Header())
	s := testserver.NewStream(w, writeTimeout)
	if s.SendString(testserver.StreamOpening) != nil {
		return nil
	}
	return s
}

// maxCount bounds the n query parameters of the endpoints.
const maxCount = 100_000_000

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
		q := r.URL.Query()
		if q.Get("token") != llmToken {
			http.Error(w, "missing or wrong token", http.StatusUnauthorized)
			return
		}
		var err error
		if n, err = httpx.IntParam(q, "n", 0, 1, maxCount); err != nil || n == 0 {
			http.Error(w, "n: want a positive integer", http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	s := startStream(w)
	if s == nil {
		return
	}
	var buf []byte
	for i := 0; i < n; i++ {
		if s.Send(chat.AppendDelta(buf[:0], llmDelta(i))) != nil {
			return
		}
	}
	_ = s.Send(chat.AppendDone(buf[:0]))
}

// serveLatency: ?n=N&every=MS: ":ok", then every MS milliseconds one event
// "data: <i> <send time, ms since the epoch, 3 decimals>", flushed; the time
// is taken right before the write.
func (a *benchAPI) serveLatency(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := httpx.IntParam(q, "n", 1000, 0, maxCount)
	every := 5
	if err == nil {
		every, err = httpx.IntParam(q, "every", 5, 1, 60_000)
	}
	if err != nil {
		http.Error(w, "bad n or every: "+err.Error(), http.StatusBadRequest)
		return
	}
	s := startStream(w)
	if s == nil {
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
		if s.Send(buf) != nil {
			return
		}
	}
}

// serveMillion: ?n=N&size=B&gate=ID&pause=K1,K2,...: the /api/stream format
// ("id: i", data testserver.BulkPayload(i, B)) through a 32 KiB buffer, as fast as
// it goes; after event Ki it flushes, reports Ki on the gate and waits for
// the driver to release it.
func (a *benchAPI) serveMillion(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := httpx.IntParam(q, "n", 1000000, 0, maxCount)
	size := 32
	if err == nil {
		size, err = httpx.IntParam(q, "size", 32, 0, testserver.BulkMaxSize)
	}
	g := a.gate(q.Get("gate"))
	if err != nil || g == nil {
		http.Error(w, "bad n, size or gate", http.StatusBadRequest)
		return
	}
	pauses := map[int]bool{}
	for _, p := range strings.Split(q.Get("pause"), ",") {
		if k, err := strconv.Atoi(p); err == nil {
			pauses[k] = true
		}
	}
	s := startStream(w)
	if s == nil {
		return
	}
	bw := bufio.NewWriterSize(s, 32<<10)
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = testserver.AppendBulkEvent(buf[:0], i, size)
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

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// expectBulk is what /api/stream?n=N&size=B (and /benchapi/million) send;
// prefix[k] is the body length up to and including event k, for the
// checkpoints listed (raw reader progress).
func expectBulk(n, size int, checkpoints ...int) (expect, map[int]int) {
	e := expect{n: n, dataLen: n * size, first: testserver.BulkPayload(1, size), last: testserver.BulkPayload(n, size), lastID: strconv.Itoa(n)}
	want := map[int]bool{}
	for _, k := range checkpoints {
		want[k] = true
	}
	prefix := map[int]int{}
	wire := len(testserver.StreamOpening)
	var buf []byte
	for i := 1; i <= n; i++ {
		buf = testserver.AppendBulkEvent(buf[:0], i, size)
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
	wire := len(testserver.StreamOpening)
	var buf []byte
	for i := 0; i < n; i++ {
		e.dataLen += utf16Len(llmDelta(i))
		buf = chat.AppendDelta(buf[:0], llmDelta(i))
		wire += len(buf)
	}
	e.wireBytes = wire + len(chat.AppendDone(buf[:0]))
	return e
}
