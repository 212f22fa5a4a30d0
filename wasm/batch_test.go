package main

import (
	"encoding/binary"
	"testing"
	"unicode/utf16"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// unbatch is what jsglue's dispatch does, in Go: decode the text, slice it
// by the table.
func unbatch(b *batch, prevID string) []sse.Event {
	out, textLen := b.seal()
	units := utf16.Encode([]rune(string(out[:textLen])))
	table := out[(textLen+3)&^3:]
	if len(table) != 12*b.n {
		panic("table of the wrong size")
	}
	var events []sse.Event
	off := 0
	take := func(n int) string {
		s := string(utf16.Decode(units[off : off+n]))
		off += n
		return s
	}
	id := prevID
	for i := 0; i < b.n; i++ {
		f := func(k int) int { return int(int32(binary.LittleEndian.Uint32(table[4*(3*i+k):]))) }
		ev := sse.Event{Type: "message"}
		if n := f(0); n >= 0 {
			ev.Type = take(n)
		}
		ev.Data = take(f(1))
		if n := f(2); n >= 0 {
			id = take(n)
		}
		ev.LastEventID = id
		events = append(events, ev)
	}
	return events
}

func TestBatchRoundTrip(t *testing.T) {
	events := []sse.Event{
		{Type: "message", Data: "plain"},
		{Type: "message", Data: "", LastEventID: "1"},
		{Type: "update", Data: "é😀\x00漢", LastEventID: "1"},
		{Type: "ünï", Data: "line1\nline2", LastEventID: "日本"},
		{Type: "message", Data: "😀😀", LastEventID: ""},
		{Type: "\uFEFFx", Data: "\uFEFFdata", LastEventID: "\uFEFF"},
	}
	var b batch
	for _, ev := range events {
		b.add(ev.Type, []byte(ev.Data), ev.LastEventID)
	}
	got := unbatch(&b, "")
	if len(got) != len(events) {
		t.Fatalf("%d events back, want %d", len(got), len(events))
	}
	for i := range events {
		if got[i] != events[i] {
			t.Errorf("event %d: got %+v, want %+v", i, got[i], events[i])
		}
	}
	// The id crosses only when it changes.
	if b.sentID != "\uFEFF" {
		t.Errorf("sentID = %q", b.sentID)
	}
	b.reset()
	b.add("message", []byte("x"), "\uFEFF")
	if n := int32(binary.LittleEndian.Uint32(b.table[8:])); n != -1 {
		t.Errorf("unchanged id sent again (len %d)", n)
	}
}

func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "abc", "é", "漢字", "😀", "a😀b\x00é", "abcdefghé", "abcdefgh😀abcdefghijklmnop漢", "0123456789abcdef"} {
		if got, want := utf16Len(s), len(utf16.Encode([]rune(s))); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func BenchmarkBatchAdd(b *testing.B) {
	data := []byte("0123456789abcdef0123456789abcdef")
	var bt batch
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		bt.add("message", data, "42")
		if bt.n == maxBatch {
			bt.reset()
		}
	}
}

// BenchmarkParseAndBatch is the Go share of the event path: parse 100,000
// small events and lay them out for JS.
func BenchmarkParseAndBatch(b *testing.B) {
	const n = 100000
	body := []byte{}
	for i := 0; i < n; i++ {
		body = append(body, "data: 0123456789abcdef0123456789abcdef\n\n"...)
	}
	var p sse.Parser
	var bt batch
	emit := func(typ string, data []byte, id string) {
		bt.add(typ, data, id)
		if bt.n == maxBatch {
			bt.reset()
		}
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(body); off += 64 << 10 {
			p.FeedRaw(body[off:min(len(body), off+64<<10)], emit)
		}
		bt.reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
