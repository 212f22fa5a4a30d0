package sse

import (
	"testing"
	"unicode/utf8"
)

// utf8Cases are decoding fixtures: WHATWG "UTF-8 decode" results, which are
// also what TextDecoder returns.
var utf8Cases = []struct {
	name, in, want string
}{
	{"empty", "", ""},
	{"ASCII", "hello", "hello"},
	{"NUL", "a\x00b", "a\x00b"},
	{"2, 3 and 4 bytes", "é€😀", "é€😀"},
	{"max code point", "\xF4\x8F\xBF\xBF", "\U0010FFFF"},
	{"BOM is an ordinary character", "\xEF\xBB\xBF", "\uFEFF"},
	{"truncated 3-byte sequence then ASCII", "\xE2\x82A", "\uFFFDA"},
	{"truncated 3-byte sequence at end", "\xE2\x82", "\uFFFD"},
	{"truncated 4-byte sequence at end", "\xF0\x9F\x98", "\uFFFD"},
	{"truncated 4-byte sequence then valid", "\xF0\x9F\x98é", "\uFFFDé"},
	{"not a BOM", "\xEF\xBBA", "\uFFFDA"},
	{"surrogate", "\xED\xA0\x80", "\uFFFD\uFFFD\uFFFD"},
	{"last surrogate", "\xED\xBF\xBF", "\uFFFD\uFFFD\uFFFD"},
	{"just below surrogates", "\xED\x9F\xBF", "\uD7FF"},
	{"overlong NUL", "\xC0\x80", "\uFFFD\uFFFD"},
	{"overlong C1", "\xC1\xBF", "\uFFFD\uFFFD"},
	{"overlong 3-byte", "\xE0\x80\x80", "\uFFFD\uFFFD\uFFFD"},
	{"overlong 4-byte", "\xF0\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"above U+10FFFF", "\xF4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"F5 lead", "\xF5\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	{"FF", "\xFF", "\uFFFD"},
	{"lone continuation bytes", "\x80\xBF", "\uFFFD\uFFFD"},
	{"lead byte then lead byte", "\xC3\xC3\xA9", "\uFFFDé"},
	{"3-byte lead then 2-byte sequence", "\xE2é", "\uFFFDé"},
	// Unicode Standard, Table 3-8 (U+FFFD for maximal subparts).
	{"Unicode table 3-8", "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd"},
}

func TestAppendUTF8(t *testing.T) {
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(AppendUTF8([]byte("<"), []byte(tc.in))); got != "<"+tc.want {
				t.Errorf("AppendUTF8 = %+q, want %+q", got, "<"+tc.want)
			}
			if got := DecodeUTF8([]byte(tc.in)); got != tc.want {
				t.Errorf("DecodeUTF8 = %+q, want %+q", got, tc.want)
			}
			if got := refDecodeChunks([][]byte{[]byte(tc.in)}); got != tc.want {
				t.Errorf("reference decoder = %+q, want %+q", got, tc.want)
			}
		})
	}
}

// TestAppendUTF8Exhaustive compares AppendUTF8 with the reference decoder on
// every sequence of up to three bytes taken from the bytes where UTF-8
// changes its rules, and on every 2-byte sequence.
func TestAppendUTF8Exhaustive(t *testing.T) {
	edges := []byte{0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
		0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF}
	check := func(in []byte) {
		got := AppendUTF8(nil, in)
		if want := refDecodeChunks([][]byte{in}); string(got) != want {
			t.Fatalf("AppendUTF8(% X) = %+q, want %+q", in, got, want)
		}
		if !utf8.Valid(got) {
			t.Fatalf("AppendUTF8(% X) = %+q, not valid UTF-8", in, got)
		}
	}
	for a := range 256 {
		for b := range 256 {
			check([]byte{byte(a), byte(b)})
		}
	}
	for _, a := range edges {
		for _, b := range edges {
			for _, c := range edges {
				for _, d := range edges {
					check([]byte{a, b, c, d})
				}
			}
		}
	}
}

// TestStreamDecodingEquivalence checks, on the fixtures, the claim the
// parser rests on: splitting lines on bytes and decoding each line gives the
// same text as decoding the whole stream (in any chunking) and splitting the
// text. FuzzChunking checks it on arbitrary input through refParse.
func TestStreamDecodingEquivalence(t *testing.T) {
	for _, tc := range parseCases {
		in := []byte(tc.in)
		whole := refDecodeChunks(split(in, len(in)/2))
		var perLine []byte
		for rest := in; len(rest) > 0; {
			i := 0
			for i < len(rest) && rest[i] != '\r' && rest[i] != '\n' {
				i++
			}
			perLine = AppendUTF8(perLine, rest[:i])
			if i == len(rest) {
				break
			}
			perLine = append(perLine, rest[i])
			rest = rest[i+1:]
		}
		if string(perLine) != whole {
			t.Errorf("%s: per line %+q, whole stream %+q", tc.rules, perLine, whole)
		}
	}
}
