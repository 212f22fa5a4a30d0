//go:build !js

package e2e

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/chromedp"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// The Go side of e2e/pages/trace.mjs: the spec a page runs and the trace it
// returns (see the comment on runTrace there).

// spec is what runTrace runs. In URLs, expressions and Location headers,
// @S0@, @S1@, ... stand for the path of the scenario's connection lists,
// @SELF@ for the page's origin, @OTHER@ for the second origin and @DEAD@ for
// an origin where nothing listens.
type spec struct {
	Sources   []source `json:"sources"`
	StopAfter *stop    `json:"stopAfter,omitempty"`
	SettleMs  int      `json:"settleMs,omitempty"`
	TimeoutMs int      `json:"timeoutMs,omitempty"`
	InWorker  bool     `json:"inWorker,omitempty"`
}

type source struct {
	URL           string            `json:"url,omitempty"`
	URLExpr       string            `json:"urlExpr,omitempty"`
	InitExpr      string            `json:"initExpr,omitempty"`
	Ctor          string            `json:"ctor,omitempty"`
	Listen        []string          `json:"listen,omitempty"`
	Handlers      []string          `json:"handlers,omitempty"`
	HandlersFirst bool              `json:"handlersFirst,omitempty"`
	Actions       []action          `json:"actions,omitempty"`
	Checks        map[string]string `json:"checks,omitempty"`
	ChecksEnd     map[string]string `json:"checksEnd,omitempty"`
	StopAfter     *stop             `json:"stopAfter,omitempty"`
	Weak          bool              `json:"weak,omitempty"`
}

type stop struct {
	Events int `json:"events,omitempty"`
	Ms     int `json:"ms,omitempty"`
}

type action struct {
	On      string `json:"on,omitempty"`
	N       int    `json:"n,omitempty"`
	AfterMs int    `json:"afterMs,omitempty"`
	DelayMs int    `json:"delayMs,omitempty"`
	Do      string `json:"do"`
}

// trace is what runTrace resolves to.
type trace struct {
	Entries  []entry       `json:"entries"`
	Sources  []sourceTrace `json:"sources"`
	Reason   string        `json:"reason"` // what ended it: "closed", "events", "ms" or "timeout"
	Elapsed  int           `json:"elapsed"`
	InWorker bool          `json:"inWorker"`
}

// timedOut reports whether the trace gave up after its timeoutMs.
func (tr *trace) timedOut() bool { return tr.Reason == "timeout" }

type sourceTrace struct {
	Ctor      ctorOutcome                `json:"ctor"`
	Checks    map[string]json.RawMessage `json:"checks"`
	ChecksEnd map[string]json.RawMessage `json:"checksEnd"`
	Final     json.RawMessage            `json:"final"`
}

type ctorOutcome struct {
	Threw          bool   `json:"threw"`
	Name           string `json:"name,omitempty"`
	CtorName       string `json:"ctorName,omitempty"`
	Code           *int   `json:"code,omitempty"`
	IsDOMException bool   `json:"isDOMException,omitempty"`
	Message        string `json:"message,omitempty"` // not compared
}

// entry is one recorded event (via "listener" or "on") or action ("action").
type entry struct {
	Src         int     `json:"src"`
	Via         string  `json:"via"`
	Type        string  `json:"type"`
	Kind        string  `json:"kind"`
	ReadyState  int     `json:"readyState"`
	T           int     `json:"t"`
	HasData     bool    `json:"hasData"`
	Bubbles     bool    `json:"bubbles"`
	Cancelable  bool    `json:"cancelable"`
	IsTrusted   bool    `json:"isTrusted"`
	TargetOk    bool    `json:"targetOk"`
	ThisOk      *bool   `json:"thisOk,omitempty"`
	Data        *string `json:"data,omitempty"`
	LastEventID *string `json:"lastEventId,omitempty"`
	Origin      *string `json:"origin,omitempty"`
	SourceNull  *bool   `json:"sourceNull,omitempty"`
	Ports       *int    `json:"ports,omitempty"`
	PortsFrozen *bool   `json:"portsFrozen,omitempty"`
	Threw       string  `json:"threw,omitempty"`
	Status      *int    `json:"status,omitempty"`  // ours only, not compared
	Message     *string `json:"message,omitempty"` // ours only, not compared
}

// line renders everything of e that the comparison looks at, so two
// entries compare equal iff their lines are equal. Fields at their usual
// value are left out to keep lines short.
func (e entry) line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.brief())
	if e.Via != "listener" {
		fmt.Fprintf(&b, " via=%s", e.Via)
	}
	if e.Via == "action" {
		if e.Threw != "" {
			fmt.Fprintf(&b, " threw=%s", e.Threw)
		}
		return b.String()
	}
	msgEvent := e.Kind == "MessageEvent"
	if !msgEvent && e.Kind != "Event" {
		fmt.Fprintf(&b, " kind=%s", e.Kind)
	}
	if msgEvent && e.Origin != nil {
		fmt.Fprintf(&b, " origin=%s", *e.Origin)
	}
	if !msgEvent && e.HasData {
		b.WriteString(" has-data")
	}
	if e.Bubbles {
		b.WriteString(" bubbles")
	}
	if e.Cancelable {
		b.WriteString(" cancelable")
	}
	if !e.TargetOk {
		b.WriteString(" target!=es")
	}
	if e.ThisOk != nil && !*e.ThisOk {
		b.WriteString(" this!=es")
	}
	if e.SourceNull != nil && !*e.SourceNull {
		b.WriteString(" source!=null")
	}
	if e.Ports != nil && *e.Ports != 0 {
		fmt.Fprintf(&b, " ports=%d", *e.Ports)
	}
	if e.PortsFrozen != nil && !*e.PortsFrozen {
		b.WriteString(" ports-not-frozen")
	}
	return b.String()
}

// brief is the short form scenarios write their expectations in:
// `open RS1`, `error RS0`, `message("a", id="") RS1`, `#close RS2`.
func (e entry) brief() string {
	if e.Kind == "MessageEvent" && e.Data != nil {
		id := ""
		if e.LastEventID != nil {
			id = *e.LastEventID
		}
		return fmt.Sprintf("%s(%q, id=%q) RS%d", e.Type, *e.Data, id, e.ReadyState)
	}
	return fmt.Sprintf("%s RS%d", e.Type, e.ReadyState)
}

// run is one class's run of a scenario.
type run struct {
	impl    string
	trace   trace
	obs     [][]testserver.Observation // per connection list
	err     error                      // the run itself failed (tab, timeout)
	fatal   []string                   // uncaught exceptions, Go deaths
	thrown  int                        // uncaught exceptions of the "throw" action (see thrownMarker)
	console string                     // what the page logged during the run
}

// placeholders maps the spec's @...@ names to this run's values.
func placeholders(ids []string) *strings.Replacer {
	pairs := []string{"@SELF@", env.srv.URL(), "@OTHER@", env.srv.OtherURL(), "@DEAD@", env.deadURL}
	for i, id := range ids {
		pairs = append(pairs, fmt.Sprintf("@S%d@", i), "/s/"+url.PathEscape(id))
	}
	return strings.NewReplacer(pairs...)
}

// normalizer maps this run's concrete ids and origins back to placeholders,
// so that the runs of the two classes compare.
func normalizer(ids []string) *strings.Replacer {
	var pairs []string
	// longer ids first, so that "x~1" is not replaced inside "x~10"
	for i := len(ids) - 1; i >= 0; i-- {
		pairs = append(pairs, url.PathEscape(ids[i]), fmt.Sprintf("@ID%d@", i))
	}
	origins := [][2]string{{env.srv.URL(), "@SELF@"}, {env.srv.OtherURL(), "@OTHER@"}, {env.deadURL, "@DEAD@"}}
	// The replacer tries its pairs in order: longer origins first, so
	// that one that is a prefix of another does not win.
	sort.Slice(origins, func(i, j int) bool { return len(origins[i][0]) > len(origins[j][0]) })
	for _, o := range origins {
		pairs = append(pairs, o[0], o[1])
	}
	return strings.NewReplacer(pairs...)
}

// withConns returns conns with placeholders replaced in header values and
// allowed origins.
func withConns(conns []testserver.Conn, r *strings.Replacer) []testserver.Conn {
	out := make([]testserver.Conn, len(conns))
	for i, c := range conns {
		if c.CORS != nil {
			cc := *c.CORS
			cc.AllowOrigin = r.Replace(cc.AllowOrigin)
			c.CORS = &cc
		}
		if c.Headers != nil {
			h := make(map[string]string, len(c.Headers))
			for k, v := range c.Headers {
				h[k] = r.Replace(v)
			}
			c.Headers = h
		}
		out[i] = c
	}
	return out
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runSpec runs sp with impl in a tab of the pool: it registers the connection
// lists under ids unique to this run, runs the trace, and collects what the
// server saw. With gc, it forces garbage collections during the run.
func runSpec(name, impl string, sp spec, lists [][]testserver.Conn, gc bool) *run {
	return runSpecIn(nil, name, impl, sp, lists, gc)
}

// runSpecIn is runSpec in the tab tt, or in a tab of the pool when tt is nil.
func runSpecIn(tt *tab, name, impl string, sp spec, lists [][]testserver.Conn, gc bool) *run {
	r := &run{impl: impl}
	// The readable part of an id can be the same for two names
	// ("text/event-stream ;charset=utf-8" and "text/event-stream;charset=utf-8"
	// both give "text.event-stream.charset.utf-8"), and two scenarios
	// running at once on one id mix their requests: a hash of the name
	// keeps them apart.
	h := fnv.New32a()
	h.Write([]byte(name))
	base := fmt.Sprintf("%s~%08x", idUnsafe.ReplaceAllString(name, "."), h.Sum32())
	ids := make([]string, len(lists)) // server scenario ids, one per connection list
	for i := range lists {
		ids[i] = fmt.Sprintf("%s~%s~%d", base, impl, i)
	}
	repl := placeholders(ids)
	for i, conns := range lists {
		env.srv.Handle(ids[i], testserver.Scenario{Conns: withConns(conns, repl)})
	}
	// Every time-out has the slack of timeScale (see load_test.go).
	sp.TimeoutMs = scaledTimeoutMs(sp.TimeoutMs)
	raw, err := json.Marshal(sp)
	if err != nil {
		r.err = err
		return r
	}
	specJSON := repl.Replace(string(raw))

	pool := pools[impl]
	release := func(tt *tab, healthy bool) {} // a test's own tab is closed by the test
	if tt == nil {
		var err error
		tt, err = pool.get()
		if err != nil {
			r.console = tt.consoleText()
			pool.put(tt, false)
			r.err = err
			return r
		}
		release = pool.put
	}
	// The page gives up after timeoutMs: leave it 15 s more (scaled) to
	// answer.
	timeout := time.Duration(sp.TimeoutMs)*time.Millisecond + scaled(15*time.Second)
	stopGC := make(chan struct{})
	gcDone := make(chan struct{})
	go func() {
		defer close(gcDone)
		if !gc {
			return
		}
		for {
			select {
			case <-stopGC:
				return
			case <-time.After(50 * time.Millisecond):
				_, _ = chromedp.Call(tt.ctx, heapprofiler.CollectGarbage, cdp.Empty{})
			}
		}
	}()
	out, err := evalIn[json.RawMessage](tt, "runTrace("+specJSON+")", timeout)
	close(stopGC)
	<-gcDone
	// Decoded with concrete ids and origins normalised back to placeholders.
	norm := normalizer(ids)
	if err == nil {
		if err = json.Unmarshal([]byte(norm.Replace(string(out))), &r.trace); err != nil {
			err = fmt.Errorf("%s tab: decoding the trace %.200s: %w", impl, out, err)
		}
	}
	r.fatal = tt.fatals()
	r.thrown = tt.console.Expected()
	r.console = tt.consoleText()
	release(tt, err == nil && !r.trace.timedOut())
	if err != nil {
		r.err = err
		return r
	}
	for _, id := range ids {
		obs := env.srv.Observations(id)
		for i := range obs {
			o := &obs[i]
			o.Path = norm.Replace(o.Path)
			o.Origin = norm.Replace(o.Origin)
		}
		r.obs = append(r.obs, obs)
	}
	return r
}

// lines renders the entries of source src as comparison lines.
func (r *run) lines(src int) []string {
	var out []string
	for _, e := range r.trace.Entries {
		if e.Src == src {
			out = append(out, e.line())
		}
	}
	return out
}

// briefs renders the listener and action entries of source src briefly.
func (r *run) briefs(src int) []string {
	var out []string
	for _, e := range r.trace.Entries {
		if e.Src == src && e.Via != "on" {
			out = append(out, e.brief())
		}
	}
	return out
}

// probes counts the HEAD probes the server saw from this run.
func (r *run) probes() int {
	n := 0
	for _, list := range r.obs {
		for _, o := range list {
			if o.IsProbe() {
				n++
			}
		}
	}
	return n
}

// obsLines renders what the server saw on connection list k.
func (r *run) obsLines(k int) []string {
	var out []string
	if k >= len(r.obs) {
		return nil
	}
	for _, o := range r.obs[k] {
		out = append(out, obsLine(o))
	}
	return out
}

func obsLine(o testserver.Observation) string {
	if o.IsProbe() {
		return fmt.Sprintf("HEAD probe %s origin=%s", o.Path, o.Origin)
	}
	if o.IsPreflight() {
		return fmt.Sprintf("preflight %s acrh=%q origin=%s", o.Path, o.AccessControlRequestHeaders, o.Origin)
	}
	lei := "absent"
	if o.HasLastEventID {
		lei = fmt.Sprintf("%q", o.LastEventID)
	}
	s := fmt.Sprintf("#%d %s %s accept=%q cache-control=%q pragma=%q last-event-id=%s origin=%q cookie=%q",
		o.Index, o.Method, o.Path, o.Accept, o.CacheControl, o.Pragma, lei, o.Origin, o.Cookie)
	if o.Authorization != "" {
		s += fmt.Sprintf(" authorization=%q", o.Authorization)
	}
	if o.ContentType != "" {
		s += fmt.Sprintf(" content-type=%q", o.ContentType)
	}
	if o.Body != "" {
		s += fmt.Sprintf(" body=%q", o.Body)
	}
	return s
}

// requestGaps returns the time between consecutive requests (preflights
// and HEAD probes left out) of connection list k.
func (r *run) requestGaps(k int) []time.Duration {
	var gaps []time.Duration
	var last time.Time
	if k >= len(r.obs) {
		return nil
	}
	for _, o := range r.obs[k] {
		if o.IsPreflight() || o.IsProbe() {
			continue
		}
		if !last.IsZero() {
			gaps = append(gaps, o.At.Sub(last))
		}
		last = o.At
	}
	return gaps
}

// reconnectGaps returns, for source src, the time from each error event
// seen with readyState CONNECTING to the next event of that source.
func (r *run) reconnectGaps(src int) []time.Duration {
	var gaps []time.Duration
	var es []entry
	for _, e := range r.trace.Entries {
		if e.Src == src && e.Via == "listener" {
			es = append(es, e)
		}
	}
	for i := 0; i+1 < len(es); i++ {
		if es[i].Type == "error" && es[i].Kind == "Event" && es[i].ReadyState == 0 {
			gaps = append(gaps, time.Duration(es[i+1].T-es[i].T)*time.Millisecond)
		}
	}
	return gaps
}
