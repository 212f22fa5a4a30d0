package testserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

func TestChat(t *testing.T) {
	t.Parallel()
	s := start(t, Options{Tokens: []string{"extra"}})
	c := client(t)
	url := s.URL() + "/api/chat?delay=0"
	auth := map[string]string{"Authorization": "Bearer demo-token", "Content-Type": "application/json"}
	tests := []struct {
		name   string
		method string
		body   string
		header map[string]string
		status int
	}{
		{"get", "GET", "", auth, 405},
		{"no auth", "POST", `{"prompt":"hi"}`, nil, 401},
		{"wrong token", "POST", `{"prompt":"hi"}`, map[string]string{"Authorization": "Bearer nope"}, 401},
		{"basic auth", "POST", `{"prompt":"hi"}`, map[string]string{"Authorization": "Basic ZGVtby10b2tlbg=="}, 401},
		{"not json", "POST", `prompt=hi`, auth, 400},
		{"no prompt", "POST", `{"text":"hi"}`, auth, 400},
		{"prompt not a string", "POST", `{"prompt":3}`, auth, 400},
		{"empty prompt", "POST", `{"prompt":"  "}`, auth, 400},
		{"trailing data", "POST", `{"prompt":"hi"} {}`, auth, 400},
		{"empty body", "POST", ``, auth, 400},
		{"bad delay", "POST", `{"prompt":"hi"}`, auth, 400},
	}
	for _, tc := range tests {
		u := url
		if tc.name == "bad delay" {
			u = s.URL() + "/api/chat?delay=-1"
		}
		resp := do(t, c, tc.method, u, tc.body, tc.header)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		var e struct{ Error string }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error == "" || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: error body %+v (%v), type %q", tc.name, e, err, resp.Header.Get("Content-Type"))
		}
	}

	for _, token := range []string{"demo-token", "extra"} {
		prompt := "hello <world> & \"you\""
		resp := do(t, c, "POST", url, fmt.Sprintf(`{"prompt":%q,"model":"x"}`, prompt), map[string]string{"Authorization": "Bearer " + token})
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%s: %d %q", token, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		evs, raw := readEvents(t, resp.Body, -1)
		want := ChatDeltas(prompt)
		if len(evs) != len(want)+1 {
			t.Fatalf("%d events, want %d: %q", len(evs), len(want)+1, raw)
		}
		var text strings.Builder
		for i, d := range want {
			var m struct{ Delta string }
			if err := json.Unmarshal([]byte(evs[i].Data), &m); err != nil || m.Delta != d || evs[i].Type != "message" {
				t.Errorf("event %d = %+v, want delta %q", i, evs[i], d)
			}
			text.WriteString(m.Delta)
		}
		if !strings.HasPrefix(text.String(), "You said: "+prompt+".") {
			t.Errorf("answer %q", text.String())
		}
		if last := evs[len(evs)-1]; last.Type != "done" || last.Data != "[DONE]" {
			t.Errorf("last event %+v", last)
		}
		if !strings.Contains(raw, `data: {"delta":" <world>"}`) {
			t.Errorf("JSON is HTML-escaped or framed differently: %q", raw)
		}
	}
}

func TestBulkStream(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	c := client(t)
	for _, flush := range []string{"each", "end"} {
		resp := do(t, c, "GET", s.URL()+"/api/stream?n=500&size=100&flush="+flush, "", nil)
		evs, raw := readEvents(t, resp.Body, -1)
		if !strings.HasPrefix(raw, ":ok\n\nid: 1\ndata: bcdefghij") {
			t.Errorf("%s: stream starts %q", flush, raw[:min(len(raw), 40)])
		}
		if len(evs) != 500 {
			t.Fatalf("%s: %d events", flush, len(evs))
		}
		for i, e := range evs {
			if e.LastEventID != strconv.Itoa(i+1) || e.Data != BulkPayload(i+1, 100) || len(e.Data) != 100 {
				t.Fatalf("%s: event %d = %+v", flush, i, e)
			}
		}
	}
	resp := do(t, c, "GET", s.URL()+"/api/stream?n=5&size=3", "", map[string]string{"Last-Event-ID": "3"})
	evs, _ := readEvents(t, resp.Body, -1)
	if len(evs) != 2 || evs[0].LastEventID != "4" || evs[1].LastEventID != "5" {
		t.Errorf("resume after 3: %+v", evs)
	}
	if resp := do(t, c, "GET", s.URL()+"/api/stream?n=5", "", map[string]string{"Last-Event-ID": "5"}); resp.StatusCode != 204 {
		t.Errorf("resume after the end: status %d, want 204", resp.StatusCode)
	}
	for _, q := range []string{"n=x", "size=-1", "flush=sometimes"} {
		if resp := do(t, c, "GET", s.URL()+"/api/stream?"+q, "", nil); resp.StatusCode != 400 {
			t.Errorf("%s: status %d", q, resp.StatusCode)
		}
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	resp := do(t, client(t), "PUT", s.URL()+"/api/echo?q=1", "the body", map[string]string{
		"Last-Event-ID": "42",
		"Authorization": "Bearer x",
		"Content-Type":  "text/plain",
	})
	evs, _ := readEvents(t, resp.Body, -1)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	var got struct {
		Method, Path, Host, Body string
		Headers                  map[string]string
	}
	if err := json.Unmarshal([]byte(evs[0].Data), &got); err != nil {
		t.Fatal(err)
	}
	if got.Method != "PUT" || got.Path != "/api/echo?q=1" || got.Body != "the body" ||
		got.Headers["last-event-id"] != "42" || got.Headers["authorization"] != "Bearer x" ||
		got.Headers["content-type"] != "text/plain" || got.Host != strings.TrimPrefix(s.URL(), "http://") {
		t.Errorf("echo %+v", got)
	}
}

func TestAPICORS(t *testing.T) {
	t.Parallel()
	s := start(t, Options{AllowOrigins: []string{"http://example.test"}})
	c := client(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL(), "http://"))
	for _, origin := range []string{s.URL(), s.OtherURL(), "http://localhost:" + port, "http://example.test"} {
		pre := do(t, c, "OPTIONS", s.OtherURL()+"/api/chat", "", map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type",
		})
		if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != origin ||
			pre.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			pre.Header.Get("Access-Control-Allow-Headers") != apiAllowHeaders {
			t.Errorf("preflight from %s: %d %v", origin, pre.StatusCode, pre.Header)
		}
		resp := do(t, c, "GET", s.OtherURL()+"/api/echo", "", map[string]string{"Origin": origin})
		if resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Vary") != "Origin" {
			t.Errorf("GET from %s: %v", origin, resp.Header)
		}
	}
	for _, origin := range []string{"http://evil.test", "null"} {
		resp := do(t, c, "GET", s.OtherURL()+"/api/echo", "", map[string]string{"Origin": origin})
		if _, ok := resp.Header["Access-Control-Allow-Origin"]; ok {
			t.Errorf("origin %s allowed", origin)
		}
	}
	resp := do(t, c, "GET", s.URL()+"/api/origins", "", nil)
	var o map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || o["url"] != s.URL() || o["other"] != s.OtherURL() {
		t.Errorf("origins %v (%v)", o, err)
	}
	if resp := do(t, c, "GET", s.URL()+"/api/nope", "", nil); resp.StatusCode != 404 {
		t.Errorf("/api/nope: %d", resp.StatusCode)
	}
}

// A client that stops reading is dropped after the write timeout instead of
// holding its handler forever.
func TestSlowClientDropped(t *testing.T) {
	t.Parallel()
	done := make(chan string, 4)
	s := start(t, Options{WriteTimeout: 200 * time.Millisecond, Logf: func(f string, a ...any) {
		select {
		case done <- fmt.Sprintf(f, a...):
		default:
		}
	}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	io.WriteString(conn, "GET /api/stream?n=10000000&size=65536 HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case line := <-done:
		if !strings.Contains(line, "/api/stream") {
			t.Errorf("log line %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler still writing to a client that does not read")
	}
}

func TestStatic(t *testing.T) {
	t.Parallel()
	web, dist := t.TempDir(), t.TempDir()
	files := map[string]string{
		filepath.Join(web, "index.html"):        "<p>web</p>",
		filepath.Join(web, "app.mjs"):           "export {}",
		filepath.Join(dist, "eventsource.wasm"): "\x00asm",
		filepath.Join(dist, "eventsource.mjs"):  "export const x = 1",
	}
	for name, body := range files {
		if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := start(t, Options{Static: map[string]string{"/": web, "/dist/": dist}})
	c := client(t)
	for _, tc := range []struct{ path, ctype, body string }{
		{"/dist/eventsource.wasm", "application/wasm", "\x00asm"},
		{"/dist/eventsource.mjs", "text/javascript; charset=utf-8", "export const x = 1"},
		{"/app.mjs", "text/javascript; charset=utf-8", "export {}"},
		{"/", "text/html; charset=utf-8", "<p>web</p>"},
	} {
		resp := do(t, c, "GET", s.URL()+tc.path, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s: %d %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if got := readAll(t, resp.Body); got != tc.body {
			t.Errorf("%s: body %q", tc.path, got)
		}
	}
	if resp := do(t, c, "GET", s.URL()+"/dist/nope.wasm", "", nil); resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	}
	bare := start(t, Options{})
	if resp := do(t, c, "GET", bare.URL()+"/index.html", "", nil); resp.StatusCode != 404 {
		t.Errorf("no static dirs: %d", resp.StatusCode)
	}
}

// The shared encoders write exactly what sse.AppendMessage wrote before
// them (the wire formats the bench and the tests rely on).
func TestEventEncoders(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 61, 62, 63, 100, 256 << 10, BulkMaxSize} {
		for _, i := range []int{0, 1, 61, 62, 1000, 1234567} {
			want, _ := sse.AppendMessage([]byte("x"), sse.Message{ID: strconv.Itoa(i), Data: strings.Repeat(bulkAlphabet, size/62+2)[i%62:][:size]})
			if got := AppendBulkEvent([]byte("x"), i, size); string(got) != string(want) {
				t.Fatalf("AppendBulkEvent(%d, %d) = %.60q, want %.60q", i, size, got, want)
			}
		}
	}
}
