package sse

import (
	"bytes"
	"math"
)

// line interprets one complete line (raw bytes, line end removed), as the
// standard's "process the field" step does. It returns an error only when
// the data buffer outgrows limit.
func (p *Parser) line(line []byte, emit RawEventFunc, limit int) error {
	if len(line) == 0 {
		p.dispatch(emit)
		return nil
	}
	if line[0] == ':' {
		return nil // a comment
	}
	// The field name runs to the first colon; the value follows it, minus
	// one leading space. Without a colon the whole line is the name and the
	// value is empty. Splitting raw bytes is exact: ':' and ' ' are ASCII,
	// and decoding never turns other bytes into ASCII nor ASCII into other
	// characters.
	name, value := line, line[len(line):]
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) { // names are compared case-sensitively, byte for byte
	case "data":
		p.data = AppendUTF8(grow(p.data, len(value)+1, limit), value)
		p.data = append(p.data, '\n')
		if len(p.data) > limit { // decoding can make the data grow past the raw line
			return p.fail(limit)
		}
	case "event":
		p.typ = AppendUTF8(recycle(p.typ), value)
	case "id":
		if bytes.IndexByte(value, 0) < 0 { // an id holding NUL is ignored entirely
			p.id = AppendUTF8(recycle(p.id), value)
		}
	case "retry":
		if ms, ok := parseRetry(value); ok {
			p.retry, p.retryOK = ms, true // at once, dispatch or not
		} else if len(value) == 0 {
			// An empty value restores the default reconnection time. The
			// standard says to ignore it, but Chromium resets, and native
			// behaviour is what this client must match.
			p.retry, p.retryOK = 0, false
		}
	}
	return nil // any other field is ignored
}

// dispatch is the standard's "dispatch the event" step, run on a blank line.
func (p *Parser) dispatch(emit RawEventFunc) {
	// The id buffer becomes the last event ID string even when no event
	// fires. The comparison does not allocate; the conversion only happens
	// when the id changed.
	if string(p.id) != p.lastID {
		p.lastID = string(p.id)
	}
	if len(p.data) == 0 {
		p.typ = recycle(p.typ) // a type without data must not leak into the next block
		return
	}
	typ := "message"
	if len(p.typ) > 0 {
		if string(p.typ) != p.lastType {
			p.lastType = string(p.typ)
		}
		typ = p.lastType
	}
	data := p.data[:len(p.data)-1] // minus the one trailing LF
	if emit != nil {
		emit(typ, data, p.lastID)
	}
	p.data = recycle(p.data)
	p.typ = recycle(p.typ)
}

// parseRetry parses a retry value: one or more ASCII digits, nothing else (no
// sign, no spaces, no decimal point), base ten. A value that does not fit in
// 64 unsigned bits is not a number at all: Chromium reads the field with
// ToUInt64Strict and ignores it when that fails, so the reconnection time in
// force stays. Values that fit in uint64 but not in int64 saturate at
// math.MaxInt64 (Chromium clamps its timer the same way: such a delay never
// ends).
func parseRetry(v []byte) (ms int64, ok bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false // overflows uint64: ignored
		}
		n = n*10 + d
	}
	if n > math.MaxInt64 {
		return math.MaxInt64, true
	}
	return int64(n), true
}
