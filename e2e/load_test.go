//go:build !js

package e2e

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A loaded machine (a shared CI runner, other builds) slows Chromium, the
// server and the timers alike. The suite gives every wait the slack of
// timeScale, and watches the load average, so that a scenario that fails
// on an overloaded machine says so instead of failing silently like a bug.

// timeScale multiplies every time-out of the suite: the page's give-up time
// of each trace, the Go side's waits on the page, the start of a tab. A
// time-out only bounds a wait for something that should happen (a trace
// ends on its events, never on its time-out, when it passes), so the slack
// costs nothing on a passing run. E2E_TIMEOUT_SCALE sets it (default 3).
var timeScale = func() float64 {
	if v := os.Getenv("E2E_TIMEOUT_SCALE"); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 1 {
			return f
		}
		fmt.Fprintf(os.Stderr, "e2e: E2E_TIMEOUT_SCALE=%q is not a number >= 1: using 3\n", v)
	}
	return 3
}()

// scaled returns d times timeScale.
func scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * timeScale) }

// defaultTraceTimeoutMs is the page's give-up time of a spec without one
// (trace.mjs).
const defaultTraceTimeoutMs = 8000

// scaledTimeoutMs returns the page time-out a spec runs with.
func scaledTimeoutMs(ms int) int {
	if ms <= 0 {
		ms = defaultTraceTimeoutMs
	}
	return int(float64(ms) * timeScale)
}

// overloadPerCPU is the 1-minute load average per CPU above which the
// machine counts as overloaded: runnable tasks queue for several time
// slices each, and timers, tabs and the network fire late.
const overloadPerCPU = 4

func overloaded(load float64) bool { return load > overloadPerCPU*float64(runtime.NumCPU()) }

func overloadNote(load float64) string {
	return fmt.Sprintf("OVERLOADED MACHINE: the load average reached %.1f on %d CPUs while this ran (more than %d per CPU); "+
		"a time-out or a timing difference here may come from the load, not the code. Run it again on a quieter machine "+
		"or with a larger E2E_TIMEOUT_SCALE (now %g).", load, runtime.NumCPU(), overloadPerCPU, timeScale)
}

// loadAvg reads the 1-minute load average (Linux); ok is false elsewhere.
func loadAvg() (load float64, ok bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, false
	}
	load, err = strconv.ParseFloat(f[0], 64)
	return load, err == nil
}

// loadLog samples the load average once a second while the suite runs.
var loadLog struct {
	sync.Mutex
	at   []time.Time
	load []float64
	once sync.Once
}

func sampleLoad() {
	if l, ok := loadAvg(); ok {
		loadLog.Lock()
		loadLog.at = append(loadLog.at, time.Now())
		loadLog.load = append(loadLog.load, l)
		loadLog.Unlock()
	}
}

func startLoadSampler() {
	loadLog.once.Do(func() {
		sampleLoad()
		go func() {
			for range time.Tick(time.Second) {
				sampleLoad()
			}
		}()
	})
}

// watchLoad starts watching the load average; each call of the function
// it returns stores in *peak the highest load seen since the start (the
// sample before it included).
func watchLoad(peak *float64) (read func()) {
	startLoadSampler()
	start := time.Now().Add(-time.Second)
	return func() {
		sampleLoad()
		*peak = peakLoad(start)
	}
}

// peakLoad is the highest load sampled since t.
func peakLoad(since time.Time) float64 {
	loadLog.Lock()
	defer loadLog.Unlock()
	i := sort.Search(len(loadLog.at), func(i int) bool { return !loadLog.at[i].Before(since) })
	peak := 0.0
	for _, l := range loadLog.load[i:] {
		peak = max(peak, l)
	}
	return peak
}

// summary is what the suite prints at its end, whatever the verbosity:
// the load it ran under and the scenarios known to fail.
func summary() string {
	var b strings.Builder
	peak := peakLoad(time.Time{})
	fmt.Fprintf(&b, "e2e: load average peaked at %.1f on %d CPUs; time-outs scaled x%g (E2E_TIMEOUT_SCALE)\n", peak, runtime.NumCPU(), timeScale)
	if overloaded(peak) {
		fmt.Fprintf(&b, "e2e: WARNING: %s\n", strings.Replace(overloadNote(peak), "while this ran", "during the run", 1))
	}
	results.Lock()
	defer results.Unlock()
	var known []string
	for name, why := range knownFailing {
		r := results.m[name]
		switch {
		case r == nil:
			known = append(known, fmt.Sprintf("e2e:   %s (not run): %s", name, why))
		case r.outcome == resKnown:
			known = append(known, fmt.Sprintf("e2e:   %s: still fails: %s", name, why))
		default:
			known = append(known, fmt.Sprintf("e2e:   %s: %s (remove it from the list): %s", name, r.outcome, why))
		}
	}
	sort.Strings(known)
	if len(known) > 0 {
		fmt.Fprintf(&b, "e2e: KNOWN FAILING: %d scenarios listed in e2e/known_test.go, tolerated until their fix lands:\n%s\n",
			len(known), strings.Join(known, "\n"))
	}
	return b.String()
}
