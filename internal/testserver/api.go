package testserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/wasm-eventsource/wasm-eventsource/internal/chat"
	"github.com/wasm-eventsource/wasm-eventsource/internal/httpx"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// Headers /api/ endpoints let cross-origin requests send.
const (
	apiAllowHeaders = "Authorization, Content-Type, Last-Event-ID"
	apiAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
)

// serveAPI routes /api/ after answering CORS.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	if s.apiCORS(w, r) {
		return
	}
	switch r.URL.Path {
	case "/api/chat", "/api/chat/resume":
		s.chat.ServeHTTP(w, r)
	case "/api/stream":
		s.serveBulk(w, r)
	case "/api/echo":
		s.serveEcho(w, r)
	case "/api/origins":
		s.serveOrigins(w, r)
	default:
		httpx.JSONError(w, http.StatusNotFound, "no such endpoint")
	}
}

// apiCORS adds the CORS headers of /api/ responses when the request's Origin
// is one of the server's origins (or Options.AllowOrigins): that origin is
// echoed (never "*") with credentials allowed. It answers preflights itself
// and then reports true.
func (s *Server) apiCORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.allowedOrigin(origin)
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !isPreflight(r) {
		return false
	}
	if allowed {
		h.Set("Access-Control-Allow-Methods", apiAllowMethods)
		h.Set("Access-Control-Allow-Headers", apiAllowHeaders)
		h.Set("Access-Control-Max-Age", "0")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

func (s *Server) allowedOrigin(origin string) bool {
	// origins is written only before serving starts.
	return s.origins[origin]
}

// ChatDeltas returns the "delta" strings /api/chat streams for prompt
// (chat.Deltas).
func ChatDeltas(prompt string) []string { return chat.Deltas(prompt) }

// marshalNoEscape is json.Marshal without HTML escaping and trailing newline.
func marshalNoEscape(v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// bulkAlphabet is what /api/stream payloads are made of.
const bulkAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// BulkMaxSize is the largest payload size /api/stream (and BulkPayload)
// supports.
const BulkMaxSize = 1 << 20

// bulkPattern is the string BulkPayload slices, built on first use: long
// enough for BulkMaxSize bytes at any offset.
var bulkPattern = sync.OnceValue(func() string {
	return strings.Repeat(bulkAlphabet, BulkMaxSize/len(bulkAlphabet)+2)
})

// BulkPayload returns the payload (data) of event i (i >= 0) of
// /api/stream?size=size: size bytes (at most BulkMaxSize) of bulkAlphabet
// repeated, starting at offset i mod 62, so every run produces the same
// bytes. It shares memory with every other payload: it does not allocate.
func BulkPayload(i, size int) string {
	off := i % len(bulkAlphabet)
	return bulkPattern()[off : off+size]
}

// AppendBulkEvent appends event i of /api/stream?size=size:
// "id: <i>\ndata: <BulkPayload(i, size)>\n\n" ("data:" without the space
// when size is 0, as sse.AppendMessage writes an empty data line).
func AppendBulkEvent(dst []byte, i, size int) []byte {
	dst = append(dst, "id: "...)
	dst = strconv.AppendInt(dst, int64(i), 10)
	if size == 0 {
		return append(dst, "\ndata:\n\n"...)
	}
	dst = append(dst, "\ndata: "...)
	dst = append(dst, BulkPayload(i, size)...)
	return append(dst, "\n\n"...)
}

// serveBulk is /api/stream?n=N&size=B&flush=each|end, for benchmarks.
//
// After ":ok\n\n" it sends events i = 1..N (default 1000) as
// "id: <i>\ndata: <payload>\n\n", the payload being B bytes (default 100)
// of a deterministic rotation of [a-zA-Z0-9] starting at offset i mod 62.
// flush=each (default) flushes every event; flush=end goes through a 32 KiB
// bufio.Writer flushed at the end. With a valid Last-Event-ID L it resumes at
// L+1, and answers 204 (which stops an EventSource) when L >= N.
func (s *Server) serveBulk(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := httpx.IntParam(q, "n", 1000, 0, 10_000_000)
	var size int
	if err == nil {
		size, err = httpx.IntParam(q, "size", 100, 0, BulkMaxSize)
	}
	flush := q.Get("flush")
	if err == nil && flush != "" && flush != "each" && flush != "end" {
		err = fmt.Errorf("flush: want each or end, got %q", flush)
	}
	if err != nil {
		httpx.JSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	first := 1
	if id, ok := ParseEventID(r.Header.Get("Last-Event-Id")); ok {
		if id >= uint64(n) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		first = int(id) + 1
	}

	SetStreamHeaders(w.Header())
	sw := NewStream(w, s.opts.WriteTimeout)
	if err := sw.SendString(StreamOpening); err != nil {
		return
	}
	var bw *bufio.Writer
	if flush == "end" {
		bw = bufio.NewWriterSize(sw, 32<<10)
	}
	ctx := r.Context()
	var buf []byte
	for i := first; i <= n; i++ {
		buf = AppendBulkEvent(buf[:0], i, size)
		if bw != nil {
			_, err = bw.Write(buf)
		} else {
			err = sw.Send(buf)
		}
		if err != nil {
			return
		}
		if i&1023 == 0 && !s.sleep(ctx, 0) {
			return
		}
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return
		}
	}
	_ = sw.Flush()
}

// serveEcho is /api/echo: any method gets one event (after ":ok\n\n")
// whose data is a JSON object describing the request, then the response
// ends:
//
//	{"method": "POST", "path": "/api/echo?x=1", "host": "127.0.0.1:PORT",
//	 "headers": {"accept": "text/event-stream", ...}, "body": "..."}
//
// headers holds every request header, lower-cased, multiple values joined
// with ", ". The body is read up to 1 MiB.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header { // encoding/json sorts the keys
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	data, err := marshalNoEscape(struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Host    string            `json:"host"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}{r.Method, r.URL.RequestURI(), r.Host, headers, string(body)})
	if err != nil {
		httpx.JSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	SetStreamHeaders(w.Header())
	buf, _ := sse.AppendMessage([]byte(StreamOpening), sse.Message{Data: data})
	_ = NewStream(w, s.opts.WriteTimeout).Send(buf)
}

// serveOrigins is /api/origins: {"url": URL(), "other": OtherURL()}, so
// that a demo page can find the second origin.
func (s *Server) serveOrigins(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]string{"url": s.url, "other": s.otherURL})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}
