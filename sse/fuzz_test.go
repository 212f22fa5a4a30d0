package sse

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// chunksFrom cuts in into chunks whose sizes are read from sizes, one byte
// each (0 to 8, 0 being an empty chunk); what the sizes do not cover is the
// last chunk.
func chunksFrom(in, sizes []byte) [][]byte {
	var chunks [][]byte
	for _, s := range sizes {
		n := min(int(s%9), len(in))
		chunks = append(chunks, in[:n])
		in = in[n:]
	}
	return append(chunks, in)
}

var fuzzCuts = []byte{1, 2, 3, 0, 1, 5, 8, 1, 1, 2, 7, 4}

// FuzzChunking checks that any chunking of a stream gives what one-shot
// parsing gives (events, error, last event ID, retry), with small limits as
// well as the default; and that, with the default limit, one-shot parsing
// agrees with refParse, which decodes the whole stream first and then
// follows the standard literally.
func FuzzChunking(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), fuzzCuts, uint16(0))
		f.Add([]byte(tc.in), []byte{}, uint16(12))
	}
	f.Add([]byte("data: a\r\ndata: b\r\n\r\n"), []byte{8}, uint16(0))
	f.Add([]byte("\xEF\xBB\xBFdata: x\n\n"), []byte{1, 1}, uint16(0))
	f.Add([]byte(strings.Repeat("data: xx\n", 8)+"\n"), []byte{3, 3, 3}, uint16(30))
	// retry values at the edges of uint64: 2^64-1 saturates, 2^64 and more
	// are ignored (the previous value stays), however the digits are cut.
	f.Add([]byte("retry: 800\nretry: 18446744073709551616\ndata: a\n\n"), []byte{8, 8, 8, 1, 1, 1}, uint16(0))
	f.Add([]byte("retry: 800\nretry: 99999999999999999999\n"), []byte{7, 7, 5, 5, 3}, uint16(0))
	f.Add([]byte("retry: 18446744073709551615\nretry: 184467440737095516150\n"), fuzzCuts, uint16(0))
	f.Fuzz(func(t *testing.T, in, cuts []byte, limit uint16) {
		max := int(limit)
		one := feedChunks(max, "", [][]byte{in})
		if got := feedChunks(max, "", chunksFrom(in, cuts)); !reflect.DeepEqual(got, one) {
			t.Fatalf("chunked: %+v\none shot: %+v", got, one)
		}
		for _, e := range one.Events {
			if !utf8.ValidString(e.Type) || !utf8.ValidString(e.Data) || !utf8.ValidString(e.LastEventID) {
				t.Fatalf("invalid UTF-8 in %+q", e)
			}
		}
		if max == 0 {
			ref := refParse(in, "")
			got := refResult{one.Events, one.LastEventID, one.Retry, one.RetryOK}
			if one.Err != "" || !reflect.DeepEqual(got, ref) {
				t.Fatalf("parser: %+v\nreference: %+v", one, ref)
			}
		}
	})
}

// FuzzRoundTrip checks that what AppendMessage writes parses back to the
// message: the type ("message" when empty), the data with CRLF and CR turned
// into LF, the id (or "" after ResetID, or the previous id when ID is empty)
// and the retry. Text is compared decoded, since invalid UTF-8 reaches the
// client as U+FFFD. Messages the encoder refuses must be exactly the ones
// that cannot be written faithfully.
func FuzzRoundTrip(f *testing.F) {
	f.Add("", "", "", false, int64(0))
	f.Add("tick", "a\nb", "1", false, int64(1500))
	f.Add("", "a\r\nb\rc\n", "", true, int64(0))
	f.Add(" t", " d", " i", false, int64(1))
	f.Add("\xEF\xBB\xBF", "\xEF\xBB\xBFdata: x", "\xE2\x82", false, int64(0))
	f.Add("a\nb", "x", "", false, int64(0))
	f.Add("", "x", "a\x00", false, int64(0))
	f.Add("", "x", "a", true, int64(-1))
	f.Fuzz(func(t *testing.T, typ, data, id string, resetID bool, retry int64) {
		m := Message{Type: typ, Data: data, ID: id, ResetID: resetID, Retry: retry}
		refuse := strings.ContainsAny(typ, "\r\n") || strings.ContainsAny(id, "\r\n\x00") ||
			(resetID && id != "") || retry < 0
		b, err := AppendMessage(nil, m)
		if (err != nil) != refuse {
			t.Fatalf("AppendMessage(%#v) error %v, want refusal: %v", m, err, refuse)
		}
		if err != nil {
			return
		}
		b = append(b, b...) // twice, to check the framing between messages
		var p Parser
		p.SetLastEventID("previous")
		var got []Event
		if err := p.Feed(b, func(e Event) { got = append(got, e) }); err != nil {
			t.Fatal(err)
		}
		want := Event{Type: "message", Data: DecodeUTF8([]byte(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(data)))}
		if typ != "" {
			want.Type = DecodeUTF8([]byte(typ))
		}
		switch {
		case resetID:
			want.LastEventID = ""
		case id != "":
			want.LastEventID = DecodeUTF8([]byte(id))
		default:
			want.LastEventID = "previous"
		}
		if !reflect.DeepEqual(got, []Event{want, want}) {
			t.Fatalf("wrote %q\nparsed %+q\nwant   %+q twice", b, got, want)
		}
		if ms, ok := p.Retry(); ok != (retry > 0) || (ok && ms != retry) {
			t.Fatalf("retry %d, %v; want %d", ms, ok, retry)
		}
	})
}

// FuzzUTF8 checks AppendUTF8 against the WHATWG streaming decoder fed the
// same bytes in chunks, and that its output is always valid UTF-8.
func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.in), fuzzCuts)
	}
	for _, tc := range parseCases {
		f.Add([]byte(tc.in), []byte{})
	}
	f.Fuzz(func(t *testing.T, in, cuts []byte) {
		got := AppendUTF8(nil, in)
		if want := refDecodeChunks(chunksFrom(in, cuts)); string(got) != want {
			t.Fatalf("AppendUTF8(% X) = %+q, want %+q", in, got, want)
		}
		if !utf8.Valid(got) {
			t.Fatalf("AppendUTF8(% X) = %+q is not valid UTF-8", in, got)
		}
		if utf8.Valid(in) && string(got) != string(in) {
			t.Fatalf("valid input % X changed to %+q", in, got)
		}
		if s := DecodeUTF8(in); s != string(got) {
			t.Fatalf("DecodeUTF8 = %+q, AppendUTF8 = %+q", s, got)
		}
	})
}
