package core

import (
	"strings"
	"testing"
)

func TestCheckContentType(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want string // "" when the stream opens, else a part of the reason
	}{
		{"text/event-stream", ""},
		{"TEXT/Event-Stream", ""},
		{"text/event-stream;charset=utf-8", ""},
		{"text/event-stream; charset=UTF-8", ""},
		{`text/event-stream; charset="utf-8"`, ""},
		{"text/event-stream;", ""},
		{" text/event-stream ", ""},
		{"text/event-stream; foo=bar", ""},
		{`text/event-stream; foo="bar;charset=latin1"`, ""}, // one parameter named foo
		{`text/event-stream; foo="bar;charset=latin1"; charset=latin1`, "charset latin1"},
		{`text/event-stream; foo="b\"ar;x"; charset="utf-8"`, ""},
		{"text/event-stream;;charset=latin1", "charset latin1"},
		{"text/event-stream; charset", ""},
		{"text/plain, text/event-stream", ""}, // the last valid type wins
		{"text/event-stream, */*", ""},
		{"text/event-stream, text/plain", "text/plain"},
		{"text/event-stream; charset=iso-8859-1", "charset iso-8859-1"},
		{"text/event-stream; charset=windows-1252", "charset"},
		{"text/event-stream; charset=utf-16", "charset"},
		{"", "missing"},
		{"text/plain", "text/plain"},
		{"text/event-stream-x", "text/event-stream-x"},
		{"bogus", "bogus"},
		{"text/event stream", "not text/event-stream"},
	} {
		got := checkContentType(tc.ct)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("checkContentType(%q) = %q, want %q", tc.ct, got, tc.want)
		}
	}
}

func TestIsFetchableURL(t *testing.T) {
	for in, want := range map[string]bool{
		"http://127.0.0.1/": true, "https://x.test/": true, "data:text/event-stream,data:%20x%0A%0A": true,
		"blob:http://127.0.0.1/uuid": true, "ftp://127.0.0.1/": false, "about:blank": false,
		"mailto:x@y": false, "javascript:1": false, "file:///etc/passwd": false,
	} {
		if got := isFetchableURL(in); got != want {
			t.Errorf("isFetchableURL(%q) = %v", in, got)
		}
	}
}

func TestOriginOf(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080/a/b?c#d": "http://127.0.0.1:8080",
		"https://example.test":          "https://example.test",
		"http://u:p@127.0.0.1/x":        "http://127.0.0.1",
		"http://[::1]:9/x":              "http://[::1]:9",
		"ftp://127.0.0.1/":              "null",
		"blob:http://127.0.0.1:9/uuid":  "http://127.0.0.1:9",
		"data:text/plain,x":             "null",
		"about:blank":                   "null",
	} {
		if got := originOf(in); got != want {
			t.Errorf("originOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLatin1(t *testing.T) {
	if got := latin1("abc"); got != "abc" {
		t.Errorf("ascii changed: %q", got)
	}
	// "é" is C3 A9 in UTF-8: two code points U+00C3 U+00A9, sent as those two bytes.
	if got := latin1("é"); got != "\u00c3\u00a9" {
		t.Errorf("latin1(é) = %q", got)
	}
}
