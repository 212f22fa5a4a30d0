package core

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// Out is where a Source writes the actions that one input produced, laid out
// so that the JS host can read them straight out of the module's linear
// memory, with no call back into Go and no copy before decoding:
//
//   - Words is a sequence of records of int32 words, each starting with its
//     Op (the layouts are given at each Op below).
//   - Text holds the UTF-8 of every string a record refers to, as an
//     (offset, length) pair of words in bytes, except event texts (below).
//
// An OpEvents record carries a whole batch of events: their types, data and
// ids lie back to back in Text, and the record's table gives their lengths
// in UTF-16 code units, which is how JS slices the one string it decodes the
// batch into (a Go string turned into a JS string costs a crossing each; one
// decode for the whole batch costs one TextDecoder call).
//
// The host must decode an Out completely before it calls the Source again:
// the next input overwrites it.
type Out struct {
	Words []int32
	Text  []byte

	batchAt int    // index in Words of the open OpEvents record, or -1
	sentID  string // last event ID as carried by the open OpEvents record
}

// Op identifies an action record in Out.Words.
type Op int32

const (
	// OpFetch: [op, attempt, prevStatus, flags, urlOff, urlLen, lidOff, lidLen]
	// Make the request (see Fetch*). lid is the Last-Event-ID to send, as
	// UTF-8 (empty: send none).
	OpFetch Op = iota + 1
	// OpAbort: [op] Abort the request in flight, if any.
	OpAbort
	// OpOpen: [op] Announce the connection: readyState OPEN, fire open.
	OpOpen
	// OpEvents: [op, n, textOff, textLen, then n × (typeLen, dataLen, idLen)]
	// Dispatch n message events. Lengths are in UTF-16 code units; a type
	// length of -1 means "message" (not in the text); an id length of -1
	// means the same id as the previous event of the record (the first
	// event always carries its id).
	OpEvents
	// OpError: [op, readyState, kind, status, attempt, retryIn, msgOff, msgLen]
	// Set readyState and fire error. retryIn is -1 when no attempt follows.
	OpError
	// OpClose: [op] The stream ended for good: readyState CLOSED, fire close.
	OpClose
	// OpTimer: [op, ms] Arm the source's one timer (replacing it); -1 clears it.
	OpTimer
	// OpProbe: [op, urlOff, urlLen] Tell a CORS refusal from a network error
	// after a rejected fetch; answer with Source.Probed.
	OpProbe
	// OpState: [op, readyState] Set readyState without an event (a pause).
	OpState
	// OpFree: [op] The source is finished; the host may forget it.
	OpFree
)

// Fetch flags.
const (
	// FetchResume: a GET to the resume URL, without the original method and
	// body (the host resolves the URL when the caller gave a function).
	FetchResume = 1 << iota
	// FetchStripAuth: the URL is another origin than the one the caller's
	// headers were given for, reached through a redirect: send no
	// Authorization, as fetch itself drops it on a cross-origin redirect.
	FetchStripAuth
)

// keepText is the largest text buffer Reset keeps. A burst of large events
// read in one chunk (on loopback Chromium hands over chunks of a megabyte
// and more) fills a few MiB; a buffer released after each such chunk is
// allocated, cleared and grown again for the next one, which cost the large
// events benchmark a fifth of its time. Out is one for the whole module, so
// this bounds what it keeps, whatever the number of sources.
const keepText = 4 << 20

// Reset empties o for the next input, keeping its memory unless one burst
// made it large.
func (o *Out) Reset() {
	const keep = 1 << 20
	o.Words = o.Words[:0]
	if cap(o.Text) > keepText {
		o.Text = nil
	}
	o.Text = o.Text[:0]
	if cap(o.Words) > keep/4 {
		o.Words = nil
	}
	o.batchAt = -1
}

func (o *Out) op(op Op, args ...int32) {
	o.batchAt = -1
	o.Words = append(o.Words, int32(op))
	o.Words = append(o.Words, args...)
}

func (o *Out) str(s string) (off, n int32) {
	off = int32(len(o.Text))
	o.Text = append(o.Text, s...)
	return off, int32(len(s))
}

// maxBatch bounds the events of one record, so that a burst of tiny events
// does not build one enormous text and table.
const maxBatch = 8192

// event appends one event to the open OpEvents record, opening one when
// needed. It copies data (the parser reuses its memory).
func (o *Out) event(typ string, data []byte, id string) {
	if o.batchAt < 0 || o.Words[o.batchAt+1] >= maxBatch {
		o.batchAt = -1
		o.Words = append(o.Words, int32(OpEvents), 0, int32(len(o.Text)), 0)
		o.batchAt = len(o.Words) - 4
		o.sentID = "\x00" // no id is NUL: the first event always carries its own
	}
	rec := o.Words[o.batchAt:]
	// One exact allocation for a large event, not append's repeated copies.
	o.Text = slices.Grow(o.Text, len(typ)+len(data)+len(id))
	typeLen := int32(-1)
	if typ != "message" {
		typeLen = int32(utf16Len(typ))
		o.Text = append(o.Text, typ...)
	}
	o.Text = append(o.Text, data...)
	idLen := int32(-1)
	if id != o.sentID {
		idLen = int32(utf16Len(id))
		o.Text = append(o.Text, id...)
		o.sentID = id
	}
	rec[1]++
	rec[3] = int32(len(o.Text)) - rec[2]
	o.Words = append(o.Words, typeLen, int32(utf16Len(unsafe.String(unsafe.SliceData(data), len(data)))), idLen)
}

// utf16Len is the length in UTF-16 code units of valid UTF-8 text: one unit
// per code point, two for code points above U+FFFF (4-byte sequences).
// The sse decoder guarantees valid UTF-8.
func utf16Len(s string) int {
	n := 0
	i := 0
	// 32 and then 8 ASCII bytes at a time: the common case of JSON and
	// plain text. (One load of each word, no bounds checks: i+32 <= len(s).)
	p := unsafe.StringData(s)
	for ; i+32 <= len(s); i += 32 {
		q := unsafe.Add(unsafe.Pointer(p), i)
		w := *(*uint64)(q) | *(*uint64)(unsafe.Add(q, 8)) | *(*uint64)(unsafe.Add(q, 16)) | *(*uint64)(unsafe.Add(q, 24))
		if w&0x8080808080808080 != 0 {
			break
		}
		n += 32
	}
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if w&0x8080808080808080 != 0 {
			break
		}
		n += 8
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			n++
		case c >= 0xF0:
			n += 2
		case c >= 0xC0:
			n++
		}
	}
	return n
}
