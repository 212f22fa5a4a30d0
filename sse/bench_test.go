package sse

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// benchFeed feeds chunks as one stream per iteration and reports the
// throughput over all their bytes.
func benchFeed(b *testing.B, chunks [][]byte, wantEvents int) {
	total := 0
	for _, c := range chunks {
		total += len(c)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	var p Parser
	n := 0
	emit := func(Event) { n++ }
	for b.Loop() {
		p.Reset()
		n = 0
		for _, c := range chunks {
			if err := p.Feed(c, emit); err != nil {
				b.Fatal(err)
			}
		}
		if n != wantEvents {
			b.Fatalf("%d events, want %d", n, wantEvents)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*wantEvents), "ns/event")
}

// cut splits s into chunks of sizes drawn from [lo, hi].
func cut(s string, lo, hi int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var chunks [][]byte
	for len(s) > 0 {
		n := min(lo+rng.IntN(hi-lo+1), len(s))
		chunks = append(chunks, []byte(s[:n]))
		s = s[n:]
	}
	return chunks
}

// 100,000 small "message" events in one chunk.
func BenchmarkFeedSmallEvents(b *testing.B) {
	in := strings.Repeat("data: {\"user\":\"ada\",\"n\":12345}\n\n", 100_000)
	benchFeed(b, [][]byte{[]byte(in)}, 100_000)
}

// 100,000 small named events with a new id each, CRLF line ends, in one chunk.
func BenchmarkFeedSmallEventsNamedNewIDs(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		sb.WriteString("event: tick\r\nid: " + strconv.Itoa(i) + "\r\ndata: {\"n\":12345}\r\n\r\n")
	}
	benchFeed(b, [][]byte{[]byte(sb.String())}, 100_000)
}

// The same 100,000 small events, arriving in network-sized chunks.
func BenchmarkFeedSmallEvents16KChunks(b *testing.B) {
	in := strings.Repeat("data: {\"user\":\"ada\",\"n\":12345}\n\n", 100_000)
	benchFeed(b, cut(in, 16<<10, 16<<10), 100_000)
}

var bigData = strings.Repeat("0123456789abcdef", (4<<20)/16) // 4 MiB

// One 4 MiB event on one data line, in one chunk.
func BenchmarkFeedLargeEvent(b *testing.B) {
	benchFeed(b, [][]byte{[]byte("data: " + bigData + "\n\n")}, 1)
}

// One 4 MiB event on one data line, in 64 KiB chunks.
func BenchmarkFeedLargeEvent64KChunks(b *testing.B) {
	benchFeed(b, cut("data: "+bigData+"\n\n", 64<<10, 64<<10), 1)
}

// One 4 MiB event on 64-byte data lines, in 64 KiB chunks.
func BenchmarkFeedLargeEventManyLines64KChunks(b *testing.B) {
	in := strings.Repeat("data: "+bigData[:58]+"\n", (4<<20)/64) + "\n"
	benchFeed(b, cut(in, 64<<10, 64<<10), 1)
}

// One event spread over 10,000 chunks of 1 to 3 bytes.
func BenchmarkFeedTinyChunks(b *testing.B) {
	in := "data: " + strings.Repeat("x", 6_000) + "\ndata: " + strings.Repeat("é", 6_000) + "\n\n"
	chunks := cut(in, 1, 3)
	if len(chunks) < 9_000 || len(chunks) > 11_000 {
		b.Fatalf("%d chunks", len(chunks))
	}
	benchFeed(b, chunks, 1)
}

func BenchmarkAppendUTF8Valid(b *testing.B) {
	src := []byte(strings.Repeat("hello, wörld! 😀 ", 1000))
	benchUTF8(b, src)
}

func BenchmarkAppendUTF8Invalid(b *testing.B) {
	src := []byte(strings.Repeat("hello, w\xF6rld! \xF0\x9F\x98 ", 1000))
	benchUTF8(b, src)
}

func benchUTF8(b *testing.B, src []byte) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	dst := make([]byte, 0, 2*len(src))
	for b.Loop() {
		dst = AppendUTF8(dst[:0], src)
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	m := Message{Type: "update", ID: "12345", Data: "{\"user\":\"ada\"}\n{\"n\":12345}"}
	dst, _ := AppendMessage(nil, m)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = AppendMessage(dst[:0], m)
	}
}
