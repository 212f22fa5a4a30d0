package main

import (
	"strings"
	"time"
)

// DefaultRetry is the reconnection time before any `retry:` field, as in Chromium.
const DefaultRetry = 3000 * time.Millisecond

// maxTimer is the longest delay setTimeout honours; larger values fire at once.
const maxTimer = (1<<31 - 1) * time.Millisecond

// reconnectDelay turns the parser's reconnection time into a timer duration.
func reconnectDelay(ms int64, ok bool) time.Duration {
	if !ok {
		return DefaultRetry
	}
	if ms < 0 || ms > int64(maxTimer/time.Millisecond) {
		return maxTimer
	}
	return time.Duration(ms) * time.Millisecond
}

// isEventStream reports whether a Content-Type header value has the MIME
// essence text/event-stream. Parameters (charset included) do not matter:
// the body is always UTF-8.
func isEventStream(contentType string) bool {
	essence, _, _ := strings.Cut(contentType, ";")
	return asciiEqualFold(strings.Trim(essence, " \t\r\n"), "text/event-stream")
}

// isHTTPURL reports whether a serialized URL can be fetched as an event
// stream. Other schemes fail at once, as native EventSource fails them.
func isHTTPURL(href string) bool {
	return strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://")
}

// originOf returns the serialized origin of an absolute, already serialized
// http(s) URL ("http://127.0.0.1:8080/x?y" -> "http://127.0.0.1:8080"), or
// "null" for anything else. Serialized URLs carry no default port and a
// lower-case scheme and host, so no further normalisation is needed.
func originOf(href string) string {
	scheme, rest, ok := strings.Cut(href, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return "null"
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return scheme + "://" + rest
}

// latin1 spells the bytes of s as a JS "binary string" (one code point per
// byte). fetch only takes header values made of code points below 256 and
// sends them as those bytes, so this is how a UTF-8 Last-Event-ID reaches the
// server as raw UTF-8, as native EventSource sends it.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// shouldReconnect decides whether a stream that ended or dropped is opened
// again. Native EventSource always reconnects; it only ever sends GET. A
// request with another method (an LLM prompt sent by POST) is not re-sent
// unless the caller asked for it, because the server would act on it again.
func shouldReconnect(method string, opt *bool) bool {
	if opt != nil {
		return *opt
	}
	return asciiEqualFold(method, "GET") || method == ""
}

// asciiEqualFold compares ASCII case-insensitively, as HTTP tokens and MIME
// types are compared. (strings.EqualFold would link Unicode case tables into
// the WASM binary for nothing.)
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
