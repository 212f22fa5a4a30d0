//go:build !js

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// scenario is one differential test: the same spec runs with the native
// class and with ours, each against its own copy of the connection lists.
type scenario struct {
	name  string
	rules []int // spec-checklist rule numbers it checks

	conns []testserver.Conn   // the connection list @S0@ names
	more  [][]testserver.Conn // @S1@, @S2@, ...
	spec  spec

	// want is what native source 0 does, as briefs of its listener and
	// action entries (see entry.brief): the checklist's expectation, or
	// native's own behaviour where it departs from the checklist (then
	// deviates says how). A native run that does not match is a stale
	// expectation, and fails the scenario: fix the expectation.
	want []string
	// checklist, when set, compares what native did beyond its events with
	// the expectation, and returns a note where they disagree (a failure,
	// as for want).
	checklist func(native *run) string
	// deviates, when set, says where native Chromium departs from the spec
	// checklist in this scenario (want then holds what native does); the
	// report lists it.
	deviates string

	noObs  bool // the requests are racy (close() right after new): not compared
	thrown int  // listeners throw on purpose this many times (action "throw")
	gc     bool // force garbage collections during the run

	// diff marks a documented difference: where a fetch-based class cannot
	// do what native does. The scenario then passes when check finds that
	// ours does what is documented instead.
	diff *docDiff
}

type docDiff struct {
	reason string
	check  func(native, ours *run) []string
}

// outcome of a scenario, for the report.
type outcome string

const (
	resEqual      outcome = "equal"
	resDocumented outcome = "documented difference"
	resDifferent  outcome = "DIFFERENT"
	resDocFailed  outcome = "DIFFERENT (documented behaviour not met)"
	resError      outcome = "ERROR"
	// resKnown is a difference of ours in a scenario of knownFailing.
	resKnown outcome = "KNOWN FAILING"
)

type result struct {
	sc      *scenario
	outcome outcome
	diffs   []string // what differs (or what failed)
	notes   []string // native vs checklist
	flaky   []string // attempts that differed only in timing
	dur     time.Duration
	load    float64 // the highest 1-minute load average seen while it ran
}

var results = struct {
	sync.Mutex
	m map[string]*result
}{m: map[string]*result{}}

func TestConformance(t *testing.T) {
	t.Parallel()
	scs := allScenarios()
	seen := map[string]bool{}
	covered := map[int]bool{}
	for _, sc := range scs {
		if seen[sc.name] {
			t.Fatalf("two scenarios are named %q", sc.name)
		}
		seen[sc.name] = true
		if len(sc.rules) == 0 {
			t.Fatalf("scenario %q checks no rule", sc.name)
		}
		for _, r := range sc.rules {
			if r < 1 || r > len(ruleTitles) {
				t.Fatalf("scenario %q: no rule %d", sc.name, r)
			}
			covered[r] = true
		}
	}
	for r := 1; r <= len(ruleTitles); r++ {
		if !covered[r] {
			t.Errorf("no scenario checks rule %d (%s)", r, ruleTitles[r-1])
		}
	}
	start := time.Now()
	t.Cleanup(func() {
		if path := os.Getenv("CONFORMANCE_REPORT"); path != "" {
			if err := writeReport(path, scs, time.Since(start)); err != nil {
				t.Errorf("writing the report: %v", err)
			} else {
				t.Logf("wrote %s", path)
			}
		}
	})
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			takeSlot(t)
			runScenario(t, sc)
		})
	}
}

// runScenario runs sc with both classes at once and compares.
func runScenario(t *testing.T, sc *scenario) {
	start := time.Now()
	lists := append([][]testserver.Conn{sc.conns}, sc.more...)
	res := &result{sc: sc}
	readLoad := watchLoad(&res.load)
	defer func() {
		readLoad()
		res.dur = time.Since(start)
		results.Lock()
		results.m[sc.name] = res
		results.Unlock()
	}()

	// Timings are the one thing the load of the machine can spoil: when
	// the runs differ in nothing but delays, run the scenario again (a real
	// delay bug differs every time).
	var native, ours *run
	var diffs []string
	for attempt := 1; ; attempt++ {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); native = runSpec(sc.name, "native", sc.spec, lists, sc.gc) }()
		go func() { defer wg.Done(); ours = runSpec(sc.name, "ours", sc.spec, lists, sc.gc) }()
		wg.Wait()
		var timing []string
		diffs, timing = compareRuns(sc, native, ours)
		attempts := timingAttempts
		if readLoad(); overloaded(res.load) {
			attempts = overloadedTimingAttempts
		}
		if len(diffs) == 0 && len(timing) > 0 && attempt < attempts && native.err == nil && ours.err == nil {
			note := fmt.Sprintf("attempt %d differed only in timing (run again): %s", attempt, strings.Join(timing, "; "))
			t.Log(note)
			res.flaky = append(res.flaky, note)
			// A burst of load passes: let it, rather than meet it again.
			time.Sleep(time.Duration(attempt) * time.Second)
			continue
		}
		diffs = append(diffs, timing...)
		break
	}

	// The run itself: tabs, exceptions, Go deaths, time-outs.
	var broken []string
	for _, r := range []*run{native, ours} {
		// The listener's own exceptions are reported as uncaught, as they
		// must be: the tab counts them apart from the fatal ones.
		if r.thrown != sc.thrown {
			broken = append(broken, fmt.Sprintf("%s: %d uncaught listener exceptions reported, want %d", r.impl, r.thrown, sc.thrown))
		}
		if r.err != nil {
			broken = append(broken, fmt.Sprintf("%s: %v", r.impl, r.err))
		}
		for _, f := range r.fatal {
			broken = append(broken, fmt.Sprintf("%s: %s", r.impl, f))
		}
		if r.err == nil && r.trace.timedOut() {
			broken = append(broken, fmt.Sprintf("%s: the trace timed out after %d ms (an expected event never came)", r.impl, r.trace.Elapsed))
		}
	}
	if native.err == nil && sc.want != nil {
		if got := native.briefs(0); !slices.Equal(got, sc.want) {
			res.notes = append(res.notes, fmt.Sprintf("native differs from the checklist's expectation:\n\twant %s\n\tgot  %s",
				strings.Join(sc.want, " | "), strings.Join(got, " | ")))
		}
	}
	if native.err == nil && sc.checklist != nil {
		if note := sc.checklist(native); note != "" {
			res.notes = append(res.notes, note)
		}
	}

	// A failed fetch makes ours send a HEAD probe (see probeDiff): where
	// that is the only difference, it is the documented one.
	diff := sc.diff
	if diff == nil && ours.err == nil && ours.probes() > 0 {
		diff = probeDiff
	}
	switch {
	case len(broken) > 0 && (native.err != nil || ours.err != nil || len(native.fatal) > 0 || len(ours.fatal) > 0 || native.trace.timedOut()):
		// Exceptions and dead tabs are failures whatever else happened; a
		// native time-out is a broken scenario.
		res.outcome = resError
		res.diffs = append(broken, diffs...)
	case len(broken) > 0:
		// Only ours timed out: ours did not do what native did.
		res.outcome = resDifferent
		res.diffs = append(broken, diffs...)
	case diff != nil:
		if fails := diff.check(native, ours); len(fails) > 0 {
			res.outcome = resDocFailed
			res.diffs = append(fails, diffs...)
		} else {
			res.outcome = resDocumented
			res.diffs = diffs
		}
	case len(diffs) > 0:
		res.outcome = resDifferent
		res.diffs = diffs
	default:
		res.outcome = resEqual
	}
	if diff != nil && res.outcome == resDocumented {
		t.Logf("documented difference: %s", diff.reason)
	}
	if os.Getenv("E2E_TRACES") != "" {
		t.Logf("%s\n%s", res.outcome, describeRuns(native, ours))
	}
	overload := ""
	if readLoad(); overloaded(res.load) {
		overload = "\n" + overloadNote(res.load)
	}
	pass := res.outcome == resEqual || res.outcome == resDocumented
	why, known := knownFailing[sc.name]
	switch {
	case known && (res.outcome == resDifferent || res.outcome == resDocFailed):
		res.outcome = resKnown
		t.Logf("KNOWN FAILING (listed in e2e/known_test.go: %s):\n%s%s", why, strings.Join(res.diffs, "\n"), overload)
	case known && pass:
		t.Errorf("%s passes now: remove it from knownFailing in e2e/known_test.go (it was listed for: %s)", sc.name, why)
	case !pass:
		t.Errorf("%s:\n%s%s\n%s", res.outcome, strings.Join(res.diffs, "\n"), overload, describeRuns(native, ours))
	}
	// An expectation that native does not meet is stale: the scenario
	// checks something other than what its author meant.
	for _, n := range res.notes {
		t.Errorf("stale expectation (native is the reference: fix the scenario's want or checklist): %s%s", n, overload)
	}
}

// thrownMarker is in the message of the exception of the "throw" action.
const thrownMarker = "e2e: a listener throws on purpose"

// timingAttempts is how often a scenario runs when its runs differ only
// in timing; overloadedTimingAttempts when the machine is overloaded (see
// load_test.go), where timers fire late by seconds.
const (
	timingAttempts           = 3
	overloadedTimingAttempts = 6
)

// compareRuns lists every difference between the two runs that the suite
// cares about: timing separately, since only timing is run again.
func compareRuns(sc *scenario, native, ours *run) (diffs, timing []string) {
	if native.err != nil || ours.err != nil {
		return nil, nil
	}
	nt, ot := native.trace, ours.trace
	if nt.InWorker != ot.InWorker {
		diffs = append(diffs, fmt.Sprintf("in a worker: native %v, ours %v", nt.InWorker, ot.InWorker))
	}
	for i := range sc.spec.Sources {
		var ns, us sourceTrace
		if i < len(nt.Sources) {
			ns = nt.Sources[i]
		}
		if i < len(ot.Sources) {
			us = ot.Sources[i]
		}
		if a, b := ctorLine(ns.Ctor), ctorLine(us.Ctor); a != b {
			diffs = append(diffs, fmt.Sprintf("source %d constructor: native %s, ours %s", i, a, b))
		}
		diffs = append(diffs, compareChecks(fmt.Sprintf("source %d check", i), ns.Checks, us.Checks)...)
		diffs = append(diffs, compareChecks(fmt.Sprintf("source %d end check", i), ns.ChecksEnd, us.ChecksEnd)...)
		if a, b := canon(ns.Final), canon(us.Final); a != b {
			diffs = append(diffs, fmt.Sprintf("source %d at the end: native %s, ours %s", i, a, b))
		}
		if a, b := native.lines(i), ours.lines(i); !slices.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("source %d events differ:\n%s", i, sideBySide(a, b)))
		} else {
			timing = append(timing, compareGaps(fmt.Sprintf("source %d reconnection delay", i), native.reconnectGaps(i), ours.reconnectGaps(i))...)
		}
	}
	if !sc.noObs {
		for k := range max(len(native.obs), len(ours.obs)) {
			if a, b := native.obsLines(k), ours.obsLines(k); !slices.Equal(a, b) {
				diffs = append(diffs, fmt.Sprintf("requests on @S%d@ differ:\n%s", k, sideBySide(a, b)))
			} else {
				timing = append(timing, compareGaps(fmt.Sprintf("time between requests on @S%d@", k), native.requestGaps(k), ours.requestGaps(k))...)
			}
		}
	}
	return diffs, timing
}

func ctorLine(c ctorOutcome) string {
	if !c.Threw {
		return "returned"
	}
	code := "none"
	if c.Code != nil {
		code = fmt.Sprint(*c.Code)
	}
	return fmt.Sprintf("threw %s (constructor %s, code %s, DOMException %v)", c.Name, c.CtorName, code, c.IsDOMException)
}

func compareChecks(what string, a, b map[string]json.RawMessage) []string {
	var diffs []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if x, y := canon(a[k]), canon(b[k]); x != y {
			diffs = append(diffs, fmt.Sprintf("%s %s: native %s, ours %s", what, k, x, y))
		}
	}
	return diffs
}

// canon re-encodes JSON with sorted keys, so equal values compare equal.
func canon(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "(none)"
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

// compareGaps compares reconnection delays with a tolerance: timers and
// the network jitter, and the spec lets a client wait longer than asked.
func compareGaps(what string, a, b []time.Duration) []string {
	if len(a) != len(b) {
		return nil // the traces already differ in shape
	}
	var diffs []string
	for i := range a {
		if !closeEnough(a[i], b[i]) {
			diffs = append(diffs, fmt.Sprintf("%s #%d: native %v, ours %v", what, i+1, a[i].Round(time.Millisecond), b[i].Round(time.Millisecond)))
		}
	}
	return diffs
}

func closeEnough(a, b time.Duration) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 250*time.Millisecond+max(a, b)/4
}

// sideBySide prints two lists of lines, marking where they differ.
func sideBySide(a, b []string) string {
	var sb strings.Builder
	n := max(len(a), len(b))
	for i := 0; i < n; i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		} else {
			x = "(nothing)"
		}
		if i < len(b) {
			y = b[i]
		} else {
			y = "(nothing)"
		}
		if x == y {
			fmt.Fprintf(&sb, "\t  both:   %s\n", clip(x))
		} else {
			fmt.Fprintf(&sb, "\t! native: %s\n\t! ours:   %s\n", clip(x), clip(y))
		}
	}
	return strings.TrimRight(sb.String(), "\n")
}

func clip(s string) string {
	if len(s) > 400 {
		return s[:400] + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return s
}

// describeRuns prints both runs in full, for a failure message.
func describeRuns(native, ours *run) string {
	return native.describe() + ours.describe()
}

// describe prints the run in full: the constructors and checks of its
// sources, every entry, what the server saw and the page's console.
func (r *run) describe() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s", r.impl)
	if r.err != nil {
		fmt.Fprintf(&sb, " (failed: %v)\n", r.err)
		fmt.Fprintf(&sb, "--- %s console:\n%s\n", r.impl, r.console)
		return sb.String()
	}
	fmt.Fprintf(&sb, " (ended by %s after %d ms)\n", r.trace.Reason, r.trace.Elapsed)
	for i, st := range r.trace.Sources {
		fmt.Fprintf(&sb, "\tsource %d: constructor %s", i, ctorLine(st.Ctor))
		if st.Ctor.Message != "" {
			fmt.Fprintf(&sb, ": %s", st.Ctor.Message)
		}
		sb.WriteString("\n")
		for _, checks := range []map[string]json.RawMessage{st.Checks, st.ChecksEnd} {
			var keys []string
			for k := range checks {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&sb, "\t  %s = %s\n", k, clip(canon(checks[k])))
			}
		}
	}
	for _, e := range r.trace.Entries {
		extra := ""
		if e.Status != nil || e.Message != nil {
			st, msg := 0, ""
			if e.Status != nil {
				st = *e.Status
			}
			if e.Message != nil {
				msg = *e.Message
			}
			extra = fmt.Sprintf("  [status=%d message=%q]", st, msg)
		}
		fmt.Fprintf(&sb, "\t%5d ms  src%d  %s%s\n", e.T, e.Src, clip(e.line()), extra)
	}
	for k, list := range r.obs {
		for _, o := range list {
			fmt.Fprintf(&sb, "\t@S%d@ %s  %s\n", k, o.At.Format("15:04:05.000"), obsLine(o))
		}
	}
	fmt.Fprintf(&sb, "--- %s console:\n%s\n", r.impl, r.console)
	return sb.String()
}
