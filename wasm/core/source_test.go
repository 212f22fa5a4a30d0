package core

import (
	"strconv"
	"strings"
	"testing"
)

// A script is a list of inputs to a Source, each with the actions it must
// produce (as decode_test.go prints them, joined by " | "). Inputs:
//
//	start | end | close | timer | online | hidden | visible
//	response STATUS [CONTENT-TYPE [FINAL-URL [RETRY-AFTER-MS]]]   ("-" for an empty field)
//	chunk TEXT                  (Go escapes allowed: \n, \r, \x00)
//	fetchfail TEXT | drop TEXT | stop TEXT (an external abort) | headersfail TEXT
//	probed network|cors|redirect
//	@N                          set the clock to N ms (no input)
type script []struct{ in, want string }

const ct = "text/event-stream"

func run(t *testing.T, cfg Config, sc script) *Source {
	t.Helper()
	if cfg.Method == "" {
		cfg.Method = "GET"
	}
	switch cfg.Reconnect {
	case 0:
		cfg.Reconnect = -1
	case never:
		cfg.Reconnect = 0
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = -1
	}
	s := New(cfg)
	now := 0.0
	for i, st := range sc {
		verb, arg, _ := strings.Cut(st.in, " ")
		if strings.HasPrefix(verb, "@") {
			now, _ = strconv.ParseFloat(verb[1:], 64)
			continue
		}
		got := step(t, s, func() {
			switch verb {
			case "start":
				s.Start(now)
			case "end":
				s.End(now)
			case "close":
				s.Close()
			case "timer":
				s.Timer(now)
			case "online":
				s.Online(now)
			case "hidden":
				s.Hidden(true, now)
			case "visible":
				s.Hidden(false, now)
			case "response":
				f := strings.Fields(arg)
				for len(f) < 4 {
					f = append(f, "-")
				}
				for j := range f {
					if f[j] == "-" {
						f[j] = ""
					}
				}
				status, _ := strconv.Atoi(f[0])
				ra := -1.0
				if f[3] != "" {
					ra, _ = strconv.ParseFloat(f[3], 64)
				}
				s.Response(status, f[1], f[2], ra, now)
			case "chunk":
				text, err := strconv.Unquote(`"` + arg + `"`)
				if err != nil {
					t.Fatalf("step %d: bad chunk %q", i, arg)
				}
				s.Chunk([]byte(text), now)
			case "fetchfail":
				s.FetchFailed(arg, now)
			case "drop":
				s.Dropped(arg, false, now)
			case "stop":
				s.Dropped(arg, true, now)
			case "headersfail":
				s.HeadersFailed(arg)
			case "probed":
				s.Probed(map[string]Verdict{"network": VerdictNetwork, "cors": VerdictCORS, "redirect": VerdictRedirect}[arg], now)
			default:
				t.Fatalf("step %d: unknown input %q", i, st.in)
			}
		})
		if got != st.want {
			t.Fatalf("step %d (%s):\n got: %s\nwant: %s", i, st.in, got, st.want)
		}
	}
	return s
}

const u = "http://127.0.0.1:9/s"

// never stands for Reconnect: 0 in a test Config, whose zero value means
// "by method" for brevity.
const never = 2

func TestProcessingModel(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		sc   script
	}{
		{"stream, end, reconnect with the last event ID", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{`chunk id: 7\ndata: a\n\ndata: b\n\n`, `event message "a" id="7" | event message "b" id="7"`},
			{`chunk retry: 50\nevent: x\ndata: é😀\n\n`, `event x "é😀" id="7"`},
			{"end", `error rs=0 kind=ended status=0 attempt=0 retryIn=50 "the stream ended" | timer 50`},
			{"timer", `fetch ` + u + ` attempt=1 status=0 lid="7"`},
			{"response 200 " + ct, "open"},
			{`chunk data: c\n\n`, `event message "c" id="7"`},
		}},
		{"a stream split in any chunks", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{`chunk \xEF\xBB`, ""},
			{`chunk \xBFdata: a\r`, ""},
			{`chunk \ndata: b\r`, ""},
			{`chunk \r`, `event message "a\nb" id=""`},
		}},
		{"the first request carries lastEventId", Config{URL: u, LastEventID: "42"}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid="42"`},
		}},
		{"close before start sends nothing", Config{URL: u}, script{
			{"close", "free"},
			{"start", ""},
		}},
		{"close while streaming aborts, no event", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"close", "abort | free"},
			{`chunk data: late\n\n`, ""},
			{"end", ""},
		}},
		{"HTTP error fails, no retry", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 500 text/html", `abort | error rs=2 kind=http status=500 attempt=0 retryIn=-1 "HTTP 500" | free`},
		}},
		{"wrong content type fails", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 text/plain", `abort | error rs=2 kind=content-type status=200 attempt=0 retryIn=-1 "Content-Type is text/plain, not text/event-stream" | free`},
		}},
		{"network error: probe, then reconnect", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"fetchfail Failed to fetch", "probe " + u},
			{"probed network", `error rs=0 kind=network status=0 attempt=0 retryIn=3000 "network error: Failed to fetch" | timer 3000`},
			{"timer", `fetch ` + u + ` attempt=1 status=0 lid=""`},
		}},
		{"CORS refusal fails", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"fetchfail Failed to fetch", "probe " + u},
			{"probed cors", `error rs=2 kind=cors status=0 attempt=0 retryIn=-1 "CORS check failed for http://127.0.0.1:9" | free`},
		}},
		{"a POST is not re-sent and is not probed", Config{URL: u, Method: "POST"}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"fetchfail Failed to fetch", `error rs=2 kind=network status=0 attempt=0 retryIn=-1 "network error: Failed to fetch" | free`},
		}},
		{"a POST's end is a close", Config{URL: u, Method: "POST"}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"end", "close | free"},
		}},
		{"a POST dropped fails with a reason", Config{URL: u, Method: "POST"}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"drop network error", `error rs=2 kind=dropped status=0 attempt=0 retryIn=-1 "connection lost: network error; not reconnecting a POST request (set reconnect: true or resume to allow it)" | free`},
		}},
		{"reconnect: true re-sends a POST", Config{URL: u, Method: "POST", Reconnect: 1}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"end", `error rs=0 kind=ended status=0 attempt=0 retryIn=3000 "the stream ended" | timer 3000`},
		}},
		{"reconnect: false ends a GET", Config{URL: u, Reconnect: never}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"end", "close | free"},
		}},
		{"too large an event fails", Config{URL: u, MaxEventSize: 8}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{`chunk data: ok\n\ndata: 0123456789`, `event message "ok" id="" | abort | error rs=2 kind=too-large status=0 attempt=0 retryIn=-1 "sse: event exceeds the 8-byte limit" | free`},
		}},
		{"unsupported scheme fails at start", Config{URL: "ftp://127.0.0.1/x"}, script{
			{"start", `error rs=2 kind=url status=0 attempt=0 retryIn=-1 "cannot stream ftp: URLs: only http(s), data: and blob:" | free`},
		}},
		{"window.stop(): failed for good", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{"stop AbortError: aborted", `error rs=2 kind=dropped status=0 attempt=0 retryIn=-1 "the page aborted the request (window.stop()): AbortError: aborted" | free`},
		}},
		{"redirect to another origin: no Authorization on reconnection", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct + " http://127.0.0.2:9/t", "open"},
			{`chunk retry: 5\nid: 1\ndata: x\n\n`, `event message "x" id="1"`},
			{"end", `error rs=0 kind=ended status=0 attempt=0 retryIn=5 "the stream ended" | timer 5`},
			{"timer", `fetch http://127.0.0.2:9/t attempt=1 status=0 lid="1" strip-auth`},
		}},
		{"same-origin redirect keeps the headers", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct + " http://127.0.0.1:9/t", "open"},
			{"end", `error rs=0 kind=ended status=0 attempt=0 retryIn=3000 "the stream ended" | timer 3000`},
			{"timer", `fetch http://127.0.0.1:9/t attempt=1 status=0 lid=""`},
		}},
		{"an empty retry restores the default", Config{URL: u}, script{
			{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
			{"response 200 " + ct, "open"},
			{`chunk retry: 10\n\nretry:\n\n`, ""},
			{"end", `error rs=0 kind=ended status=0 attempt=0 retryIn=3000 "the stream ended" | timer 3000`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.cfg, tc.sc) })
	}
}

func TestLatin1LastEventIDIsCarriedAsUTF8(t *testing.T) {
	s := run(t, Config{URL: u}, script{
		{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
		{"response 200 " + ct, "open"},
		{`chunk id: é\ndata: x\n\n`, `event message "x" id="é"`},
	})
	if s.LastEventID() != "é" {
		t.Fatalf("LastEventID = %q", s.LastEventID())
	}
}

func TestParseConfig(t *testing.T) {
	rec := func(kv ...string) []byte {
		var b []byte
		for i := 0; i < len(kv); i += 2 {
			b = append(b, byte(len(kv[i])))
			b = append(b, kv[i]...)
			n := len(kv[i+1])
			b = append(b, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
			b = append(b, kv[i+1]...)
		}
		return b
	}
	c, err := ParseConfig(rec("url", u, "method", "POST", "retryOn", "429,503", "backoff", "true", "maxDelay", "5000", "resume", u+"/r", "seed", "7"))
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != u || c.Method != "POST" || len(c.RetryOn) != 2 || c.RetryOn[1] != 503 || !c.Backoff ||
		c.MaxDelay != 5000 || c.InitialDelay != 1000 || c.Factor != 2 || !c.Jitter || !c.ResumeSet || c.ResumeURL != u+"/r" ||
		c.MaxRetries != -1 || c.Reconnect != -1 || c.Seed != 7 {
		t.Fatalf("config %+v", c)
	}
	for _, bad := range [][]byte{
		rec("url", u, "colour", "red"),
		rec("url", u, "retryOn", "abc"),
		rec("url", u, "retryOn", "99"),
		rec("url", u, "maxRetries", "-1"),
		rec("url", u, "idleTimeout", "1e3"),
		rec("url", u, "factor", "0.5"),
		rec("url", u, "lastEventId", "a\nb"),
		rec("method", "GET"),
		rec("url", u)[:5],
		{3, 'u', 'r', 'l', 200, 0, 0, 0, 'x'},
	} {
		if _, err := ParseConfig(bad); err == nil {
			t.Errorf("ParseConfig(%q) accepted", bad)
		}
	}
}

// Every input on a finished source does nothing: the host may deliver late
// callbacks (a timer, a read) after close.
func TestInputsAfterTheEndDoNothing(t *testing.T) {
	s := run(t, Config{URL: u}, script{
		{"start", `fetch ` + u + ` attempt=0 status=0 lid=""`},
		{"close", "abort | free"},
	})
	for name, in := range map[string]func(){
		"start": func() { s.Start(1) }, "response": func() { s.Response(200, ct, u, -1, 1) },
		"chunk": func() { s.Chunk([]byte("data: x\n\n"), 1) }, "end": func() { s.End(1) },
		"fetchfail": func() { s.FetchFailed("x", 1) }, "probed": func() { s.Probed(VerdictCORS, 1) },
		"drop": func() { s.Dropped("x", false, 1) }, "timer": func() { s.Timer(1) }, "close": s.Close,
		"hidden": func() { s.Hidden(true, 1) }, "online": func() { s.Online(1) }, "headers": func() { s.HeadersFailed("x") },
		"internal": func() { s.Internal("x") },
	} {
		if got := step(t, s, in); got != "" {
			t.Errorf("%s after close: %s", name, got)
		}
	}
}

func FuzzSource(f *testing.F) {
	f.Add([]byte("data: a\n\n"), uint8(3))
	f.Add([]byte("retry: 99999999999999999999999\nid: \xff\ndata: \x00\r\n\r\n"), uint8(200))
	f.Fuzz(func(t *testing.T, body []byte, ops uint8) {
		s := New(Config{URL: u, Method: "GET", Reconnect: -1, MaxRetries: 3, MaxEventSize: 64, IdleTimeout: 10, Backoff: true,
			InitialDelay: 1, MaxDelay: 100, Factor: 2, Jitter: true, Seed: uint64(ops)})
		now := 0.0
		for i := 0; i < 32; i++ {
			now += float64(ops%7) * 3
			s.Out.Reset()
			switch (int(ops) + i*int(ops|1)) % 9 {
			case 0:
				s.Start(now)
			case 1:
				s.Response(200, ct, u, -1, now)
			case 2:
				s.Chunk(body, now)
			case 3:
				s.End(now)
			case 4:
				s.Timer(now)
			case 5:
				s.Dropped("x", false, now)
			case 6:
				s.FetchFailed("x", now)
			case 7:
				s.Probed(VerdictNetwork, now)
			case 8:
				s.Response(503, "", "", 5, now)
			}
			actionLines(t, s.Out) // fails on a malformed Out
		}
	})
}
