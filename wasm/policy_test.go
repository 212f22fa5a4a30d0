package main

import (
	"testing"
	"time"
)

func TestIsEventStream(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want bool
	}{
		{"text/event-stream", true},
		{"TEXT/Event-Stream", true},
		{"text/event-stream;charset=utf-8", true},
		{"text/event-stream; charset=iso-8859-1", true},
		{"text/event-stream;", true},
		{" text/event-stream ", true},
		{"", false},
		{"text/plain", false},
		{"text/event-stream-x", false},
		{"text/event-streamx;charset=utf-8", false},
		{"bogus", false},
	} {
		if got := isEventStream(tc.ct); got != tc.want {
			t.Errorf("isEventStream(%q) = %v, want %v", tc.ct, got, tc.want)
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
		"about:blank":                   "null",
	} {
		if got := originOf(in); got != want {
			t.Errorf("originOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReconnectDelay(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		ok   bool
		want time.Duration
	}{
		{0, false, 3 * time.Second},
		{0, true, 0},
		{50, true, 50 * time.Millisecond},
		{1 << 40, true, maxTimer},
		{-1, true, maxTimer},
	} {
		if got := reconnectDelay(tc.ms, tc.ok); got != tc.want {
			t.Errorf("reconnectDelay(%d, %v) = %v, want %v", tc.ms, tc.ok, got, tc.want)
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

func TestShouldReconnect(t *testing.T) {
	yes, no := true, false
	for _, tc := range []struct {
		method string
		opt    *bool
		want   bool
	}{
		{"GET", nil, true},
		{"get", nil, true},
		{"POST", nil, false},
		{"PUT", nil, false},
		{"POST", &yes, true},
		{"GET", &no, false},
	} {
		if got := shouldReconnect(tc.method, tc.opt); got != tc.want {
			t.Errorf("shouldReconnect(%q, %v) = %v", tc.method, tc.opt, got)
		}
	}
}
