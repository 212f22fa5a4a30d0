package main

import (
	"context"
	"strconv"
	"time"
	"unsafe"

	"github.com/hack-pad/safejs"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// source is the engine side of one EventSource object: its options, its
// parser (which also keeps the last event ID and the reconnection time),
// and the goroutine that connects, streams and reconnects.
//
// All of it runs on the single JS thread; a source is touched by its own
// goroutine and by close() calls from JS, which only happen while that
// goroutine is blocked, so no locks are needed (and none may be held across
// a call into JS, which can call back into Go).
type source struct {
	e         *engine
	id        int
	es, state safejs.Value
	url       string
	origin    string // of the URL given to the constructor

	method      string
	headers     safejs.Value // the caller's headers init (object, Headers or undefined)
	body        safejs.Value
	credentials string
	reconnect   bool

	parser sse.Parser
	batch  batch

	ctx    context.Context
	cancel context.CancelFunc
	closed bool         // close() was called
	abort  safejs.Value // AbortController of the current request

	aw       *awaiter
	chunk    []byte       // reused buffer for body chunks
	desc     safejs.Value // reused Uint8Array for batch tables
	originJS safejs.Value // origin of the current response, as a JS string
}

func newSource(e *engine, id int, es, state, urlV, init safejs.Value) *source {
	s := &source{e: e, id: id, es: es, state: state, abort: safejs.Undefined(), desc: safejs.Undefined()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.url, _ = urlV.String()
	s.origin = originOf(s.url)
	s.method = stringField(init, "method", "GET")
	s.credentials = stringField(init, "credentials", "same-origin")
	s.headers, _ = init.Get("headers")
	s.body, _ = init.Get("body")
	var reconnect *bool
	if v, err := init.Get("reconnect"); err == nil && !v.IsUndefined() && !v.IsNull() {
		b, _ := v.Truthy()
		reconnect = &b
	}
	s.reconnect = shouldReconnect(s.method, reconnect)
	if v, err := init.Get("maxEventSize"); err == nil && v.Type() == safejs.TypeNumber {
		if n, err := v.Int(); err == nil && n > 0 {
			s.parser.MaxEventSize = n
		}
	}
	if v, err := init.Get("lastEventId"); err == nil && v.Type() == safejs.TypeString {
		id, _ := v.String()
		s.parser.SetLastEventID(id)
	}
	return s
}

func stringField(obj safejs.Value, name, def string) string {
	v, err := obj.Get(name)
	if err != nil || v.Type() != safejs.TypeString {
		return def
	}
	str, err := v.String()
	if err != nil {
		return def
	}
	return str
}

// close is called by EventSource.close(), after the shell set readyState
// to CLOSED. It aborts the request, which settles any pending await, and
// cancels a pending reconnection timer.
func (s *source) close() {
	if s.closed {
		return
	}
	s.closed = true
	s.cancel()
	s.abortRequest()
}

func (s *source) abortRequest() {
	if s.abort.Type() == safejs.TypeObject {
		s.abort.Call("abort")
		s.abort = safejs.Undefined()
	}
}

// outcome is how one connection ended.
type outcome struct {
	kind    outcomeKind
	status  int    // HTTP status, when that is why it failed
	message string // short reason for the error event
}

type outcomeKind int

const (
	closedByUser outcomeKind = iota // close() was called: nothing to report
	failed                          // fail the connection: error, CLOSED, no retry
	lost                            // network error: reestablish (or give up without reconnect)
	ended                           // the body ended: reestablish (or end without reconnect)
)

// run is the life of the source: connect, stream, and reconnect until
// closed or failed. It runs on its own goroutine, started by open.
func (s *source) run() {
	defer s.e.forget(s)
	defer s.e.recoverCallback("connection loop", s)

	aw, err := newAwaiter()
	if err != nil {
		s.fail(0, "cannot start: "+err.Error())
		return
	}
	s.aw = aw
	defer aw.release()

	if !isHTTPURL(s.url) {
		// Native EventSource fails such URLs once, asynchronously, with
		// readyState CLOSED; the constructor must have returned first.
		s.aw.await(s.e.rt.task.Invoke())
		s.fail(0, "unsupported URL scheme: only http and https can be streamed")
		return
	}
	for {
		o := s.connect()
		if s.closed {
			return
		}
		switch o.kind {
		case closedByUser:
			return
		case failed:
			s.fail(o.status, o.message)
			return
		case ended:
			if !s.reconnect {
				s.abortRequest()
				s.e.rt.end.Invoke(s.es, s.state)
				s.closed = true
				return
			}
		case lost:
			if !s.reconnect {
				s.abortRequest()
				s.fail(0, o.message+"; not reconnecting a "+s.method+" request (set reconnect: true to allow it)")
				return
			}
		}
		s.e.rt.error.Invoke(s.es, s.state, s.e.rt.connecting, 0, o.message)
		if s.closed || !s.wait() {
			return
		}
	}
}

// wait sleeps for the reconnection time; false when close() came first.
func (s *source) wait() bool {
	d := reconnectDelay(s.parser.Retry())
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return !s.closed
	case <-s.ctx.Done():
		return false
	}
}

// fail dispatches the final error event (readyState CLOSED).
func (s *source) fail(status int, message string) {
	s.abortRequest()
	s.e.rt.error.Invoke(s.es, s.state, s.e.rt.closed, status, message)
	s.closed = true
}

// failInternal ends a source after a recovered panic.
func (s *source) failInternal(text string) {
	if s.closed {
		return
	}
	s.fail(0, "internal error: "+text)
	s.cancel()
}

// connect makes one request and streams its body until it ends.
func (s *source) connect() outcome {
	rt := &s.e.rt
	ac, err := rt.newAbortController.Invoke()
	if err != nil {
		return outcome{kind: failed, message: "cannot create AbortController: " + err.Error()}
	}
	s.abort = ac
	signal, _ := ac.Get("signal")

	headers, err := rt.headers.Invoke(s.headers)
	if err != nil {
		return outcome{kind: failed, message: "bad headers: " + err.Error()}
	}
	if has, err := headers.Call("has", "accept"); err == nil {
		if b, _ := has.Bool(); !b {
			headers.Call("set", "Accept", "text/event-stream")
		}
	}
	if id := s.parser.LastEventID(); id != "" {
		if _, err := headers.Call("set", "Last-Event-ID", latin1(id)); err != nil {
			return outcome{kind: failed, message: "cannot send Last-Event-ID: " + err.Error()}
		}
	}
	init, err := newObject(map[string]any{
		"method":      s.method,
		"headers":     headers,
		"credentials": s.credentials,
		"cache":       "no-store",
		"mode":        "cors",
		"redirect":    "follow",
		"signal":      signal,
	})
	if err != nil {
		return outcome{kind: failed, message: err.Error()}
	}
	if !s.body.IsUndefined() && !s.body.IsNull() {
		init.Set("body", s.body)
	}

	resp, err := s.aw.await(rt.fetch.Invoke(s.url, init))
	if s.closed {
		return outcome{kind: closedByUser}
	}
	if err != nil {
		return s.fetchFailed(err)
	}

	status := intProp(resp, "status")
	if status != 200 {
		text := stringField(resp, "statusText", "")
		msg := "HTTP " + strconv.Itoa(status)
		if text != "" {
			msg += " " + text
		}
		return outcome{kind: failed, status: status, message: msg}
	}
	ct := ""
	if h, err := resp.Get("headers"); err == nil {
		if v, err := h.Call("get", "content-type"); err == nil && v.Type() == safejs.TypeString {
			ct, _ = v.String()
		}
	}
	if !isEventStream(ct) {
		if ct == "" {
			ct = "none"
		}
		return outcome{kind: failed, status: status, message: "Content-Type is " + ct + ", not text/event-stream"}
	}

	origin := s.origin
	if final := stringField(resp, "url", ""); final != "" {
		origin = originOf(final)
	}
	s.originJS, _ = safejs.ValueOf(origin)
	s.parser.Reset()

	rt.open.Invoke(s.es, s.state)
	if s.closed {
		return outcome{kind: closedByUser}
	}
	return s.stream(resp)
}

// fetchFailed classifies a rejected fetch. Both a network error and a CORS
// refusal reject with the same TypeError; native EventSource reconnects
// after the first and fails for good after the second. For a cross-origin
// URL the engine asks whether the server answers at all (a no-cors HEAD):
// if it does, the refusal was CORS.
func (s *source) fetchFailed(err error) outcome {
	msg := "network error: " + err.Error()
	if s.origin != s.documentOrigin() {
		ok, rerr := s.aw.await(s.e.rt.reachable.Invoke(s.url, s.credentials))
		if s.closed {
			return outcome{kind: closedByUser}
		}
		if b, _ := ok.Bool(); rerr == nil && b {
			return outcome{kind: failed, message: "CORS check failed for " + s.origin}
		}
	}
	return outcome{kind: lost, message: msg}
}

func (s *source) documentOrigin() string {
	loc, err := safejs.Global().Get("location")
	if err != nil || loc.Type() != safejs.TypeObject {
		return s.origin // no document: nothing is cross-origin
	}
	return stringField(loc, "origin", s.origin)
}

// stream reads the body chunk by chunk, parses and dispatches.
func (s *source) stream(resp safejs.Value) outcome {
	rt := &s.e.rt
	body, err := resp.Get("body")
	if err != nil || body.Type() != safejs.TypeObject {
		return outcome{kind: ended, message: "the stream ended"}
	}
	reader, err := body.Call("getReader")
	if err != nil {
		return outcome{kind: lost, message: "cannot read the body: " + err.Error()}
	}
	read, err := rt.bind.Invoke(reader, "read")
	if err != nil {
		return outcome{kind: lost, message: err.Error()}
	}
	emit := func(ev sse.Event) {
		if s.closed {
			return
		}
		s.batch.add(ev)
		if s.batch.n >= maxBatch {
			s.flush()
		}
	}
	for {
		r, err := s.aw.await(read.Invoke())
		if s.closed {
			return outcome{kind: closedByUser}
		}
		if err != nil {
			return outcome{kind: lost, message: "connection lost: " + err.Error()}
		}
		if done, _ := r.Get("done"); isTrue(done) {
			return outcome{kind: ended, message: "the stream ended"}
		}
		value, err := r.Get("value")
		if err != nil {
			return outcome{kind: lost, message: err.Error()}
		}
		n := intProp(value, "length")
		if n > cap(s.chunk) {
			s.chunk = make([]byte, n)
		}
		chunk := s.chunk[:n]
		if _, err := safejs.CopyBytesToGo(chunk, value); err != nil {
			return outcome{kind: lost, message: err.Error()}
		}
		perr := s.parser.Feed(chunk, emit)
		s.flush()
		if s.closed {
			return outcome{kind: closedByUser}
		}
		if perr != nil {
			return outcome{kind: failed, message: perr.Error()}
		}
		// Keep a huge one-off chunk from pinning memory.
		if cap(s.chunk) > 4<<20 {
			s.chunk = nil
		}
	}
}

// flush hands the batched events to JS in one call.
func (s *source) flush() {
	b := &s.batch
	if b.n == 0 {
		return
	}
	defer b.reset()
	if s.closed {
		return
	}
	rt := &s.e.rt
	if size, _ := s.desc.Get("length"); s.desc.Type() != safejs.TypeObject || intOf(size) < len(b.desc) {
		c := 4096
		for c < len(b.desc) {
			c *= 2
		}
		s.desc, _ = rt.uint8Array.New(c)
	}
	safejs.CopyBytesToJS(s.desc, b.desc)
	// The blob is read by the call below and never kept by Go: lend its
	// bytes instead of copying them into a string first.
	var blob string
	if len(b.blob) > 0 {
		blob = unsafe.String(&b.blob[0], len(b.blob))
	}
	blobJS, err := safejs.ValueOf(blob)
	if err != nil {
		panic(err)
	}
	if _, err := rt.dispatch.Invoke(s.es, s.state, s.originJS, blobJS, s.desc, b.n); err != nil {
		// A listener threw: report it like the browser reports listener
		// exceptions, and go on.
		rt.consoleError.Invoke("wasm-eventsource: dispatch: " + err.Error())
	}
}

func intProp(v safejs.Value, name string) int {
	p, err := v.Get(name)
	if err != nil {
		return 0
	}
	return intOf(p)
}

func intOf(v safejs.Value) int {
	if v.Type() != safejs.TypeNumber {
		return 0
	}
	n, _ := v.Int()
	return n
}

func isTrue(v safejs.Value) bool {
	b, err := v.Bool()
	return err == nil && b
}
