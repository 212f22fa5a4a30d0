//go:build !js

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/wasm-eventsource/wasm-eventsource/e2e/chromium"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// TestDemos runs the demo server as `make demo` does (server/cmd/sseserver
// on web/ and dist/), drives the chat demo in headless Chromium (send, stop,
// drop and resume, a 401, a prompt full of HTML), watches the dashboard
// stream, and takes screenshots of the index, the chat, the dashboard and the
// tabs demo.
//
// The screenshots go to docs/screenshots/ (where README.md shows them) when
// UPDATE_SCREENSHOTS=1 (`make screenshots`), else to a temporary directory,
// so that a plain `make test` leaves the work tree as it was.
func TestDemos(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	shots := t.TempDir()
	if d := os.Getenv("E2E_SHOTS"); d != "" {
		shots = d
	}
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join(root, "docs", "screenshots")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	base := startDemoServer(t, root)

	takeSlot(t)
	console := chromium.NewConsole(chromium.ConsoleOptions{})
	ctx, cancel, err := env.browser.NewTab(true, console.Listen)
	defer cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 820)); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if f := console.Fatal(); len(f) > 0 {
			t.Errorf("the demo pages threw: %v", f)
		}
		if t.Failed() {
			t.Logf("console:\n%s", strings.Join(console.Lines(), "\n"))
		}
	}()

	// The index links every demo.
	openPage(t, ctx, base+"/", `document.readyState === "complete" ? "ready" : ""`)
	links, err := chromium.Eval[[]string](ctx, `[...document.querySelectorAll("a.card")].map((a) => a.getAttribute("href"))`, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/chat.html", "/dashboard.html"} {
		if !strings.Contains(strings.Join(links, " "), want) {
			t.Errorf("index: no link to %s in %v", want, links)
		}
	}
	screenshot(t, ctx, filepath.Join(shots, "index.png"))

	t.Run("chat", func(t *testing.T) { driveChat(t, ctx, base, root, shots) })
	t.Run("dashboard", func(t *testing.T) { watchDashboard(t, ctx, base, shots) })
	t.Run("tabs", func(t *testing.T) { watchTabs(t, ctx, base, shots) })
}

// watchTabs opens the tabs demo in two tabs of one browser context and
// screenshots the first once both get ticks (the shared stream itself is
// tested by TestShared).
func watchTabs(t *testing.T, ctx context.Context, base, shots string) {
	const ticking = `document.getElementById("log").textContent.includes("#") ? "ready" : ""`
	openPage(t, ctx, base+"/tabs.html", ticking)
	second, cancel := chromedp.NewContext(ctx) // another tab, same browser context
	defer cancel()
	openPage(t, second, base+"/tabs.html", ticking)
	waitFor(t, ctx, "the worker to count two tabs", `document.getElementById("tabs").textContent === "2"`, 20*time.Second)
	time.Sleep(1200 * time.Millisecond) // a tick more in the log
	screenshot(t, ctx, filepath.Join(shots, "tabs.png"))
}

// startDemoServer builds and starts server/cmd/sseserver on free loopback
// ports and returns its URL. The server stops with the test.
func startDemoServer(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sseserver")
	build := exec.Command("go", "build", "-o", bin, "./server/cmd/sseserver")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./server/cmd/sseserver: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-other", "127.0.0.1:0", "-q",
		"-web", filepath.Join(root, "web"), "-dist", filepath.Join(root, "dist"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the demo server did not say where it listens within 30s")
	}
	return ""
}

// openPage navigates and waits for the page's state expression to say "ready".
func openPage(t *testing.T, ctx context.Context, url, state string) {
	t.Helper()
	if err := chromium.Open(ctx, url, state, 60*time.Second); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls the JS expression until it is truthy.
func waitFor(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[any](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		state, _ := chromium.Eval[string](ctx, `document.body.dataset.state + ": " + (document.getElementById("detail")?.textContent ?? "")`, 2*time.Second)
		t.Fatalf("waiting for %s: %v (page: %s)", what, err, state)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromium.Eval[T](ctx, expr, 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot: not a PNG")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

// The chat page's parts the test reads.
const (
	chatAnswer = `(() => { const a = [...document.querySelectorAll(".msg.assistant")].at(-1);
		return a ? [...a.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.data).join("") : ""; })()`
	chatState   = `document.body.dataset.state`
	chatButtons = `["send", "stop", "drop"].map((id) => !document.getElementById(id).disabled)`
)

func driveChat(t *testing.T, ctx context.Context, base, root, shots string) {
	// 100 ms a token: time to press Stop and Drop mid-answer.
	openPage(t, ctx, base+"/chat.html?delay=100", `document.body.dataset.state === "ready" ? "ready" : ""`)
	send := func(prompt string, badToken, noResume bool) {
		t.Helper()
		evalJS[bool](t, ctx, fmt.Sprintf(`(() => {
			document.getElementById("prompt").value = %q;
			document.getElementById("badtoken").checked = %v;
			document.getElementById("noresume").checked = %v;
			document.getElementById("send").click();
			return true; })()`, prompt, badToken, noResume))
	}
	tokens := func() string { return evalJS[string](t, ctx, chatAnswer) }
	const prompt = "Tell me about server-sent events"
	full := strings.Join(testserver.ChatDeltas(prompt), "")

	// 1. A whole answer; while it streams, Send is disabled and Stop enabled.
	send(prompt, false, false)
	waitFor(t, ctx, "the first tokens", chatAnswer+`.length > 0`, 20*time.Second)
	if b := evalJS[[]bool](t, ctx, chatButtons); b[0] || !b[1] || !b[2] {
		t.Errorf("while streaming: send/stop/drop enabled = %v, want [false true true]", b)
	}
	waitFor(t, ctx, "the end of the answer", chatState+` === "done"`, 30*time.Second)
	if got := tokens(); got != full {
		t.Errorf("answer %q, want %q", got, full)
	}
	if b := evalJS[[]bool](t, ctx, chatButtons); !b[0] || b[1] || b[2] {
		t.Errorf("after the answer: send/stop/drop enabled = %v, want [true false false]", b)
	}

	// 2. Stop: no token arrives after it, and the server sees the request go.
	send(prompt, false, false)
	waitFor(t, ctx, "three tokens", chatAnswer+`.split(" ").length >= 3`, 20*time.Second)
	evalJS[bool](t, ctx, `(document.getElementById("stop").click(), true)`)
	waitFor(t, ctx, "stopped", chatState+` === "stopped"`, 10*time.Second)
	stopped := tokens()
	time.Sleep(500 * time.Millisecond) // five tokens' time
	if got := tokens(); got != stopped || got == full || !strings.HasPrefix(full, got) {
		t.Errorf("after Stop: answer %q then %q; want a prefix of the answer that no longer grows", stopped, got)
	}

	// 3. Drop the connection mid-answer: with resume, the answer completes
	// with every token exactly once; an engine without it ends the answer
	// with an error and what had arrived.
	send(prompt, false, false)
	waitFor(t, ctx, "three tokens", chatAnswer+`.split(" ").length >= 3`, 20*time.Second)
	evalJS[bool](t, ctx, `(document.getElementById("drop").click(), true)`)
	waitFor(t, ctx, "the end of the dropped answer", chatState+` === "done" || `+chatState+` === "error"`, 30*time.Second)
	got, state := tokens(), evalJS[string](t, ctx, chatState)
	switch {
	case state == "done" && got == full:
		t.Logf("drop: resumed, the answer is complete with every token once")
	case state == "error" && !declares(root, "resume") && strings.HasPrefix(full, got) && got != full:
		t.Logf("drop: the engine has no resume option yet: the answer ended at %q with an error", got)
	default:
		t.Errorf("after a drop: state %q, answer %q; want %q complete (resume)", state, got, full)
	}

	// 3b. Without resume, a drop ends the answer with an error that says so.
	send(prompt, false, true)
	waitFor(t, ctx, "three tokens", chatAnswer+`.split(" ").length >= 3`, 20*time.Second)
	evalJS[bool](t, ctx, `(document.getElementById("drop").click(), true)`)
	waitFor(t, ctx, "the error of the drop", chatState+` === "error"`, 30*time.Second)
	if got := tokens(); got == full || !strings.HasPrefix(full, got) {
		t.Errorf("a drop without resume: answer %q, want a strict prefix of %q", got, full)
	}
	if errText := evalJS[string](t, ctx, `document.getElementById("error").textContent`); !strings.Contains(strings.ToLower(errText), "drop") {
		t.Errorf("a drop without resume: error box %q, want it to say the connection dropped", errText)
	}

	// 4. A wrong token: the error shows the status and the server's text.
	send(prompt, true, false)
	waitFor(t, ctx, "the 401", chatState+` === "error"`, 20*time.Second)
	errText := evalJS[string](t, ctx, `document.getElementById("error").textContent`)
	if !strings.Contains(errText, "401") {
		t.Errorf("error box %q: want the status 401", errText)
	}
	if declares(root, "body") && !strings.Contains(errText, "missing or invalid bearer token") {
		t.Errorf("error box %q: want the server's text", errText)
	}
	if b := evalJS[[]bool](t, ctx, chatButtons); !b[0] {
		t.Errorf("after an error: Send disabled")
	}
	screenshot(t, ctx, filepath.Join(shots, "chat.png"))

	// 5. HTML in what the server sends stays text.
	const evil = `<img src=x onerror="window.__pwned=1">`
	send(evil, false, false)
	waitFor(t, ctx, "the echoed HTML", chatState+` === "done"`, 30*time.Second)
	if got := tokens(); !strings.Contains(got, "<img") {
		t.Errorf("answer %q: want the prompt's HTML as text", got)
	}
	if n := evalJS[int](t, ctx, `document.querySelectorAll("#log img, #error img").length + (window.__pwned ? 100 : 0)`); n != 0 {
		t.Errorf("the server's HTML was parsed into the page (%d)", n)
	}
}

// declares reports whether jsglue/eventsource.d.ts declares the option or
// event property name (`name?:` or `readonly name:`): once it does, the demo
// test requires it to work.
func declares(root, name string) bool {
	b, err := os.ReadFile(filepath.Join(root, "jsglue", "eventsource.d.ts"))
	if err != nil {
		return false
	}
	return regexp.MustCompile(`(?m)^\s*(readonly\s+)?` + regexp.QuoteMeta(name) + `\??:`).Match(b)
}

func watchDashboard(t *testing.T, ctx context.Context, base, shots string) {
	openPage(t, ctx, base+"/dashboard.html", `window.dashboard ? "ready" : ""`)
	waitFor(t, ctx, "events of every type",
		`window.dashboard.state === "OPEN" && window.dashboard.events > 400 && Object.values(window.dashboard.byType).every((n) => n > 0)`,
		30*time.Second)
	time.Sleep(1500 * time.Millisecond) // sparklines and the events/s figure
	type stats struct {
		Events       int            `json:"events"`
		ByType       map[string]int `json:"byType"`
		Frames       int            `json:"frames"`
		LongestFrame float64        `json:"longestFrame"`
		State        string         `json:"state"`
	}
	s := evalJS[stats](t, ctx, `window.dashboard`)
	if s.Frames == 0 {
		t.Errorf("dashboard: no animation frame ran: %+v", s)
	}
	rows := evalJS[int](t, ctx, `document.querySelectorAll("#prices tr").length`)
	if rows < 3 {
		t.Errorf("dashboard: %d price rows", rows)
	}
	t.Logf("dashboard: %d events (%v) in %d frames, longest frame %.0f ms", s.Events, s.ByType, s.Frames, s.LongestFrame)
	screenshot(t, ctx, filepath.Join(shots, "dashboard.png"))
}
