package server

import (
	"context"
	"net/http"
	"time"
)

// streamWriter writes a response body with a fresh write deadline before
// every write and flush, so that a client that stops reading is dropped
// after Options.WriteTimeout instead of holding a handler forever.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (s *Server) newStream(w http.ResponseWriter) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w), timeout: s.opts.WriteTimeout}
}

func (sw *streamWriter) deadline() {
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder
	// does not); the write then simply has none.
	_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
}

// Write writes p (buffered by net/http until Flush).
func (sw *streamWriter) Write(p []byte) (int, error) {
	sw.deadline()
	return sw.w.Write(p)
}

// Flush sends everything written so far to the client.
func (sw *streamWriter) Flush() error {
	sw.deadline()
	return sw.rc.Flush()
}

// Send writes p and flushes it.
func (sw *streamWriter) Send(p []byte) error {
	if _, err := sw.Write(p); err != nil {
		return err
	}
	return sw.Flush()
}

// setStreamHeaders sets the headers every event stream of this server sends:
// the SSE content type, no caching anywhere, and no proxy buffering.
func setStreamHeaders(h http.Header) {
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
