package testserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// start starts a Server on loopback and closes it when the test ends.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// client is an HTTP client that does not follow redirects and never pools
// connections across tests.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request and fails the test on a transport error.
func do(t *testing.T, c *http.Client, method, url string, body string, header map[string]string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readAll reads the whole body.
func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return string(b)
}

// readEvents parses an event stream with the sse package until n events
// arrived (n < 0: until EOF). It returns the events and the raw bytes read.
func readEvents(t *testing.T, body io.Reader, n int) ([]sse.Event, string) {
	t.Helper()
	var p sse.Parser
	var evs []sse.Event
	var raw strings.Builder
	buf := make([]byte, 64<<10)
	for n < 0 || len(evs) < n {
		k, err := body.Read(buf)
		raw.Write(buf[:k])
		if ferr := p.Feed(buf[:k], func(e sse.Event) { evs = append(evs, e) }); ferr != nil {
			t.Fatalf("parse: %v", ferr)
		}
		if errors.Is(err, io.EOF) {
			if n >= 0 && len(evs) < n {
				t.Fatalf("EOF after %d events, want %d; read %q", len(evs), n, raw.String())
			}
			break
		}
		if err != nil {
			t.Fatalf("after %d events: %v", len(evs), err)
		}
	}
	return evs, raw.String()
}

// rawGet sends a GET on a fresh TCP connection and returns the response,
// read with http.ReadResponse so nothing between the wire and the test
// adds or drops headers.
func rawGet(t *testing.T, base, path string, header string) (*http.Response, net.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" + header + "\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp, conn
}
