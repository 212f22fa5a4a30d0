package sse

import (
	"strconv"
	"strings"
)

// This file holds straightforward reference implementations, written to read
// like the standards rather than to be fast. The tests check the real code
// against them: AppendUTF8 against a streaming decoder fed in any chunking,
// and Parser (which splits lines on bytes, then decodes values) against a
// parser that decodes the whole stream first and then follows the HTML
// Standard's algorithm on text.

// refDecoder is the WHATWG Encoding Standard's UTF-8 decoder, step by step:
// one byte at a time, with its state carried across calls, so that a
// sequence split between two chunks is reassembled.
type refDecoder struct {
	codePoint  rune
	bytesSeen  int
	bytesNeed  int
	lowerBound byte
	upperBound byte
}

func newRefDecoder() *refDecoder {
	return &refDecoder{lowerBound: 0x80, upperBound: 0xBF}
}

// write decodes chunk, appending the code points it completes to out.
func (d *refDecoder) write(out []rune, chunk []byte) []rune {
	for _, b := range chunk {
		out = d.handle(out, b)
	}
	return out
}

func (d *refDecoder) handle(out []rune, b byte) []rune {
	if d.bytesNeed == 0 {
		switch {
		case b <= 0x7F:
			return append(out, rune(b))
		case 0xC2 <= b && b <= 0xDF:
			d.bytesNeed = 1
			d.codePoint = rune(b & 0x1F)
		case 0xE0 <= b && b <= 0xEF:
			if b == 0xE0 {
				d.lowerBound = 0xA0
			}
			if b == 0xED {
				d.upperBound = 0x9F
			}
			d.bytesNeed = 2
			d.codePoint = rune(b & 0xF)
		case 0xF0 <= b && b <= 0xF4:
			if b == 0xF0 {
				d.lowerBound = 0x90
			}
			if b == 0xF4 {
				d.upperBound = 0x8F
			}
			d.bytesNeed = 3
			d.codePoint = rune(b & 0x7)
		default:
			return append(out, 0xFFFD)
		}
		return out
	}
	if b < d.lowerBound || b > d.upperBound {
		// "Set code point, bytes needed, and bytes seen to 0, set lower
		// bound to 0x80 and upper bound to 0xBF, restore byte to ioQueue,
		// and return error."
		*d = refDecoder{lowerBound: 0x80, upperBound: 0xBF}
		out = append(out, 0xFFFD)
		return d.handle(out, b)
	}
	d.lowerBound, d.upperBound = 0x80, 0xBF
	d.codePoint = d.codePoint<<6 | rune(b&0x3F)
	d.bytesSeen++
	if d.bytesSeen != d.bytesNeed {
		return out
	}
	cp := d.codePoint
	*d = refDecoder{lowerBound: 0x80, upperBound: 0xBF}
	return append(out, cp)
}

// end flushes the decoder at the end of the stream.
func (d *refDecoder) end(out []rune) []rune {
	if d.bytesNeed != 0 {
		*d = refDecoder{lowerBound: 0x80, upperBound: 0xBF}
		out = append(out, 0xFFFD)
	}
	return out
}

// refDecodeChunks decodes the concatenation of chunks with the streaming
// decoder, without BOM handling.
func refDecodeChunks(chunks [][]byte) string {
	d := newRefDecoder()
	var out []rune
	for _, c := range chunks {
		out = d.write(out, c)
	}
	return string(d.end(out))
}

// refResult is the observable outcome of parsing one stream.
type refResult struct {
	Events      []Event
	LastEventID string
	Retry       int64
	RetryOK     bool
}

// refParse parses one complete body with the HTML Standard's algorithm,
// applied literally to the text produced by "UTF-8 decode" (which strips one
// leading BOM). seedID is the last event ID string before the stream, which
// also seeds the id buffer (rule 55).
func refParse(body []byte, seedID string) refResult {
	if strings.HasPrefix(string(body), bom) {
		body = body[len(bom):]
	}
	text := refDecodeChunks([][]byte{body})
	r := refResult{LastEventID: seedID}
	var data, eventType string
	idBuffer := seedID
	for {
		// "Lines must be separated by either a CRLF pair, a single LF, or
		// a single CR." A final line without its end is not a line.
		i := strings.IndexAny(text, "\r\n")
		if i < 0 {
			return r
		}
		line := text[:i]
		if strings.HasPrefix(text[i:], "\r\n") {
			text = text[i+2:]
		} else {
			text = text[i+1:]
		}
		var field, value string
		switch {
		case line == "":
			// Dispatch the event.
			r.LastEventID = idBuffer
			if data == "" {
				eventType = ""
				continue
			}
			data = strings.TrimSuffix(data, "\n")
			typ := "message"
			if eventType != "" {
				typ = eventType
			}
			r.Events = append(r.Events, Event{Type: typ, Data: data, LastEventID: r.LastEventID})
			data, eventType = "", ""
			continue
		case strings.HasPrefix(line, ":"):
			continue
		case strings.Contains(line, ":"):
			field, value, _ = strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
		default:
			field = line
		}
		switch field {
		case "event":
			eventType = value
		case "data":
			data += value + "\n"
		case "id":
			if !strings.ContainsRune(value, 0) {
				idBuffer = value
			}
		case "retry":
			if value != "" && strings.Trim(value, "0123456789") == "" {
				// Chromium: ToUInt64Strict, the field ignored when it
				// fails (a value of 2^64 or more).
				if u, err := strconv.ParseUint(value, 10, 64); err == nil {
					r.Retry, r.RetryOK = int64(min(u, 1<<63-1)), true
				}
			} else if value == "" { // Chromium: an empty value restores the default
				r.Retry, r.RetryOK = 0, false
			}
		}
	}
}
