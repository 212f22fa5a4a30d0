package main

import (
	"strconv"
	"time"

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
	url       string // what the next request asks for: the constructor's URL, then the final URL of the last response (after redirects), as Chromium reconnects
	origin    string // of url

	method      string
	headers     safejs.Value // the caller's headers init (object, Headers or undefined)
	body        safejs.Value
	credentials string
	reconnect   bool

	parser sse.Parser
	batch  batch

	woken  chan struct{} // wakes a reconnection wait (timer or close)
	closed bool          // close() was called
	abort  safejs.Value  // aborts the current request (a JS function)

	aw       *awaiter
	chunk    []byte       // reused buffer for body chunks
	out      safejs.Value // reused Uint8Array that batches cross in
	outCap   int          // its length (0 before the first batch)
	originJS safejs.Value // origin of the current response, as a JS string
}

func newSource(e *engine, id int, args []safejs.Value) *source {
	s := &source{e: e, id: id, es: arg(args, 0), state: arg(args, 1), abort: safejs.Undefined(), out: safejs.Undefined()}
	s.woken = make(chan struct{}, 1)
	s.url, _ = arg(args, 2).String()
	s.origin = originOf(s.url)
	s.method, _ = arg(args, 3).String()
	s.headers, s.body = arg(args, 4), arg(args, 5)
	s.credentials, _ = arg(args, 6).String()
	var reconnect *bool
	if b, err := arg(args, 7).Bool(); err == nil {
		reconnect = &b
	}
	s.reconnect = shouldReconnect(s.method, reconnect)
	s.parser.MaxEventSize = intOf(arg(args, 8))
	if id, err := arg(args, 9).String(); err == nil && arg(args, 9).Type() == safejs.TypeString {
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
	s.wake()
	s.abortRequest()
}

func (s *source) abortRequest() {
	if s.abort.Type() == safejs.TypeFunction {
		s.abort.Invoke()
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

	if !isFetchableURL(s.url) {
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
		s.e.rt.error.Invoke(s.es, s.state, readyConnecting, 0, o.message)
		if s.closed || !s.wait() {
			return
		}
	}
}

// wait sleeps for the reconnection time; false when close() came first.
func (s *source) wait() bool {
	d := reconnectDelay(s.parser.Retry())
	// time.AfterFunc and one channel rather than a Timer and a select: a
	// Timer's channel of time.Time links time formatting into the binary,
	// and select links the runtime's select (~90 KB together).
	t := time.AfterFunc(d, s.wake)
	<-s.woken
	t.Stop()
	return !s.closed
}

// wake ends a reconnection wait early or on time; it never blocks.
func (s *source) wake() {
	select {
	case s.woken <- struct{}{}:
	default:
	}
}

// fail dispatches the final error event (readyState CLOSED).
func (s *source) fail(status int, message string) {
	s.abortRequest()
	s.e.rt.error.Invoke(s.es, s.state, readyClosed, status, message)
	s.closed = true
}

// failInternal ends a source after a recovered panic.
func (s *source) failInternal(text string) {
	if s.closed {
		return
	}
	s.fail(0, "internal error: "+text)
}

// connect makes one request and streams its body until it ends.
func (s *source) connect() outcome {
	rt := &s.e.rt
	req, err := rt.connect.Invoke(s.url, s.method, s.headers, s.body, s.credentials, latin1(s.parser.LastEventID()))
	if err != nil {
		// Headers that fetch refuses (the constructor checked the caller's
		// own; this is the Last-Event-ID).
		return outcome{kind: failed, message: "cannot make the request: " + err.Error()}
	}
	s.abort, _ = req.Get("abort")
	promise, _ := req.Get("response")
	resp, err := s.aw.await(promise, nil)
	if s.closed {
		return outcome{kind: closedByUser}
	}
	if err != nil {
		return s.fetchFailed(err)
	}

	if final := stringField(resp, "url", ""); final != "" && final != s.url {
		s.url, s.origin = final, originOf(final)
	}
	status := intProp(resp, "status")
	if status != 200 {
		msg := "HTTP " + strconv.Itoa(status)
		if text := stringField(resp, "statusText", ""); text != "" {
			msg += " " + text
		}
		return outcome{kind: failed, status: status, message: msg}
	}
	if reason := checkContentType(stringField(resp, "contentType", "")); reason != "" {
		return outcome{kind: failed, status: status, message: reason}
	}

	s.originJS, _ = safejs.ValueOf(s.origin)
	s.parser.Reset()

	rt.open.Invoke(s.es, s.state)
	if s.closed {
		return outcome{kind: closedByUser}
	}
	read, _ := resp.Get("read")
	if read.Type() != safejs.TypeFunction {
		return outcome{kind: ended, message: "the stream ended"}
	}
	return s.stream(read)
}

// fetchFailed classifies a rejected fetch. A network error, a CORS
// refusal and a redirect to something unfetchable all reject with the same
// TypeError; native EventSource reconnects after the first and fails for
// good after the others. One probe request tells them apart (see
// runtime.probe in eventsource.mjs).
func (s *source) fetchFailed(err error) outcome {
	v, perr := s.aw.await(s.e.rt.probe.Invoke(s.url, s.credentials))
	if s.closed {
		return outcome{kind: closedByUser}
	}
	switch verdict, _ := v.String(); {
	case perr != nil:
	case verdict == "cors":
		return outcome{kind: failed, message: "CORS check failed for " + s.origin}
	case verdict == "redirect":
		return outcome{kind: failed, message: "redirected to a URL that cannot be fetched (CORS or scheme)"}
	}
	return outcome{kind: lost, message: "network error: " + err.Error()}
}

// stream reads the body chunk by chunk, parses and dispatches.
func (s *source) stream(read safejs.Value) outcome {
	emit := func(typ string, data []byte, id string) {
		if s.closed {
			return
		}
		s.batch.add(typ, data, id)
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
		if r.Type() != safejs.TypeObject { // null: the end of the body
			return outcome{kind: ended, message: "the stream ended"}
		}
		chunk, err := s.copyChunk(r)
		if err != nil {
			return outcome{kind: lost, message: err.Error()}
		}
		perr := s.parser.FeedRaw(chunk, emit)
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

// minChunk is the size of the chunk buffer to start with. Chromium's body
// chunks are seldom larger than 64 KiB, so a buffer of that size takes
// nearly all of them without asking JS for their length first.
const minChunk = 64 << 10

// copyChunk copies a body chunk (a Uint8Array) into the reused chunk buffer.
// It asks JS for the chunk's length only when the buffer was too small.
func (s *source) copyChunk(v safejs.Value) ([]byte, error) {
	if cap(s.chunk) < minChunk {
		s.chunk = make([]byte, minChunk)
	}
	n, err := safejs.CopyBytesToGo(s.chunk[:cap(s.chunk)], v)
	if err != nil || n < cap(s.chunk) {
		return s.chunk[:n], err
	}
	if size := intProp(v, "length"); size > n {
		s.chunk = make([]byte, size)
		n, err = safejs.CopyBytesToGo(s.chunk, v)
	}
	return s.chunk[:n], err
}

// flush hands the batched events to JS in one call, and waits until JS has
// dispatched them (one event per microtask, see runtime.dispatch); a batch
// of one event is dispatched within the call.
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
	out, textLen := b.seal()
	if s.outCap < len(out) {
		c := 4096
		for c < len(out) {
			c *= 2
		}
		s.out, _ = rt.uint8Array.New(c)
		s.outCap = c
	}
	if _, err := safejs.CopyBytesToJS(s.out, out); err != nil {
		panic(err)
	}
	// dispatch answers null when it dispatched the whole batch at once
	// (one event), else a Promise of the rest.
	p, err := rt.dispatch.Invoke(s.es, s.state, s.originJS, s.out, textLen, b.n)
	if err == nil && p.Type() == safejs.TypeObject {
		_, err = s.aw.await(p, nil)
	}
	if err != nil {
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
