//go:build !js

// Command bench is `make bench`: it compares wasm-eventsource with the
// browser's own EventSource, two npm clients and a raw fetch reader in
// headless Chromium, and writes BENCHMARKS.md and BENCHMARKS.json.
//
//	cd e2e && go run ./bench -dist ../dist -work ../.bench -out ../BENCHMARKS.md
//
// It starts the Go server (package server, plus its own /benchapi/
// endpoints) on 127.0.0.1 and one headless Chromium, installs the npm peers
// into .bench/ with npm and bundles them with esbuild (npx), then runs every
// scenario for every client, interleaved and repeated (-rounds, the client
// order rotating each time), one fresh tab per run. Every run checks what it
// received; a wrong result fails the bench (exit status 1) and is reported,
// never turned into a number.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// The clients, in table order.
var clientIDs = []string{"native", "ours", "oursiter", "eventsource5", "fes", "esclient", "polyfill", "raw"}

var clientLabels = map[string]string{
	"native":       "native EventSource",
	"ours":         "wasm-eventsource (ours), drop-in",
	"oursiter":     "wasm-eventsource (ours), for await",
	"eventsource5": "eventsource 5.x (npm)",
	"fes":          "@microsoft/fetch-event-source (npm)",
	"esclient":     "eventsource-client 1.2.0 (npm)",
	"polyfill":     "event-source-polyfill 1.0.31 (npm)",
	"raw":          "raw fetch reader (parses nothing)",
	"before":       "wasm-eventsource before the engine inversion (" + beforeCommit[:7] + ")",
}

// crossingScenarios are the scenarios whose crossings are counted: the
// bulk ones (where a chunk carries thousands of events) and latency, where
// every event is a chunk of its own, the hot path of a live stream.
var crossingScenarios = []string{"small", "large", "llm", "latency"}

// iterScenarios are the scenarios the for await path of ours runs in (it
// is left out of latency and memory, where it would repeat the drop-in
// path's figures: one event per chunk, and the same engine).
var iterScenarios = map[string]bool{"small": true, "large": true, "llm": true}

// clientsFor returns the clients of scenario sc, in the order given.
func clientsFor(sc string, ids []string) []string {
	var out []string
	for _, c := range ids {
		if c == "oursiter" && !iterScenarios[sc] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// peers are the npm clients: a target "ahead of every peer" compares with
// each of them and with native.
var peers = []string{"native", "eventsource5", "fes", "esclient", "polyfill"}

type config struct {
	dist, page, work, out, chromium string
	rounds                          int
	quick                           bool
	only                            map[string]bool

	smallN, smallSize int
	largeN, largeSize int
	llmN              int
	latencyN          int
	latencyEvery      int           // ms
	latencyWarmup     int           // first events left out of the percentiles
	latencySettle     time.Duration // idle time between page ready and the latency run
	memoryN           int
	memorySize        int
	startupPerRound   int
	profiles          []string
}

func (c *config) want(s string) bool { return len(c.only) == 0 || c.only[s] }

func main() {
	var cfg config
	var only string
	flag.StringVar(&cfg.dist, "dist", "dist", "the built dist/ folder (make build)")
	flag.StringVar(&cfg.page, "page", "bench/page", "the bench page's folder (index.html, bench.mjs), served at /bench/")
	flag.StringVar(&cfg.work, "work", ".bench", "work folder for npm peers and the profiling build (ignored by git)")
	flag.StringVar(&cfg.out, "out", "BENCHMARKS.md", "markdown report; the JSON goes beside it (.json)")
	flag.StringVar(&cfg.chromium, "chromium", "", "Chromium binary (default: chromium on PATH)")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of every timed scenario (the median is reported; at least 3)")
	flag.BoolVar(&cfg.quick, "quick", false, "development: small streams, 1 round (numbers not for the report)")
	flag.StringVar(&only, "only", "", "comma-separated subset: small,large,llm,latency,startup,crossings,memory,profile,size")
	profiles := flag.String("profile", "small,large,llm,small-iter", "scenarios to CPU-profile ours in (small,large,llm,latency; small-iter, large-iter, llm-iter: the for await path)")
	rewrite := flag.Bool("rewrite", false, "measure nothing: write the markdown report again from its JSON (after editing e2e/bench/analysis.md)")
	clients := flag.String("clients", "", "comma-separated subset of the clients: "+strings.Join(clientIDs, ",")+" (development)")
	flag.Parse()
	cfg.profiles = strings.Split(*profiles, ",")
	if *clients != "" {
		var keep []string
		for _, c := range strings.Split(*clients, ",") {
			if clientLabels[strings.TrimSpace(c)] == "" {
				fmt.Fprintf(os.Stderr, "bench: unknown client %q\n", c)
				os.Exit(2)
			}
			keep = append(keep, strings.TrimSpace(c))
		}
		clientIDs = keep
	}
	if only != "" {
		cfg.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			cfg.only[strings.TrimSpace(s)] = true
		}
	}
	cfg.smallN, cfg.smallSize = 100_000, 32
	cfg.largeN, cfg.largeSize = 200, 256<<10
	cfg.llmN = 5000
	cfg.latencyN, cfg.latencyEvery, cfg.latencyWarmup = 1000, 5, 20
	// Every client's page idles this long before a latency run, so that
	// delivery delays are measured, not the page's start-up work still
	// running on 2 cores (for ours: V8 tiering up the module's hot
	// functions in the background, which stalled the first ~300 ms of the
	// stream by up to 37 ms). The start-up scenario measures start-up.
	cfg.latencySettle = time.Second
	cfg.memoryN, cfg.memorySize = 1_000_000, 32
	cfg.startupPerRound = 4
	if cfg.quick {
		cfg.smallN, cfg.largeN, cfg.llmN, cfg.latencyN, cfg.memoryN = 20_000, 40, 1000, 200, 100_000
		if cfg.rounds == 3 {
			cfg.rounds = 1
		}
	} else if cfg.rounds < 3 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 3 (use -quick for a short development run)")
		os.Exit(2)
	}

	if *rewrite {
		if err := rewriteReport(&cfg); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -rewrite:", err)
			os.Exit(1)
		}
		return
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := 0
	if err := benchMain(ctx, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench: FAIL:", err)
		code = 1
	}
	stop()
	os.Exit(code)
}

// bench is the state of one run of the command.
type bench struct {
	cfg     *config
	start   time.Time
	base    string
	api     *benchAPI
	browser *browserSession
	gateSeq int
	static  map[string]string // URL prefix -> folder, as served

	scenarios map[string]*scenario // timed scenarios, by name, built on first use
	memPlan   *memoryPlan          // the memory runs', built on first use

	samples  map[string]map[string][]float64 // metric -> client -> per-round values
	delays   map[string][][]float64          // latency: client -> per-round delays (ms), in arrival order
	startup  map[string][]float64            // start-up figure (startupKeys) -> per-run values (ms)
	memory   map[string]*memoryReport
	profiles []*profileSummary
	sizes    *sizeReport
	before   *beforeReport
	// crossings: engine ("ours", "before") -> scenario -> counts of one run
	crossings map[string]map[string]*crossings
	previous  *previousReport // from the report this run replaces
	analysis  string          // e2e/bench/analysis.md
	failures  []string
}

func (b *bench) logf(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) fail(err error) {
	b.failures = append(b.failures, err.Error())
	b.logf("FAILED: %v", err)
}

func (b *bench) add(metric, client string, v float64) {
	if b.samples[metric] == nil {
		b.samples[metric] = map[string][]float64{}
	}
	b.samples[metric][client] = append(b.samples[metric][client], v)
}

func benchMain(ctx context.Context, cfg *config) error {
	b := &bench{cfg: cfg, start: time.Now(), scenarios: map[string]*scenario{}, samples: map[string]map[string][]float64{},
		startup: map[string][]float64{}, memory: map[string]*memoryReport{}, delays: map[string][][]float64{},
		crossings: map[string]map[string]*crossings{}}
	b.previous = readPrevious(jsonPath(cfg.out))

	mach := machineInfo()
	b.logf("machine: %s, %d cores, load average %s", mach.CPU, mach.Cores, mach.LoadStart)

	for _, f := range []string{"eventsource.wasm", "eventsource.mjs", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(cfg.dist, f)); err != nil {
			return fmt.Errorf("%s missing: run make build first (%v)", filepath.Join(cfg.dist, f), err)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.page, "bench.mjs")); err != nil {
		return fmt.Errorf("the bench page is missing: %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	// The written analysis of the targets missed, included in the report.
	if a, err := os.ReadFile(filepath.Join(root, "e2e", "bench", "analysis.md")); err == nil {
		b.analysis = string(a)
	}

	b.logf("setup: npm install %s@%s %s@%s %s@%s %s@%s esbuild@%s into %s, bundle with esbuild",
		fesPackage, fesVersion, es5Package, es5Version, esClientPackage, esClientVersion, polyfillPackage, polyfillVersion, esbuildVersion, cfg.work)
	peersDir, versions, err := setupPeers(cfg.work)
	if err != nil {
		return err
	}
	mach.Peers = versions
	profDir := ""
	if cfg.want("profile") {
		b.logf("setup: building an unstripped eventsource.wasm for the CPU profile")
		if profDir, err = buildProfileWasm(root, cfg.work); err != nil {
			return err
		}
	}
	beforeDir := ""
	if cfg.want("startup") || cfg.want("crossings") || cfg.want("size") {
		b.logf("setup: building the engine as it was before its inversion (%s) for the crossings and start-up comparison", beforeCommit[:7])
		b.before = &beforeReport{Commit: beforeCommit}
		if beforeDir, err = buildBefore(root, cfg.work); err != nil {
			// Not fatal: the comparison is missing, which the report says.
			b.before.Error = err.Error()
			b.logf("setup: the build of %s failed; no before figures: %v", beforeCommit[:7], err)
			beforeDir = ""
		}
	}
	if cfg.want("size") {
		s, err := measureSizes(cfg.dist)
		if err != nil {
			return err
		}
		b.sizes = &s
		b.logf("size: eventsource.wasm %d B raw, %d B gzip -9, %d B brotli -q 11", s.Raw, s.Gzip9, s.Brotli11)
		if beforeDir != "" {
			// Measured once per build of the before engine (brotli -q 11
			// takes a while on a loaded machine), kept beside it.
			var bs sizeReport
			cached := filepath.Join(beforeDir, "size.json")
			if data, err := os.ReadFile(cached); err != nil || json.Unmarshal(data, &bs) != nil || bs.Brotli11 == 0 {
				if bs, err = measureSizes(beforeDir); err != nil {
					return err
				}
				_ = os.WriteFile(cached, []byte(mustJSON(bs)), 0o644)
			}
			b.before.Size = &bs
			b.logf("size: before (%s): %d B raw, %d B gzip -9, %d B brotli -q 11", beforeCommit[:7], bs.Raw, bs.Gzip9, bs.Brotli11)
		}
	}

	// The server: the package's handler for the pages, dist/ and
	// /api/stream, our /benchapi/ beside it.
	static := map[string]string{"/dist/": cfg.dist, "/bench/": cfg.page, "/peers/": peersDir}
	if profDir != "" {
		static["/prof/"] = profDir
	}
	if beforeDir != "" {
		static["/before/"] = beforeDir
	}
	b.static = static
	srv := testserver.New(testserver.Options{Static: static, WriteTimeout: writeTimeout})
	defer srv.Close()
	b.api = newBenchAPI()
	mux := http.NewServeMux()
	mux.Handle("/benchapi/", b.api)
	mux.Handle("/", srv.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	defer hs.Close()
	b.base = "http://" + ln.Addr().String()

	chromium, err := findChromium(cfg.chromium)
	if err != nil {
		return err
	}
	b.logf("setup: server on %s; starting %s", b.base, chromium)
	if b.browser, err = startBrowser(ctx, chromium); err != nil {
		return err
	}
	defer b.browser.cancel()
	mach.Chromium = b.browser.version
	b.logf("setup: %s", mach.Chromium)

	// Timed scenarios, interleaved: every round runs every scenario for
	// every client, the order of the clients rotating.
	timed := []string{"small", "large", "llm", "latency"}
	for r := 0; r < cfg.rounds; r++ {
		for si, sc := range timed {
			if !cfg.want(sc) {
				continue
			}
			for _, c := range rotate(clientsFor(sc, clientIDs), r+si) {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := b.timedRun(r, sc, c); err != nil {
					b.fail(err)
				}
			}
		}
		if cfg.want("startup") {
			engines := []string{"ours"}
			if beforeDir != "" {
				engines = append(engines, "before")
			}
			for i := 0; i < cfg.startupPerRound; i++ {
				for _, e := range rotate(engines, i+r) {
					if err := b.startupRun(r, e); err != nil {
						b.fail(err)
					}
				}
			}
		}
	}
	if cfg.want("crossings") {
		engines := []string{"ours"}
		if beforeDir != "" {
			engines = append(engines, "before")
		}
		for _, e := range engines {
			for _, sc := range crossingScenarios {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := b.crossingsRun(e, sc); err != nil {
					b.fail(err)
				}
			}
		}
	}
	if cfg.want("memory") {
		for _, c := range clientsFor("memory", clientIDs) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := b.memoryRun(c); err != nil {
				b.fail(err)
			}
		}
	}
	if cfg.want("profile") {
		for _, sc := range cfg.profiles {
			if err := b.profileRun(strings.TrimSpace(sc)); err != nil {
				b.fail(err)
			}
		}
	}

	mach.LoadEnd = loadAverage()
	mach.DurationS = time.Since(b.start).Seconds()
	rep := b.report(mach)
	if err := writeReport(cfg.out, rep); err != nil {
		return err
	}
	b.logf("wrote %s and %s in %.0f s (load average now %s)", cfg.out, jsonPath(cfg.out), mach.DurationS, mach.LoadEnd)
	for _, t := range rep.Targets {
		fmt.Printf("  target %-48s %-8s %s\n", t.Name, metWord(t), t.Got)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d run(s) failed:\n  %s", len(b.failures), strings.Join(b.failures, "\n  "))
	}
	return nil
}

func rotate(s []string, k int) []string {
	k %= len(s)
	return append(append([]string{}, s[k:]...), s[:k]...)
}

// moduleRoot is the directory of the library's module (the one holding
// wasm/), found through the go command so that it works from the nested e2e
// module, whose go.mod replaces the library with "../".
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/wasm-eventsource/wasm-eventsource").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m github.com/wasm-eventsource/wasm-eventsource: %v (run the bench from the e2e module: cd e2e && go run ./bench)", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("run the bench from the e2e module (cd e2e && go run ./bench)")
	}
	return dir, nil
}

// scenario is a timed scenario: the request, what a run must receive, and
// how long a run may take.
type scenario struct {
	spec    runSpec
	exp     expect
	timeout time.Duration
}

// spec returns timed scenario sc, built on its first run: the expectations
// (for the bulk streams, every event encoded once) serve every run.
func (b *bench) spec(sc string) (runSpec, expect, time.Duration) {
	s := b.scenarios[sc]
	if s == nil {
		s = b.newScenario(sc)
		b.scenarios[sc] = s
	}
	return s.spec, s.exp, s.timeout
}

func (b *bench) newScenario(sc string) *scenario {
	cfg := b.cfg
	switch sc {
	case "small":
		e, _ := expectBulk(cfg.smallN, cfg.smallSize)
		return &scenario{runSpec{Kind: "count", N: cfg.smallN, Req: request{URL: fmt.Sprintf("/api/stream?n=%d&size=%d&flush=end", cfg.smallN, cfg.smallSize)}}, e, 3 * time.Minute}
	case "large":
		e, _ := expectBulk(cfg.largeN, cfg.largeSize)
		return &scenario{runSpec{Kind: "count", N: cfg.largeN, Req: request{URL: fmt.Sprintf("/api/stream?n=%d&size=%d&flush=end", cfg.largeN, cfg.largeSize)}}, e, 3 * time.Minute}
	case "llm":
		body := fmt.Sprintf(`{"prompt":%q,"max_tokens":%d}`, llmPrompt, cfg.llmN)
		return &scenario{runSpec{Kind: "count", N: cfg.llmN, JSON: true, Req: request{
			URL:       "/benchapi/llm",
			Method:    "POST",
			Headers:   map[string]string{"Authorization": "Bearer " + llmToken, "Content-Type": "application/json"},
			Body:      body,
			NativeURL: fmt.Sprintf("/benchapi/llm?n=%d&token=%s", cfg.llmN, llmToken),
		}}, expectLLM(cfg.llmN), 2 * time.Minute}
	case "latency":
		e := expect{n: cfg.latencyN, first: "1", last: strconv.Itoa(cfg.latencyN)}
		d := time.Duration(cfg.latencyN*cfg.latencyEvery)*time.Millisecond + time.Minute
		return &scenario{runSpec{Kind: "latency", N: cfg.latencyN, Req: request{URL: fmt.Sprintf("/benchapi/latency?n=%d&every=%d", cfg.latencyN, cfg.latencyEvery)}}, e, d}
	}
	panic("unknown scenario " + sc)
}

// verify checks what a run received against what the server sent.
func verify(client, sc string, r runResult, e expect) error {
	var bad []string
	check := func(what string, got, want any) {
		if got != want {
			g, w := fmt.Sprint(got), fmt.Sprint(want)
			if len(g) > 60 {
				g = g[:60] + "…"
			}
			if len(w) > 60 {
				w = w[:60] + "…"
			}
			bad = append(bad, fmt.Sprintf("%s %q, want %q", what, g, w))
		}
	}
	if client == "raw" && sc != "latency" {
		check("body bytes", r.Bytes, int64(e.wireBytes))
	} else {
		check("events", r.Count, e.n)
		if e.dataLen > 0 {
			check("data length", r.DataLen, e.dataLen)
		}
		check("first data", r.First, e.first)
		check("last data", r.Last, e.last)
		// The raw reader never gets here with an ID to check: it is
		// checked by its body bytes. (fes reports the id of the message
		// itself, the others its lastEventId: the same on these streams.)
		if e.lastID != "" {
			check("last event ID", r.LastID, e.lastID)
		}
	}
	if sc == "latency" && len(r.Delays) != e.n {
		bad = append(bad, fmt.Sprintf("%d delays for %d events", len(r.Delays), e.n))
	}
	if r.OutOfOrder > 0 {
		bad = append(bad, fmt.Sprintf("%d events out of order", r.OutOfOrder))
	}
	if r.Ms <= 0 && sc != "memory" { // memory runs are not timed
		bad = append(bad, "no time measured")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s %s: wrong result: %s", client, sc, strings.Join(bad, "; "))
	}
	return nil
}

func (b *bench) timedRun(round int, sc, client string) error {
	spec, exp, timeout := b.spec(sc)
	t, err := b.browser.newTab(client, false)
	if err != nil {
		return fmt.Errorf("%s %s: %w", client, sc, err)
	}
	defer t.close()
	if err := t.open(b.base, ""); err != nil {
		return fmt.Errorf("%s %s: %w", sc, client, err)
	}
	if sc == "latency" {
		time.Sleep(b.cfg.latencySettle)
	}
	res, err := t.run(spec, timeout)
	if err != nil {
		return fmt.Errorf("%s %s: %w", sc, client, err)
	}
	if err := verify(client, sc, res, exp); err != nil {
		return err
	}
	secs := res.Ms / 1000
	var line string
	switch sc {
	case "small":
		v := float64(b.cfg.smallN) / secs
		b.add("small_events_per_s", client, v)
		line = fmt.Sprintf("%10.0f events/s", v)
	case "large":
		v := float64(b.cfg.largeN*b.cfg.largeSize) / 1e6 / secs
		b.add("large_mb_per_s", client, v)
		line = fmt.Sprintf("%10.1f MB/s", v)
	case "llm":
		v := float64(b.cfg.llmN) / secs
		b.add("llm_tokens_per_s", client, v)
		line = fmt.Sprintf("%10.0f tokens/s", v)
	case "latency":
		rounded := make([]float64, len(res.Delays))
		for i, v := range res.Delays {
			rounded[i] = math.Round(v*100) / 100
		}
		b.delays[client] = append(b.delays[client], rounded)
		d := append([]float64(nil), res.Delays[min(b.cfg.latencyWarmup, len(res.Delays)/2):]...)
		sort.Float64s(d)
		p50, p99 := percentile(d, 50), percentile(d, 99)
		b.add("latency_p50_ms", client, p50)
		b.add("latency_p99_ms", client, p99)
		b.add("latency_max_ms", client, d[len(d)-1])
		line = fmt.Sprintf("p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms", p50, p99, d[len(d)-1])
	}
	b.logf("round %d/%d  %-8s %-13s %s  (%.2f s)", round+1, b.cfg.rounds, sc, client, line, secs)
	return nil
}

// sourceLine returns the text of "/url/path:line" from the served folders.
func (b *bench) sourceLine(where string) string {
	path, line, ok := strings.Cut(where, ":")
	n, err := strconv.Atoi(line)
	if !ok || err != nil || n < 1 {
		return ""
	}
	best := ""
	for prefix := range b.static {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(b.static[best], strings.TrimPrefix(path, best)))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if n > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[n-1])
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	k := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

type startupInfo struct {
	ImportMs       float64 `json:"importMs"`
	LoadMs         float64 `json:"loadMs"`
	LoadedAt       float64 `json:"loadedAt"`
	InstantiateMs  float64 `json:"instantiateMs"`
	InstantiatedAt float64 `json:"instantiatedAt"`
}

// startupFigures are the start-up figures, in report order, each measured
// cold and warm: the key of a figure is "cold_<name>" or "warm_<name>"
// (startupKeys).
var startupFigures = []struct {
	name string
	of   func(startupInfo) float64
}{
	{"load", func(s startupInfo) float64 { return s.LoadMs }},
	{"instantiate", func(s startupInfo) float64 { return s.InstantiateMs }},
	{"go_start", func(s startupInfo) float64 { return s.LoadedAt - s.InstantiatedAt }},
	{"import", func(s startupInfo) float64 { return s.ImportMs }},
	{"navigation_to_class", func(s startupInfo) float64 { return s.LoadedAt }},
}

// startupKeys are the keys of the start-up figures, in report order.
var startupKeys = func() []string {
	var keys []string
	for _, phase := range []string{"cold_", "warm_"} {
		for _, f := range startupFigures {
			keys = append(keys, phase+f.name)
		}
	}
	return keys
}()

// startupRun: a cold load() (new browser context: new renderer process,
// empty HTTP cache, cache disabled) then, in the same tab with the cache on,
// a priming navigation and a warm load().
//
// engine is "ours" (the keys of b.startup as they are) or "before" (the
// keys prefixed "before_").
func (b *bench) startupRun(round int, engine string) error {
	prefix := ""
	if engine == "before" {
		prefix = "before_"
	}
	t, err := b.browser.newTab(engine, true)
	if err != nil {
		return fmt.Errorf("startup: %w", err)
	}
	defer t.close()
	read := func() (startupInfo, error) {
		return evaluate[startupInfo](t, "({importMs: bench.importMs, loadMs: bench.loadMs, loadedAt: bench.loadedAt, instantiateMs: bench.instantiateMs, instantiatedAt: bench.instantiatedAt})", 10*time.Second)
	}
	if err := t.open(b.base, "cold=1"); err != nil {
		return fmt.Errorf("startup cold: %w", err)
	}
	cold, err := read()
	if err != nil {
		return fmt.Errorf("startup cold: %w", err)
	}
	if _, err := chromedp.Call(t.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: false}); err != nil {
		return err
	}
	if err := t.open(b.base, "warm=1"); err != nil { // primes the HTTP and code caches
		return fmt.Errorf("startup warm: %w", err)
	}
	if err := t.open(b.base, "warm=1"); err != nil {
		return fmt.Errorf("startup warm: %w", err)
	}
	warm, err := read()
	if err != nil {
		return fmt.Errorf("startup warm: %w", err)
	}
	for _, f := range startupFigures {
		b.startup[prefix+"cold_"+f.name] = append(b.startup[prefix+"cold_"+f.name], f.of(cold))
		b.startup[prefix+"warm_"+f.name] = append(b.startup[prefix+"warm_"+f.name], f.of(warm))
	}
	b.logf("round %d/%d  startup  %-13s load() cold %6.1f ms (instantiate %.0f, Go start %.0f), warm %6.1f ms (instantiate %.0f, Go start %.0f)",
		round+1, b.cfg.rounds, engine, cold.LoadMs, cold.InstantiateMs, cold.LoadedAt-cold.InstantiatedAt, warm.LoadMs, warm.InstantiateMs, warm.LoadedAt-warm.InstantiatedAt)
	return nil
}

type memoryReport struct {
	Client  string       `json:"client"`
	Events  int          `json:"events"`
	Samples []heapSample `json:"samples"`
	Seconds float64      `json:"seconds"`
}

// memoryPlan is what every memory run does and must receive.
type memoryPlan struct {
	checkpoints []int       // events after which the server pauses
	exp         expect      // what the whole run must receive
	prefix      map[int]int // body bytes up to each checkpoint (the raw reader's progress)
}

// memoryRunPlan returns the plan of the memory runs, built on the first one.
func (b *bench) memoryRunPlan() *memoryPlan {
	if b.memPlan == nil {
		n := b.cfg.memoryN
		p := &memoryPlan{checkpoints: []int{n / 10, n / 2, n}}
		p.exp, p.prefix = expectBulk(n, b.cfg.memorySize, p.checkpoints...)
		b.memPlan = p
	}
	return b.memPlan
}

// memoryRun streams memoryN events on one connection; the server pauses at
// 10%, 50% and 100% while the driver forces a GC and samples the JS heap and
// the WASM memory (the connection stays open throughout).
func (b *bench) memoryRun(client string) error {
	cfg := b.cfg
	n := cfg.memoryN
	plan := b.memoryRunPlan()
	checkpoints := plan.checkpoints
	b.gateSeq++
	id := fmt.Sprintf("m%d", b.gateSeq)
	g := b.api.newGate(id)
	defer b.api.dropGate(id)

	t, err := b.browser.newTab(client, false)
	if err != nil {
		return fmt.Errorf("memory %s: %w", client, err)
	}
	defer t.close()
	if err := t.open(b.base, ""); err != nil {
		return fmt.Errorf("memory %s: %w", client, err)
	}
	rep := &memoryReport{Client: client, Events: n}
	s0, err := t.heap(0)
	if err != nil {
		return fmt.Errorf("memory %s: %w", client, err)
	}
	rep.Samples = append(rep.Samples, s0)
	pauses := make([]string, len(checkpoints))
	for i, k := range checkpoints {
		pauses[i] = strconv.Itoa(k)
	}
	spec := runSpec{Kind: "memory", N: n, Req: request{URL: fmt.Sprintf("/benchapi/million?n=%d&size=%d&gate=%s&pause=%s", n, cfg.memorySize, id, strings.Join(pauses, ","))}}
	specJSON := mustJSON(spec)
	start := time.Now()
	if _, err := evaluate[chromedp.Void](t, "bench.start("+specJSON+")", 30*time.Second); err != nil {
		return fmt.Errorf("memory %s: %w", client, err)
	}
	// The last release, once the page has stopped (or the run failed): the
	// gate's buffer holds every release, so none blocks.
	defer func() { g.release <- struct{}{} }()
	for i, k := range checkpoints {
		select {
		case got := <-g.reached:
			if got != k {
				return fmt.Errorf("memory %s: server reached %d, want %d", client, got, k)
			}
		case <-time.After(5 * time.Minute):
			return fmt.Errorf("memory %s: the server did not reach event %d in 5 minutes", client, k)
		}
		target := k
		if client == "raw" {
			target = plan.prefix[k]
		}
		ctx, cancel := context.WithTimeout(t.ctx, 5*time.Minute)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf("bench.error !== null || bench.progress >= %d", target),
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(0)))
		cancel()
		if err != nil {
			return errors.Join(fmt.Errorf("memory %s: waiting for event %d: %w", client, k, err), t.check())
		}
		if msg, _ := evaluate[string](t, "bench.error || ''", 10*time.Second); msg != "" {
			return fmt.Errorf("memory %s: %s", client, msg)
		}
		s, err := t.heap(k)
		if err != nil {
			return fmt.Errorf("memory %s: %w", client, err)
		}
		rep.Samples = append(rep.Samples, s)
		b.logf("memory   %-13s %8d events: JS heap %6.2f MiB, WASM memory %6.2f MiB (%.0f s)", client, k, s.JSHeapUsed/(1<<20), s.WasmMemory/(1<<20), time.Since(start).Seconds())
		if i < len(checkpoints)-1 {
			g.release <- struct{}{}
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	res, err := evaluate[runResult](t, "bench.stop()", 30*time.Second)
	if err != nil {
		return fmt.Errorf("memory %s: %w", client, err)
	}
	if err := verify(client, "memory", res, plan.exp); err != nil {
		return err
	}
	b.memory[client] = rep
	return nil
}

// profileRun: ours under the CPU profiler for scenario sc (small: the
// issue's profile; large: to explain the large-events figure), with the
// unstripped build so that Go functions have names.
//
// A scenario ending in "-iter" (small-iter, large-iter, llm-iter) profiles
// the for await path instead of the drop-in one.
func (b *bench) profileRun(name string) error {
	sc, iter := strings.CutSuffix(name, "-iter")
	client := "ours"
	if iter {
		client = "oursiter"
	}
	spec, exp, timeout := b.spec(sc)
	t, err := b.browser.newTab(client, false)
	if err != nil {
		return fmt.Errorf("profile %s: %w", sc, err)
	}
	defer t.close()
	if err := t.open(b.base, "wasm=/prof/eventsource.wasm"); err != nil {
		return fmt.Errorf("profile %s: %w", sc, err)
	}
	const interval = 100
	res, prof, err := t.profileRun(spec, interval, timeout)
	if err != nil {
		return fmt.Errorf("profile %s: %w", sc, err)
	}
	if err := verify(client, sc, res, exp); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	// The raw profile, for Chrome DevTools (Performance panel: load profile).
	raw := filepath.Join(b.cfg.work, client+"-"+sc+"-events.cpuprofile")
	if err := os.WriteFile(raw, []byte(mustJSON(prof)), 0o644); err != nil {
		return err
	}
	s := summarizeProfile(prof, 20)
	s.RawProfile = raw
	for i, l := range s.HotLines {
		s.HotLines[i].Source = b.sourceLine(l.Where)
	}
	s.Wasm = "eventsource.wasm built like make build but without -ldflags=-s -w (function names kept)"
	s.IntervalUS = interval
	var rate string
	switch sc {
	case "small":
		s.Scenario = fmt.Sprintf("small events (%s × %d B)", thousands(b.cfg.smallN), b.cfg.smallSize)
		s.Rate = float64(b.cfg.smallN) / (res.Ms / 1000)
		rate = thousands(int(s.Rate)) + " events/s"
	case "large":
		s.Scenario = fmt.Sprintf("large events (%d × %d KiB)", b.cfg.largeN, b.cfg.largeSize>>10)
		s.Rate = float64(b.cfg.largeN*b.cfg.largeSize) / 1e6 / (res.Ms / 1000)
		rate = fmt.Sprintf("%.1f MB/s", s.Rate)
	case "llm":
		s.Scenario = fmt.Sprintf("LLM tokens (%s flushed `{\"delta\":…}` events)", thousands(b.cfg.llmN))
		s.Rate = float64(b.cfg.llmN) / (res.Ms / 1000)
		rate = thousands(int(s.Rate)) + " tokens/s"
	default:
		s.Scenario = sc
		s.Rate = res.Ms
		rate = fmt.Sprintf("%.0f ms", res.Ms)
	}
	s.RateText = rate
	if iter {
		s.Scenario += ", for await path"
	}
	s.Explanation = "self = share of samples whose top frame is the function; total = share of samples with the function anywhere on the stack; every sample weighs the same"
	b.profiles = append(b.profiles, &s)
	b.logf("profile  %s %-8s %d samples over %.0f ms (%s under the profiler)", client, sc, s.Samples, s.ProfiledMs, rate)
	for i, f := range s.TopSelf {
		if i == 6 {
			break
		}
		b.logf("profile    %5.1f%% self  %-40s %s", f.SelfPct, f.Function, f.Category)
	}
	return nil
}

// crossings are the calls between JS and the wasm module during one run
// (e2e/bench/page/bench.mjs, count=1): exports = JS into the module, imports =
// the module into JS, by name; chunks = body chunks handed over by a stream
// reader.
type crossings struct {
	Exports map[string]int `json:"exports"`
	Imports map[string]int `json:"imports"`
	Chunks  int            `json:"chunks"`
	Events  int            `json:"events"`
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// crossingsRun: one untimed run of scenario sc with engine ("ours" or
// "before") counting every crossing (the counting wrappers slow it down).
func (b *bench) crossingsRun(engine, sc string) error {
	spec, exp, timeout := b.spec(sc)
	t, err := b.browser.newTab(engine, false)
	if err != nil {
		return fmt.Errorf("crossings %s %s: %w", engine, sc, err)
	}
	defer t.close()
	if err := t.open(b.base, "count=1"); err != nil {
		return fmt.Errorf("crossings %s %s: %w", engine, sc, err)
	}
	res, err := t.run(spec, timeout)
	if err != nil {
		return fmt.Errorf("crossings %s %s: %w", engine, sc, err)
	}
	if err := verify(engine, sc, res, exp); err != nil {
		return fmt.Errorf("crossings: %w", err)
	}
	c := res.Crossings
	if c == nil || c.Chunks == 0 {
		return fmt.Errorf("crossings %s %s: nothing counted", engine, sc)
	}
	c.Events = res.Count
	if b.crossings[engine] == nil {
		b.crossings[engine] = map[string]*crossings{}
	}
	b.crossings[engine][sc] = c
	ch := float64(c.Chunks)
	b.logf("crossings %-7s %-6s %6d chunks: JS→wasm %.2f/chunk %v, wasm→JS %.2f/chunk %v", engine, sc, c.Chunks,
		float64(sum(c.Exports))/ch, c.Exports, float64(sum(c.Imports))/ch, c.Imports)
	return nil
}

// beforeReport is the engine before its inversion, measured in this run.
type beforeReport struct {
	Commit string      `json:"commit"`
	Error  string      `json:"error,omitempty"` // its build failed
	Size   *sizeReport `json:"size,omitempty"`
}

// previousReport is what this run keeps from the report it replaces: the
// figures the "no slower than before" targets compare with.
type previousReport struct {
	Date       string  `json:"date"`
	ColdLoadMs float64 `json:"cold_load_ms"`
	WarmLoadMs float64 `json:"warm_load_ms"`
	Brotli     int     `json:"brotli"`
	// Kept is the previous report's own previous figures when it had them:
	// the baseline stays the oldest report read (the engine before the
	// bench tracked it), not whatever ran last.
	Source string `json:"source"`
}

// readPrevious reads the report at path (the one this run replaces): its
// "previous" figures when it has them, else its own.
func readPrevious(path string) *previousReport {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var old struct {
		Machine  struct{ Date string }
		Previous *previousReport  `json:"previous"`
		Startup  map[string]*stat `json:"startup_ms"`
		Size     *sizeReport      `json:"size"`
	}
	if json.Unmarshal(data, &old) != nil {
		return nil
	}
	if old.Previous != nil {
		return old.Previous
	}
	p := &previousReport{Date: old.Machine.Date, Source: "BENCHMARKS.json of " + old.Machine.Date}
	if s := old.Startup["cold_load"]; s != nil {
		p.ColdLoadMs = s.Median
	}
	if s := old.Startup["warm_load"]; s != nil {
		p.WarmLoadMs = s.Median
	}
	if old.Size != nil {
		p.Brotli = old.Size.Brotli11
	}
	return p
}

// rewriteReport writes cfg.out again from the JSON beside it (the figures
// of the run that wrote it) and the current e2e/bench/analysis.md.
func rewriteReport(cfg *config) error {
	data, err := os.ReadFile(jsonPath(cfg.out))
	if err != nil {
		return err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %v", jsonPath(cfg.out), err)
	}
	if r.Quick {
		cfg.quick = true
		cfg.smallN, cfg.largeN, cfg.llmN, cfg.latencyN, cfg.memoryN = 20_000, 40, 1000, 200, 100_000
	}
	r.cfg = cfg
	if root, err := moduleRoot(); err == nil {
		if a, err := os.ReadFile(filepath.Join(root, "e2e", "bench", "analysis.md")); err == nil {
			r.analysis = string(a)
		}
	}
	return writeReport(cfg.out, &r)
}
