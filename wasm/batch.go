package main

import (
	"encoding/binary"
	"unsafe"
)

// maxBatch bounds the events of one crossing into JS, so that a burst of
// tiny events does not build one enormous text and table.
const maxBatch = 8192

// batch collects the events parsed from one network chunk so that they cross
// into JS together. Crossing is the main cost in a Go/WASM page: a call into JS
// is cheap, but every Go string turned into a JS string costs about 2 µs
// whatever its size. So a batch crosses as one byte array (see seal): the
// UTF-8 of every text, which JS decodes into one string, then a table of
// lengths that JS uses to slice that string.
//
// The table holds three little-endian int32 per event, in UTF-16 code units
// because that is how JS slices strings:
//
//	type length  (-1: the type is "message" and is not in the text)
//	data length
//	id length    (-1: same last event ID as the previous event sent)
//
// The text holds, per event, the type (if present), the data, the id (if
// present), in that order.
type batch struct {
	text   []byte // after seal, also the padding and the table
	table  []byte
	n      int    // events in the batch
	sentID string // last event ID as JS knows it (after this batch is dispatched)
}

// add appends one event, copying its data (see sse.RawEventFunc).
func (b *batch) add(typ string, data []byte, id string) {
	typeLen := int32(-1)
	if typ != "message" {
		typeLen = int32(utf16Len(typ))
		b.text = append(b.text, typ...)
	}
	b.text = append(b.text, data...)
	idLen := int32(-1)
	if id != b.sentID {
		idLen = int32(utf16Len(id))
		b.text = append(b.text, id...)
		b.sentID = id
	}
	b.table = binary.LittleEndian.AppendUint32(b.table, uint32(typeLen))
	b.table = binary.LittleEndian.AppendUint32(b.table, uint32(utf16Len(unsafe.String(unsafe.SliceData(data), len(data)))))
	b.table = binary.LittleEndian.AppendUint32(b.table, uint32(idLen))
	b.n++
}

// seal lays the batch out as it crosses into JS: the text, zero bytes up to
// a multiple of 4 (so that JS can view the table as an Int32Array in
// place), then the table. textLen is the length of the text. The batch
// takes no more events until reset.
func (b *batch) seal() (out []byte, textLen int) {
	textLen = len(b.text)
	for len(b.text)%4 != 0 {
		b.text = append(b.text, 0)
	}
	b.text = append(b.text, b.table...)
	return b.text, textLen
}

// reset empties the batch but keeps its memory and what JS knows of the id.
func (b *batch) reset() {
	b.text = b.text[:0]
	b.table = b.table[:0]
	b.n = 0
	// Large bursts must not pin large buffers for the life of the connection.
	const keep = 1 << 20
	if cap(b.text) > keep {
		b.text = nil
	}
	if cap(b.table) > keep {
		b.table = nil
	}
}

// utf16Len is the length in UTF-16 code units of valid UTF-8 text: one unit
// per code point, two for code points above U+FFFF (4-byte sequences).
// The sse decoder guarantees valid UTF-8.
func utf16Len(s string) int {
	n := 0
	i := 0
	// Eight ASCII bytes at a time: the common case of JSON and plain text.
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
