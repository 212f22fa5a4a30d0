package core

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
)

// Table tests of the policies beyond native (backoff, retryOn and
// Retry-After, maxRetries, resume, idleTimeout, pauseWhenHidden,
// reconnectOnOnline): each drives a Source through its inputs, with time
// passed in as `now`, and checks the actions it asks of the host, decoded
// from Out as the host decodes them (core/out.go). Names here start with
// pol so that they never collide with the other tests of the package.

// String renders a compactly, for the tables below:
//
//	fetch <url> a=<attempt> st=<prevStatus> lid=<id> [resume] [strip]
//	error rs=<n> <kind> st=<status> a=<attempt> in=<retryIn>
//	timer <ms> | timer clear | state <n> | open | close | abort | free | probe | events <n>
func (a polAct) String() string {
	w := a.args
	switch a.op {
	case OpFetch:
		s := "fetch " + a.strs[0] + " a=" + itoa(w[0]) + " st=" + itoa(w[1]) + " lid=" + a.strs[1]
		if w[2]&FetchResume != 0 {
			s += " resume"
		}
		if w[2]&FetchStripAuth != 0 {
			s += " strip"
		}
		return s
	case OpError:
		return "error rs=" + itoa(w[0]) + " " + KindNames[w[1]] + " st=" + itoa(w[2]) + " a=" + itoa(w[3]) + " in=" + itoa(w[4])
	case OpTimer:
		if w[0] < 0 {
			return "timer clear"
		}
		return "timer " + itoa(w[0])
	case OpState:
		return "state " + itoa(w[0])
	case OpOpen:
		return "open"
	case OpClose:
		return "close"
	case OpAbort:
		return "abort"
	case OpFree:
		return "free"
	case OpProbe:
		return "probe"
	case OpEvents:
		return "events " + itoa(w[0])
	}
	return "op " + itoa(int32(a.op))
}

// polConfig builds the init record the host writes (name length, name,
// value length, value) from name/value pairs, and parses it as the engine
// does, so that defaults are the real ones.
func polConfig(t *testing.T, pairs ...string) Config {
	t.Helper()
	if len(pairs)%2 != 0 {
		t.Fatal("polConfig: odd number of arguments")
	}
	var rec []byte
	add := func(name, value string) {
		rec = append(rec, byte(len(name)))
		rec = append(rec, name...)
		rec = binary.LittleEndian.AppendUint32(rec, uint32(len(value)))
		rec = append(rec, value...)
	}
	add("url", polURL)
	for i := 0; i < len(pairs); i += 2 {
		add(pairs[i], pairs[i+1])
	}
	c, err := ParseConfig(rec)
	if err != nil {
		t.Fatalf("ParseConfig(%q): %v", pairs, err)
	}
	return c
}

const (
	polURL    = "http://a.test/s"
	polResume = "http://a.test/resume"
)

// polSrc is a Source under test with a clock.
type polSrc struct {
	t   *testing.T
	s   *Source
	now float64
}

func newPol(t *testing.T, pairs ...string) *polSrc {
	t.Helper()
	return &polSrc{t: t, s: New(polConfig(t, pairs...))}
}

// do runs one input at time now (ms) and returns its actions.
func (p *polSrc) do(now float64, input func(s *Source, now float64)) []polAct {
	p.t.Helper()
	p.now = now
	p.s.Out.Reset()
	input(p.s, now)
	return polDecode(p.t, p.s.Out)
}

// want runs one input and checks its actions, rendered and joined by " | ".
func (p *polSrc) want(now float64, input func(s *Source, now float64), want string) []polAct {
	p.t.Helper()
	acts := p.do(now, input)
	if got := polJoin(acts); got != want {
		p.t.Errorf("at %v ms:\n\tgot  %s\n\twant %s", now, got, want)
	}
	return acts
}

func polJoin(acts []polAct) string {
	s := make([]string, len(acts))
	for i, a := range acts {
		s[i] = a.String()
	}
	return strings.Join(s, " | ")
}

// The inputs, as functions of (s, now).
var (
	polStart   = func(s *Source, now float64) { s.Start(now) }
	polTimer   = func(s *Source, now float64) { s.Timer(now) }
	polEnd     = func(s *Source, now float64) { s.End(now) }
	polOnline  = func(s *Source, now float64) { s.Online(now) }
	polClose   = func(s *Source, now float64) { s.Close() }
	polOK      = polStatus(200, -1)
	polNetFail = func(s *Source, now float64) {
		s.FetchFailed("Failed to fetch", now)
		s.Probed(VerdictNetwork, now)
	}
)

func polStatus(status int, retryAfter float64) func(s *Source, now float64) {
	return func(s *Source, now float64) { s.Response(status, "text/event-stream", "", retryAfter, now) }
}

func polChunk(text string) func(s *Source, now float64) {
	return func(s *Source, now float64) { s.Chunk([]byte(text), now) }
}

func polDrop(s *Source, now float64) { s.Dropped("network error", false, now) }

func polHidden(h bool) func(s *Source, now float64) {
	return func(s *Source, now float64) { s.Hidden(h, now) }
}

// polWaits drives a GET source whose every attempt fails with a network
// error and returns the retryIn of each of n error events, checking that
// each arms the timer with it and that the next fetch counts the attempt.
func polWaits(p *polSrc, n int) []int32 {
	p.t.Helper()
	now := 0.0
	p.do(now, polStart)
	var waits []int32
	for i := 0; i < n; i++ {
		acts := p.do(now, polNetFail)
		e, tm := polFind(acts, OpError), polFind(acts, OpTimer)
		if e == nil || tm == nil || e.args[0] != int32(Connecting) || e.args[4] != tm.args[0] {
			p.t.Fatalf("failure %d: %s, want an error with readyState CONNECTING and the timer it announces", i, polJoin(acts))
		}
		waits = append(waits, e.args[4])
		now += float64(e.args[4])
		acts = p.do(now, polTimer)
		if f := polFind(acts, OpFetch); f == nil || f.args[0] != int32(i+1) {
			p.t.Fatalf("timer %d: %s, want fetch attempt %d", i, polJoin(acts), i+1)
		}
	}
	return waits
}

func polFind(acts []polAct, op Op) *polAct {
	for i := range acts {
		if acts[i].op == op {
			return &acts[i]
		}
	}
	return nil
}

func polEqual(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPolicyBackoffGrowth(t *testing.T) {
	cases := []struct {
		name  string
		pairs []string
		want  []int32
	}{
		{"native: the fixed default", nil, []int32{3000, 3000, 3000, 3000}},
		{"defaults: 1000 doubling", []string{"backoff", "true", "jitter", "false"},
			[]int32{1000, 2000, 4000, 8000, 16000, 30000, 30000}},
		{"initialDelay and cap", []string{"backoff", "true", "jitter", "false", "initialDelay", "50", "maxDelay", "500"},
			[]int32{50, 100, 200, 400, 500, 500}},
		{"factor 3", []string{"backoff", "true", "jitter", "false", "initialDelay", "10", "factor", "3", "maxDelay", "1000"},
			[]int32{10, 30, 90, 270, 810, 1000}},
		{"factor 1 is a fixed wait", []string{"backoff", "true", "jitter", "false", "initialDelay", "70", "factor", "1"},
			[]int32{70, 70, 70, 70}},
		{"factor 1.5 rounds down", []string{"backoff", "true", "jitter", "false", "initialDelay", "100", "factor", "1.5"},
			[]int32{100, 150, 225, 337, 506}},
		{"initialDelay equal to maxDelay", []string{"backoff", "true", "jitter", "false", "initialDelay", "200", "maxDelay", "200"},
			[]int32{200, 200, 200}},
		{"a huge maxDelay is clamped to what setTimeout takes", []string{"backoff", "true", "jitter", "false",
			"initialDelay", "1000000000", "maxDelay", "2147483647", "factor", "1000"},
			[]int32{1000000000, maxTimer, maxTimer}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPol(t, c.pairs...)
			if got := polWaits(p, len(c.want)); !polEqual(got, c.want) {
				t.Errorf("waits %v, want %v", got, c.want)
			}
		})
	}
}

// The server's retry: value is where the growth starts, and a successful
// open starts it over.
func TestPolicyBackoffFromServerRetryAndReset(t *testing.T) {
	p := newPol(t, "backoff", "true", "jitter", "false", "initialDelay", "1000", "maxDelay", "1000000")
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polChunk("retry: 300\nid: 7\ndata: x\n\n"), "events 1")
	p.want(3, polEnd, "error rs=0 ended st=0 a=0 in=300 | timer 300")
	now := 303.0
	for i, w := range []int32{600, 1200, 2400} {
		p.want(now, polTimer, "fetch "+polURL+" a="+itoa(int32(i+1))+" st=0 lid=7")
		p.want(now, polNetFail, "probe | error rs=0 network st=0 a="+itoa(int32(i+1))+" in="+itoa(w)+" | timer "+itoa(w))
		now += float64(w)
	}
	p.want(now, polTimer, "fetch "+polURL+" a=4 st=0 lid=7")
	p.want(now, polOK, "open")
	// Reset by the open: the next wait is the base again.
	p.want(now, polDrop, "error rs=0 dropped st=0 a=4 in=300 | timer 300")
	// Without backoff the server's retry: is the wait, every time.
	q := newPol(t)
	q.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	q.want(1, polOK, "open")
	q.want(2, polChunk("retry: 250\n\n"), "")
	q.want(3, polEnd, "error rs=0 ended st=0 a=0 in=250 | timer 250")
	q.want(253, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
	q.want(254, polNetFail, "probe | error rs=0 network st=0 a=1 in=250 | timer 250")
}

// Full jitter: each wait is uniform in [0, the wait without jitter], the
// same for the same seed, and spread over that range.
func TestPolicyJitterBounds(t *testing.T) {
	const n = 12
	ceil := []int32{100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000, 2000, 2000}
	seqs := map[string]bool{}
	var sum, count float64
	for seed := 1; seed <= 40; seed++ {
		pairs := []string{"backoff", "true", "initialDelay", "100", "maxDelay", "2000", "seed", strconv.Itoa(seed * 7919)}
		got := polWaits(newPol(t, pairs...), n)
		again := polWaits(newPol(t, pairs...), n)
		if !polEqual(got, again) {
			t.Errorf("seed %d: %v then %v: the same seed must give the same waits", seed, got, again)
		}
		for i, w := range got {
			if w < 0 || w > ceil[i] {
				t.Errorf("seed %d: wait %d is %d, outside [0, %d]", seed, i, w, ceil[i])
			}
			sum += float64(w) / float64(ceil[i])
			count++
		}
		seqs[strconv.Quote(polJoinInts(got))] = true
	}
	if len(seqs) < 40 {
		t.Errorf("40 seeds gave %d different sequences", len(seqs))
	}
	// The mean of uniform [0, 1) samples is 1/2: 480 samples put it well
	// inside [0.4, 0.6] (the standard error is 0.013).
	if mean := sum / count; mean < 0.4 || mean > 0.6 {
		t.Errorf("mean wait / ceiling = %.3f, want about 0.5 (full jitter)", mean)
	}
	// jitter: true is the default with backoff.
	if c := polConfig(t, "backoff", "true"); !c.Jitter || c.InitialDelay != 1000 || c.MaxDelay != 30000 || c.Factor != 2 {
		t.Errorf("backoff defaults: %+v", c)
	}
}

func polJoinInts(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = itoa(x)
	}
	return strings.Join(s, ",")
}

func TestPolicyRetryOnAndRetryAfter(t *testing.T) {
	cases := []struct {
		name       string
		pairs      []string
		status     int
		retryAfter float64
		want       string
	}{
		{"a status in retryOn reconnects after the default", []string{"retryOn", "429,503"}, 503, -1,
			"abort | error rs=0 http st=503 a=0 in=3000 | timer 3000"},
		{"Retry-After sets the wait", []string{"retryOn", "503"}, 503, 2000,
			"abort | error rs=0 http st=503 a=0 in=2000 | timer 2000"},
		{"Retry-After 0 reconnects at once", []string{"retryOn", "503"}, 503, 0,
			"abort | error rs=0 http st=503 a=0 in=0 | timer 0"},
		{"Retry-After wins over backoff and its cap", []string{"retryOn", "429", "backoff", "true", "maxDelay", "1000"}, 429, 5000,
			"abort | error rs=0 http st=429 a=0 in=5000 | timer 5000"},
		{"Retry-After beyond setTimeout is clamped", []string{"retryOn", "503"}, 503, 1e12,
			"abort | error rs=0 http st=503 a=0 in=2147483647 | timer 2147483647"},
		{"without Retry-After, backoff", []string{"retryOn", "503", "backoff", "true", "jitter", "false", "initialDelay", "40"}, 503, -1,
			"abort | error rs=0 http st=503 a=0 in=40 | timer 40"},
		{"a status not in retryOn fails, Retry-After or not", []string{"retryOn", "503"}, 500, 1000,
			"abort | error rs=2 http st=500 a=0 in=-1 | free"},
		{"no retryOn: a 503 fails as native", nil, 503, 1000,
			"abort | error rs=2 http st=503 a=0 in=-1 | free"},
		{"a 401 fails once", nil, 401, -1,
			"abort | error rs=2 http st=401 a=0 in=-1 | free"},
		{"retryOn does not apply to a POST's 200 with the wrong type", []string{"method", "POST", "retryOn", "200"}, 200, -1,
			"abort | error rs=2 content-type st=200 a=0 in=-1 | free"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPol(t, c.pairs...)
			p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
			resp := polStatus(c.status, c.retryAfter)
			if c.status == 200 {
				resp = func(s *Source, now float64) { s.Response(200, "text/plain", "", -1, now) }
			}
			p.want(5, resp, c.want)
		})
	}

	// The next attempt carries the status that failed, until an open.
	p := newPol(t, "retryOn", "401,503", "backoff", "true", "jitter", "false", "initialDelay", "10")
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polStatus(401, -1), "abort | error rs=0 http st=401 a=0 in=10 | timer 10")
	p.want(11, polTimer, "fetch "+polURL+" a=1 st=401 lid=")
	p.want(12, polStatus(503, 500), "abort | error rs=0 http st=503 a=1 in=500 | timer 500")
	p.want(512, polTimer, "fetch "+polURL+" a=2 st=503 lid=")
	// Retry-After set that wait only: the growth goes on where it was.
	p.want(513, polNetFail, "probe | error rs=0 network st=0 a=2 in=40 | timer 40")
	p.want(553, polTimer, "fetch "+polURL+" a=3 st=0 lid=")
	p.want(554, polOK, "open")
	p.want(555, polChunk("id: 9\n\n"), "")
	p.want(556, polEnd, "error rs=0 ended st=0 a=3 in=10 | timer 10")
	p.want(566, polTimer, "fetch "+polURL+" a=4 st=0 lid=9")
}

func TestPolicyMaxRetries(t *testing.T) {
	fail503 := polStatus(503, -1)
	cases := []struct {
		name  string
		pairs []string
		fail  func(s *Source, now float64)
		steps []string // the actions of each failure, a timer firing between them
	}{
		{"two retries: three requests", []string{"maxRetries", "2", "retryOn", "503"}, fail503, []string{
			"abort | error rs=0 http st=503 a=0 in=3000 | timer 3000",
			"abort | error rs=0 http st=503 a=1 in=3000 | timer 3000",
			"abort | error rs=2 retries-exhausted st=503 a=2 in=-1 | free",
		}},
		{"zero: the first failure is final", []string{"maxRetries", "0", "retryOn", "503"}, fail503, []string{
			"abort | error rs=2 retries-exhausted st=503 a=0 in=-1 | free",
		}},
		{"network errors count too", []string{"maxRetries", "1"}, polNetFail, []string{
			"probe | error rs=0 network st=0 a=0 in=3000 | timer 3000",
			"probe | error rs=2 retries-exhausted st=0 a=1 in=-1 | free",
		}},
		{"with backoff", []string{"maxRetries", "3", "backoff", "true", "jitter", "false", "initialDelay", "5"}, polNetFail, []string{
			"probe | error rs=0 network st=0 a=0 in=5 | timer 5",
			"probe | error rs=0 network st=0 a=1 in=10 | timer 10",
			"probe | error rs=0 network st=0 a=2 in=20 | timer 20",
			"probe | error rs=2 retries-exhausted st=0 a=3 in=-1 | free",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPol(t, c.pairs...)
			p.do(0, polStart)
			now := 0.0
			for i, want := range c.steps {
				if i > 0 {
					now += 10000
					p.want(now, polTimer, "fetch "+polURL+" a="+itoa(int32(i))+" st="+itoa(p.s.prevStatus)+" lid=")
				}
				p.want(now, c.fail, want)
			}
			if !p.s.Done() {
				t.Errorf("not done after the retries were exhausted")
			}
			p.want(now+1, polTimer, "")
		})
	}

	// A successful open starts the count over.
	p := newPol(t, "maxRetries", "1", "retryOn", "503")
	p.do(0, polStart)
	p.want(1, fail503, "abort | error rs=0 http st=503 a=0 in=3000 | timer 3000")
	p.want(3001, polTimer, "fetch "+polURL+" a=1 st=503 lid=")
	p.want(3002, polOK, "open")
	p.want(3003, polEnd, "error rs=0 ended st=0 a=1 in=3000 | timer 3000")
	p.want(6003, polTimer, "fetch "+polURL+" a=2 st=0 lid=")
	p.want(6004, fail503, "abort | error rs=2 retries-exhausted st=503 a=2 in=-1 | free")
}

func TestPolicyResume(t *testing.T) {
	post := []string{"method", "POST", "resume", polResume}
	lid := func(id string) string { return "id: " + id + "\ndata: t\n\n" }

	t.Run("a dropped POST continues by GET, never re-posting", func(t *testing.T) {
		p := newPol(t, append(post, "backoff", "true", "jitter", "false", "initialDelay", "50")...)
		p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
		p.want(1, polOK, "open")
		p.want(2, polChunk(lid("s.1")), "events 1")
		p.want(3, polDrop, "error rs=0 dropped st=0 a=0 in=50 | timer 50")
		p.want(53, polTimer, "fetch "+polResume+" a=1 st=0 lid=s.1 resume")
		p.want(54, polOK, "open")
		p.want(55, polChunk(lid("s.2")), "events 1")
		// Later drops resume the same way.
		p.want(56, polDrop, "error rs=0 dropped st=0 a=1 in=50 | timer 50")
		p.want(106, polTimer, "fetch "+polResume+" a=2 st=0 lid=s.2 resume")
		// A network error before the answer resumes too.
		p.want(107, polNetFail, "probe | error rs=0 network st=0 a=2 in=100 | timer 100")
		p.want(207, polTimer, "fetch "+polResume+" a=3 st=0 lid=s.2 resume")
		p.want(208, polOK, "open")
		p.want(209, polChunk(lid("s.3")), "events 1")
		// The normal end of a resumed answer is a close.
		p.want(210, polEnd, "close | free")
	})

	t.Run("a POST that ends normally closes", func(t *testing.T) {
		p := newPol(t, post...)
		p.do(0, polStart)
		p.want(1, polOK, "open")
		p.want(2, polEnd, "close | free")
	})

	t.Run("a POST that fails before its answer is not resumed", func(t *testing.T) {
		p := newPol(t, post...)
		p.do(0, polStart)
		acts := p.want(1, func(s *Source, now float64) { s.FetchFailed("Failed to fetch", now) }, "error rs=2 network st=0 a=0 in=-1 | free")
		if len(acts) == 2 && !strings.Contains(acts[0].strs[0], "Failed to fetch") {
			t.Errorf("message %q", acts[0].strs[0])
		}
	})

	t.Run("a failed resume fails", func(t *testing.T) {
		p := newPol(t, post...)
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polChunk(lid("s.1")))
		p.want(3, polDrop, "error rs=0 dropped st=0 a=0 in=3000 | timer 3000")
		p.want(3003, polTimer, "fetch "+polResume+" a=1 st=0 lid=s.1 resume")
		p.want(3004, polStatus(404, -1), "abort | error rs=2 http st=404 a=1 in=-1 | free")
	})

	t.Run("resume as a function: the host resolves the URL", func(t *testing.T) {
		p := newPol(t, "method", "POST", "resume", "")
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polChunk(lid("s.4")))
		p.want(3, polDrop, "error rs=0 dropped st=0 a=0 in=3000 | timer 3000")
		p.want(3003, polTimer, "fetch  a=1 st=0 lid=s.4 resume")
	})

	t.Run("resume with maxRetries", func(t *testing.T) {
		p := newPol(t, append(post, "maxRetries", "1")...)
		p.do(0, polStart)
		p.do(1, polOK)
		p.want(3, polDrop, "error rs=0 dropped st=0 a=0 in=3000 | timer 3000")
		p.want(3003, polTimer, "fetch "+polResume+" a=1 st=0 lid= resume")
		p.want(3004, polNetFail, "probe | error rs=2 retries-exhausted st=0 a=1 in=-1 | free")
	})

	t.Run("a dropped POST without resume fails", func(t *testing.T) {
		p := newPol(t, "method", "POST")
		p.do(0, polStart)
		p.do(1, polOK)
		p.want(3, polDrop, "error rs=2 dropped st=0 a=0 in=-1 | free")
	})

	t.Run("a GET ignores resume", func(t *testing.T) {
		p := newPol(t, "resume", polResume)
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polChunk(lid("g")))
		p.want(3, polDrop, "error rs=0 dropped st=0 a=0 in=3000 | timer 3000")
		p.want(3003, polTimer, "fetch "+polURL+" a=1 st=0 lid=g")
		p.want(3004, polOK, "open")
		p.want(3005, polEnd, "error rs=0 ended st=0 a=1 in=3000 | timer 3000")
	})
}

func TestPolicyIdle(t *testing.T) {
	t.Run("silence after the headers drops the connection", func(t *testing.T) {
		p := newPol(t, "idleTimeout", "500")
		p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid= | timer 500")
		p.want(100, polOK, "open")
		// The timer counts from the last byte: the response came at 100.
		p.want(500, polTimer, "timer 101")
		p.want(601, polTimer, "abort | error rs=0 idle st=0 a=0 in=3000 | timer 3000")
		p.want(3601, polTimer, "fetch "+polURL+" a=1 st=0 lid= | timer 500")
	})

	t.Run("comments count as bytes", func(t *testing.T) {
		p := newPol(t, "idleTimeout", "300")
		p.do(0, polStart)
		p.do(0, polOK)
		now := 0.0
		for i := 0; i < 20; i++ {
			now += 100
			p.want(now, polChunk(":\n"), "")
			if i%3 == 2 {
				p.want(now, polTimer, "timer 301")
			}
		}
		p.want(now+299, polTimer, "timer 2")
		p.want(now+301, polTimer, "abort | error rs=0 idle st=0 a=0 in=3000 | timer 3000")
	})

	t.Run("no response at all", func(t *testing.T) {
		p := newPol(t, "idleTimeout", "200", "backoff", "true", "jitter", "false", "initialDelay", "20")
		p.do(0, polStart)
		p.want(200, polTimer, "abort | error rs=0 idle st=0 a=0 in=20 | timer 20")
	})

	t.Run("an idle resumed POST resumes; an idle POST before its answer fails", func(t *testing.T) {
		p := newPol(t, "method", "POST", "resume", polResume, "idleTimeout", "100")
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polChunk("id: s.1\ndata: t\n\n"))
		p.want(102, polTimer, "abort | error rs=0 idle st=0 a=0 in=3000 | timer 3000")
		p.want(3102, polTimer, "fetch "+polResume+" a=1 st=0 lid=s.1 resume | timer 100")
		q := newPol(t, "method", "POST", "resume", polResume, "idleTimeout", "100")
		q.do(0, polStart)
		q.want(100, polTimer, "abort | timer clear | error rs=2 idle st=0 a=0 in=-1 | free")
	})

	t.Run("closing clears the idle timer", func(t *testing.T) {
		p := newPol(t, "idleTimeout", "100")
		p.do(0, polStart)
		p.do(1, polOK)
		p.want(2, polClose, "abort | timer clear | free")
		p.want(200, polTimer, "")
	})

	t.Run("no idleTimeout: no timer while streaming", func(t *testing.T) {
		p := newPol(t)
		p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
		p.do(1, polOK)
		p.want(1e6, polTimer, "")
	})
}

func TestPolicyPauseWhenHidden(t *testing.T) {
	t.Run("hidden closes, visible reconnects with Last-Event-ID", func(t *testing.T) {
		p := newPol(t, "pauseWhenHidden", "true")
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polChunk("id: 5\ndata: x\n\n"))
		p.want(3, polHidden(true), "abort | timer clear | state 0")
		p.want(4, polHidden(true), "")
		p.want(5000, polHidden(false), "fetch "+polURL+" a=1 st=0 lid=5")
		p.want(5001, polOK, "open")
	})

	t.Run("hidden during a reconnection wait", func(t *testing.T) {
		p := newPol(t, "pauseWhenHidden", "true")
		p.do(0, polStart)
		p.want(1, polNetFail, "probe | error rs=0 network st=0 a=0 in=3000 | timer 3000")
		p.want(2, polHidden(true), "timer clear | state 0")
		p.want(3001, polTimer, "")
		p.want(9000, polHidden(false), "fetch "+polURL+" a=1 st=0 lid=")
	})

	t.Run("hidden and shown again and again", func(t *testing.T) {
		p := newPol(t, "pauseWhenHidden", "true", "idleTimeout", "1000")
		p.do(0, polStart)
		p.do(1, polOK)
		for i := int32(1); i <= 3; i++ {
			p.want(2, polHidden(true), "abort | timer clear | state 0")
			p.want(3, polHidden(false), "fetch "+polURL+" a="+itoa(i)+" st=0 lid= | timer 1000")
			p.do(4, polOK)
		}
	})

	t.Run("hidden at construction: no request until visible", func(t *testing.T) {
		p := newPol(t, "pauseWhenHidden", "true")
		p.want(0, polHidden(true), "")
		p.want(1, polStart, "")
		p.want(2, polHidden(false), "fetch "+polURL+" a=0 st=0 lid=")
	})

	t.Run("without the option visibility changes nothing", func(t *testing.T) {
		p := newPol(t)
		p.do(0, polStart)
		p.do(1, polOK)
		p.want(2, polHidden(true), "")
		p.want(3, polHidden(false), "")
	})

	t.Run("a POST is never paused (it would be re-sent)", func(t *testing.T) {
		p := newPol(t, "method", "POST", "pauseWhenHidden", "true")
		p.do(0, polStart)
		p.do(1, polOK)
		p.want(2, polHidden(true), "")
		p.want(3, polHidden(false), "")
		p.want(4, polEnd, "close | free")
		q := newPol(t, "method", "POST", "pauseWhenHidden", "true")
		q.want(0, polHidden(true), "")
		q.want(1, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	})

	t.Run("closed while paused", func(t *testing.T) {
		p := newPol(t, "pauseWhenHidden", "true")
		p.do(0, polStart)
		p.do(1, polOK)
		p.do(2, polHidden(true))
		p.want(3, polClose, "free")
		p.want(4, polHidden(false), "")
	})
}

func TestPolicyReconnectOnOnline(t *testing.T) {
	p := newPol(t, "reconnectOnOnline", "true")
	p.do(0, polStart)
	p.want(1, polNetFail, "probe | error rs=0 network st=0 a=0 in=3000 | timer 3000")
	p.want(500, polOnline, "timer clear | fetch "+polURL+" a=1 st=0 lid=")
	// Only a waiting reconnection is hurried.
	p.want(501, polOnline, "")
	p.do(502, polOK)
	p.want(503, polOnline, "")
	// Without the option the online event changes nothing.
	q := newPol(t)
	q.do(0, polStart)
	q.do(1, polNetFail)
	q.want(2, polOnline, "")
	q.want(3001, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
}

// Bad values of the options are errors of the constructor.
func TestPolicyConfigErrors(t *testing.T) {
	for _, pairs := range [][]string{
		{"retryOn", "99"}, {"retryOn", "600"}, {"retryOn", "5x"}, {"maxRetries", "-1"},
		{"initialDelay", "1.5"}, {"factor", "0.5"}, {"factor", "NaN"}, {"factor", "2000"},
		{"idleTimeout", "-5"}, {"backoff", "true", "initialDelay", "100", "maxDelay", "50"},
		{"seed", "-1"}, {"nonsense", "1"},
	} {
		var rec []byte
		for _, kv := range [][2]string{{"url", polURL}, {pairs[0], pairs[1]}} {
			rec = append(rec, byte(len(kv[0])))
			rec = append(rec, kv[0]...)
			rec = binary.LittleEndian.AppendUint32(rec, uint32(len(kv[1])))
			rec = append(rec, kv[1]...)
		}
		for i := 2; i < len(pairs); i += 2 {
			rec = append(rec, byte(len(pairs[i])))
			rec = append(rec, pairs[i]...)
			rec = binary.LittleEndian.AppendUint32(rec, uint32(len(pairs[i+1])))
			rec = append(rec, pairs[i+1]...)
		}
		if _, err := ParseConfig(rec); err == nil {
			t.Errorf("ParseConfig accepted %q", pairs)
		}
	}
}
