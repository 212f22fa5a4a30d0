package sse

import "unicode/utf8"

// replacement is U+FFFD REPLACEMENT CHARACTER in UTF-8.
const replacement = "\uFFFD"

// AppendUTF8 appends src to dst decoded as UTF-8 the way the WHATWG Encoding
// Standard's "UTF-8 decode" does it, which is what TextDecoder and every
// browser's EventSource do: well-formed sequences are copied unchanged and
// each maximal ill-formed subpart becomes one U+FFFD. The result is always
// valid UTF-8.
//
// This differs from ranging over a Go string (and from [utf8.DecodeRune]),
// which replace ill-formed input one byte at a time: E2 82 41 gives
// "\uFFFDA" here (E2 82 is one truncated sequence), but two U+FFFD and "A" in
// Go. Surrogates (ED A0 80), overlong forms (C0 80) and values above U+10FFFF
// (F4 90 80 80) are rejected at the first byte that makes them impossible, so
// each of those gives one U+FFFD per byte.
//
// src is taken as complete: a sequence truncated by the end of src becomes
// U+FFFD. Valid input (the common case) is copied in one step.
func AppendUTF8(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	start := 0 // first byte of the well-formed run not yet copied
	for i := 0; i < len(src); {
		if src[i] < utf8.RuneSelf {
			i++
			continue
		}
		n, ok := scanUTF8(src[i:])
		if !ok {
			dst = append(dst, src[start:i]...)
			dst = append(dst, replacement...)
			start = i + n
		}
		i += n
	}
	return append(dst, src[start:]...)
}

// DecodeUTF8 returns src decoded as [AppendUTF8] decodes it.
func DecodeUTF8(src []byte) string {
	if utf8.Valid(src) {
		return string(src)
	}
	return string(AppendUTF8(make([]byte, 0, len(src)+len(src)/2), src))
}

// scanUTF8 looks at the sequence starting with s[0] (a non-ASCII byte) and
// returns its length n and ok == true when it is well-formed, or the length n
// of its maximal ill-formed subpart (at least 1) and ok == false. The bounds
// of the second byte are the ones of Unicode Table 3-7, which is also how the
// WHATWG decoder narrows them.
func scanUTF8(s []byte) (n int, ok bool) {
	c := s[0]
	need := 0
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case 0xC2 <= c && c <= 0xDF:
		need = 1
	case 0xE0 <= c && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0 // no overlong forms
		} else if c == 0xED {
			hi = 0x9F // no surrogates
		}
	case 0xF0 <= c && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90 // no overlong forms
		} else if c == 0xF4 {
			hi = 0x8F // nothing above U+10FFFF
		}
	default: // continuation byte, C0, C1 or F5..FF: never starts a sequence
		return 1, false
	}
	for k := 1; k <= need; k++ {
		if k == len(s) || s[k] < lo || s[k] > hi {
			return k, false
		}
		lo, hi = 0x80, 0xBF
	}
	return need + 1, true
}
