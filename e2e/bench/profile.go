//go:build !js

package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/chromedp/cdproto/profiler"
)

// profileFunc is one function of the CPU profile.
type profileFunc struct {
	Function string  `json:"function"`
	Where    string  `json:"where"` // url:line, or the category for wasm / builtins
	Category string  `json:"category"`
	SelfMs   float64 `json:"self_ms"`
	SelfPct  float64 `json:"self_pct"`
	TotalMs  float64 `json:"total_ms"`
	TotalPct float64 `json:"total_pct"`
}

// profileLine is a source line of a JS function with many self samples.
type profileLine struct {
	Function string  `json:"function"`
	Where    string  `json:"where"` // url:line
	Source   string  `json:"source,omitempty"`
	Pct      float64 `json:"pct"` // of all samples
}

type profileCategory struct {
	Name   string  `json:"name"`
	SelfMs float64 `json:"self_ms"`
	Pct    float64 `json:"pct"`
}

// profileSummary is the CPU profile of ours during the small-events run.
type profileSummary struct {
	Scenario    string            `json:"scenario"`
	Wasm        string            `json:"wasm"`
	IntervalUS  int64             `json:"sampling_interval_us"`
	Samples     int               `json:"samples"`
	ProfiledMs  float64           `json:"profiled_ms"`
	Rate        float64           `json:"rate_while_profiling"` // events/s (small) or MB/s (large)
	RateText    string            `json:"rate_text"`
	Categories  []profileCategory `json:"categories"`
	TopSelf     []profileFunc     `json:"top_self"`
	TopTotal    []profileFunc     `json:"top_total"`
	HotLines    []profileLine     `json:"hot_lines"`
	Explanation string            `json:"note"`
	RawProfile  string            `json:"raw_profile"`
}

// isWasm reports whether a call frame's URL is the wasm module's.
func isWasm(url string) bool {
	return strings.HasPrefix(url, "wasm://") || strings.HasSuffix(url, ".wasm")
}

func category(f string, url string) string {
	switch {
	case f == "(idle)":
		return "idle"
	case f == "(garbage collector)":
		return "JS garbage collector"
	case f == "(program)":
		return "browser internals (program)"
	case f == "(root)":
		return "root"
	case isWasm(url):
		return "Go/wasm engine"
	case strings.HasSuffix(url, "/eventsource.mjs"):
		return "JS glue (eventsource.mjs)"
	case strings.HasSuffix(url, "/wasm_exec.js"):
		return "Go↔JS bridge (wasm_exec.js)"
	case strings.Contains(url, "/bench/bench.mjs"):
		return "bench page (listener)"
	case url == "":
		return "JS builtins / native (no URL)"
	default:
		return "other JS"
	}
}

// The wasm name section spells Go names with '_' for the characters wasm
// names avoid: "github.com_wasm_eventsource_wasm_eventsource_sse.__Parser_.Feed"
// is sse.(*Parser).Feed.
var (
	goMethod     = regexp.MustCompile(`\.__([A-Za-z0-9_]+?)_\.`)
	goModulePath = strings.NewReplacer(
		"github.com_wasm_eventsource_wasm_eventsource_", "",
		"github.com_hack_pad_safejs_internal_", "safejs/internal/",
		"github.com_hack_pad_safejs", "safejs",
	)
)

func goName(s string) string {
	return goMethod.ReplaceAllString(goModulePath.Replace(s), ".(*$1).")
}

func frameKey(n *profiler.ProfileNode) (name, where, cat string) {
	cf := n.CallFrame
	name = cf.FunctionName
	if name == "" {
		name = "(anonymous)"
	}
	cat = category(cf.FunctionName, cf.URL)
	if cat == "Go/wasm engine" {
		name = goName(name)
	}
	switch {
	case cf.URL == "":
		where = ""
	case isWasm(cf.URL):
		where = "wasm"
	default:
		u := cf.URL
		if i := strings.Index(u, "://"); i >= 0 {
			if j := strings.Index(u[i+3:], "/"); j >= 0 {
				u = u[i+3+j:]
			}
		}
		where = fmt.Sprintf("%s:%d", u, cf.LineNumber+1)
	}
	return
}

func summarizeProfile(p *profiler.Profile, top int) profileSummary {
	var s profileSummary
	if p == nil || len(p.Samples) == 0 {
		return s
	}
	// Every node's frame, worked out once.
	type key struct{ name, where string }
	type frame struct {
		key key
		cat string
	}
	frames := map[int64]frame{}
	parent := map[int64]int64{}
	for _, n := range p.Nodes {
		name, where, cat := frameKey(n)
		frames[n.ID] = frame{key{name, where}, cat}
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	// Every sample counts the same: the mean interval. (Weighting by
	// timeDeltas lets one sample taken after the renderer was descheduled,
	// on a busy machine, stand for tens of milliseconds.)
	sum := (p.EndTime - p.StartTime) / 1000
	each := sum / float64(len(p.Samples))
	s.Samples = len(p.Samples)
	s.ProfiledMs = sum

	self := map[key]float64{}
	total := map[key]float64{}
	cats := map[key]string{}
	catMs := map[string]float64{}
	seen := map[key]bool{}
	for _, id := range p.Samples {
		f, ok := frames[id]
		if !ok {
			continue
		}
		self[f.key] += each
		cats[f.key] = f.cat
		catMs[f.cat] += each
		clear(seen)
		for cur, ok := id, true; ok; cur, ok = parent[cur] {
			cf, known := frames[cur]
			if !known {
				break
			}
			if !seen[cf.key] {
				seen[cf.key] = true
				total[cf.key] += each
				cats[cf.key] = cf.cat
			}
		}
	}
	pct := func(ms float64) float64 { return 100 * ms / sum }

	// Lines of JS functions (positionTicks), as a share of all samples.
	lineTicks := map[key]int64{}
	lineFn := map[key]string{}
	for _, n := range p.Nodes {
		if url := n.CallFrame.URL; url == "" || isWasm(url) {
			continue
		}
		f := frames[n.ID]
		name, where := f.key.name, f.key.where
		file, _, _ := strings.Cut(where, ":")
		for _, t := range n.PositionTicks {
			k := key{file, fmt.Sprint(t.Line)}
			lineTicks[k] += t.Ticks
			lineFn[k] = name
		}
	}
	var lk []key
	for k := range lineTicks {
		lk = append(lk, k)
	}
	sort.Slice(lk, func(i, j int) bool { return lineTicks[lk[i]] > lineTicks[lk[j]] })
	for i := 0; i < len(lk) && i < 8; i++ {
		share := 100 * float64(lineTicks[lk[i]]) / float64(len(p.Samples))
		if share < 1 {
			break
		}
		s.HotLines = append(s.HotLines, profileLine{Function: lineFn[lk[i]], Where: lk[i].name + ":" + lk[i].where, Pct: share})
	}
	for name, ms := range catMs {
		s.Categories = append(s.Categories, profileCategory{name, ms, pct(ms)})
	}
	sort.Slice(s.Categories, func(i, j int) bool { return s.Categories[i].SelfMs > s.Categories[j].SelfMs })
	mk := func(k key) profileFunc {
		return profileFunc{Function: k.name, Where: k.where, Category: cats[k],
			SelfMs: self[k], SelfPct: pct(self[k]), TotalMs: total[k], TotalPct: pct(total[k])}
	}
	var keys []key
	for k := range self {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return self[keys[i]] > self[keys[j]] })
	for i := 0; i < len(keys) && i < top; i++ {
		s.TopSelf = append(s.TopSelf, mk(keys[i]))
	}
	keys = keys[:0]
	for k := range total {
		switch cats[k] {
		case "root", "idle", "browser internals (program)":
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return total[keys[i]] > total[keys[j]] })
	for i := 0; i < len(keys) && i < top; i++ {
		s.TopTotal = append(s.TopTotal, mk(keys[i]))
	}
	return s
}
