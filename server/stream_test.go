package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// rawGet sends a GET on a fresh connection and returns the response read
// with http.ReadResponse, so nothing between the wire and the test adds or
// drops headers.
func rawGet(t *testing.T, base, headers string) (*http.Response, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"+headers+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp, conn
}

func TestStreamOpensAtOnce(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Extra", "kept")
		st, err := server.NewStream(w, r, server.StreamOptions{Retry: 1500 * time.Millisecond, Heartbeat: -1})
		if err != nil {
			t.Error(err)
			return
		}
		defer st.Close()
		id, ok := st.LastEventID()
		st.SendComment("last " + id + " " + map[bool]string{true: "present", false: "absent"}[ok])
		<-release
	}))
	defer ts.Close()
	defer close(release)

	for _, tc := range []struct{ header, want string }{
		{"", ":last  absent\n"},
		{"Last-Event-ID: 42\r\n", ":last 42 present\n"},
		{"Last-Event-ID: \r\n", ":last  present\n"},
	} {
		resp, _ := rawGet(t, ts.URL, tc.header)
		for k, v := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no", "X-Extra": "kept"} {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		want := ":ok\n\nretry: 1500\n\n" + tc.want
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != want {
			t.Errorf("%q: body %q (%v), want %q before the handler returns", tc.header, buf, err, want)
		}
	}
}

func TestStreamSend(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := server.NewStream(w, r, server.StreamOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		defer st.Close()
		if err := st.Send(sse.Message{ID: "bad\nid"}); !errors.Is(err, sse.ErrInvalidMessage) {
			t.Errorf("invalid message: %v", err)
		}
		st.Send(sse.Message{Type: "t", ID: "1", Data: "a\nb"})
		st.SendRetry(250 * time.Millisecond)
		st.SendComment("c")
		st.SendEncoded([]byte("data: raw\n\n"))
		st.Close()
		if err := st.Send(sse.Message{Data: "late"}); !errors.Is(err, server.ErrStreamClosed) {
			t.Errorf("Send after Close: %v", err)
		}
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := ":ok\n\nevent: t\nid: 1\ndata: a\ndata: b\n\nretry: 250\n\n:c\ndata: raw\n\n"; string(body) != want {
		t.Errorf("body %q, want %q", body, want)
	}
}

// Heartbeats are sent only when the stream was silent for the interval.
func TestStreamHeartbeat(t *testing.T) {
	t.Parallel()
	const every = 200 * time.Millisecond
	var maxGap time.Duration // longest silence while busy, as the handler saw it
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := server.NewStream(w, r, server.StreamOptions{Heartbeat: every})
		if err != nil {
			t.Error(err)
			return
		}
		defer st.Close()
		// Busy for 2 intervals: an event every tenth of one.
		last := time.Now()
		for i := range 20 {
			st.Send(sse.Message{Data: strings.Repeat("x", i%2)})
			maxGap = max(maxGap, time.Since(last))
			last = time.Now()
			time.Sleep(every / 10)
		}
		// Then silent for 5 intervals.
		time.Sleep(5 * every)
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	s := strings.TrimPrefix(string(body), ":ok\n\n")
	last := strings.LastIndex(s, "data")
	busy, idle := s[:last], s[last:]
	beats := func(s string) (n int) {
		for _, line := range strings.Split(s, "\n") {
			if line == ":" {
				n++
			}
		}
		return n
	}
	// A loaded machine may stretch a sleep past the interval: then a
	// heartbeat while busy is right.
	if n := beats(busy); n != 0 && maxGap < every {
		t.Errorf("%d heartbeats while busy (longest silence %v): %q", n, maxGap, body)
	}
	if n := beats(idle); n < 2 || n > 6 {
		t.Errorf("%d heartbeats in 5 idle intervals, want about 5: %q", n, idle)
	}
}

// A client that stops reading is dropped after the write timeout: the
// handler's Send fails and its context ends; nothing blocks forever.
func TestStreamWriteDeadlineDropsStalledClient(t *testing.T) {
	t.Parallel()
	result := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := server.NewStream(w, r, server.StreamOptions{WriteTimeout: 200 * time.Millisecond, Heartbeat: -1})
		if err != nil {
			result <- err
			return
		}
		defer st.Close()
		chunk := sse.Message{Data: strings.Repeat("x", 64<<10)}
		start := time.Now()
		for time.Since(start) < 20*time.Second {
			if err := st.Send(chunk); err != nil {
				if st.Context().Err() == nil {
					err = errors.New("the context did not end with the failed write")
				}
				result <- err
				return
			}
		}
		result <- errors.New("Send never failed")
	}))
	defer ts.Close()
	_, conn := rawGet(t, ts.URL, "")
	_ = conn // never read again
	select {
	case err := <-result:
		if !errors.Is(err, server.ErrStreamClosed) {
			t.Fatalf("Send: %v, want ErrStreamClosed", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the handler is still writing to a client that does not read")
	}
}

// The stream's context ends when the client goes.
func TestStreamEndsWhenClientGoes(t *testing.T) {
	t.Parallel()
	ended := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := server.NewStream(w, r, server.StreamOptions{})
		if err != nil {
			return
		}
		defer st.Close()
		select {
		case <-st.Done():
			close(ended)
		case <-time.After(10 * time.Second):
		}
	}))
	defer ts.Close()
	resp, conn := rawGet(t, ts.URL, "")
	buf := make([]byte, 5)
	io.ReadFull(resp.Body, buf)
	conn.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the client left")
	}
}

type noFlush struct{ http.ResponseWriter }

func TestStreamNeedsFlush(t *testing.T) {
	rec := httptest.NewRecorder()
	_, err := server.NewStream(noFlush{rec}, httptest.NewRequest("GET", "/", nil), server.StreamOptions{})
	if !errors.Is(err, server.ErrNoFlush) {
		t.Fatalf("NewStream on a writer without Flush: %v", err)
	}
}

// abortWriter panics like a wrapper that cuts connections (see
// http.ErrAbortHandler) once armed.
type abortWriter struct {
	http.ResponseWriter
	armed *atomic.Bool
}

func (w abortWriter) Write(p []byte) (int, error) {
	if w.armed.Load() {
		panic(http.ErrAbortHandler)
	}
	return w.ResponseWriter.Write(p)
}

func (w abortWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// A heartbeat write that panics does not crash the process: the panic comes
// back in the handler's goroutine, at Close.
func TestStreamHeartbeatPanicReachesHandler(t *testing.T) {
	t.Parallel()
	var armed atomic.Bool
	got := make(chan any, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { got <- recover() }()
		st, err := server.NewStream(abortWriter{w, &armed}, r, server.StreamOptions{Heartbeat: 10 * time.Millisecond})
		if err != nil {
			return
		}
		armed.Store(true)
		<-st.Done()
		st.Close()
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	select {
	case v := <-got:
		if v != http.ErrAbortHandler {
			t.Fatalf("handler recovered %v, want http.ErrAbortHandler", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler did not end")
	}
}
