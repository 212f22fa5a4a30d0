package core

import "strings"

// isFetchableURL reports whether a serialized URL can be streamed: http,
// https, and (as Chromium allows) data: and blob: URLs. Other schemes fail
// at once, as native EventSource fails them.
func isFetchableURL(href string) bool {
	for _, scheme := range []string{"http:", "https:", "data:", "blob:"} {
		if strings.HasPrefix(href, scheme) {
			return true
		}
	}
	return false
}

// originOf returns the serialized origin of an absolute, already serialized
// http(s) or blob: URL ("http://127.0.0.1:8080/x?y" -> "http://127.0.0.1:8080"),
// or "null" for anything else (data: URLs included). Serialized URLs carry no default port and a
// lower-case scheme and host, so no further normalisation is needed.
func originOf(href string) string {
	// A blob: URL has the origin of the document that made it, written
	// after the scheme.
	href = strings.TrimPrefix(href, "blob:")
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
