package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/chat"
	"github.com/wasm-eventsource/wasm-eventsource/internal/redistest"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// startRun runs sseserver with args on a free loopback port until the test
// ends, and returns its URL once it answers.
func startRun(t *testing.T, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	stop := make(chan struct{})
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(append([]string{"-addr", addr, "-q", "-web", t.TempDir(), "-dist", t.TempDir()}, args...), &stderr, stop)
	}()
	t.Cleanup(func() {
		close(stop)
		if code := <-done; code != 0 {
			t.Errorf("sseserver %s: exit code %d: %s", addr, code, stderr.String())
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(url + "/api/origins"); err == nil {
			resp.Body.Close()
			return url
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("sseserver exited with %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sseserver on %s did not answer: %s", addr, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// readStream reads events until the body ends; dropped reports a broken
// connection.
func readStream(t *testing.T, req *http.Request) (evs []sse.Event, dropped bool) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, b)
	}
	var p sse.Parser
	br := bufio.NewReader(resp.Body)
	buf := make([]byte, 4096)
	for {
		n, err := br.Read(buf)
		p.Feed(buf[:n], func(e sse.Event) { evs = append(evs, e) })
		if err == io.EOF {
			return evs, false
		}
		if err != nil {
			return evs, true
		}
	}
}

// Two sseserver processes' worth of servers (run, twice) sharing one Redis:
// a chat started on one is resumed on the other, every token exactly once,
// across repeated connection kills.
func TestTwoInstancesShareRedis(t *testing.T) {
	redisURL := redistest.Start(t)
	a := startRun(t, "-redis", redisURL)
	b := startRun(t, "-redis", redisURL)

	const prompt = "two instances"
	req, _ := http.NewRequest("POST", a+"/api/chat?delay=5&drop=3", strings.NewReader(fmt.Sprintf(`{"prompt":%q}`, prompt)))
	req.Header.Set("Authorization", "Bearer "+chat.DemoToken)
	evs, dropped := readStream(t, req)
	if !dropped || len(evs) != 3 {
		t.Fatalf("POST: %d events, dropped %v; want a drop after 3", len(evs), dropped)
	}
	for k := 0; dropped; k++ {
		base := []string{b, a}[k%2]
		req, _ := http.NewRequest("GET", base+"/api/chat/resume?drop=4", nil)
		req.Header.Set("Last-Event-ID", evs[len(evs)-1].LastEventID)
		var more []sse.Event
		more, dropped = readStream(t, req)
		evs = append(evs, more...)
	}
	var text strings.Builder
	for i, e := range evs[:len(evs)-1] {
		if !strings.HasSuffix(e.LastEventID, fmt.Sprintf(".%d", i+1)) {
			t.Fatalf("event %d: id %q", i, e.LastEventID)
		}
		var d string
		fmt.Sscanf(e.Data, `{"delta":%q}`, &d)
		text.WriteString(d)
	}
	if want := strings.Join(chat.Deltas(prompt), ""); text.String() != want {
		t.Fatalf("answer %q, want %q", text.String(), want)
	}
	if last := evs[len(evs)-1]; last.Type != "done" {
		t.Fatalf("last event %+v, want done", last)
	}
}

func TestRunBadRedis(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-addr", "127.0.0.1:0", "-q", "-redis", "redis://127.0.0.1:1/0"}, &stderr, nil); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "-redis") {
		t.Errorf("stderr %q does not name -redis", stderr.String())
	}
}
