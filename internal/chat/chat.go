// Package chat is the demo's LLM-like chat endpoint, built on the resumable
// streams of package server: POST /api/chat starts an answer that is
// generated independently of the request and stored as it is produced, and
// GET /api/chat/resume continues it after a Last-Event-ID, on any process
// sharing the store.
//
// The test server (internal/testserver) and the demo (server/cmd/sseserver)
// both serve it.
package chat

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/httpx"
	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// DemoToken is the bearer token POST /api/chat always accepts.
const DemoToken = "demo-token"

// maxBody bounds the request body read.
const maxBody = 1 << 20

// Options configures a Handler. The zero value is usable.
type Options struct {
	// Store keeps the answers; nil means a server.MemoryStore of its own.
	Store server.Store
	// Tokens are bearer tokens accepted besides DemoToken.
	Tokens []string
	// Stream configures the response streams.
	Stream server.StreamOptions
	// Logf, when set, receives generation failures.
	Logf func(format string, args ...any)
}

// Handler serves POST /api/chat and GET /api/chat/resume (whatever the
// path prefix: it looks at the request method and the final path element).
// Close it to stop the generations still running.
type Handler struct {
	store  server.Store
	opts   Options
	tokens [][]byte

	ctx    context.Context // ends at Close: the generations' context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Handler.
func New(opts Options) *Handler {
	h := &Handler{store: opts.Store, opts: opts}
	if h.store == nil {
		h.store = server.NewMemoryStore(server.MemoryStoreOptions{})
	}
	h.tokens = append(h.tokens, []byte(DemoToken))
	for _, t := range opts.Tokens {
		h.tokens = append(h.tokens, []byte(t))
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Close stops the generations still running and waits for them. Answers
// they left unfinished stay in the store until they expire.
func (h *Handler) Close() {
	h.cancel()
	h.wg.Wait()
}

// Deltas returns the "delta" strings the chat streams for prompt, in
// order: a canned answer quoting the prompt, split into words, each word
// after the first with its leading space, so that their concatenation is the
// whole answer.
func Deltas(prompt string) []string {
	answer := "You said: " + prompt + ". This answer is streamed one word at a time, the way a language model streams its tokens."
	words := strings.Fields(answer)
	for i := 1; i < len(words); i++ {
		words[i] = " " + words[i]
	}
	return words
}

// DeltaData returns the data of the event for one delta: {"delta":"..."},
// without HTML escaping.
func DeltaData(delta string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"delta": delta}) // cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// AppendDelta appends the event for one delta without an id,
// `data: {"delta":"<delta>"}` and a blank line (the bench's LLM endpoint).
func AppendDelta(dst []byte, delta string) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, DeltaData(delta)...)
	return append(dst, "\n\n"...)
}

// DoneType and DoneData make the event that ends an answer.
const (
	DoneType = "done"
	DoneData = "[DONE]"
)

// AppendDone appends the event that ends an answer, without an id:
// "event: done\ndata: [DONE]\n\n".
func AppendDone(dst []byte) []byte {
	return append(dst, "event: done\ndata: [DONE]\n\n"...)
}

// ServeHTTP serves POST .../chat and GET .../chat/resume.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/resume") {
		h.serveResume(w, r)
		return
	}
	h.serveChat(w, r)
}

// params are the query parameters of both endpoints: delay (ms between
// tokens, POST only, default 30) and drop (cut the connection, as a
// network failure would, after sending that many events; 0: never).
type params struct {
	delay time.Duration
	drop  int
}

func parseParams(q url.Values) (p params, err error) {
	var delay int
	if delay, err = httpx.IntParam(q, "delay", 30, 0, 10_000); err != nil {
		return p, err
	}
	if p.drop, err = httpx.IntParam(q, "drop", 0, 0, 1<<30); err != nil {
		return p, err
	}
	p.delay = time.Duration(delay) * time.Millisecond
	return p, nil
}

// serveChat is POST /api/chat?delay=ms&drop=N.
//
// It requires "Authorization: Bearer <token>" (401 otherwise) and a JSON
// body {"prompt": "<non-blank string>"} (400 otherwise); errors are JSON
// {"error": "..."}. Then it starts the answer in the store under a new
// stream ID and streams it: one `data: {"delta":"<word>"}` event per word
// of Deltas(prompt), delay ms apart, then "event: done\ndata: [DONE]", each
// with the id "<stream>.<seq>", and ends. The generation does not depend on
// this request: when the connection drops, GET /api/chat/resume continues.
func (h *Handler) serveChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpx.JSONError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if !h.validToken(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="wasm-eventsource demo"`)
		httpx.JSONError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	p, err := parseParams(r.URL.Query())
	if err != nil {
		httpx.JSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	prompt, err := parsePrompt(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		code := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		httpx.JSONError(w, code, err.Error())
		return
	}
	id := server.NewStreamID()
	wr, err := server.NewWriter(r.Context(), h.store, id)
	if err != nil {
		httpx.JSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	h.wg.Add(1)
	go h.generate(wr, Deltas(prompt), p.delay)
	h.stream(w, r, id, 0, p.drop)
}

// generate appends the answer, then finishes the stream.
func (h *Handler) generate(wr *server.Writer, deltas []string, delay time.Duration) {
	defer h.wg.Done()
	ctx := h.ctx
	var t *time.Timer
	for i, d := range deltas {
		if i > 0 && delay > 0 {
			if t == nil {
				t = time.NewTimer(delay)
				defer t.Stop()
			} else {
				t.Reset(delay)
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
		if _, err := wr.Append(ctx, "", DeltaData(d)); err != nil {
			h.logf("chat %s: %v", wr.Stream(), err)
			return
		}
	}
	if _, err := wr.Append(ctx, DoneType, DoneData); err != nil {
		h.logf("chat %s: %v", wr.Stream(), err)
		return
	}
	if err := wr.Finish(ctx); err != nil {
		h.logf("chat %s: %v", wr.Stream(), err)
	}
}

func (h *Handler) logf(format string, args ...any) {
	if h.opts.Logf != nil && h.ctx.Err() == nil {
		h.opts.Logf(format, args...)
	}
}

// serveResume is GET /api/chat/resume?drop=N with "Last-Event-ID:
// <stream>.<seq>": the answer after seq, waiting for the tokens still being
// generated, until it is complete. A missing or malformed Last-Event-ID is
// a 400, an unknown or expired stream a 404 (JSON errors). The stream ID,
// 128 random bits, is what authorizes reading the answer.
func (h *Handler) serveResume(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.JSONError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	p, err := parseParams(r.URL.Query())
	if err != nil {
		httpx.JSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	stream, seq, ok := server.ParseResumeID(r.Header.Get("Last-Event-Id"))
	if !ok {
		httpx.JSONError(w, http.StatusBadRequest, "Last-Event-ID: want <stream>.<seq> from an earlier answer")
		return
	}
	h.stream(w, r, stream, seq, p.drop)
}

// stream sends the answer after seq after; with drop > 0 it cuts the
// connection after drop events.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, stream string, after uint64, drop int) {
	first, finished, err := h.store.Read(r.Context(), stream, after, 0)
	if errors.Is(err, server.ErrStreamNotFound) {
		httpx.JSONError(w, http.StatusNotFound, "no such answer, or it expired")
		return
	}
	if err != nil {
		httpx.JSONError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	st, err := server.NewStream(w, r, h.opts.Stream)
	if err != nil {
		return
	}
	defer st.Close()
	sent := 0
	send := func(e server.Entry) bool {
		if err := st.Send(e.Message(stream)); err != nil {
			return false
		}
		if sent++; drop > 0 && sent >= drop {
			// Abort: net/http closes the connection without ending the
			// chunked body, which the client sees as a network failure.
			st.Close()
			panic(http.ErrAbortHandler)
		}
		return true
	}
	for _, e := range first {
		if !send(e) {
			return
		}
		after = e.Seq
	}
	if finished {
		return
	}
	// The stream ends with the client, or at Close.
	ctx, cancel := context.WithCancel(st.Context())
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)()
	for e, err := range server.Follow(ctx, h.store, stream, after) {
		if err != nil || !send(e) {
			return
		}
	}
}

// validToken checks an Authorization header value against the accepted
// bearer tokens, in constant time per token.
func (h *Handler) validToken(auth string) bool {
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return false
	}
	tok := []byte(token)
	valid := false
	for _, t := range h.tokens {
		if subtle.ConstantTimeCompare(tok, t) == 1 {
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
