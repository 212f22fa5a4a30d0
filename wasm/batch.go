package main

import (
	"encoding/binary"
	"unsafe"
)

// maxBatch bounds the events of one crossing into JS, so that a burst of
// tiny events does not build one enormous blob and table.
const maxBatch = 8192

// sentinel is the first byte of every blob (see batch).
const sentinel = '.'

// batch collects the events parsed from one network chunk so that they cross
// into JS together. Crossing is the main cost in a Go/WASM page: a call into JS
// is cheap, but every Go string turned into a JS string costs about 2 µs
// whatever its size. So a batch becomes one string (blob) holding every text,
// plus a table of lengths that JS uses to slice it.
//
// The table (desc) holds three little-endian int32 per event, in UTF-16 code
// units because that is how JS slices strings:
//
//	type length  (-1: the type is "message" and is not in the blob)
//	data length
//	id length    (-1: same last event ID as the previous event sent)
//
// The blob starts with one sentinel byte, then holds, per event, the type
// (if present), the data, the id (if present), in that order. The sentinel
// is there because wasm_exec.js decodes Go strings with a TextDecoder that
// strips a leading U+FEFF: without it, data that starts with U+FEFF would
// lose it.
type batch struct {
	blob   []byte
	desc   []byte
	n      int    // events in the batch
	sentID string // last event ID as JS knows it (after this batch is dispatched)
}

// add appends one event, copying its data (see sse.RawEventFunc).
func (b *batch) add(typ string, data []byte, id string) {
	if len(b.blob) == 0 {
		b.blob = append(b.blob, sentinel)
	}
	typeLen := int32(-1)
	if typ != "message" {
		typeLen = int32(utf16Len(typ))
		b.blob = append(b.blob, typ...)
	}
	b.blob = append(b.blob, data...)
	idLen := int32(-1)
	if id != b.sentID {
		idLen = int32(utf16Len(id))
		b.blob = append(b.blob, id...)
		b.sentID = id
	}
	b.desc = binary.LittleEndian.AppendUint32(b.desc, uint32(typeLen))
	b.desc = binary.LittleEndian.AppendUint32(b.desc, uint32(utf16Len(unsafe.String(unsafe.SliceData(data), len(data)))))
	b.desc = binary.LittleEndian.AppendUint32(b.desc, uint32(idLen))
	b.n++
}

// reset empties the batch but keeps its memory and what JS knows of the id.
func (b *batch) reset() {
	b.blob = b.blob[:0]
	b.desc = b.desc[:0]
	b.n = 0
	// Large bursts must not pin large buffers for the life of the connection.
	const keep = 1 << 20
	if cap(b.blob) > keep {
		b.blob = nil
	}
	if cap(b.desc) > keep {
		b.desc = nil
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
