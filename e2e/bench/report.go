//go:build !js

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

type machine struct {
	CPU       string            `json:"cpu"`
	Cores     int               `json:"cores"`
	MemoryGiB float64           `json:"memory_gib"`
	Kernel    string            `json:"kernel"`
	Chromium  string            `json:"chromium"`
	Go        string            `json:"go"`
	Node      string            `json:"node"`
	Peers     map[string]string `json:"npm_peers"`
	Date      string            `json:"date"`
	LoadStart string            `json:"load_average_start"`
	LoadEnd   string            `json:"load_average_end"`
	DurationS float64           `json:"duration_s"`
}

func machineInfo() machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), LoadStart: loadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "MemTotal:") {
				fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%f", &kb)
			}
		}
		m.MemoryGiB = math.Round(kb/(1<<20)*10) / 10
	}
	m.Kernel = output("uname", "-sr")
	m.Node = output("node", "--version")
	return m
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func jsonPath(md string) string { return strings.TrimSuffix(md, ".md") + ".json" }

// stat is one figure of one client over the rounds.
type stat struct {
	Median   float64   `json:"median"`
	Min      float64   `json:"min"`
	Max      float64   `json:"max"`
	Rounds   []float64 `json:"rounds"`
	VsNative *float64  `json:"vs_native,omitempty"` // median / native's median
	VsRaw    *float64  `json:"vs_raw,omitempty"`    // median / the raw reader's median
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func newStat(v []float64) *stat {
	s := &stat{Median: median(v), Min: math.Inf(1), Max: math.Inf(-1), Rounds: v}
	for _, x := range v {
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	return s
}

type metric struct {
	ID      string           `json:"id"`
	Title   string           `json:"title"`
	Unit    string           `json:"unit"`
	Better  string           `json:"better"` // higher | lower
	Clients map[string]*stat `json:"clients"`
}

type target struct {
	Name string `json:"name"`
	Want string `json:"want"`
	Got  string `json:"got"`
	Met  *bool  `json:"met"` // nil: no data
}

func metWord(t target) string {
	switch {
	case t.Met == nil:
		return "NO DATA"
	case *t.Met:
		return "met"
	default:
		return "UNMET"
	}
}

type report struct {
	Machine  machine                  `json:"machine"`
	Rounds   int                      `json:"rounds"`
	Quick    bool                     `json:"quick,omitempty"`
	Clients  map[string]string        `json:"clients"`
	Metrics  []metric                 `json:"metrics"`
	Startup  map[string]*stat         `json:"startup_ms"`
	Memory   map[string]*memoryReport `json:"memory"`
	Size     *sizeReport              `json:"size"`
	Profiles []*profileSummary        `json:"profiles"`
	Targets  []target                 `json:"targets"`
	Delays   map[string][][]float64   `json:"latency_delays_ms"` // every event, per round, in arrival order
	// Crossings: engine ("ours", "before") -> scenario -> the counts of one run
	Crossings map[string]map[string]*crossings `json:"crossings"`
	Before    *beforeReport                    `json:"before"`
	Previous  *previousReport                  `json:"previous"`
	Failures  []string                         `json:"failures"`
	cfg       *config
	analysis  string // e2e/bench/analysis.md, included as written
}

func (b *bench) report(m machine) *report {
	cfg := b.cfg
	r := &report{Machine: m, Rounds: cfg.rounds, Quick: cfg.quick, Clients: clientLabels, Memory: b.memory,
		Size: b.sizes, Profiles: b.profiles, Delays: b.delays, Failures: b.failures, cfg: cfg, Startup: map[string]*stat{},
		Crossings: b.crossings, Before: b.before, Previous: b.previous, analysis: b.analysis}
	if r.Failures == nil {
		r.Failures = []string{}
	}
	defs := []metric{
		{ID: "small_events_per_s", Title: fmt.Sprintf("Small events: %s events of %d B, as fast as the server writes", thousands(cfg.smallN), cfg.smallSize), Unit: "events/s", Better: "higher"},
		{ID: "large_mb_per_s", Title: fmt.Sprintf("Large events: %d events of %d KiB", cfg.largeN, cfg.largeSize>>10), Unit: "MB/s", Better: "higher"},
		{ID: "llm_tokens_per_s", Title: fmt.Sprintf("LLM tokens: %s `{\"delta\":…}` events, each flushed; POST + JSON body + Authorization (native and event-source-polyfill: GET)", thousands(cfg.llmN)), Unit: "tokens/s (from the constructor to the last token)", Better: "higher"},
		{ID: "latency_p50_ms", Title: fmt.Sprintf("Latency: an event every %d ms (%d events, first %d left out), p50 delivery delay", cfg.latencyEvery, cfg.latencyN, cfg.latencyWarmup), Unit: "ms", Better: "lower"},
		{ID: "latency_p99_ms", Title: "Latency: p99 delivery delay", Unit: "ms", Better: "lower"},
		{ID: "latency_max_ms", Title: "Latency: max delivery delay", Unit: "ms", Better: "lower"},
	}
	for _, d := range defs {
		samples := b.samples[d.ID]
		if len(samples) == 0 {
			continue
		}
		d.Clients = map[string]*stat{}
		for c, v := range samples {
			d.Clients[c] = newStat(v)
		}
		for _, s := range d.Clients {
			if n := d.Clients["native"]; n != nil && n.Median != 0 {
				v := s.Median / n.Median
				s.VsNative = &v
			}
			if raw := d.Clients["raw"]; raw != nil && raw.Median != 0 {
				v := s.Median / raw.Median
				s.VsRaw = &v
			}
		}
		r.Metrics = append(r.Metrics, d)
	}
	for k, v := range b.startup {
		if len(v) > 0 {
			r.Startup[k] = newStat(v)
		}
	}
	r.Targets = r.targets()
	return r
}

func (r *report) metric(id string) *metric {
	for i := range r.Metrics {
		if r.Metrics[i].ID == id {
			return &r.Metrics[i]
		}
	}
	return nil
}

func (r *report) median(id, client string) (float64, bool) {
	m := r.metric(id)
	if m == nil || m.Clients[client] == nil {
		return 0, false
	}
	return m.Clients[client].Median, true
}

func boolp(b bool) *bool { return &b }

// flatSlack is the most ours' JS heap and WASM memory may grow over the
// second half of the million-event run (500,000 events): 2 bytes per event,
// so any per-event leak fails. The first half is left out of the test (and
// shown beside it) because the Go heap settles there: its GC paces the heap
// to the live data and WASM memory never shrinks, so the high-water mark of
// the first bursts stays.
const flatSlack = 1 << 20

// The issue-7 targets (and issue 9's for the iterator path), from this
// run's medians.
func (r *report) targets() []target {
	evs := func(v float64) string { return thousands(int(math.Round(v))) }
	mbs := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	ratioTarget := func(name, id, a, b string, k float64, unit string, f func(float64) string) target {
		t := target{Name: name, Want: fmt.Sprintf("%s ≥ %.2g × %s (%s, medians)", a, k, b, id)}
		va, ok1 := r.median(id, a)
		vb, ok2 := r.median(id, b)
		if ok1 && ok2 && vb > 0 {
			t.Got = fmt.Sprintf("%.2f× (%s vs %s %s)", va/vb, f(va), f(vb), unit)
			t.Met = boolp(va >= k*vb)
		}
		return t
	}
	// ahead: client a's median beats every one of others (higher is better).
	ahead := func(name, id, a string, others []string, unit string, f func(float64) string) target {
		t := target{Name: name, Want: fmt.Sprintf("%s > each of %s (%s)", a, strings.Join(others, ", "), id)}
		va, ok := r.median(id, a)
		if !ok {
			return t
		}
		best, bestV, met := "", math.Inf(-1), true
		for _, o := range others {
			vo, ok := r.median(id, o)
			if !ok {
				t.Got = "no data for " + o
				return t
			}
			if vo > bestV {
				best, bestV = o, vo
			}
			if vo >= va {
				met = false
			}
		}
		t.Got = fmt.Sprintf("%.2f× the best of them, %s (%s vs %s %s)", va/bestV, best, f(va), f(bestV), unit)
		t.Met = boolp(met)
		return t
	}
	within := func(name, id string, ms float64) target {
		t := target{Name: name, Want: fmt.Sprintf("ours ≤ native + %.2f ms (%s)", ms, id)}
		o, ok1 := r.median(id, "ours")
		n, ok2 := r.median(id, "native")
		if ok1 && ok2 {
			t.Got = fmt.Sprintf("%+.2f ms (%.2f vs %.2f ms)", o-n, o, n)
			t.Met = boolp(o <= n+ms+1e-9)
		}
		return t
	}
	ts := []target{
		ratioTarget("small events, drop-in ≥ 1.2× eventsource 5", "small_events_per_s", "ours", "eventsource5", 1.2, "events/s", evs),
		ratioTarget("large events ≥ 0.9× the raw reader", "large_mb_per_s", "ours", "raw", 0.9, "MB/s", mbs),
		ahead("large events ahead of every peer", "large_mb_per_s", "ours", peers, "MB/s", mbs),
		ratioTarget("LLM tokens, drop-in ≥ 1.3× native", "llm_tokens_per_s", "ours", "native", 1.3, "tokens/s", evs),
		ratioTarget("LLM tokens, drop-in ahead of eventsource 5", "llm_tokens_per_s", "ours", "eventsource5", 1.0000001, "tokens/s", evs),
		within("latency p50 within 0.05 ms of native", "latency_p50_ms", 0.05),
		within("latency p99 within 0.3 ms of native", "latency_p99_ms", 0.3),
	}
	{
		t := target{Name: "load() warm ≤ 30 ms", Want: "median warm load() ≤ 30 ms"}
		if s := r.Startup["warm_load"]; s != nil {
			t.Got = fmt.Sprintf("%s ms (rounds %s)", figure(s.Median), joinFloats(s.Rounds, "%.0f"))
			t.Met = boolp(s.Median <= 30)
		}
		ts = append(ts, t)
	}
	{
		t := target{Name: "load() cold no slower than before", Want: "median cold load() ≤ the engine before its inversion's, measured in the same run (" + beforeCommit[:7] + ")"}
		s, sb := r.Startup["cold_load"], r.Startup["before_cold_load"]
		if s != nil && sb != nil {
			t.Got = fmt.Sprintf("%s vs %s ms (%.2f×) in this run", figure(s.Median), figure(sb.Median), s.Median/sb.Median)
			if p := r.Previous; p != nil && p.ColdLoadMs > 0 {
				t.Got += fmt.Sprintf("; %s ms in the report of %s", figure(p.ColdLoadMs), p.Date)
			}
			t.Met = boolp(s.Median <= sb.Median)
		}
		ts = append(ts, t)
	}
	{
		t := target{Name: "eventsource.wasm ≤ 620 KB brotli", Want: "brotli -q 11 ≤ 620,000 B"}
		if r.Size != nil {
			t.Got = fmt.Sprintf("%s B (%.0f KB)", thousands(r.Size.Brotli11), float64(r.Size.Brotli11)/1000)
			if r.Before != nil && r.Before.Size != nil {
				t.Got += fmt.Sprintf("; before: %.0f KB", float64(r.Before.Size.Brotli11)/1000)
			}
			t.Met = boolp(r.Size.Brotli11 <= 620_000)
		}
		ts = append(ts, t)
	}
	ts = append(ts,
		ratioTarget("small events, for await ahead of eventsource-client (issue 9)", "small_events_per_s", "oursiter", "esclient", 1.0000001, "events/s", evs),
		ahead("small events, for await ahead of every peer", "small_events_per_s", "oursiter", peers, "events/s", evs),
		ahead("large events, for await ahead of every peer", "large_mb_per_s", "oursiter", peers, "MB/s", mbs),
		ahead("LLM tokens, for await ahead of every peer (issue 7)", "llm_tokens_per_s", "oursiter", peers, "tokens/s", evs),
	)
	{
		t := target{Name: "memory flat over a million events", Want: "ours: JS heap and WASM memory grow ≤ 1 MiB over the second half of the run (500,000 events, 2 B/event)"}
		if m := r.Memory["ours"]; m != nil && len(m.Samples) >= 3 {
			first, mid, last := m.Samples[1], m.Samples[len(m.Samples)-2], m.Samples[len(m.Samples)-1]
			dh, dw := last.JSHeapUsed-first.JSHeapUsed, last.WasmMemory-first.WasmMemory
			mh, mw := last.JSHeapUsed-mid.JSHeapUsed, last.WasmMemory-mid.WasmMemory
			t.Got = fmt.Sprintf("last %s events: JS heap %+.2f MiB, WASM memory %+.2f MiB (from %s events: %+.2f / %+.2f MiB)",
				thousands(last.At-mid.At), mh/(1<<20), mw/(1<<20), thousands(first.At), dh/(1<<20), dw/(1<<20))
			t.Met = boolp(mh <= flatSlack && mw <= flatSlack)
		}
		ts = append(ts, t)
	}
	return ts
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func joinFloats(v []float64, format string) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, ", ")
}

// figure formats a value with precision suited to its size.
func figure(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "–"
	case a >= 10000:
		return thousands(int(math.Round(v)))
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func ratio(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f×", *p)
}

func short(s string) string {
	if len(s) > 70 {
		return s[:67] + "..."
	}
	return s
}

func mib(v float64) string { return fmt.Sprintf("%.2f MiB", v/(1<<20)) }

func writeReport(out string, r *report) error {
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(jsonPath(out), append(j, '\n'), 0o644); err != nil {
		return err
	}
	md := r.markdown()
	if old, err := os.ReadFile(out); err == nil {
		md = keepForeignSections(md, string(old))
	}
	return os.WriteFile(out, []byte(md), 0o644)
}

// keepForeignSections appends to the generated report md every "## "
// section of the report it replaces (old) that the generator does not
// write itself: a section others add by hand or with their own tool (such
// as a server fan-out benchmark) survives make bench, in its place at the
// end, in its own order.
func keepForeignSections(md, old string) string {
	ours := map[string]bool{}
	for _, s := range splitSections(md) {
		ours[s.title] = true
	}
	var keep []string
	for _, s := range splitSections(old) {
		if s.title != "" && !ours[s.title] && !generatedTitles[s.title] {
			keep = append(keep, strings.TrimRight(s.text, "\n"))
		}
	}
	if len(keep) == 0 {
		return md
	}
	return strings.TrimRight(md, "\n") + "\n\n" + strings.Join(keep, "\n\n") + "\n"
}

// generatedTitles are "## " sections the generator writes or once wrote:
// never kept from an old report even when this run leaves them out.
var generatedTitles = map[string]bool{
	"Machine": true, "Targets": true, "Method": true, "Throughput and latency": true, "Start-up (ours)": true,
	"Crossings per chunk": true, "Memory over a million events": true, "Size": true, "Analysis": true,
	"CPU profiles of ours": true,
}

type section struct{ title, text string }

// splitSections splits markdown at its "## " headings (not inside code
// fences); the text before the first heading has the title "".
func splitSections(md string) []section {
	var out []section
	cur := section{}
	var b strings.Builder
	fence := false
	for _, line := range strings.SplitAfter(md, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(line, "## ") {
			cur.text = b.String()
			out = append(out, cur)
			b.Reset()
			cur = section{title: strings.TrimSpace(strings.TrimPrefix(line, "## "))}
		}
		b.WriteString(line)
	}
	cur.text = b.String()
	return append(out, cur)
}

// metricScenario is the timed scenario a metric comes from.
func metricScenario(id string) string {
	switch {
	case strings.HasPrefix(id, "small"):
		return "small"
	case strings.HasPrefix(id, "large"):
		return "large"
	case strings.HasPrefix(id, "llm"):
		return "llm"
	}
	return "latency"
}

// byName lists counts by name, largest first: "es_chunk 52, resume 3".
func byName(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var parts []string
	for _, e := range l {
		parts = append(parts, fmt.Sprintf("`%s` %s", e.k, thousands(e.v)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r *report) markdown() string {
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }
	m := r.Machine
	p("# Benchmarks\n\n")
	p("Generated by `make bench` (`cd e2e && go run ./bench`); the same figures, with every round, are in [%s](%s).\n", "BENCHMARKS.json", "BENCHMARKS.json")
	p("Do not edit by hand.\n\n")
	if r.Quick {
		p("> **-quick run: small streams, one round. Not a measurement.**\n\n")
	}
	if len(r.Failures) > 0 {
		p("> **%d run(s) FAILED** (wrong result or error; the bench exited non-zero):\n>\n", len(r.Failures))
		for _, f := range r.Failures {
			p("> - %s\n", strings.ReplaceAll(f, "\n", " "))
		}
		p("\n")
	}
	p("## Machine\n\n")
	p("| | |\n|---|---|\n")
	p("| CPU | %s, %d cores, %.1f GiB |\n", m.CPU, m.Cores, m.MemoryGiB)
	p("| OS | %s |\n", m.Kernel)
	p("| Chromium | %s (headless) |\n", m.Chromium)
	p("| Go | %s |\n", m.Go)
	p("| Node.js (npm peers install and bundling only) | %s |\n", m.Node)
	peers := []string{}
	for k, v := range m.Peers {
		peers = append(peers, k+" "+v)
	}
	sort.Strings(peers)
	p("| npm packages | %s |\n", strings.Join(peers, ", "))
	p("| date | %s |\n", m.Date)
	p("| load average (1, 5, 15 min) | %s at the start, %s at the end |\n", m.LoadStart, m.LoadEnd)
	p("| duration of the run | %.0f s |\n\n", m.DurationS)

	p("## Targets\n\n")
	p("Issue 7's targets (and issue 9's for the `for await` path), from this run's medians; every ratio compares figures of the same run.\n\n")
	p("| target | result | |\n|---|---|---|\n")
	for _, t := range r.Targets {
		got := t.Got
		if got == "" {
			got = "no data (see failures)"
		}
		p("| %s | %s | **%s** |\n", t.Name, got, metWord(t))
	}
	p("\n")

	p("## Method\n\n")
	p("Server: the project's Go server on 127.0.0.1 (HTTP/1.1), Chromium headless on the same machine; one fresh tab per run. ")
	p("Each timed scenario runs %d rounds; in each round every client runs once, the order of the clients rotating from round to round and scenario to scenario. ", r.Rounds)
	p("A figure is the **median of the rounds** (the range is min–max). ")
	p("**×native** and **×raw** divide the client's median by native EventSource's and the raw reader's medians from the same run (for \"lower is better\" figures a ratio below 1 is better). ")
	p("Every run checks what it received — the number of events, the total data length, the first and last data and the last event ID (the raw reader: the exact body length) — and a mismatch fails the bench instead of producing a number.\n\n")
	p("Clients: ")
	var cl []string
	for _, c := range clientIDs {
		cl = append(cl, "**"+c+"** = "+r.Clients[c])
	}
	p("%s. The npm packages are bundled with esbuild and loaded as one ES module. ", strings.Join(cl, "; "))
	p("**ours, drop-in** sets `onmessage` and gets real `MessageEvent`s; **ours, for await** iterates `for await (const m of es)` with no message listener, so the host builds no `MessageEvent` (it runs in the throughput scenarios only). eventsource-client is measured through its `onMessage` callback; event-source-polyfill cannot POST, so its LLM run is the GET native makes, with the token also sent as an `Authorization` header. ")
	p("Times are taken in the page with `performance.now()` from the constructor call (or `fetch()`) to the last event; the listener counts events and adds up `data.length` (LLM: `JSON.parse(data).delta`).\n\n")

	p("## Throughput and latency\n\n")
	p("**drop-in ÷** and **for await ÷** divide ours' median (the drop-in path, the for await path) by the row's: above 1 ours is faster. For latency, **ours −** is ours' median minus the row's (below 0 ours is quicker).\n\n")
	for _, mt := range r.Metrics {
		p("### %s\n\n", mt.Title)
		p("%s, %s is better.\n\n", mt.Unit, mt.Better)
		oursS, iterS := mt.Clients["ours"], mt.Clients["oursiter"]
		if mt.Better == "higher" {
			p("| client | median | ×native | ×raw | drop-in ÷ | for await ÷ | range over rounds |\n|---|---:|---:|---:|---:|---:|---|\n")
		} else {
			p("| client | median | ×native | ×raw | ours − | range over rounds |\n|---|---:|---:|---:|---:|---|\n")
		}
		for _, c := range clientIDs {
			s := mt.Clients[c]
			if s == nil {
				if c == "oursiter" && !iterScenarios[metricScenario(mt.ID)] {
					continue
				}
				p("| %s | FAILED | | | | | |\n", r.Clients[c])
				continue
			}
			div := func(o *stat) string {
				if o == nil || s.Median == 0 {
					return "–"
				}
				return fmt.Sprintf("%.2f×", o.Median/s.Median)
			}
			if mt.Better == "higher" {
				p("| %s | %s | %s | %s | %s | %s | %s – %s |\n", r.Clients[c], figure(s.Median), ratio(s.VsNative), ratio(s.VsRaw), div(oursS), div(iterS), figure(s.Min), figure(s.Max))
			} else {
				diff := "–"
				if oursS != nil {
					diff = fmt.Sprintf("%+.2f ms", oursS.Median-s.Median)
				}
				p("| %s | %s | %s | %s | %s | %s – %s |\n", r.Clients[c], figure(s.Median), ratio(s.VsNative), ratio(s.VsRaw), diff, figure(s.Min), figure(s.Max))
			}
		}
		p("\n")
	}
	if mt := r.metric("latency_p50_ms"); mt != nil {
		p("Latency: the server writes `<i> <send time>` (Go `time.Now()`, ms since the epoch) every %d ms and flushes; the page takes `performance.timeOrigin + performance.now()` first thing in the listener (the raw reader: when the chunk arrives). Both read the same machine clock; the page's timer is coarsened to about 0.1 ms.\n\n", r.cfg.latencyEvery)
	}

	p("## Start-up (ours)\n\n")
	if len(r.Startup) == 0 {
		p("Not measured.\n\n")
	} else {
		p("`load()` = from calling `load()` to the resolved class (fetch of wasm_exec.js and eventsource.wasm, streaming compile, Go start-up); within it, `instantiate` = `WebAssembly.instantiateStreaming` (fetch + compile + instantiate of eventsource.wasm) and `Go start` = from there to the class (Go runtime start-up and `main` until the engine is handed over). `import` = `import(\"/dist/eventsource.mjs\")` before `load()`; navigation to class = from navigation start to the class. ")
		p("**Cold**: a new browser context (new renderer process, empty HTTP cache) with the cache disabled through CDP `Network.setCacheDisabled`. **Warm**: the same tab with the cache on, after one priming navigation (HTTP cache and V8's wasm code cache may serve). ")
		p("**before** is the engine as it was before its inversion (commit %s, built by the bench like make build and served beside today's), measured in the same rounds, the order of the two alternating.\n\n", beforeCommit[:7])
		p("| | ours median | range | rounds | before median | range |\n|---|---:|---|---|---:|---|\n")
		for _, k := range startupKeys {
			s := r.Startup[k]
			if s == nil {
				continue
			}
			bm, br := "–", ""
			if sb := r.Startup["before_"+k]; sb != nil {
				bm, br = figure(sb.Median), figure(sb.Min)+" – "+figure(sb.Max)
			}
			p("| %s (ms) | %s | %s – %s | %s | %s | %s |\n", strings.ReplaceAll(k, "_", " "), figure(s.Median), figure(s.Min), figure(s.Max), joinFloats(s.Rounds, "%.0f"), bm, br)
		}
		if pr := r.Previous; pr != nil && pr.ColdLoadMs > 0 {
			p("\nThe report of %s (the engine before its inversion, on this machine, another day) had cold load() %s ms and warm %s ms.\n", pr.Date, figure(pr.ColdLoadMs), figure(pr.WarmLoadMs))
		}
		p("\n")
	}

	p("## Crossings per chunk\n\n")
	if len(r.Crossings) == 0 {
		p("Not measured.\n\n")
	} else {
		p("One untimed run per engine and scenario with the page's count=1 instrumentation (e2e/bench/page/bench.mjs): every export of the module is wrapped (calls from JS into the module: the seam's inputs such as `es_chunk`, and Go's own `resume` and `getsp` that wasm_exec.js calls) and every import (calls from the module into JS: `syscall/js.*` and `runtime.*` of wasm_exec.js), and `ReadableStreamDefaultReader.prototype.read` counts the body chunks whoever reads them. Totals over the whole run (the request, the response and the end included) divided by the chunks.\n\n")
		p("| engine | scenario | chunks | events/chunk | JS→wasm per chunk | wasm→JS per chunk | JS→wasm by name (total) | wasm→JS by name (total) |\n|---|---|---:|---:|---:|---:|---|---|\n")
		for _, e := range []string{"before", "ours"} {
			for _, sc := range crossingScenarios {
				c := r.Crossings[e][sc]
				if c == nil {
					continue
				}
				ch := float64(c.Chunks)
				name := "today"
				if e == "before" {
					name = "before (" + beforeCommit[:7] + ")"
				}
				p("| %s | %s | %s | %.1f | %.2f | %.2f | %s | %s |\n", name, sc, thousands(c.Chunks), float64(c.Events)/ch,
					float64(sum(c.Exports))/ch, float64(sum(c.Imports))/ch, byName(c.Exports), byName(c.Imports))
			}
		}
		p("\n")
	}

	p("## Memory over a million events\n\n")
	if len(r.Memory) == 0 {
		p("Not measured.\n\n")
	} else {
		p("One connection carries %s events of %d B (the /api/stream format). The server pauses after the events listed; the driver forces two GCs (CDP `HeapProfiler.collectGarbage`) and reads `Runtime.getHeapUsage` (JS heap used; embedder = Blink's own heap) and the Go module's memory (`mem.buffer.byteLength`, captured by wrapping `WebAssembly.instantiateStreaming`), then lets the stream go on. The connection stays open until the last sample. One run per client (not timed).\n\n", thousands(r.cfg.memoryN), r.cfg.memorySize)
		p("| client | sample | JS heap used | ×native | ×raw | embedder heap | WASM memory |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, c := range clientsFor("memory", clientIDs) {
			mr := r.Memory[c]
			if mr == nil {
				p("| %s | FAILED | | | | | |\n", r.Clients[c])
				continue
			}
			for i, s := range mr.Samples {
				at := "after load"
				if s.At > 0 {
					at = thousands(s.At)
				}
				vsN, vsR := "–", "–"
				if n := r.Memory["native"]; n != nil && i < len(n.Samples) && n.Samples[i].JSHeapUsed > 0 {
					vsN = fmt.Sprintf("%.2f×", s.JSHeapUsed/n.Samples[i].JSHeapUsed)
				}
				if raw := r.Memory["raw"]; raw != nil && i < len(raw.Samples) && raw.Samples[i].JSHeapUsed > 0 {
					vsR = fmt.Sprintf("%.2f×", s.JSHeapUsed/raw.Samples[i].JSHeapUsed)
				}
				wasm := "–"
				if s.WasmMemory > 0 {
					wasm = mib(s.WasmMemory)
				}
				name := ""
				if i == 0 {
					name = r.Clients[c]
				}
				p("| %s | %s | %s | %s | %s | %s | %s |\n", name, at, mib(s.JSHeapUsed), vsN, vsR, mib(s.EmbedderUsed), wasm)
			}
		}
		p("\n")
	}

	p("## Size\n\n")
	if r.Size == nil {
		p("Not measured.\n\n")
	} else {
		s := r.Size
		p("| file | raw | gzip -9 | brotli -q 11 |\n|---|---:|---:|---:|\n")
		p("| eventsource.wasm | %s B | %s B | %s B |\n", thousands(s.Raw), thousands(s.Gzip9), thousands(s.Brotli11))
		if r.Before != nil && r.Before.Size != nil {
			bs := r.Before.Size
			p("| eventsource.wasm before (%s, same flags and toolchain) | %s B | %s B | %s B |\n", beforeCommit[:7], thousands(bs.Raw), thousands(bs.Gzip9), thousands(bs.Brotli11))
		}
		p("| eventsource.mjs + wasm_exec.js | %s B | %s B | |\n", thousands(s.OtherRaw), thousands(s.OtherGzip))
		if s.SharedRaw > 0 {
			p("| shared.mjs (the page side of `shared: true`) | %s B | %s B | %s B |\n", thousands(s.SharedRaw), thousands(s.SharedGzip9), thousands(s.SharedBrotli11))
			p("| a page that only shares: shared.mjs + eventsource.mjs + wasm_exec.js, no .wasm | %s B | %s B | %s B |\n",
				thousands(s.SharedPageRaw), thousands(s.SharedPageGzip9), thousands(s.SharedPageBr11))
		}
		p("\n")
	}
	if r.Before != nil && r.Before.Error != "" {
		p("The engine before its inversion could not be built, so its figures are missing: %s\n\n", strings.ReplaceAll(r.Before.Error, "\n", " "))
	}

	if r.analysis != "" {
		p("## Analysis\n\n%s\n\n", strings.TrimSpace(r.analysis))
	}

	p("## CPU profiles of ours\n\n")
	if len(r.Profiles) == 0 {
		p("Not measured.\n")
	}
	for _, pr := range r.Profiles {
		p("### %s\n\n", pr.Scenario)
		p("CDP `Profiler` sampling every %d µs during one run of ours (%s samples over %.0f ms; %s under the profiler), with %s. Raw profile (loads in Chrome DevTools): `%s`.\n\n",
			pr.IntervalUS, thousands(pr.Samples), pr.ProfiledMs, pr.RateText, pr.Wasm, pr.RawProfile)
		p("Where the time goes:\n\n| category | self ms | share |\n|---|---:|---:|\n")
		for _, c := range pr.Categories {
			p("| %s | %.0f | %.1f%% |\n", c.Name, c.SelfMs, c.Pct)
		}
		if len(pr.HotLines) > 0 {
			p("\nHottest JS lines (self samples on the line, share of all samples):\n\n| line | function | share | source |\n|---|---|---:|---|\n")
			for _, l := range pr.HotLines {
				p("| %s | `%s` | %.1f%% | `%s` |\n", l.Where, l.Function, l.Pct, strings.ReplaceAll(l.Source, "|", "\\|"))
			}
		}
		p("\nTop functions by self time:\n\n| function | where | category | self | total |\n|---|---|---|---:|---:|\n")
		for _, f := range pr.TopSelf {
			p("| `%s` | %s | %s | %.1f%% | %.1f%% |\n", short(f.Function), f.Where, f.Category, f.SelfPct, f.TotalPct)
		}
		p("\nTop functions by total time (on the stack):\n\n| function | where | category | total | self |\n|---|---|---|---:|---:|\n")
		for _, f := range pr.TopTotal {
			p("| `%s` | %s | %s | %.1f%% | %.1f%% |\n", short(f.Function), f.Where, f.Category, f.TotalPct, f.SelfPct)
		}
		p("\n")
	}
	return w.String()
}
