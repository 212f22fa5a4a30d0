package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// Defaults of the zero StreamOptions.
const (
	// DefaultWriteTimeout bounds every write and flush: a client that reads
	// nothing for that long is dropped.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultHeartbeat is how long a stream may stay silent before a
	// heartbeat comment is sent (Mercure uses 40 s; proxies commonly close
	// idle connections after 60 s).
	DefaultHeartbeat = 30 * time.Second
)

// Opening is the comment every stream starts with, flushed with the headers
// so that the client (and every proxy on the way) sees the response open
// before the first event.
const Opening = ":ok\n\n"

// ErrNoFlush is returned by [NewStream] when the ResponseWriter cannot flush
// (it does not implement http.Flusher, directly or through Unwrap): events
// would sit in a buffer instead of reaching the client.
var ErrNoFlush = errors.New("server: the ResponseWriter cannot flush")

// ErrStreamClosed is returned by the Send methods of a [Stream] after
// [Stream.Close], or after a write failed (the client went away or did not
// read within the write timeout).
var ErrStreamClosed = errors.New("server: stream closed")

// StreamOptions configures a [Stream]. The zero value is usable.
type StreamOptions struct {
	// WriteTimeout bounds each write and flush (through
	// http.ResponseController.SetWriteDeadline): a client that stops
	// reading is dropped after it instead of holding the handler. Zero means
	// DefaultWriteTimeout.
	WriteTimeout time.Duration

	// Heartbeat is how long the stream may stay silent before a ":\n"
	// comment is sent, which keeps proxies from closing an idle connection
	// and lets clients with an idle timeout see that the server is alive.
	// Zero means DefaultHeartbeat; a negative value sends none.
	Heartbeat time.Duration

	// Retry, when positive, is sent as a "retry:" line with the opening
	// comment: the client's reconnection time, rounded down to milliseconds.
	Retry time.Duration
}

// Stream writes one text/event-stream response. Create it with [NewStream]
// inside a handler, and Close it before the handler returns.
//
// Every Send writes and flushes at once, under a fresh write deadline. The
// first write that fails (the client went away, or did not read for
// WriteTimeout) closes the stream: Done is closed and every later Send
// returns an error. Its methods are safe for concurrent use.
type Stream struct {
	rc      *http.ResponseController
	w       http.ResponseWriter
	timeout time.Duration

	lastID    string
	hasLastID bool

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	err      error     // set once: the reason the stream is closed
	lastSend time.Time // for heartbeats
	buf      []byte

	hbDone chan struct{} // closed when the heartbeat goroutine ended; nil without heartbeats
	// hbPanic is what a write of the heartbeat goroutine panicked with
	// (a wrapping ResponseWriter may panic with http.ErrAbortHandler to
	// cut the connection): re-raised in the handler's goroutine by the next
	// Send or by Close, where net/http expects it.
	hbPanic any
}

// NewStream starts an event stream on w: it sets Content-Type
// text/event-stream, Cache-Control no-store and X-Accel-Buffering no (so
// that nginx and the like do not buffer), writes status 200, the opening
// comment ([Opening]) and the optional retry line, and flushes them. It
// reads the request's Last-Event-ID header (see [Stream.LastEventID]).
//
// Headers added to w.Header() before NewStream are sent too. The stream
// ends when r's context ends (the client went away or the server shuts
// down), when a write fails, or at Close. Without a heartbeat (Heartbeat
// < 0) it starts no goroutine.
func NewStream(w http.ResponseWriter, r *http.Request, opts StreamOptions) (*Stream, error) {
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = DefaultHeartbeat
	}
	if !canFlush(w) {
		return nil, ErrNoFlush
	}
	ctx, cancel := context.WithCancel(r.Context())
	s := &Stream{
		rc:      http.NewResponseController(w),
		w:       w,
		timeout: opts.WriteTimeout,
		ctx:     ctx,
		cancel:  cancel,
	}
	if v, ok := r.Header["Last-Event-Id"]; ok && len(v) > 0 {
		s.lastID, s.hasLastID = v[0], true
	}
	SetHeaders(w.Header())
	s.buf = append(s.buf, Opening...)
	if opts.Retry > 0 {
		s.buf = append(sse.AppendRetry(s.buf, opts.Retry.Milliseconds()), '\n')
	}
	s.mu.Lock()
	w.WriteHeader(http.StatusOK)
	err := s.writeLocked(s.buf)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if opts.Heartbeat > 0 {
		s.hbDone = make(chan struct{})
		go s.heartbeat(opts.Heartbeat)
	}
	return s, nil
}

// canFlush reports whether w, or a ResponseWriter it unwraps to, flushes.
func canFlush(w http.ResponseWriter) bool {
	for {
		switch t := w.(type) {
		case http.Flusher:
			return true
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return false
		}
	}
}

// SetHeaders sets the response headers of an event stream: Content-Type
// text/event-stream, Cache-Control no-store, and X-Accel-Buffering no.
// [NewStream] calls it; it is exported for handlers that write the stream
// themselves.
func SetHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
}

// LastEventID returns the request's Last-Event-ID header and whether it was
// present: a client resuming sends the id of the last event it received
// (possibly "", when an event reset it).
func (s *Stream) LastEventID() (id string, ok bool) { return s.lastID, s.hasLastID }

// Context is done when the stream ends: the request's context ended (the
// client went away), a write failed, or Close was called. A producer loop
// selects on Context().Done() to stop when nobody listens any more.
func (s *Stream) Context() context.Context { return s.ctx }

// Done is Context().Done().
func (s *Stream) Done() <-chan struct{} { return s.ctx.Done() }

// Err is nil while the stream is open, else the reason it ended.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil && s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	return s.err
}

// Send writes m as one event and flushes it. An invalid m (see
// [sse.AppendMessage]) writes nothing and returns the *sse.MessageError;
// the stream stays open.
func (s *Stream) Send(m sse.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf, err := sse.AppendMessage(s.buf[:0], m)
	if err != nil {
		return err
	}
	s.buf = buf
	return s.writeLocked(buf)
}

// SendComment writes text as comment lines (ignored by clients, counted by
// idle timeouts) and flushes them.
func (s *Stream) SendComment(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = sse.AppendComment(s.buf[:0], text)
	return s.writeLocked(s.buf)
}

// SendRetry sets the client's reconnection time (rounded down to
// milliseconds; negative is sent as 0) and flushes it.
func (s *Stream) SendRetry(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(sse.AppendRetry(s.buf[:0], d.Milliseconds()), '\n')
	return s.writeLocked(s.buf)
}

// SendEncoded writes p as it is and flushes it. p must be whole
// text/event-stream lines, such as events made with [sse.AppendMessage]:
// for a message encoded once and sent to many streams.
func (s *Stream) SendEncoded(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(p)
}

// writeLocked writes and flushes p under one write deadline; the first
// failure closes the stream.
func (s *Stream) writeLocked(p []byte) error {
	if s.hbPanic != nil {
		v := s.hbPanic
		s.hbPanic = nil
		panic(v)
	}
	if s.err != nil {
		return s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = fmt.Errorf("%w: %w", ErrStreamClosed, context.Cause(s.ctx))
		return s.err
	}
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder
	// does not): the write then has none.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	_, err := s.w.Write(p)
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		s.err = fmt.Errorf("%w: %w", ErrStreamClosed, err)
		s.cancel()
		return s.err
	}
	s.lastSend = time.Now()
	return nil
}

// heartbeat sends a comment whenever the stream was silent for every.
func (s *Stream) heartbeat(every time.Duration) {
	defer close(s.hbDone)
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			if !s.beat(now, every, t) {
				return
			}
		}
	}
}

// beat sends a heartbeat when the stream was silent for every, and re-arms
// t; false when the stream is over.
func (s *Stream) beat(now time.Time, every time.Duration, t *time.Timer) (ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			s.hbPanic = v
			s.err = fmt.Errorf("%w: write aborted", ErrStreamClosed)
			s.cancel()
			ok = false
		}
	}()
	next := every - now.Sub(s.lastSend)
	if next <= 0 {
		if s.writeLocked(sse.AppendComment(s.buf[:0], "")) != nil {
			return false
		}
		next = every
	}
	t.Reset(next)
	return true
}

// Close ends the stream: later Sends fail and the heartbeat goroutine is
// stopped before Close returns, so that nothing writes to the
// ResponseWriter after the handler returned. When a heartbeat write
// panicked (a wrapping ResponseWriter aborting the response with
// http.ErrAbortHandler), Close re-panics with the same value in the
// handler's goroutine. It leaves a last write
// deadline (WriteTimeout from now) for net/http to end the response. It is
// safe to call more than once.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.err == nil {
		s.err = ErrStreamClosed
	}
	s.mu.Unlock()
	s.cancel()
	if s.hbDone != nil {
		<-s.hbDone
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	s.mu.Lock()
	v := s.hbPanic
	s.hbPanic = nil
	s.mu.Unlock()
	if v != nil {
		panic(v)
	}
	return nil
}
