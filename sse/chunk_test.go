package sse

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

// outcome is everything observable after feeding one stream.
type outcome struct {
	Events      []Event
	Err         string // "" when Feed never failed
	LastEventID string
	Retry       int64
	RetryOK     bool
}

// feedChunks feeds chunks to a fresh parser (limit max, last event ID seed)
// and reports the outcome. Each chunk is fed from a scratch copy that is
// overwritten right after Feed returns, so a parser that kept a reference
// to a chunk would be caught.
func feedChunks(max int, seed string, chunks [][]byte) outcome {
	p := &Parser{MaxEventSize: max}
	p.SetLastEventID(seed)
	var o outcome
	emit := func(e Event) { o.Events = append(o.Events, e) }
	var scratch []byte
	for _, c := range chunks {
		scratch = append(scratch[:0], c...)
		err := p.Feed(scratch, emit)
		for i := range scratch {
			scratch[i] = 0xAA
		}
		if err != nil {
			o.Err = err.Error()
			break
		}
	}
	o.LastEventID = p.LastEventID()
	o.Retry, o.RetryOK = p.Retry()
	return o
}

// split cuts in at the given increasing offsets.
func split(in []byte, cuts ...int) [][]byte {
	var chunks [][]byte
	prev := 0
	for _, c := range cuts {
		chunks = append(chunks, in[prev:c])
		prev = c
	}
	return append(chunks, in[prev:])
}

// chunkings returns the ways a test feeds the same bytes: one shot, byte by
// byte, every split in two, every split in three (short inputs), and random
// chunkings that also contain empty chunks.
func chunkings(in []byte) map[string][][]byte {
	ways := map[string][][]byte{"one shot": {in}}
	bytewise := make([][]byte, len(in))
	for i := range in {
		bytewise[i] = in[i : i+1]
	}
	ways["byte by byte"] = bytewise
	for i := 1; i < len(in); i++ {
		ways["split at "+strconv.Itoa(i)] = split(in, i)
	}
	if len(in) <= 48 {
		for i := 1; i < len(in); i++ {
			for j := i + 1; j < len(in); j++ {
				ways["split at "+strconv.Itoa(i)+","+strconv.Itoa(j)] = split(in, i, j)
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(in)), 42))
	for r := 0; r < 32; r++ {
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := min(rng.IntN(8), len(rest)) // 0 gives an empty chunk
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		ways["random "+strconv.Itoa(r)] = chunks
	}
	return ways
}

// parseAllWays feeds in in every chunking and fails t unless they all agree;
// with the default limit it also requires agreement with refParse, the
// decode-then-parse reference. It returns the outcome.
func parseAllWays(t *testing.T, in []byte, max int, seed string) outcome {
	t.Helper()
	want := feedChunks(max, seed, [][]byte{in})
	for name, chunks := range chunkings(in) {
		if got := feedChunks(max, seed, chunks); !reflect.DeepEqual(got, want) {
			t.Fatalf("fed %s: %+v\none shot: %+v\ninput %q", name, got, want, in)
		}
	}
	if max == 0 {
		ref := refParse(in, seed)
		got := refResult{want.Events, want.LastEventID, want.Retry, want.RetryOK}
		if want.Err != "" || !reflect.DeepEqual(got, ref) {
			t.Fatalf("parser: %+v\nreference: %+v\ninput %q", want, ref, in)
		}
	}
	return want
}
