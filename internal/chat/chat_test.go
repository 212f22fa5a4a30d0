package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/leakcheck"

	"github.com/wasm-eventsource/wasm-eventsource/internal/chat"
	"github.com/wasm-eventsource/wasm-eventsource/internal/redistest"
	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/server/redisstore"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// instance is one chat server: a Handler behind an httptest server.
type instance struct {
	h   *chat.Handler
	url string
}

func newInstance(t *testing.T, store server.Store) *instance {
	t.Helper()
	h := chat.New(chat.Options{Store: store, Logf: t.Logf})
	mux := http.NewServeMux()
	mux.Handle("/api/chat", h)
	mux.Handle("/api/chat/resume", h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	t.Cleanup(h.Close) // first: ends the streams ts.Close waits for
	return &instance{h: h, url: ts.URL}
}

type event struct{ ID, Type, Data string }

// read sends req and parses the stream until it ends; dropped reports a
// connection that broke before the end of the body.
func read(t *testing.T, req *http.Request) (status int, evs []event, dropped bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil, false
	}
	var p sse.Parser
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		if ferr := p.Feed(buf[:n], func(e sse.Event) { evs = append(evs, event{e.LastEventID, e.Type, e.Data}) }); ferr != nil {
			t.Fatal(ferr)
		}
		if errors.Is(err, io.EOF) {
			return 200, evs, false
		}
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("%s %s: timed out after %d events", req.Method, req.URL, len(evs))
			}
			return 200, evs, true
		}
	}
}

func post(t *testing.T, base, query, prompt string) *http.Request {
	req, err := http.NewRequest("POST", base+"/api/chat"+query, strings.NewReader(fmt.Sprintf(`{"prompt":%q}`, prompt)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+chat.DemoToken)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func resume(t *testing.T, base, query, lastID string) *http.Request {
	req, err := http.NewRequest("GET", base+"/api/chat/resume"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Last-Event-ID", lastID)
	return req
}

// wantAnswer checks that evs is the whole answer to prompt, each event once,
// in order, with ids <stream>.1, <stream>.2, ...
func wantAnswer(t *testing.T, evs []event, prompt string) {
	t.Helper()
	deltas := chat.Deltas(prompt)
	if len(evs) != len(deltas)+1 {
		t.Fatalf("%d events, want %d deltas and done: %+v", len(evs), len(deltas), evs)
	}
	stream, _, _ := server.ParseResumeID(evs[0].ID)
	for i, e := range evs {
		s, seq, ok := server.ParseResumeID(e.ID)
		if !ok || s != stream || seq != uint64(i+1) {
			t.Fatalf("event %d has id %q, want %s.%d", i, e.ID, stream, i+1)
		}
		if i == len(deltas) {
			if e.Type != chat.DoneType || e.Data != chat.DoneData {
				t.Fatalf("last event %+v, want done", e)
			}
			continue
		}
		var m struct{ Delta string }
		if err := json.Unmarshal([]byte(e.Data), &m); err != nil || m.Delta != deltas[i] || e.Type != "message" {
			t.Fatalf("event %d = %+v, want delta %q", i, e, deltas[i])
		}
	}
}

func TestChatStreamsWithResumeIDs(t *testing.T) {
	t.Parallel()
	in := newInstance(t, nil)
	status, evs, dropped := read(t, post(t, in.url, "?delay=0", "hi <you>"))
	if status != 200 || dropped {
		t.Fatalf("status %d dropped %v", status, dropped)
	}
	wantAnswer(t, evs, "hi <you>")
}

func TestChatErrors(t *testing.T) {
	t.Parallel()
	in := newInstance(t, nil)
	for _, tc := range []struct {
		name string
		req  *http.Request
		want int
	}{
		{"unknown stream", resume(t, in.url, "", "0123456789abcdef.3"), 404},
		{"no id", resume(t, in.url, "", ""), 400},
		{"bad id", resume(t, in.url, "", "abc"), 400},
		{"bad drop", resume(t, in.url, "?drop=-1", "abc.1"), 400},
		{"bad delay", post(t, in.url, "?delay=x", "hi"), 400},
	} {
		if status, _, _ := read(t, tc.req); status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.want)
		}
	}
	req := post(t, in.url, "", "hi")
	req.Header.Del("Authorization")
	if status, _, _ := read(t, req); status != 401 {
		t.Errorf("no token: status %d, want 401", status)
	}
}

// collect reads an answer through repeated connection kills: the POST is
// dropped after drop events, and every resumption too, alternating between
// the instances, until the answer is complete.
func collect(t *testing.T, ins []*instance, prompt string, delay, drop int) []event {
	t.Helper()
	q := fmt.Sprintf("?delay=%d&drop=%d", delay, drop)
	_, evs, dropped := read(t, post(t, ins[0].url, q, prompt))
	for k := 1; dropped; k++ {
		if k > 200 {
			t.Fatal("too many resumptions")
		}
		if len(evs) == 0 {
			t.Fatal("dropped before the first event: nothing to resume from")
		}
		var more []event
		var status int
		status, more, dropped = read(t, resume(t, ins[k%len(ins)].url, fmt.Sprintf("?drop=%d", drop), evs[len(evs)-1].ID))
		if status != 200 {
			t.Fatalf("resumption %d: status %d", k, status)
		}
		evs = append(evs, more...)
	}
	return evs
}

// Replay never duplicates or skips across repeated connection kills, while
// the answer is still being generated (delay) or already complete (0).
func TestResumeAcrossKills(t *testing.T) {
	t.Parallel()
	in := newInstance(t, nil)
	for _, delay := range []int{0, 3} {
		for _, drop := range []int{1, 2, 7} {
			prompt := fmt.Sprintf("delay %d drop %d", delay, drop)
			wantAnswer(t, collect(t, []*instance{in}, prompt, delay, drop), prompt)
		}
	}
}

// The generation does not depend on the request: an answer whose POST was
// dropped at once is complete in the store later.
func TestGenerationOutlivesTheRequest(t *testing.T) {
	t.Parallel()
	store := server.NewMemoryStore(server.MemoryStoreOptions{})
	in := newInstance(t, store)
	_, evs, dropped := read(t, post(t, in.url, "?delay=5&drop=1", "keep going"))
	if !dropped || len(evs) != 1 {
		t.Fatalf("dropped %v after %d events, want a drop after 1", dropped, len(evs))
	}
	stream, _, _ := server.ParseResumeID(evs[0].ID)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, fin, err := store.Read(context.Background(), stream, 1_000_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fin {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the answer was not completed without a reader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, rest, _ := read(t, resume(t, in.url, "", evs[0].ID))
	wantAnswer(t, append(evs, rest...), "keep going")
}

// Two servers sharing one Redis serve one another's answers: a chat started
// on one is resumed on the other (and back), every token exactly once.
func TestCrossInstanceResumeRedis(t *testing.T) {
	t.Parallel()
	url := redistest.Start(t)
	var ins []*instance
	for range 2 {
		store, closeFn, err := redisstore.Open(context.Background(), url, redisstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeFn() })
		ins = append(ins, newInstance(t, store))
	}
	for _, delay := range []int{0, 3} {
		for _, drop := range []int{1, 4} {
			prompt := fmt.Sprintf("across delay %d drop %d", delay, drop)
			wantAnswer(t, collect(t, ins, prompt, delay, drop), prompt)
		}
	}
	// An answer started on one instance and not dropped is readable in
	// full from the other.
	_, evs, _ := read(t, post(t, ins[0].url, "?delay=0", "whole"))
	stream, _, _ := server.ParseResumeID(evs[0].ID)
	_, again, _ := read(t, resume(t, ins[1].url, "", server.ResumeID(stream, 0)))
	wantAnswer(t, again, "whole")
}

func TestEncoders(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"", " word", ` "quoted"`, ` back\slash`, "\n", " <b>&amp;</b>", " 漢字 😀", "\u2028", "\xff"} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]string{"delta": d}); err != nil {
			t.Fatal(err)
		}
		want, _ := sse.AppendMessage([]byte("x"), sse.Message{Data: strings.TrimSuffix(b.String(), "\n")})
		if got := chat.AppendDelta([]byte("x"), d); string(got) != string(want) {
			t.Errorf("AppendDelta(%q) = %q, want %q", d, got, want)
		}
	}
	want, _ := sse.AppendMessage([]byte("x"), sse.Message{Type: "done", Data: "[DONE]"})
	if got := chat.AppendDone([]byte("x")); string(got) != string(want) {
		t.Errorf("AppendDone = %q, want %q", got, want)
	}
}

// A client that goes away frees its stream at once, while the generation
// it started goes on (for a later resume).
func TestClientLeavingFreesItsStream(t *testing.T) {
	in := newInstance(t, nil)
	streams := func() (n int) {
		for _, g := range leakcheck.Left() {
			if strings.Contains(g, "chat.(*Handler).stream") {
				n++
			}
		}
		return n
	}
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := http.DefaultClient.Do(post(t, in.url, "?delay=100", "slow answer").WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	if n := streams(); n != 1 {
		t.Fatalf("%d chat streams running, want 1", n)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for streams() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream of a client that left is still running")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
