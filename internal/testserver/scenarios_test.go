package testserver

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestScenarioChunksFlushedInOrder(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	const delay = 300 * time.Millisecond
	path := s.Handle("chunks", Scenario{Conns: []Conn{{
		Chunks: []Chunk{
			{Data: "data: one\n\n"},
			{Delay: delay, Data: "data: two\n"},
			{Delay: delay, Data: "\n\xff\r"},
		},
	}}})

	begin := time.Now()
	resp := do(t, client(t), "GET", s.URL()+path, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-store",
		"X-Accel-Buffering": "no",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// Each chunk is flushed on its own: the first arrives well before the
	// second is due, and the whole body only after both delays.
	buf := make([]byte, 64)
	n, err := resp.Body.Read(buf)
	if err != nil || string(buf[:n]) != "data: one\n\n" {
		t.Fatalf("first read = %q, %v", buf[:n], err)
	}
	if el := time.Since(begin); el >= delay {
		t.Errorf("first chunk after %v, want it before the second chunk's delay %v", el, delay)
	}
	rest := readAll(t, resp.Body)
	if rest != "data: two\n\n\xff\r" {
		t.Errorf("rest of body = %q", rest)
	}
	if el := time.Since(begin); el < 2*delay {
		t.Errorf("body complete after %v, before the delays (%v)", el, 2*delay)
	}
}

func TestScenarioPastEndAndObservations(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	path := s.Handle("past/end", Scenario{Conns: []Conn{{Chunks: []Chunk{{Data: "data: x\n\n"}}}}})
	if path != "/s/past%2Fend" {
		t.Errorf("path = %q", path)
	}
	c := client(t)
	if got := readAll(t, do(t, c, "GET", s.URL()+path+"?a=1", "", map[string]string{
		"Cache-Control": "no-cache",
		"Pragma":        "no-cache",
		"Cookie":        "k=v",
		"Authorization": "Bearer t",
	}).Body); got != "data: x\n\n" {
		t.Errorf("body = %q", got)
	}
	for i := 1; i <= 2; i++ {
		resp := do(t, c, "POST", s.OtherURL()+path, "hello body", map[string]string{"Last-Event-ID": "7", "Content-Type": "text/plain"})
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("request %d past the end: status %d, want 204", i, resp.StatusCode)
		}
	}
	obs, err := s.Wait("past/end", 3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != 3 {
		t.Fatalf("%d observations, want 3", len(obs))
	}
	o := obs[0]
	if o.Index != 0 || o.Method != "GET" || o.Path != "/s/past%2Fend?a=1" || o.Accept != "" ||
		o.CacheControl != "no-cache" || o.Pragma != "no-cache" || o.Cookie != "k=v" ||
		o.Authorization != "Bearer t" || o.HasLastEventID || o.Body != "" || o.At.IsZero() {
		t.Errorf("first observation = %+v", o)
	}
	for i, o := range obs[1:] {
		if o.Index != i+1 || o.Method != "POST" || o.LastEventID != "7" || !o.HasLastEventID ||
			o.Body != "hello body" || o.ContentType != "text/plain" {
			t.Errorf("observation %d = %+v", i+1, o)
		}
	}
	if !obs[1].At.After(obs[0].At) && !obs[1].At.Equal(obs[0].At) {
		t.Errorf("observations out of order: %v then %v", obs[0].At, obs[1].At)
	}
	if got := s.Observations("past/end"); len(got) != 3 {
		t.Errorf("Observations: %d, want 3", len(got))
	}
	if got := s.Observations("nope"); got != nil {
		t.Errorf("Observations of an unknown id = %v", got)
	}
}

func TestScenarioHeadersAndStatus(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	tests := []struct {
		name     string
		conn     Conn
		status   int
		ctype    []string // nil: no Content-Type header at all
		extra    map[string][]string
		wantBody string
	}{
		{"default", Conn{}, 200, []string{"text/event-stream"}, nil, ""},
		{"no content type", Conn{Headers: map[string]string{"Content-Type": ""}, Chunks: []Chunk{{Data: "<html>data: x\n\n"}}}, 200, nil, nil, "<html>data: x\n\n"},
		{"lower-case key", Conn{Headers: map[string]string{"content-type": "text/plain"}}, 200, []string{"text/plain"}, nil, ""},
		{"status", Conn{Status: 503, Headers: map[string]string{"Retry-After": "1"}}, 503, []string{"text/event-stream"}, map[string][]string{"Retry-After": {"1"}}, ""},
		{"drop cache header", Conn{Headers: map[string]string{"Cache-Control": ""}}, 200, []string{"text/event-stream"}, map[string][]string{"Cache-Control": nil}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			id := "hdr-" + tc.name
			path := s.Handle(id, Scenario{Conns: []Conn{tc.conn}})
			resp, _ := rawGet(t, s.URL(), path, "")
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header["Content-Type"]; strings.Join(got, "|") != strings.Join(tc.ctype, "|") || (got == nil) != (tc.ctype == nil) {
				t.Errorf("Content-Type = %q, want %q", got, tc.ctype)
			}
			for k, want := range tc.extra {
				if got := resp.Header[k]; strings.Join(got, "|") != strings.Join(want, "|") || (got == nil) != (want == nil) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := readAll(t, resp.Body); got != tc.wantBody {
				t.Errorf("body %q, want %q", got, tc.wantBody)
			}
		})
	}
}

func TestScenarioRedirectConsumesIndex(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	path := s.Handle("redir", Scenario{})
	// Register again with the absolute Location of the other origin: the
	// path is the same on both origins.
	path = s.Handle("redir", Scenario{Conns: []Conn{
		{Status: 307, Headers: map[string]string{"Location": s.OtherURL() + path + "?hop=1"}},
		{Status: 302, Headers: map[string]string{"Location": "redir?hop=2"}},
		{Chunks: []Chunk{{Data: "data: landed\n\n"}}},
	}})
	c := client(t)
	c.CheckRedirect = nil // follow
	resp := do(t, c, "GET", s.URL()+path, "", nil)
	if got := readAll(t, resp.Body); got != "data: landed\n\n" {
		t.Errorf("body %q", got)
	}
	if got, want := resp.Request.URL.String(), s.OtherURL()+"/s/redir?hop=2"; got != want {
		t.Errorf("final URL %s, want %s", got, want)
	}
	obs := s.Observations("redir")
	var paths []string
	for i, o := range obs {
		if o.Index != i {
			t.Errorf("observation %d has Index %d", i, o.Index)
		}
		paths = append(paths, o.Path)
	}
	if got := strings.Join(paths, " "); got != "/s/redir /s/redir?hop=1 /s/redir?hop=2" {
		t.Errorf("paths %s", got)
	}
}

func TestScenarioCORSAndPreflight(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	path := s.Handle("cors", Scenario{Conns: []Conn{
		{CORS: &CORS{AllowOrigin: "echo", AllowCredentials: true, AllowHeaders: "last-event-id", AllowMethods: "GET"}},
		{CORS: &CORS{AllowOrigin: "*"}},
	}})
	c := client(t)
	origin := s.URL()
	url := s.OtherURL() + path

	pre := do(t, c, "OPTIONS", url, "", map[string]string{
		"Origin":                         origin,
		"Access-Control-Request-Method":  "GET",
		"Access-Control-Request-Headers": "last-event-id",
	})
	if pre.StatusCode != 204 {
		t.Errorf("preflight status %d", pre.StatusCode)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Headers":     "last-event-id",
		"Access-Control-Allow-Methods":     "GET",
		"Access-Control-Max-Age":           "0",
		"Vary":                             "Origin",
	} {
		if got := pre.Header.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}

	get := do(t, c, "GET", url, "", map[string]string{"Origin": origin})
	if got := get.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("ACAO = %q, want %q", got, origin)
	}
	if got := get.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("ACAC = %q", got)
	}
	get2 := do(t, c, "GET", url, "", map[string]string{"Origin": origin})
	if got := get2.Header.Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("second conn ACAO = %q, want *", got)
	}
	if _, ok := get2.Header["Access-Control-Allow-Credentials"]; ok {
		t.Errorf("second conn allows credentials")
	}
	// Past the end: a 204 that keeps the last Conn's CORS.
	end := do(t, c, "GET", url, "", map[string]string{"Origin": origin})
	if end.StatusCode != 204 || end.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("past the end: %d, ACAO %q", end.StatusCode, end.Header.Get("Access-Control-Allow-Origin"))
	}

	obs := s.Observations("cors")
	var idx []int
	for _, o := range obs {
		idx = append(idx, o.Index)
	}
	if len(obs) != 4 || idx[0] != -1 || idx[1] != 0 || idx[2] != 1 || idx[3] != 2 {
		t.Fatalf("indexes %v, want [-1 0 1 2]", idx)
	}
	if obs[0].AccessControlRequestHeaders != "last-event-id" || obs[0].Method != "OPTIONS" || obs[0].Origin != origin {
		t.Errorf("preflight observation %+v", obs[0])
	}
	if _, err := s.Wait("cors", 3, time.Second); err != nil {
		t.Errorf("Wait counts preflights? %v", err)
	}
	if _, err := s.Wait("cors", 4, 50*time.Millisecond); err == nil {
		t.Errorf("Wait for 4 non-preflight requests succeeded; there were 3")
	}

	// No CORS: no headers at all.
	nop := s.Handle("nocors", Scenario{Conns: []Conn{{}}})
	r := do(t, c, "GET", s.OtherURL()+nop, "", map[string]string{"Origin": origin})
	for k := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("unexpected %s without CORS", k)
		}
	}
}

func TestScenarioEndReset(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	path := s.Handle("reset", Scenario{Conns: []Conn{
		{Chunks: []Chunk{{Data: "data: a\n\n"}, {Delay: 20 * time.Millisecond, Data: "data: partial"}}, End: EndReset},
		{NoResponse: true},
	}})
	resp := do(t, client(t), "GET", s.URL()+path, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error %v, want io.ErrUnexpectedEOF (mid-body network error)", err)
	}
	if string(got) != "data: a\n\ndata: partial" {
		t.Errorf("body before the reset = %q", got)
	}

	// NoResponse: no usable response.
	if _, err := client(t).Get(s.URL() + path); err == nil {
		t.Errorf("NoResponse: the request succeeded")
	}
}

// NoResponse fails the request even on a reused keep-alive connection,
// where clients resend a request whose connection closed without a byte.
func TestScenarioNoResponseOnReusedConn(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	path := s.Handle("noresp", Scenario{Conns: []Conn{
		{Chunks: []Chunk{{Data: "data: a\n\n"}}},
		{NoResponse: true},
		{Chunks: []Chunk{{Data: "data: b\n\n"}}},
	}})
	c := client(t)
	if got := readAll(t, do(t, c, "GET", s.URL()+path, "", nil).Body); got != "data: a\n\n" {
		t.Fatalf("first body %q", got)
	}
	if resp, err := c.Get(s.URL() + path); err == nil {
		resp.Body.Close()
		t.Fatalf("NoResponse: got %s", resp.Status)
	}
	if got := readAll(t, do(t, c, "GET", s.URL()+path, "", nil).Body); got != "data: b\n\n" {
		t.Errorf("third body %q", got)
	}
	if obs := s.Observations("noresp"); len(obs) != 3 {
		t.Errorf("%d requests seen, want 3 (a resend consumed an index)", len(obs))
	}
}

func TestScenarioHoldHeartbeatAndClose(t *testing.T) {
	t.Parallel()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := s.Handle("hold", Scenario{Conns: []Conn{{
		Chunks:    []Chunk{{Data: "data: held\n\n"}},
		End:       EndHold,
		Heartbeat: 30 * time.Millisecond,
	}}})
	resp := do(t, client(t), "GET", s.URL()+path, "", nil)
	buf := make([]byte, 0, 64)
	for !strings.Contains(string(buf), ":\n:\n") {
		b := make([]byte, 64)
		n, err := resp.Body.Read(b)
		buf = append(buf, b[:n]...)
		if err != nil {
			t.Fatalf("read: %v after %q", err, buf)
		}
	}
	if !strings.HasPrefix(string(buf), "data: held\n\n:\n") {
		t.Errorf("stream starts %q", buf)
	}
	begin := time.Now()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(resp.Body); done <- err }()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("held stream still open 3s after Close")
	}
	if el := time.Since(begin); el > 2*time.Second {
		t.Errorf("Close took %v to end a held stream", el)
	}
	// After Close, nothing is served.
	if _, err := client(t).Get(s.URL() + path); err == nil {
		t.Errorf("request after Close succeeded")
	}
}

func TestScenarioHoldEndsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	logs := make(chan string, 16)
	s := start(t, Options{Logf: func(f string, a ...any) {
		select {
		case logs <- fmt.Sprintf(f, a...):
		default:
		}
	}})
	path := s.Handle("leave", Scenario{Conns: []Conn{{End: EndHold}}})
	resp, conn := rawGet(t, s.URL(), path, "")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	conn.Close()
	select {
	case line := <-logs: // the request's log line: the handler returned
		if !strings.Contains(line, "GET /s/leave -> 200") {
			t.Errorf("log line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("held handler still running 5s after the client left")
	}
}

func TestWaitAndUnknown(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	if _, err := s.Wait("unknown", 1, time.Millisecond); err == nil {
		t.Error("Wait on an unknown id: no error")
	}
	path := s.Handle("wait", Scenario{Conns: []Conn{{}, {}}})
	go func() {
		time.Sleep(50 * time.Millisecond)
		c := &http.Client{}
		for range 2 {
			if resp, err := c.Get(s.URL() + path); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		c.CloseIdleConnections()
	}()
	obs, err := s.Wait("wait", 2, 5*time.Second)
	if err != nil || len(obs) != 2 {
		t.Fatalf("Wait: %d observations, %v", len(obs), err)
	}
	if resp := do(t, client(t), "GET", s.URL()+"/s/missing", "", nil); resp.StatusCode != 404 {
		t.Errorf("unknown scenario: status %d, want 404", resp.StatusCode)
	}
	defer func() {
		if recover() == nil {
			t.Error("Handle with an empty id did not panic")
		}
	}()
	s.Handle("", Scenario{})
}
