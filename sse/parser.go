package sse

import "bytes"

// Event is one dispatched event, as the WHATWG "dispatch the event" step
// produces it.
type Event struct {
	Type        string // the event type; "message" when the stream named none (or named "")
	Data        string // data lines joined with "\n", valid UTF-8 (ill-formed input replaced by U+FFFD)
	LastEventID string // the last event ID string at dispatch time
}

// DefaultMaxEventSize is the limit a [Parser] applies when its MaxEventSize
// is zero: 32 MiB.
const DefaultMaxEventSize = 32 << 20 // bytes

// keepCap is the largest capacity a buffer may keep once it has been emptied.
// Buffers up to this size are reused from event to event, so steady streams
// do not allocate for them, even streams of events of hundreds of KiB
// (allocating and clearing a fresh buffer per event cost the WASM client a
// tenth of its time on 256 KiB events); a buffer that grew past it for one
// larger event or line is released, so that a single burst does not pin
// memory for the life of the connection.
const keepCap = 1 << 20

// bom is the UTF-8 byte order mark, stripped once at the start of a stream.
const bom = "\xEF\xBB\xBF"

// Parser is an incremental text/event-stream parser for one EventSource
// object: it keeps the per-stream buffers and also the object-level state
// that survives reconnection (last event ID string, reconnection time).
//
// The zero value is ready to parse a stream. Call [Parser.Reset] before
// feeding the body of each new connection. A Parser is not safe for
// concurrent use.
type Parser struct {
	// MaxEventSize is the most bytes buffered for one event: the data
	// buffer (decoded) plus the current line (raw, without its line end).
	// Zero or negative means DefaultMaxEventSize. Any line longer than the
	// limit is an error, even a comment or an unknown field that would be
	// ignored: the parser cannot know what a line is worth before its end,
	// and counting every line the same way makes the outcome independent of
	// how the stream is chunked.
	MaxEventSize int

	// Per stream (cleared by Reset).
	pending []byte // the unfinished line: raw bytes left over from earlier chunks
	data    []byte // data buffer, decoded: each data value followed by LF
	typ     []byte // event type buffer, decoded
	id      []byte // last event ID buffer, decoded
	bomSeen int    // bytes of a leading BOM matched so far (0..2)
	bomDone bool   // the leading-BOM check is over for this stream
	skipLF  bool   // the last chunk ended with CR: an LF opening the next chunk belongs to that line end
	err     error  // the error that stopped this stream; returned until Reset

	// Per EventSource object (kept by Reset).
	lastID   string // the last event ID string
	lastType string // the last named type dispatched, reused to avoid an allocation per event
	retry    int64  // reconnection time in milliseconds
	retryOK  bool   // whether a valid retry field was ever seen
}

// Feed parses the next chunk of the body, calling emit once per complete
// event, in order. Any chunking of the same bytes gives the same events,
// the same state and the same error. It returns an error only when an event
// or line exceeds MaxEventSize (a *LimitError, also matching
// errors.Is(err, ErrEventTooLarge)); events emitted before the error stand.
// After an error the parser must be Reset before it is fed again: until then
// Feed returns the same error and parses nothing.
//
// Feed does not keep chunk. emit may be nil (the fields still take effect);
// it must not call Feed or Reset on the same parser.
func (p *Parser) Feed(chunk []byte, emit func(Event)) error {
	if emit == nil {
		return p.FeedRaw(chunk, nil)
	}
	return p.FeedRaw(chunk, func(typ string, data []byte, lastEventID string) {
		emit(Event{Type: typ, Data: string(data), LastEventID: lastEventID})
	})
}

// RawEventFunc receives one event from [Parser.FeedRaw]. typ and lastEventID
// are as in [Event]; data is the event's data, valid only until the function
// returns (the parser reuses its memory).
type RawEventFunc func(typ string, data []byte, lastEventID string)

// FeedRaw is Feed without the one allocation per event that Event.Data
// costs: emit sees the data buffer itself. It is for callers that copy the
// data elsewhere at once, such as the WASM engine laying out a batch for JS.
func (p *Parser) FeedRaw(chunk []byte, emit RawEventFunc) error {
	if p.err != nil {
		return p.err
	}
	if len(chunk) == 0 {
		return nil
	}
	if !p.bomDone {
		if chunk = p.stripBOM(chunk); len(chunk) == 0 {
			return nil
		}
	}
	if p.skipLF {
		p.skipLF = false
		if chunk[0] == '\n' {
			if chunk = chunk[1:]; len(chunk) == 0 {
				return nil
			}
		}
	}
	limit := p.limit()
	// cr and lf are the positions of the next CR and LF at or after i, or -1
	// when the rest of the chunk has none. They are searched again only once
	// i has passed them, so a chunk is scanned once for each byte value
	// however many lines it holds.
	cr, lf := -2, -2
	i := 0
	for i < len(chunk) {
		if cr != -1 && cr < i {
			cr = indexFrom(chunk, i, '\r')
		}
		if lf != -1 && lf < i {
			lf = indexFrom(chunk, i, '\n')
		}
		end := cr
		if end < 0 || (lf >= 0 && lf < end) {
			end = lf
		}
		if end < 0 {
			break
		}
		if len(p.data)+len(p.pending)+end-i > limit {
			return p.fail(limit)
		}
		line := chunk[i:end]
		if len(p.pending) > 0 {
			p.pending = append(grow(p.pending, len(line), limit), line...)
			line = p.pending
		}
		err := p.line(line, emit, limit)
		p.pending = recycle(p.pending)
		if err != nil {
			return err
		}
		i = end + 1
		if chunk[end] == '\r' {
			if i == len(chunk) {
				p.skipLF = true
			} else if chunk[i] == '\n' {
				i++
			}
		}
	}
	if tail := chunk[i:]; len(tail) > 0 {
		if len(p.data)+len(p.pending)+len(tail) > limit {
			return p.fail(limit)
		}
		p.pending = append(grow(p.pending, len(tail), limit), tail...)
	}
	return nil
}

// Reset starts a new stream (a new connection): drops the unfinished line and
// the data and event type buffers, re-arms stripping of one leading BOM, and
// re-seeds the last-event-ID buffer from the last event ID string (checklist
// rule 55: an id seen in an event cut off by the end of the previous stream
// does not leak into the next one, while the id of the last dispatched event
// carries over). LastEventID and the reconnection time survive.
func (p *Parser) Reset() {
	p.pending = recycle(p.pending)
	p.data = recycle(p.data)
	p.typ = recycle(p.typ)
	p.id = append(recycle(p.id), p.lastID...)
	p.bomSeen, p.bomDone, p.skipLF, p.err = 0, false, false, nil
}

// LastEventID returns the last event ID string: the id buffer as it was at
// the last dispatch (rule 47), whether or not that dispatch fired an event.
func (p *Parser) LastEventID() string { return p.lastID }

// SetLastEventID sets the last event ID string, and the id buffer of the
// current stream with it, as if a stream had dispatched an event with that
// id. Use it to seed a parser for a client that starts from a known id.
func (p *Parser) SetLastEventID(id string) {
	p.lastID = id
	p.id = append(recycle(p.id), id...)
}

// Retry returns the reconnection time in milliseconds set by the last valid
// `retry` field, and whether one is in force: a `retry` field with an empty
// value restores the default (ok false), as Chromium does. A value that
// overflows uint64 (2^64 and up) is ignored, as Chromium ignores it; values
// between 2^63 and 2^64-1 saturate at math.MaxInt64.
func (p *Parser) Retry() (ms int64, ok bool) { return p.retry, p.retryOK }

// stripBOM consumes the bytes of a leading BOM from the start of chunk and
// returns the rest. A BOM may arrive split across chunks, so the bytes
// matched so far are only counted; if the stream turns out not to start with
// a BOM (EF BB 41...), they are given back as the start of the first line.
func (p *Parser) stripBOM(chunk []byte) []byte {
	for len(chunk) > 0 {
		if chunk[0] != bom[p.bomSeen] {
			p.pending = append(p.pending, bom[:p.bomSeen]...)
			p.bomDone = true
			return chunk
		}
		chunk = chunk[1:]
		if p.bomSeen++; p.bomSeen == len(bom) {
			p.bomDone = true
			return chunk
		}
	}
	return chunk
}

func (p *Parser) limit() int {
	if p.MaxEventSize > 0 {
		return p.MaxEventSize
	}
	return DefaultMaxEventSize
}

// fail records the limit error that stops the stream.
func (p *Parser) fail(limit int) error {
	p.err = &LimitError{Limit: limit}
	return p.err
}

// indexFrom returns the index of the first c in b at or after from, or -1.
func indexFrom(b []byte, from int, c byte) int {
	if i := bytes.IndexByte(b[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// grow returns b with room for n more bytes, doubling its capacity when it
// must grow, but never past limit (the most the buffer may hold, so that a
// stream's buffers stay proportional to MaxEventSize however an event
// arrives). append grows large slices by a quarter only, which would copy a
// line arriving in many chunks about five times over; doubling copies it
// about once.
func grow(b []byte, n, limit int) []byte {
	if n <= cap(b)-len(b) {
		return b
	}
	c := max(min(2*cap(b), limit), len(b)+n, 64)
	return append(b[:cap(b)], make([]byte, c-cap(b))...)[:len(b)]
}

// recycle empties b for reuse, or releases it when it has grown too large to
// be worth keeping (see keepCap).
func recycle(b []byte) []byte {
	if cap(b) > keepCap {
		return nil
	}
	return b[:0]
}
