package sse

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func msg(data, id string) Event { return Event{Type: "message", Data: data, LastEventID: id} }

func named(typ, data, id string) Event { return Event{Type: typ, Data: data, LastEventID: id} }

const noRetry = -1

// parseCases are single streams. Each names the checklist rules it checks
// (docs: /work/shared/spec-checklist.md, sections 1E to 1G). They also serve
// as the fuzzers' seed corpus.
var parseCases = []struct {
	rules string
	in    string
	want  []Event
	id    string // LastEventID afterwards
	retry int64  // reconnection time afterwards, or noRetry
}{
	// 1E: decoding.
	{"31 latin-1 body is still decoded as UTF-8", "data: caf\xE9\n\n", []Event{msg("caf\uFFFD", "")}, "", noRetry},
	{"32 multibyte", "data: caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\n\n", []Event{msg("café € 😀", "")}, "", noRetry},
	{"32 truncated sequence then ASCII", "data: \xE2\x82A\n\n", []Event{msg("\uFFFDA", "")}, "", noRetry},
	{"32 surrogate", "data: \xED\xA0\x80\n\n", []Event{msg("\uFFFD\uFFFD\uFFFD", "")}, "", noRetry},
	{"32 overlong", "data: \xC0\x80\n\n", []Event{msg("\uFFFD\uFFFD", "")}, "", noRetry},
	{"32 above U+10FFFF", "data: \xF4\x90\x80\x80\n\n", []Event{msg("\uFFFD\uFFFD\uFFFD\uFFFD", "")}, "", noRetry},
	{"32 lone continuation bytes", "data: \x80\xBFa\n\n", []Event{msg("\uFFFD\uFFFDa", "")}, "", noRetry},
	{"32 sequence truncated by a line end", "data: \xF0\x9F\x98\ndata: x\n\n", []Event{msg("\uFFFD\nx", "")}, "", noRetry},
	{"32 sequence truncated by CR", "data: \xE2\x82\rdata: x\r\r", []Event{msg("\uFFFD\nx", "")}, "", noRetry},
	{"32 ill-formed type and id", "event: \xFF\nid: a\xC3\ndata\n\n", []Event{named("\uFFFD", "", "a\uFFFD")}, "a\uFFFD", noRetry},
	{"32 truncated sequence at end of stream", "data: x\n\ndata: \xE2\x82", []Event{msg("x", "")}, "", noRetry},
	{"33 leading BOM stripped", "\xEF\xBB\xBFdata: x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"33 BOM then blank line", "\xEF\xBB\xBF\ndata: x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"33 second BOM kept: unknown field", "\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"33 BOM on a later line kept: unknown field", "data: x\n\n\xEF\xBB\xBFdata: y\n\n", []Event{msg("x", "")}, "", noRetry},
	{"33 BOM inside data kept", "data: a\xEF\xBB\xBFb\n\n", []Event{msg("a\uFEFFb", "")}, "", noRetry},
	{"33 BOM only", "\xEF\xBB\xBF", nil, "", noRetry},
	{"33 partial BOM EF BB is not a BOM", "\xEF\xBBdata: x\n\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"33 partial BOM EF is not a BOM", "\xEFdata: x\n\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"33 partial BOM then line end", "\xEF\xBB\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"33 partial BOM then comment colon", "\xEF\xBB:data\n\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"34 LF", "data: a\ndata: b\n\n", []Event{msg("a\nb", "")}, "", noRetry},
	{"34 CRLF", "data: a\r\ndata: b\r\n\r\n", []Event{msg("a\nb", "")}, "", noRetry},
	{"34 CR", "data: a\rdata: b\r\r", []Event{msg("a\nb", "")}, "", noRetry},
	{"34 CR CR is two line ends", "data: a\r\rdata: b\r\r", []Event{msg("a", ""), msg("b", "")}, "", noRetry},
	{"34 LF CR is two line ends", "data: a\n\rdata: b\n\r", []Event{msg("a", ""), msg("b", "")}, "", noRetry},
	{"34 CRLF CRLF is line end and blank line", "data: a\r\n\r\ndata: b\r\n\r\n", []Event{msg("a", ""), msg("b", "")}, "", noRetry},
	{"34 mixed line ends", "data: a\rdata: b\ndata: c\r\n\ndata: d\n\r\n", []Event{msg("a\nb\nc", ""), msg("d", "")}, "", noRetry},
	{"34 CR LF LF", "data: a\r\n\n", []Event{msg("a", "")}, "", noRetry},
	{"34 leading blank lines", "\r\n\n\rdata: a\n\n", []Event{msg("a", "")}, "", noRetry},
	{"35 other separators are ordinary", "data: a\u2028b\u0085c\vd\fe\u2029f\n\n", []Event{msg("a\u2028b\u0085c\vd\fe\u2029f", "")}, "", noRetry},
	{"35 raw C1 NEL byte is ill-formed, not a line end", "data: a\x85b\n\n", []Event{msg("a\uFFFDb", "")}, "", noRetry},

	// 1F: line interpretation.
	{"36 blank line dispatches", "data: a\n\n", []Event{msg("a", "")}, "", noRetry},
	{"37 comment ignored", ": hello\n\n", nil, "", noRetry},
	{"37 comment-only blocks", ":\n\n: x\n:y\n\n", nil, "", noRetry},
	{"37 comment between data lines", "data: a\n: c\ndata: b\n\n", []Event{msg("a\nb", "")}, "", noRetry},
	{"37 comment looking like a field", ":data: x\n\n", nil, "", noRetry},
	{"38 split on first colon", "data:a:b\n\n", []Event{msg("a:b", "")}, "", noRetry},
	{"38 no space after colon", "data:x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"38 only one space removed", "data:  x\n\n", []Event{msg(" x", "")}, "", noRetry},
	{"38 tab not removed", "data:\tx\n\n", []Event{msg("\tx", "")}, "", noRetry},
	{"38 trailing space kept", "data: x \n\n", []Event{msg("x ", "")}, "", noRetry},
	{"39 42 data with no colon", "data\n\n", []Event{msg("", "")}, "", noRetry},
	{"39 42 48 data: empty", "data:\n\n", []Event{msg("", "")}, "", noRetry},
	{"39 42 data: single space", "data: \n\n", []Event{msg("", "")}, "", noRetry},
	{"39 id with no colon resets the id", "id: 1\ndata: a\n\nid\ndata: b\n\n", []Event{msg("a", "1"), msg("b", "")}, "", noRetry},
	{"39 event with no colon resets the type", "event: x\nevent\ndata: a\n\n", []Event{msg("a", "")}, "", noRetry},
	{"40 Data is not data", "Data: x\n\n", nil, "", noRetry},
	{"40 DATA is not data", "DATA: x\n\n", nil, "", noRetry},
	{"40 space before colon", "data : x\n\n", nil, "", noRetry},
	{"40 leading space", " data: x\n\n", nil, "", noRetry},
	{"40 Event and ID", "Event: x\nID: 3\ndata: a\n\n", []Event{msg("a", "")}, "", noRetry},
	{"41 last event field wins", "event: a\nevent: b\ndata: x\n\n", []Event{named("b", "x", "")}, "", noRetry},
	{"41 53 type reset after dispatch", "event: a\ndata: x\n\ndata: y\n\n", []Event{named("a", "x", ""), msg("y", "")}, "", noRetry},
	{"42 data lines joined", "data: a\ndata: b\ndata: c\n\n", []Event{msg("a\nb\nc", "")}, "", noRetry},
	{"42 data around other fields", "data: a\nevent: t\nid: 1\ndata: b\n\n", []Event{named("t", "a\nb", "1")}, "1", noRetry},
	{"43 id with NUL ignored", "id: a\x00b\ndata: x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"43 id with NUL keeps the previous id", "id: 1\nid: 2\x00\ndata: x\n\n", []Event{msg("x", "1")}, "1", noRetry},
	{"43 id with spaces and non-ASCII", "id:  a b é\ndata\n\n", []Event{msg("", " a b é")}, " a b é", noRetry},
	{"43 47 empty id", "id: 1\ndata: a\n\nid:\ndata: b\n\n", []Event{msg("a", "1"), msg("b", "")}, "", noRetry},
	{"44 retry", "retry: 1000\n", nil, "", 1000},
	{"44 retry 0", "retry: 0\n", nil, "", 0},
	{"44 retry no space", "retry:250\n", nil, "", 250},
	{"44 retry leading zeros", "retry: 007\n", nil, "", 7},
	{"44 retry empty", "retry:\n", nil, "", noRetry},
	{"44 retry empty after space", "retry: \n", nil, "", noRetry},
	{"44 retry no colon", "retry\n", nil, "", noRetry},
	{"44 empty retry restores the default (as Chromium)", "retry: 800\nretry:\n", nil, "", noRetry},
	{"44 bare retry restores the default (as Chromium)", "retry: 800\nretry\n", nil, "", noRetry},
	{"44 invalid retry keeps the last", "retry: 800\nretry: x\n", nil, "", 800},
	{"44 retry 10abc", "retry: 10abc\n", nil, "", noRetry},
	{"44 retry +5", "retry: +5\n", nil, "", noRetry},
	{"44 retry -1", "retry: -1\n", nil, "", noRetry},
	{"44 retry 1000.0", "retry: 1000.0\n", nil, "", noRetry},
	{"44 retry 1e3", "retry: 1e3\n", nil, "", noRetry},
	{"44 retry two spaces", "retry:  1000\n", nil, "", noRetry},
	{"44 retry trailing space", "retry: 1000 \n", nil, "", noRetry},
	{"44 retry non-ASCII digit", "retry: \u0663\n", nil, "", noRetry},
	{"44 retry max int64", "retry: 9223372036854775807\n", nil, "", math.MaxInt64},
	{"44 retry saturates", "retry: 9223372036854775808\n", nil, "", math.MaxInt64},
	{"44 retry max uint64 saturates", "retry: 18446744073709551615\n", nil, "", math.MaxInt64},
	{"44 retry max uint64 with leading zeros", "retry: 00018446744073709551615\n", nil, "", math.MaxInt64},
	{"44 retry 2^64 overflows: ignored (Chromium)", "retry: 18446744073709551616\n", nil, "", noRetry},
	{"44 retry 2^64 keeps the previous one", "retry: 800\nretry: 18446744073709551616\n", nil, "", 800},
	{"44 retry 20 nines keeps the previous one", "retry: 800\nretry: 99999999999999999999\n", nil, "", 800},
	{"44 retry far overflow keeps the previous one", "retry: 800\nretry: 123456789012345678901234567890\n", nil, "", 800},
	{"44 retry overflow keeps a saturated one", "retry: 9223372036854775808\nretry: 99999999999999999999\n", nil, "", math.MaxInt64},
	{"44 retry overflow does not restore the default", "retry: 5\nretry: 99999999999999999999\ndata: x\n\n", []Event{msg("x", "")}, "", 5},
	{"44 retry after an overflow applies", "retry: 99999999999999999999\nretry: 70\n", nil, "", 70},
	{"44 retry just below 2^31", "retry: 2147483647\n", nil, "", 2147483647},
	{"44 retry 2^31 kept as is", "retry: 2147483648\n", nil, "", 2147483648},
	{"44 retry 2^32 kept as is", "retry: 4294967296\n", nil, "", 4294967296},
	{"44 invalid retry keeps the previous one", "retry: 500\nretry: x\n", nil, "", 500},
	{"44 22 retry applies without dispatch", "retry: 5\ndata: x\n", nil, "", 5},
	{"44 retry applies at once in a dispatched event", "retry: 5\ndata: x\n\n", []Event{msg("x", "")}, "", 5},
	{"45 unknown fields ignored", "foo: bar\ndat: x\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"46 NUL in data", "data: a\x00b\n\n", []Event{msg("a\x00b", "")}, "", noRetry},
	{"46 NUL in type", "event: a\x00\ndata\n\n", []Event{named("a\x00", "", "")}, "", noRetry},
	{"46 NUL in comment", ": \x00\ndata: x\n\n", []Event{msg("x", "")}, "", noRetry},

	// 1G: dispatch.
	{"47 id persists across events", "id: 1\ndata: a\n\ndata: b\n\n", []Event{msg("a", "1"), msg("b", "1")}, "1", noRetry},
	{"47 48 id-only block updates the last event ID", "id: 5\n\n", nil, "5", noRetry},
	{"47 48 id-only block then event", "id: 5\n\ndata: x\n\n", []Event{msg("x", "5")}, "5", noRetry},
	{"48 type-only block fires nothing and does not leak", "event: x\n\ndata: y\n\n", []Event{msg("y", "")}, "", noRetry},
	{"48 blank lines alone", "\n\n\n", nil, "", noRetry},
	{"49 one trailing LF removed", "data\ndata\n\n", []Event{msg("\n", "")}, "", noRetry},
	{"49 trailing empty data line", "data: a\ndata:\n\n", []Event{msg("a\n", "")}, "", noRetry},
	{"50 53 empty event means message", "event:\ndata: x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"50 type error", "event: error\ndata\n\n", []Event{named("error", "", "")}, "", noRetry},
	{"50 type message", "event: message\ndata: x\n\n", []Event{msg("x", "")}, "", noRetry},
	{"50 type keeps spaces", "event:  a b \ndata\n\n", []Event{named(" a b ", "", "")}, "", noRetry},
	{"54 order", "data: 1\n\ndata: 2\n\nevent: t\ndata: 3\n\n", []Event{msg("1", ""), msg("2", ""), named("t", "3", "")}, "", noRetry},
	{"22 unterminated event discarded", "data: x\n", nil, "", noRetry},
	{"22 unterminated line discarded", "data: x\n\ndata: y", []Event{msg("x", "")}, "", noRetry},
	{"22 47 id of a cut-off event is not the last event ID", "id: 7\ndata: y\n", nil, "", noRetry},
	{"22 CR-terminated last line, no blank line", "data: x\r", nil, "", noRetry},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.rules, func(t *testing.T) {
			got := parseAllWays(t, []byte(tc.in), 0, "")
			if got.Err != "" {
				t.Fatalf("error %s", got.Err)
			}
			if !reflect.DeepEqual(got.Events, tc.want) {
				t.Errorf("events %q\nwant   %q", got.Events, tc.want)
			}
			if got.LastEventID != tc.id {
				t.Errorf("LastEventID %q, want %q", got.LastEventID, tc.id)
			}
			retry := int64(noRetry)
			if got.RetryOK {
				retry = got.Retry
			}
			if retry != tc.retry {
				t.Errorf("Retry %d, want %d", retry, tc.retry)
			}
		})
	}
}

// TestChunkEdges spells out the chunk-edge fixtures of the JS ecosystem, on
// top of the exhaustive splits every TestParse case goes through.
func TestChunkEdges(t *testing.T) {
	cases := []struct {
		rules  string
		chunks []string
		want   []Event
	}{
		{"34 CR | LF is one line end", []string{"data: a\r", "\ndata: b\r", "\n\r", "\n"}, []Event{msg("a\nb", "")}},
		{"34 CR | CR is two line ends", []string{"data: a\r", "\rdata: b\r", "\r"}, []Event{msg("a", ""), msg("b", "")}},
		{"34 CR | empty chunk | LF is one line end", []string{"data: a\r", "", "\n", "\n"}, []Event{msg("a", "")}},
		{"34 CR | LF alone, then blank line", []string{"data: a\r", "\n", "\r\n"}, []Event{msg("a", "")}},
		{"33 BOM split EF | BB BF", []string{"\xEF", "\xBB\xBFdata: x\n\n"}, []Event{msg("x", "")}},
		{"33 BOM split EF | BB | BF", []string{"\xEF", "\xBB", "\xBF", "data: x\n\n"}, []Event{msg("x", "")}},
		{"33 BOM split with empty chunks", []string{"", "\xEF\xBB", "", "\xBF", "data: x\n\n"}, []Event{msg("x", "")}},
		{"33 not a BOM: EF BB | 41", []string{"\xEF\xBB", "A\ndata: x\n\n"}, []Event{msg("x", "")}},
		{"33 not a BOM: EF BB | data", []string{"\xEF\xBB", "data: x\n\n"}, nil},
		{"32 multibyte split", []string{"data: \xF0\x9F", "\x98", "\x80\n\n"}, []Event{msg("😀", "")}},
		{"32 multibyte split at field value start", []string{"data:", " \xC3", "\xA9\n", "\n"}, []Event{msg("é", "")}},
		{"42 field name split", []string{"da", "ta", ":", " x\n\n"}, []Event{msg("x", "")}},
		{"36 blank line in its own chunk", []string{"data: x\n", "\n"}, []Event{msg("x", "")}},
	}
	for _, tc := range cases {
		t.Run(tc.rules, func(t *testing.T) {
			var chunks [][]byte
			for _, c := range tc.chunks {
				chunks = append(chunks, []byte(c))
			}
			got := feedChunks(0, "", chunks)
			if got.Err != "" || !reflect.DeepEqual(got.Events, tc.want) {
				t.Errorf("got %q (error %q), want %q", got.Events, got.Err, tc.want)
			}
		})
	}
}

// TestStreams checks what survives a reconnection (Reset) and what does not.
func TestStreams(t *testing.T) {
	cases := []struct {
		rules   string
		seed    string
		streams []string
		want    []Event
		id      string
		retry   int64
	}{
		{"55 last event ID carries into the next stream", "", []string{"id: a\ndata: x\n\n", "data: y\n\n"}, []Event{msg("x", "a"), msg("y", "a")}, "a", noRetry},
		{"55 id of a cut-off event does not leak", "", []string{"id: test\ndata: x\n", "data: y\n\n"}, []Event{msg("y", "")}, "", noRetry},
		{"55 id-only block carries over", "", []string{"id: 5\n\n", "data: y\n\n"}, []Event{msg("y", "5")}, "5", noRetry},
		{"55 data and type buffers dropped", "", []string{"event: t\ndata: x\n", "data: y\n\n"}, []Event{msg("y", "")}, "", noRetry},
		{"55 unfinished line dropped", "", []string{"data: x\n\ndata: par", "tial\n\n"}, []Event{msg("x", "")}, "", noRetry},
		{"55 seeded id", "s", []string{"data: a\n\n", "id\ndata: b\n\n", "data: c\n\n"}, []Event{msg("a", "s"), msg("b", ""), msg("c", "")}, "", noRetry},
		{"56 retry survives", "", []string{"retry: 500\n", "data: y\n\n"}, []Event{msg("y", "")}, "", 500},
		{"22 44 retry of a cut-off event applies", "", []string{"retry: 7\ndata: x", ""}, nil, "", 7},
		{"33 one BOM stripped per stream", "", []string{"\xEF\xBB\xBFdata: a\n\n", "\xEF\xBB\xBFdata: b\n\n"}, []Event{msg("a", ""), msg("b", "")}, "", noRetry},
		{"33 BOM check re-armed mid-BOM", "", []string{"\xEF\xBB", "\xEF\xBB\xBFdata: b\n\n"}, []Event{msg("b", "")}, "", noRetry},
	}
	for _, tc := range cases {
		t.Run(tc.rules, func(t *testing.T) {
			var p Parser
			p.SetLastEventID(tc.seed)
			var got []Event
			for _, s := range tc.streams {
				p.Reset()
				if err := p.Feed([]byte(s), func(e Event) { got = append(got, e) }); err != nil {
					t.Fatal(err)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("events %q\nwant   %q", got, tc.want)
			}
			if id := p.LastEventID(); id != tc.id {
				t.Errorf("LastEventID %q, want %q", id, tc.id)
			}
			retry := int64(noRetry)
			if ms, ok := p.Retry(); ok {
				retry = ms
			}
			if retry != tc.retry {
				t.Errorf("Retry %d, want %d", retry, tc.retry)
			}
		})
	}
}

// TestResetClearsSkipLF checks a state the API cannot show: a CR ending one
// stream must not swallow an LF starting the next.
func TestResetClearsSkipLF(t *testing.T) {
	var p Parser
	p.Feed([]byte("data: a\r"), nil)
	if !p.skipLF {
		t.Fatal("skipLF not set after a final CR")
	}
	p.Reset()
	if p.skipLF || p.bomDone || p.bomSeen != 0 || len(p.pending) != 0 || len(p.data) != 0 {
		t.Fatalf("Reset left stream state: %+v", p)
	}
}

func TestLimit(t *testing.T) {
	const max = 64
	long := strings.Repeat("x", max)
	cases := []struct {
		name string
		in   string
		want []Event // events before the error
		err  bool
	}{
		{"data at the limit", "data:" + long[:max-6] + "\n\n", []Event{msg(long[:max-6], "")}, false},
		{"line at the limit", ":" + long[:max-1] + "\n\n", nil, false},
		{"data over the limit", "data: a\n\ndata:" + long + "\n\n", []Event{msg("a", "")}, true},
		{"data lines add up", strings.Repeat("data: "+long[:20]+"\n", 4) + "\n", nil, true},
		{"giant comment without line end", ":" + long + long, nil, true},
		{"giant unknown field without line end", "foo: " + long + long, nil, true},
		{"giant comment with line end", ":" + long + "\n\n", nil, true},
		{"decoding grows the data past the limit", "data:" + strings.Repeat("\xFF", 30) + "\n\n", nil, true},
		{"many small events", strings.Repeat("data: "+long[:40]+"\n\n", 10), []Event{
			msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""),
			msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""), msg(long[:40], ""),
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseAllWays(t, []byte(tc.in), max, "")
			if (got.Err != "") != tc.err {
				t.Fatalf("error %q, want error: %v", got.Err, tc.err)
			}
			if !reflect.DeepEqual(got.Events, tc.want) {
				t.Errorf("events %q\nwant   %q", got.Events, tc.want)
			}
		})
	}
}

func TestLimitError(t *testing.T) {
	p := Parser{MaxEventSize: 10}
	err := p.Feed([]byte("data: 0123456789\n\n"), nil)
	if !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("error %v does not match ErrEventTooLarge", err)
	}
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != 10 {
		t.Fatalf("error %#v is not a *LimitError with limit 10", err)
	}
	if got, want := (&LimitError{Limit: DefaultMaxEventSize}).Error(), "sse: event exceeds the 33554432-byte limit"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// Sticky until Reset.
	if err2 := p.Feed([]byte("data: x\n\n"), func(Event) { t.Error("event after error") }); err2 != err {
		t.Errorf("second Feed returned %v, want the same error", err2)
	}
	p.Reset()
	var got []Event
	if err := p.Feed([]byte("data: x\n\n"), func(e Event) { got = append(got, e) }); err != nil || len(got) != 1 {
		t.Errorf("after Reset: %v, %q", err, got)
	}
}

// TestDefaultLimit checks that a zero MaxEventSize means the default.
func TestDefaultLimit(t *testing.T) {
	var p Parser
	if p.limit() != DefaultMaxEventSize {
		t.Fatalf("limit %d", p.limit())
	}
	p.MaxEventSize = -1
	if p.limit() != DefaultMaxEventSize {
		t.Fatalf("limit %d for -1", p.limit())
	}
}

// TestBuffersShrink checks that a large line or event does not leave grown
// buffers behind once it is done with.
func TestBuffersShrink(t *testing.T) {
	big := strings.Repeat("y", 4*keepCap)
	var p Parser
	feed := func(s string) {
		t.Helper()
		// Chunks of 1000 bytes, so the long line goes through pending.
		for len(s) > 0 {
			n := min(1000, len(s))
			if err := p.Feed([]byte(s[:n]), nil); err != nil {
				t.Fatal(err)
			}
			s = s[n:]
		}
	}
	feed(":" + big + "\n")
	if cap(p.pending) > keepCap {
		t.Errorf("pending kept %d bytes after a long comment", cap(p.pending))
	}
	feed("event:" + big + "\ndata:" + big + "\n\n")
	if cap(p.pending) > keepCap || cap(p.data) > keepCap || cap(p.typ) > keepCap {
		t.Errorf("buffers kept after a large event: pending %d, data %d, type %d", cap(p.pending), cap(p.data), cap(p.typ))
	}
	feed("data: " + big) // unfinished, then a new stream
	p.Reset()
	if cap(p.pending) > keepCap || cap(p.data) > keepCap {
		t.Errorf("buffers kept after Reset: pending %d, data %d", cap(p.pending), cap(p.data))
	}
}

// TestAllocs checks the allocation budget: one allocation per event (its
// Data string), none for a "message" or repeated type or an unchanged id.
func TestAllocs(t *testing.T) {
	cases := []struct {
		name string
		in   string
		max  float64
	}{
		{"message", "data: hello\n\n", 1},
		{"two data lines", "data: hello\ndata: world\n\n", 1},
		{"named, same id", "event: tick\nid: 42\ndata: hello\n\n", 1},
		{"empty data", "data\n\n", 0},
		{"comment", ": keep-alive\n\n", 0},
		{"id only", "id: 42\n\n", 0},
		{"retry", "retry: 100\n", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			in := []byte(tc.in)
			emit := func(Event) {}
			p.Feed(in, emit) // warm up the buffers
			if n := testing.AllocsPerRun(100, func() { p.Feed(in, emit) }); n > tc.max {
				t.Errorf("%v allocations per event, want at most %v", n, tc.max)
			}
		})
	}
}

func TestEmitNil(t *testing.T) {
	var p Parser
	if err := p.Feed([]byte("id: 3\ndata: x\n\n"), nil); err != nil {
		t.Fatal(err)
	}
	if p.LastEventID() != "3" {
		t.Errorf("LastEventID %q", p.LastEventID())
	}
}

// TestFeedRaw checks that FeedRaw gives what Feed gives, on every table
// case, and that it allocates nothing per event.
func TestFeedRaw(t *testing.T) {
	for _, tc := range parseCases {
		var p Parser
		var got []Event
		p.FeedRaw([]byte(tc.in), func(typ string, data []byte, id string) {
			got = append(got, Event{Type: typ, Data: string(data), LastEventID: id})
		})
		if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: FeedRaw events %q, want %q", tc.rules, got, tc.want)
		}
	}
	var p Parser
	in := []byte("event: tick\nid: 42\ndata: hello\ndata: world\n\n")
	n := 0
	emit := func(typ string, data []byte, id string) { n += len(data) }
	p.FeedRaw(in, emit)
	if a := testing.AllocsPerRun(100, func() { p.FeedRaw(in, emit) }); a != 0 {
		t.Errorf("FeedRaw: %v allocations per event, want 0", a)
	}
}
