//go:build !js

package main

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// The bench's pure parts: what turns runs into numbers (medians,
// percentiles, statistics), what decides a run was right (verify, the
// expectations), and what writes the report.

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 9}, 5},
		{[]float64{-1, 1}, 0},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Fatalf("median reordered its input: %v", tc.in)
			}
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestPercentile(t *testing.T) {
	sorted := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct{ p, want float64 }{
		{0, 1}, {1, 1}, {10, 1}, {11, 2}, {50, 5}, {90, 9}, {95, 10}, {99, 10}, {100, 10},
	} {
		if got := percentile(sorted, tc.p); got != tc.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v (nearest rank)", tc.p, got, tc.want)
		}
	}
	if got := percentile([]float64{7}, 99); got != 7 {
		t.Errorf("one value: %v", got)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile(nil) is not NaN")
	}
}

func TestNewStat(t *testing.T) {
	s := newStat([]float64{3, 1, 2})
	if s.Median != 2 || s.Min != 1 || s.Max != 3 || len(s.Rounds) != 3 {
		t.Errorf("newStat = %+v", s)
	}
}

func TestVerify(t *testing.T) {
	e := expect{n: 3, dataLen: 6, first: "aa", last: "cc", lastID: "3", wireBytes: 42}
	good := runResult{Count: 3, DataLen: 6, First: "aa", Last: "cc", LastID: "3", Bytes: 42, Ms: 1}
	if err := verify("ours", "small", good, e); err != nil {
		t.Fatalf("a right run: %v", err)
	}
	for name, mutate := range map[string]func(r *runResult){
		"one event missing": func(r *runResult) { r.Count = 2 },
		"one event twice":   func(r *runResult) { r.Count = 4 },
		"data truncated":    func(r *runResult) { r.DataLen = 5 },
		"wrong first":       func(r *runResult) { r.First = "ab" },
		"wrong last":        func(r *runResult) { r.Last = "" },
		"wrong last id":     func(r *runResult) { r.LastID = "2" },
		"out of order":      func(r *runResult) { r.OutOfOrder = 1 },
		"not timed":         func(r *runResult) { r.Ms = 0 },
	} {
		r := good
		mutate(&r)
		if err := verify("ours", "small", r, e); err == nil || !strings.Contains(err.Error(), "wrong result") {
			t.Errorf("%s: verify = %v, want a wrong result", name, err)
		}
	}
	// The raw reader is checked by its bytes, not its events.
	raw := runResult{Bytes: 42, Ms: 1}
	if err := verify("raw", "small", raw, e); err != nil {
		t.Errorf("raw, right bytes: %v", err)
	}
	raw.Bytes = 41
	if err := verify("raw", "small", raw, e); err == nil {
		t.Error("raw, one byte short: no error")
	}
	// Latency runs need one delay per event.
	lat := good
	lat.Delays = []float64{1, 2}
	if err := verify("ours", "latency", lat, e); err == nil {
		t.Error("latency with 2 delays for 3 events: no error")
	}
}

// The expectations agree with what the servers really send: a bench whose
// expectation drifted from its endpoint would fail every run, or worse,
// pass wrong ones.
func TestExpectationsMatchTheWire(t *testing.T) {
	ts := httptest.NewServer(testserver.New(testserver.Options{}).Handler())
	defer ts.Close()
	get := func(path string) string {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, c := range []struct{ n, size int }{{1, 0}, {10, 100}, {1000, 100}, {3, 70_000}} {
		e, prefix := expectBulk(c.n, c.size, 1, c.n)
		body := get("/api/stream?n=" + strconv.Itoa(c.n) + "&size=" + strconv.Itoa(c.size))
		if len(body) != e.wireBytes {
			t.Errorf("n=%d size=%d: %d bytes on the wire, expectation %d", c.n, c.size, len(body), e.wireBytes)
		}
		if prefix[c.n] != e.wireBytes {
			t.Errorf("n=%d size=%d: prefix of the last event %d, want %d", c.n, c.size, prefix[c.n], e.wireBytes)
		}
		if e.n != c.n || e.dataLen != c.n*c.size || e.lastID != strconv.Itoa(c.n) || !strings.Contains(body, "data: "+e.last+"\n") && c.size > 0 {
			t.Errorf("n=%d size=%d: expectation %+v does not match the body", c.n, c.size, e)
		}
	}

	api := newBenchAPI()
	bs := httptest.NewServer(api)
	defer bs.Close()
	for _, n := range []int{1, 15, 1000} {
		resp, err := http.Get(bs.URL + "/benchapi/llm?n=" + strconv.Itoa(n) + "&token=" + llmToken)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e := expectLLM(n)
		if len(body) != e.wireBytes {
			t.Errorf("llm n=%d: %d bytes on the wire, expectation %d", n, len(body), e.wireBytes)
		}
		if e.first != llmDelta(0) || e.last != llmDelta(n-1) {
			t.Errorf("llm n=%d: first %q last %q", n, e.first, e.last)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "naïve": 5, "漢字": 2, "😀": 2, " 😀 x": 5} {
		if got := utf16Len(s); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for v, want := range map[float64]string{12345.6: "12,346", 123.4: "123", 12.34: "12.3", 1.234: "1.23", math.NaN(): "–"} {
		if got := figure(v); got != want {
			t.Errorf("figure(%v) = %q, want %q", v, got, want)
		}
	}
	if got := rotate([]string{"a", "b", "c"}, 4); strings.Join(got, "") != "bca" {
		t.Errorf("rotate = %v", got)
	}
}

// Sections others add to BENCHMARKS.md survive a regenerated report; the
// generator's own sections are replaced, never duplicated.
func TestKeepForeignSections(t *testing.T) {
	old := "# Benchmarks\n\n## Machine\nold machine\n\n## Server fan-out\nfan-out numbers\n\n```\n## not a heading\n```\n\n## Targets\nold targets\n"
	md := "# Benchmarks\n\n## Machine\nnew machine\n\n## Targets\nnew targets\n"
	got := keepForeignSections(md, old)
	if !strings.Contains(got, "## Server fan-out\nfan-out numbers\n\n```\n## not a heading\n```") {
		t.Errorf("the foreign section was not kept whole:\n%s", got)
	}
	if strings.Contains(got, "old machine") || strings.Contains(got, "old targets") || strings.Count(got, "## Machine") != 1 {
		t.Errorf("generated sections kept from the old report:\n%s", got)
	}
	if keepForeignSections(md, md) != md {
		t.Error("nothing foreign: the report changed")
	}
}
