package core

import "strings"

// checkContentType decides whether a response's Content-Type opens the
// stream, the way Chromium's EventSource decides: the header is read with
// Fetch's "extract a MIME type" (of a comma-separated list, the last valid
// type wins), its essence must be text/event-stream, and a charset
// parameter, if any, must be UTF-8 (Chromium fails the connection for any
// other, although the standard says to ignore it). It returns "" when the
// stream may open, else the reason it may not.
func checkContentType(header string) string {
	essence, charset, ok := extractMIMEType(header)
	switch {
	case !ok:
		if header == "" {
			return "Content-Type is missing, not text/event-stream"
		}
		return "Content-Type " + header + " is not text/event-stream"
	case !asciiEqualFold(essence, "text/event-stream"):
		return "Content-Type is " + essence + ", not text/event-stream"
	case charset != "" && !asciiEqualFold(charset, "utf-8"):
		return "Content-Type charset " + charset + " is not UTF-8"
	}
	return ""
}

// extractMIMEType is Fetch's "extract a MIME type" reduced to what an
// EventSource needs: the essence (as written: compare it ASCII
// case-insensitively) and the charset parameter.
func extractMIMEType(header string) (essence, charset string, ok bool) {
	for _, value := range splitList(header) {
		e, c, hasCharset, valid := parseMIMEType(value)
		if !valid || e == "*/*" {
			continue
		}
		switch {
		case !asciiEqualFold(e, essence):
			charset = c
		case hasCharset:
			charset = c
		}
		essence, ok = e, true
	}
	return essence, charset, ok
}

// splitList splits a header value on commas that are not inside a quoted
// string (Fetch's "get, decode, and split").
func splitList(v string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted && i+1 < len(v):
			i++
		case c == ',' && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// parseMIMEType parses type/subtype;name=value;... (the MIME Sniffing
// standard's parser, without its error recovery for odd parameters) and
// returns the essence and the first valid charset parameter.
func parseMIMEType(v string) (essence, charset string, hasCharset, ok bool) {
	v = strings.Trim(v, httpSpace)
	head, rest, _ := strings.Cut(v, ";")
	typ, sub, found := strings.Cut(head, "/")
	sub = strings.TrimRight(sub, httpSpace)
	if !found || !isToken(typ) || !isToken(sub) {
		return "", "", false, false
	}
	// Parameters: a quoted value may hold ';' (foo="a;charset=x" is one
	// parameter named foo), so the rest is scanned, not split.
	for rest != "" && !hasCharset {
		rest = strings.TrimLeft(rest, httpSpace)
		end := strings.IndexAny(rest, ";=")
		if end < 0 {
			break
		}
		name := rest[:end]
		if rest[end] == ';' {
			rest = rest[end+1:]
			continue
		}
		rest = rest[end+1:]
		var value string
		if rest != "" && rest[0] == '"' {
			var n int
			value, n = unquote(rest)
			rest = rest[n:]
			_, rest, _ = strings.Cut(rest, ";")
		} else {
			value, rest, _ = strings.Cut(rest, ";")
			value = strings.TrimRight(value, httpSpace)
		}
		if asciiEqualFold(name, "charset") && value != "" {
			charset, hasCharset = value, true
		}
	}
	return strings.TrimLeft(head, httpSpace)[:len(typ)+1+len(sub)], charset, hasCharset, true
}

const httpSpace = " \t\r\n"

// unquote reads the HTTP quoted string at the start of v (which starts with
// a quote) and returns its value and the bytes it took, closing quote
// included (an unclosed string runs to the end).
func unquote(v string) (string, int) {
	var b []byte
	for i := 1; i < len(v); i++ {
		switch c := v[i]; c {
		case '"':
			return string(b), i + 1
		case '\\':
			if i+1 < len(v) {
				i++
				b = append(b, v[i])
			}
		default:
			b = append(b, c)
		}
	}
	return string(b), len(v)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
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
