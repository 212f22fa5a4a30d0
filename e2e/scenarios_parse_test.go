//go:build !js

package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// Decoding, line splitting, fields, dispatch, ordering, chunk splits.

func decodingScenarios() []*scenario {
	const r = "\ufffd"
	var all []*scenario
	for _, c := range []struct {
		label, bytes, want string
	}{
		{"truncated-2-of-3", "a\xe2\x82b", "a" + r + "b"},
		{"truncated-1-of-2", "a\xc3b", "a" + r + "b"},
		{"truncated-3-of-4", "a\xf0\x9f\x98b", "a" + r + "b"},
		{"truncated-before-line-end", "a\xf0\x9f\x98", "a" + r},
		{"overlong-2", "\xc0\xaf", r + r},
		{"overlong-3", "\xe0\x80\xaf", r + r + r},
		{"overlong-4", "\xf0\x80\x80\xaf", r + r + r + r},
		{"surrogate-high", "\xed\xa0\x80", r + r + r},
		{"surrogate-low", "\xed\xbf\xbf", r + r + r},
		{"surrogate-pair-cesu8", "\xed\xa0\xbd\xed\xb8\x80", r + r + r + r + r + r},
		{"lone-continuation", "a\x80b", "a" + r + "b"},
		{"two-continuations", "\xbf\xbf", r + r},
		{"ff-fe", "\xff\xfe", r + r},
		{"above-U+10FFFF", "\xf4\x90\x80\x80", r + r + r + r},
		{"f5-lead", "\xf5\x80", r + r},
		{"max-code-point", "\xf4\x8f\xbf\xbf", "\U0010ffff"},
		{"noncharacter-FFFF", "\xef\xbf\xbf", "\uffff"},
		{"lead-then-ascii", "\xe2(x", r + "(x"},
	} {
		all = append(all, parse1("utf8/"+c.label, rules(32), "data: "+c.bytes+"\n\n", msg(c.want)))
	}
	all = append(all,
		parse1("utf8/invalid-in-event-type", rules(32, 50), "event: a\xffb\ndata: x\n\n", named("a"+r+"b", "x", "")),
		streamCase("utf8/invalid-in-id", rules(32, 14), []testserver.Conn{ends("retry: 50\nid: \xff\ndata: x\n\n"), ends("data: y\n\n")},
			open1, msgID("x", r), err0, open1, msgID("y", r), err0),
		parse1("utf8/truncated-at-eof", rules(32, 22), "data: a\n\ndata: \xe2\x82", msg("a")),
		parse("utf8/multibyte-split-across-chunks", rules(32), []string{"data: \xe2", "\x82", "\xac\xf0\x9f", "\x98\x80\n\n"}, msg("€😀")),
		parse1("nul/in-data", rules(46), "data: a\x00b\n\n", msg("a\x00b")),
		parse1("nul/in-event-type", rules(46, 50), "event: a\x00b\ndata: x\n\n", named("a\x00b", "x", "")),
		parse1("nul/in-comment", rules(46, 37), ":a\x00b\ndata: x\n\n", msg("x")),
		parse1("bom/leading-stripped", rules(33), "\xef\xbb\xbfdata: a\n\n", msg("a")),
		parse("bom/split-1-2", rules(33, 32), []string{"\xef", "\xbb\xbfdata: a\n\n"}, msg("a")),
		parse("bom/split-2-1", rules(33, 32), []string{"\xef\xbb", "\xbfdata: a\n\n"}, msg("a")),
		parse("bom/split-each-byte", rules(33, 32), []string{"\xef", "\xbb", "\xbf", "data: a\n\n"}, msg("a")),
		parse("bom/alone-in-first-chunk", rules(33), []string{"\xef\xbb\xbf", "data: a\n\n"}, msg("a")),
		parse1("bom/doubled-second-kept", rules(33, 45), "\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", msg("b")),
		parse1("bom/mid-stream-kept", rules(33, 45), "data: a\n\n\xef\xbb\xbfdata: b\n\ndata: c\n\n", msg("a"), msg("c")),
		parse1("bom/in-value-kept", rules(33), "data: \xef\xbb\xbfx\n\n", msg("\ufeffx")),
		parse1("bom/in-second-value-kept", rules(33), "data: a\n\ndata: \xef\xbb\xbfx\n\n", msg("a"), msg("\ufeffx")),
		parse1("bom/in-event-type-kept", rules(33, 50), "event: \xef\xbb\xbfx\ndata: a\n\n", named("\ufeffx", "a", "")),
		parse1("bom/in-id-kept", rules(33, 43), "id: \xef\xbb\xbfx\ndata: a\n\n", msgID("a", "\ufeffx")),
		parse1("bom/partial-is-invalid", rules(33, 32), "\xef\xbbdata: a\n\ndata: b\n\n", msg("b")),
		streamCase("bom/each-connection", rules(33, 55), []testserver.Conn{ends("\xef\xbb\xbfretry: 50\ndata: a\n\n"), ends("\xef\xbb\xbfdata: b\n\n")},
			open1, msg("a"), err0, open1, msg("b"), err0),
	)
	return all
}

func lineScenarios() []*scenario {
	return []*scenario{
		parse1("lines/lf", rules(34, 36), "data: a\n\ndata: b\n\n", msg("a"), msg("b")),
		parse1("lines/crlf", rules(34, 36), "data: a\r\n\r\ndata: b\r\n\r\n", msg("a"), msg("b")),
		parse1("lines/cr", rules(34, 36), "data: a\r\rdata: b\r\r", msg("a"), msg("b")),
		parse1("lines/mixed", rules(34), "data: a\r\ndata: b\rdata: c\n\r\n", msg("a\nb\nc")),
		parse1("lines/lf-cr-is-two-ends", rules(34), "data: a\n\rdata: b\n\n", msg("a"), msg("b")),
		parse1("lines/cr-cr-lf", rules(34), "data: a\r\r\ndata: b\n\n", msg("a"), msg("b")),
		parse("lines/crlf-split-across-chunks", rules(34), []string{"data: a\r", "\ndata: b\r\n\r\n"}, msg("a\nb")),
		parse("lines/cr-at-chunk-end-then-data", rules(34), []string{"data: a\r", "data: b\r\r"}, msg("a\nb")),
		parse("lines/cr-at-chunk-end-then-cr", rules(34), []string{"data: a\r", "\rdata: b\n\n"}, msg("a"), msg("b")),
		parse("lines/cr-lf-each-own-chunk", rules(34), []string{"data: a", "\r", "\n", "\r", "\n"}, msg("a")),
		parse1("lines/unicode-separators-are-not-line-ends", rules(35), "data: a\u2028b\u2029c\u0085d\ve\ff\n\n", msg("a\u2028b\u2029c\u0085d\ve\ff")),
		parse1("lines/many-blank-lines", rules(36, 48), "\n\n\n\ndata: a\n\n\n\n", msg("a")),
	}
}

func fieldScenarios() []*scenario {
	return []*scenario{
		parse1("comment/ignored", rules(37), ": c\ndata: a\n\n", msg("a")),
		parse1("comment/between-data-lines", rules(37, 42), "data: a\n: c\ndata: b\n\n", msg("a\nb")),
		parse1("comment/only-block-fires-nothing", rules(37, 48), ": c\n\ndata: a\n\n", msg("a")),
		parse1("comment/looks-like-a-field", rules(37), ":data: x\n\ndata: a\n\n", msg("a")),
		parse1("comment/bare-colon", rules(37), ":\ndata: a\n\n", msg("a")),
		parse1("field/colon-in-value", rules(38), "data:a:b\n\n", msg("a:b")),
		parse1("field/no-space", rules(38), "data:x\n\n", msg("x")),
		parse1("field/one-space-removed", rules(38), "data: x\n\n", msg("x")),
		parse1("field/second-space-kept", rules(38), "data:  x\n\n", msg(" x")),
		parse1("field/tab-kept", rules(38), "data:\tx\n\n", msg("\tx")),
		parse1("field/trailing-space-kept", rules(38), "data: x \n\n", msg("x ")),
		parse1("field/data-without-colon", rules(39, 42), "data\n\n", msg("")),
		parse1("field/data-empty-value", rules(38, 42), "data:\n\n", msg("")),
		parse1("field/data-without-colon-twice", rules(39, 49), "data\ndata\n\n", msg("\n")),
		parse1("field/event-without-colon-resets", rules(39, 41), "event: x\nevent\ndata: a\n\n", msg("a")),
		parse1("field/id-without-colon-resets", rules(39, 43), "id: 1\ndata: a\n\nid\ndata: b\n\n", msgID("a", "1"), msg("b")),
		parse1("field/names-case-sensitive", rules(40), "Data: a\nDATA: b\ndata : c\n data: d\ndata: e\n\n", msg("e")),
		{
			name:  "field/event-capitalised-ignored",
			rules: rules(40, 45),
			conns: []testserver.Conn{ends("Event: x\ndata: a\n\n")},
			spec:  stopAt(3, "x"),
			want:  []string{open1, msg("a"), err0},
		},
		parse1("field/event-last-wins", rules(41), "event: a\nevent: b\ndata: x\n\n", named("b", "x", "")),
		parse1("field/event-with-colon", rules(41, 38), "event: a:b\ndata: x\n\n", named("a:b", "x", "")),
		parse1("field/event-with-spaces", rules(41, 38), "event:  x \ndata: y\n\n", named(" x ", "y", "")),
		parse1("field/data-appends", rules(42), "data: a\ndata: b\ndata: c\n\n", msg("a\nb\nc")),
		parse1("field/data-empty-lines", rules(42, 49), "data\ndata: a\ndata\n\n", msg("\na\n")),
		parse1("field/unknown-ignored", rules(45), "foo: bar\ndat: x\nretryy: 1\nevents: y\nids: 3\ndata: a\n\n", msg("a")),
		parse1("field/id-with-spaces", rules(43), "id: a b\ndata: x\n\n", msgID("x", "a b")),
		parse1("field/id-non-ascii", rules(43), "id: ü€\ndata: x\n\n", msgID("x", "ü€")),
		parse1("field/id-nul-ignored", rules(43), "id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n", msgID("a", "1"), msgID("b", "1")),
		parse1("field/id-only-nul-ignored", rules(43), "id: \x00\ndata: a\n\n", msg("a")),
		parse1("field/id-last-wins", rules(43), "id: 1\nid: 2\ndata: a\n\n", msgID("a", "2")),
	}
}

// retryCase checks a reconnection delay: the first response sends head,
// the second response one event. The trace ends after the second response.
func retryCase(name string, rules []int, head string, msgs ...string) *scenario {
	want := append(append([]string{open1}, msgs...), err0, open1, msg("z"), err0)
	return timeout(streamCase(name, rules, []testserver.Conn{ends(head), ends("data: z\n\n")}, want...), 8000)
}

// atLeast reports whether a measured delay is at least want, with the
// tolerance of closeEnough below it. A loaded machine fires timers late,
// never early, so only a delay too short tells that a value was taken that
// should not have been; one too long tells nothing.
func atLeast(got, want time.Duration) bool {
	return got >= want || closeEnough(got, want)
}

func retryScenarios() []*scenario {
	all := []*scenario{
		retryCase("retry/valid-50", rules(44), "retry: 50\ndata: a\n\n", msg("a")),
		retryCase("retry/valid-0", rules(44), "retry: 0\ndata: a\n\n", msg("a")),
		retryCase("retry/leading-zeros", rules(44), "retry: 0070\ndata: a\n\n", msg("a")),
		retryCase("retry/no-space", rules(44, 38), "retry:60\ndata: a\n\n", msg("a")),
		retryCase("retry/last-wins", rules(44), "retry: 3000\nretry: 60\ndata: a\n\n", msg("a")),
		retryCase("retry/applies-without-dispatch", rules(44, 48), "retry: 60\n\ndata: a\n\n", msg("a")),
		retryCase("retry/applies-before-the-blank-line", rules(44), "data: a\nretry: 60\n\n", msg("a")),
	}
	// Each bad value would give a short delay if it were taken; the good
	// value before it must stay in effect.
	for _, c := range []struct{ label, line string }{
		{"two-spaces", "retry:  50"}, {"suffix", "retry: 50x"}, {"prefix", "retry: x50"}, {"negative", "retry: -50"},
		{"plus", "retry: +50"}, {"exponent", "retry: 5e1"}, {"decimal", "retry: 50.0"}, {"trailing-space", "retry: 50 "},
		{"capitalised", "Retry: 50"}, {"space-before-colon", "retry : 50"},
		{"fullwidth-digits", "retry: ５０"}, {"hex", "retry: 0x32"}, {"tab", "retry:\t50"}, {"arabic-indic-digits", "retry: ٥٠"},
		// Chromium reads the value with ToUInt64Strict: one that overflows
		// 64 bits is not taken (2^64, twenty nines, ...).
		{"overflow-2^64", "retry: 18446744073709551616"}, {"overflow-twenty-nines", "retry: 99999999999999999999"},
		{"overflow-far", "retry: 000123456789012345678901234567890"},
	} {
		sc := retryCase("retry/ignored/"+c.label, rules(44, 45), "retry: 800\ndata: a\n\n"+c.line+"\ndata: b\n\n", msg("a"), msg("b"))
		sc.checklist = func(n *run) string {
			if gaps := n.requestGaps(0); len(gaps) == 1 && !atLeast(gaps[0], 800*time.Millisecond) {
				return fmt.Sprintf("native waited %v after %q, not the 800 ms set before it (rule 44: ignore the field)",
					gaps[0].Round(10*time.Millisecond), c.line)
			}
			return ""
		}
		all = append(all, sc)
	}
	// An empty value restores the default reconnection time in Chromium.
	for _, c := range []struct{ label, line string }{{"empty", "retry:"}, {"no-colon", "retry"}, {"space", "retry: "}} {
		sc := retryCase("retry/empty-restores-default/"+c.label, rules(44, 45), "retry: 800\ndata: a\n\n"+c.line+"\ndata: b\n\n", msg("a"), msg("b"))
		sc.deviates = "Chromium restores the default reconnection time (3000 ms) on an empty retry value; the checklist " +
			"(rule 44) says to ignore the field."
		sc.checklist = func(n *run) string {
			if gaps := n.requestGaps(0); len(gaps) == 1 && !atLeast(gaps[0], 3000*time.Millisecond) {
				return fmt.Sprintf("native waited %v after %q, not the default 3000 ms", gaps[0].Round(10*time.Millisecond), c.line)
			}
			return ""
		}
		all = append(all, sc)
	}
	// Huge values: no reconnection within the trace's 2 s.
	for _, v := range []string{"2147483648", "4294967296", "99999999999999999999999"} {
		sc := streamCase("retry/huge/"+v, rules(44), []testserver.Conn{ends("retry: " + v + "\ndata: a\n\n"), ends("data: z\n\n")},
			open1, msg("a"), err0)
		sc.spec.StopAfter = &stop{Ms: 2000}
		all = append(all, sc)
	}
	// Huge values that fit in 64 bits are taken (the timer never fires):
	// after retry: 50 there is no reconnection within 2 s, where a value
	// ignored would leave 50 ms.
	for _, v := range []string{"2147483648", "9223372036854775808", "18446744073709551615"} {
		sc := streamCase("retry/huge-replaces-50/"+v, rules(44), []testserver.Conn{ends("retry: 50\nretry: " + v + "\ndata: a\n\n"), ends("data: z\n\n")},
			open1, msg("a"), err0)
		sc.spec.StopAfter = &stop{Ms: 2000}
		all = append(all, sc)
	}
	return all
}

func dispatchScenarios() []*scenario {
	return []*scenario{
		parse1("dispatch/id-persists-across-events", rules(47, 51), "id: 1\ndata: a\n\ndata: b\n\n", msgID("a", "1"), msgID("b", "1")),
		parse1("dispatch/id-only-block", rules(47, 48), "id: 5\n\ndata: a\n\n", msgID("a", "5")),
		{
			name:  "dispatch/event-only-block-does-not-leak",
			rules: rules(48, 51),
			conns: []testserver.Conn{ends("event: x\n\ndata: a\n\n")},
			spec:  stopAt(3, "x"),
			want:  []string{open1, msg("a"), err0},
		},
		parse1("dispatch/trailing-lf-removed-once", rules(49), "data: a\ndata:\n\n", msg("a\n")),
		parse1("dispatch/two-empty-data-lines", rules(49), "data:\ndata:\n\n", msg("\n")),
		handlers(parse1("dispatch/type-error", rules(50, 61), "event: error\ndata: x\n\n", named("error", "x", "")), "error", "message"),
		handlers(parse1("dispatch/type-open", rules(50), "event: open\ndata: x\n\n", named("open", "x", "")), "open", "message"),
		handlers(parse1("dispatch/type-message", rules(50, 53), "event: message\ndata: x\n\n", msg("x")), "message"),
		handlers(parse1("dispatch/type-empty-is-message", rules(53), "event:\ndata: x\n\n", msg("x")), "message"),
		handlers(parse1("dispatch/named-not-onmessage", rules(53), "event: foo\ndata: x\n\ndata: y\n\n", named("foo", "x", ""), msg("y")), "message"),
		parse1("dispatch/type-resets-after-dispatch", rules(51, 41), "event: x\ndata: a\n\ndata: b\n\n", named("x", "a", ""), msg("b")),
		parse1("dispatch/type-unicode", rules(50), "event: ü-€\ndata: a\n\n", named("ü-€", "a", "")),
		streamCase("dispatch/buffers-reset-per-connection", rules(55), []testserver.Conn{
			ends("retry: 50\nevent: x\ndata: partial"), ends("data: b\n\n"),
		}, open1, err0, open1, msg("b"), err0),
		streamCase("dispatch/partial-line-dropped", rules(55), []testserver.Conn{
			ends("retry: 50\ndata: a\n\ndat"), ends("a: b\n\ndata: c\n\n"),
		}, open1, msg("a"), err0, open1, msg("c"), err0),
		streamCase("dispatch/partial-data-not-carried", rules(55, 22), []testserver.Conn{
			ends("retry: 50\ndata: a\n"), ends("data: b\n\n"),
		}, open1, err0, open1, msg("b"), err0),
	}
}

// handlers also sets es.on<type> for these types on source 0.
func handlers(sc *scenario, types ...string) *scenario {
	sc.spec.Sources[0].Handlers = types
	return sc
}

func orderScenarios() []*scenario {
	many := make([]string, 0, 1000)
	var body strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&body, "id: %d\ndata: %d\n\n", i, i)
		many = append(many, msgID(fmt.Sprint(i), fmt.Sprint(i)))
	}
	oneByOne := "data: one event over many chunks\n\n"
	var bytes []string
	for i := 0; i < len(oneByOne); i++ {
		bytes = append(bytes, oneByOne[i:i+1])
	}
	big := strings.Repeat("0123456789abcdef", 1<<14) // 256 KiB
	late := holds("data: a\n\n")
	late.Chunks = append(late.Chunks, testserver.Chunk{Delay: 500 * time.Millisecond, Data: "data: b\n\n"})

	perTask := streamCase("order/one-event-per-task", rules(54), []testserver.Conn{holds("data: a\n\ndata: b\n\ndata: c\n\n")},
		open1, msg("a"), "#microtask RS1", msg("b"), "#microtask RS1", msg("c"))
	perTask.spec.Sources[0].Actions = []action{{On: "message", N: 1, Do: "microtask"}, {On: "message", N: 2, Do: "microtask"}}
	perTask.spec.StopAfter = &stop{Events: 4}

	handlerFirst := handlers(parse1("order/handler-before-listener", rules(5, 54), "data: a\n\n", msg("a")), "message", "open", "error")
	handlerFirst.spec.Sources[0].HandlersFirst = true

	throws := streamCase("order/listener-throws", rules(54), []testserver.Conn{holds("data: a\n\ndata: b\n\n")}, open1, msg("a"), msg("b"))
	throws.spec.Sources[0].Actions = []action{{On: "message", N: 1, Do: "throw"}}
	throws.spec.Sources[0].Handlers = []string{"message"}
	throws.thrown = 1

	all := []*scenario{
		perTask,
		handlerFirst,
		throws,
		parse1("order/many-events-in-one-chunk", rules(54, 36), body.String(), many...),
		parse("order/one-event-over-many-chunks", rules(42, 54), bytes, msg("one event over many chunks")),
		parse1("order/large-event", rules(42), "data: "+big+"\n\n", msg(big)),
		{
			name:  "multi/independent",
			rules: rules(63, 14, 56),
			conns: []testserver.Conn{ends("retry: 50\nid: a\ndata: 1\n\n"), ends("data: 2\n\n")},
			more:  [][]testserver.Conn{{holds("id: b\ndata: x\n\n")}},
			spec: spec{
				Sources: []source{
					{URL: "@S0@", StopAfter: &stop{Events: 6}},
					{URL: "@S1@", Actions: []action{{On: "message", Do: "close"}}},
				},
				SettleMs:  300,
				TimeoutMs: 6000,
			},
			want: []string{open1, msgID("1", "a"), err0, open1, msgID("2", "a"), err0, closed},
		},
		{
			name:  "gc/unreferenced-while-open",
			rules: rules(64),
			conns: []testserver.Conn{late},
			spec: spec{
				Sources:   []source{{URL: "@S0@", Weak: true}},
				StopAfter: &stop{Events: 3},
				TimeoutMs: 6000,
			},
			want: []string{open1, msg("a"), msg("b")},
			gc:   true,
		},
		{
			name:  "gc/unreferenced-while-reconnecting",
			rules: rules(64),
			conns: []testserver.Conn{ends("retry: 400\ndata: a\n\n"), ends("data: b\n\n")},
			spec: spec{
				Sources:   []source{{URL: "@S0@", Weak: true}},
				StopAfter: &stop{Events: 5},
				TimeoutMs: 6000,
			},
			want: []string{open1, msg("a"), err0, open1, msg("b")},
			gc:   true,
		},
	}
	return all
}

// splitScenarios sends a few tricky streams in two chunks, split at every
// byte position: a BOM, CRLF and CR line ends, multi-byte characters and a
// truncated sequence must come out the same wherever the split falls.
func splitScenarios() []*scenario {
	streams := []struct {
		label string
		body  string
		msgs  []string
	}{
		{"bom-crlf-multibyte", "\xef\xbb\xbfdata: é€😀\r\nid: ü1\r\n\r\ndata: b\r\rdata:c\n\n",
			[]string{msgID("é€😀", "ü1"), msgID("b", "ü1"), msgID("c", "ü1")}},
		{"cr-crlf", "data: x\r\n\r\ndata: y\r\r\ndata: z\n\r\n",
			[]string{msg("x"), msg("y"), msg("z")}},
		{"truncated-sequence", "data: a\xf0\x9f\x98\n\n",
			[]string{msg("a\ufffd")}},
	}
	var all []*scenario
	for _, s := range streams {
		for i := 1; i < len(s.body); i++ {
			all = append(all, parse(fmt.Sprintf("split/%s/at-%02d", s.label, i), rules(32, 33, 34),
				[]string{s.body[:i], s.body[i:]}, s.msgs...))
		}
	}
	return all
}
