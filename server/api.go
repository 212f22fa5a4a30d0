package server

import (
	"bufio"
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

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
	case "/api/clock":
		s.serveClock(w, r)
	case "/api/chat":
		s.serveChat(w, r)
	case "/api/stream":
		s.serveBulk(w, r)
	case "/api/echo":
		s.serveEcho(w, r)
	case "/api/origins":
		s.serveOrigins(w, r)
	default:
		jsonError(w, http.StatusNotFound, "no such endpoint")
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

// jsonError answers with {"error": msg} and status code.
func jsonError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(b, '\n'))
}

// intParam reads the integer query parameter name, def when absent, and
// checks min <= v <= max.
func intParam(q url.Values, name string, def, min, max int) (int, error) {
	s, ok := q[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(s[0])
	if err != nil || v < min || v > max {
		return 0, fmt.Errorf("%s: want an integer in [%d, %d], got %q", name, min, max, s[0])
	}
	return v, nil
}

// ChatDeltas returns the "delta" strings /api/chat streams for prompt, in
// order: a canned answer quoting the prompt, split into words, each word
// after the first with its leading space, so that their concatenation is the
// whole answer.
func ChatDeltas(prompt string) []string {
	answer := "You said: " + prompt + ". This answer is streamed one word at a time, the way a language model streams its tokens."
	words := strings.Fields(answer)
	for i := 1; i < len(words); i++ {
		words[i] = " " + words[i]
	}
	return words
}

// serveChat is POST /api/chat?delay=ms, an LLM-like endpoint.
//
// It requires "Authorization: Bearer <token>" (DemoToken or one of
// Options.Tokens; 401 otherwise) and a JSON body {"prompt": "<non-empty
// string>"} (400 otherwise); errors are JSON {"error": "..."} and no stream.
// Then it streams ":ok\n\n", one `data: {"delta":"<word>"}` event per word
// of ChatDeltas(prompt), delay ms apart (default 30), then
// "event: done\ndata: [DONE]\n\n", and ends.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		jsonError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !s.validToken(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wasm-eventsource demo"`)
		jsonError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	delay, err := intParam(r.URL.Query(), "delay", 30, 0, 10_000)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	prompt, err := parsePrompt(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		code := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		jsonError(w, code, err.Error())
		return
	}

	setStreamHeaders(w.Header())
	sw := s.newStream(w)
	if err := sw.Send([]byte(":ok\n\n")); err != nil {
		return
	}
	ctx := r.Context()
	var buf []byte
	for i, d := range ChatDeltas(prompt) {
		if i > 0 && !s.sleep(ctx, time.Duration(delay)*time.Millisecond) {
			return
		}
		data, err := marshalNoEscape(struct {
			Delta string `json:"delta"`
		}{d})
		if err != nil {
			return
		}
		buf, _ = sse.AppendMessage(buf[:0], sse.Message{Data: data})
		if err := sw.Send(buf); err != nil {
			return
		}
	}
	buf, _ = sse.AppendMessage(buf[:0], sse.Message{Type: "done", Data: "[DONE]"})
	_ = sw.Send(buf)
}

// validToken checks an Authorization header value against the accepted
// bearer tokens, in constant time per token.
func (s *Server) validToken(auth string) bool {
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	valid := false
	for _, t := range append([]string{DemoToken}, s.opts.Tokens...) {
		if subtle.ConstantTimeCompare([]byte(token), []byte(t)) == 1 {
			valid = true
		}
	}
	return valid
}

// parsePrompt reads {"prompt": "..."}: exactly one JSON object whose
// "prompt" member is a non-blank string (other members are ignored).
func parsePrompt(body io.Reader) (string, error) {
	dec := json.NewDecoder(body)
	var req struct {
		Prompt *string `json:"prompt"`
	}
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", err
		}
		return "", fmt.Errorf(`body: want a JSON object {"prompt": string}: %v`, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("body: trailing data after the JSON object")
	}
	if req.Prompt == nil {
		return "", errors.New(`body: missing "prompt"`)
	}
	if strings.TrimSpace(*req.Prompt) == "" {
		return "", errors.New(`body: "prompt" is empty`)
	}
	return *req.Prompt, nil
}

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

// BulkPayload returns the payload (data) of event i of /api/stream?size=size:
// size bytes of bulkAlphabet repeated, starting at offset i mod 62, so every
// run produces the same bytes.
func BulkPayload(i, size int) string {
	return bulkPayload(bulkPattern(size), i, size)
}

func bulkPayload(pattern string, i, size int) string {
	off := i % len(bulkAlphabet)
	return pattern[off : off+size]
}

// bulkPattern is the string bulkPayload slices: long enough for size bytes
// at any offset.
func bulkPattern(size int) string {
	return strings.Repeat(bulkAlphabet, size/len(bulkAlphabet)+2)
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
	n, err := intParam(q, "n", 1000, 0, 10_000_000)
	var size int
	if err == nil {
		size, err = intParam(q, "size", 100, 0, 1<<20)
	}
	flush := q.Get("flush")
	if err == nil && flush != "" && flush != "each" && flush != "end" {
		err = fmt.Errorf("flush: want each or end, got %q", flush)
	}
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
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

	setStreamHeaders(w.Header())
	sw := s.newStream(w)
	if err := sw.Send([]byte(":ok\n\n")); err != nil {
		return
	}
	var out io.Writer = sw
	var bw *bufio.Writer
	if flush == "end" {
		bw = bufio.NewWriterSize(sw, 32<<10)
		out = bw
	}
	pattern := bulkPattern(size)
	ctx := r.Context()
	var buf []byte
	for i := first; i <= n; i++ {
		buf, _ = sse.AppendMessage(buf[:0], sse.Message{ID: strconv.Itoa(i), Data: bulkPayload(pattern, i, size)})
		if _, err := out.Write(buf); err != nil {
			return
		}
		if bw == nil {
			if err := sw.Flush(); err != nil {
				return
			}
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
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		headers[strings.ToLower(k)] = strings.Join(r.Header[k], ", ")
	}
	data, err := marshalNoEscape(struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Host    string            `json:"host"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}{r.Method, r.URL.RequestURI(), r.Host, headers, string(body)})
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	setStreamHeaders(w.Header())
	sw := s.newStream(w)
	buf, _ := sse.AppendMessage([]byte(":ok\n\n"), sse.Message{Data: data})
	_ = sw.Send(buf)
}

// serveOrigins is /api/origins: {"url": URL(), "other": OtherURL()}, so
// that a demo page can find the second origin.
func (s *Server) serveOrigins(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]string{"url": s.url, "other": s.otherURL})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}
