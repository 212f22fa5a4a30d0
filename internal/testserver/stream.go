package testserver

import (
	"context"
	"io"
	"net/http"
	"time"
)

// StreamOpening is the comment every event stream of this server (and of
// the bench's endpoints) starts with, flushed at once so that the client
// sees the response open before the first event.
const StreamOpening = ":ok\n\n"

// Stream writes an event stream's response body with a fresh write deadline
// for every write, flush and send, so that a client that stops reading is
// dropped after the timeout instead of holding a handler forever.
type Stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

// NewStream returns a Stream writing to w, each write bounded by timeout
// (DefaultWriteTimeout when timeout <= 0). It does not set headers: see
// [SetStreamHeaders].
func NewStream(w http.ResponseWriter, timeout time.Duration) *Stream {
	if timeout <= 0 {
		timeout = DefaultWriteTimeout
	}
	return &Stream{w: w, rc: http.NewResponseController(w), timeout: timeout}
}

func (sw *Stream) deadline() {
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder
	// does not); the write then simply has none.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
}

// Write writes p (buffered by net/http until Flush).
func (sw *Stream) Write(p []byte) (int, error) {
	sw.deadline()
	return sw.w.Write(p)
}

// Flush sends everything written so far to the client.
func (sw *Stream) Flush() error {
	sw.deadline()
	return sw.rc.Flush()
}

// Send writes p and flushes it, both within one write deadline.
func (sw *Stream) Send(p []byte) error {
	sw.deadline()
	if _, err := sw.w.Write(p); err != nil {
		return err
	}
	return sw.rc.Flush()
}

// SendString is Send for a string, without copying it when the
// ResponseWriter has a WriteString method (net/http's does).
func (sw *Stream) SendString(s string) error {
	sw.deadline()
	if _, err := io.WriteString(sw.w, s); err != nil {
		return err
	}
	return sw.rc.Flush()
}

// SetStreamHeaders sets the headers every event stream of this server sends:
// the SSE content type, no caching anywhere, and no proxy buffering.
func SetStreamHeaders(h http.Header) {
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
}

// sleep waits d, and reports false when the request or the server ended
// first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ctx.Done():
			return false
		case <-s.closing:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}
