package main

import (
	"fmt"
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
	EventsPerS  float64           `json:"events_per_s_while_profiling"`
	Categories  []profileCategory `json:"categories"`
	TopSelf     []profileFunc     `json:"top_self"`
	TopTotal    []profileFunc     `json:"top_total"`
	Explanation string            `json:"note"`
	RawProfile  string            `json:"raw_profile"`
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
	case strings.HasPrefix(url, "wasm://") || strings.HasSuffix(url, ".wasm"):
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

func frameKey(n *profiler.ProfileNode) (name, where, cat string) {
	cf := n.CallFrame
	name = cf.FunctionName
	if name == "" {
		name = "(anonymous)"
	}
	cat = category(cf.FunctionName, cf.URL)
	switch {
	case cf.URL == "":
		where = ""
	case strings.HasPrefix(cf.URL, "wasm://") || strings.HasSuffix(cf.URL, ".wasm"):
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
	nodes := map[int64]*profiler.ProfileNode{}
	parent := map[int64]int64{}
	for _, n := range p.Nodes {
		nodes[n.ID] = n
		for _, c := range n.Children {
			parent[c] = n.ID
		}
	}
	// Duration of sample i: the delta to the next sample (the last one gets
	// the mean).
	dur := make([]float64, len(p.Samples))
	var sum float64
	for i := range p.Samples {
		if i+1 < len(p.TimeDeltas) {
			dur[i] = float64(p.TimeDeltas[i+1]) / 1000
			sum += dur[i]
		}
	}
	if n := len(p.Samples); n > 1 {
		dur[n-1] = sum / float64(n-1)
		sum += dur[n-1]
	}
	s.Samples = len(p.Samples)
	s.ProfiledMs = sum

	type key struct{ name, where string }
	self := map[key]float64{}
	total := map[key]float64{}
	cats := map[key]string{}
	catMs := map[string]float64{}
	for i, id := range p.Samples {
		n := nodes[id]
		if n == nil {
			continue
		}
		name, where, cat := frameKey(n)
		k := key{name, where}
		self[k] += dur[i]
		cats[k] = cat
		catMs[cat] += dur[i]
		seen := map[key]bool{}
		for cur, ok := id, true; ok; cur, ok = parent[cur] {
			cn := nodes[cur]
			if cn == nil {
				break
			}
			nm, wh, ct := frameKey(cn)
			ck := key{nm, wh}
			if !seen[ck] {
				seen[ck] = true
				total[ck] += dur[i]
				cats[ck] = ct
			}
		}
	}
	pct := func(ms float64) float64 { return 100 * ms / sum }
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
