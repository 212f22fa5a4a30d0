package main

import (
	"unsafe"

	"github.com/wasm-eventsource/wasm-eventsource/wasm/core"
)

// The seam. Every crossing between the JS host (jsglue/eventsource.mjs) and
// the Go core is in this file: JS calls the exported functions below, named
// after the processing model's inputs, with numbers only; text travels
// through linear memory. Nothing here calls into JS, so the module needs no
// syscall/js at all (and no goroutine, no promise, no callback).
//
//   - JS writes input text (an init record, a chunk, a header value) into
//     the input buffer, whose address and size are in seam[4] and seam[5]
//     (es_input grows it).
//   - Each input returns the number of action words it produced (0: none);
//     seam[0..3] then hold the address and length of the words and of the
//     text of the Out that JS decodes before its next call (core/out.go has
//     the layout).
//
// A panic in the core fails only the source it happened in (error kind
// "internal"); it never takes the module down.

var (
	seam    [6]uint32 // words ptr, words len, text ptr, text len, input ptr, input cap
	input   []byte
	out     core.Out
	sources = map[int32]*core.Source{}
	nextID  int32
)

func main() {
	es_input(64 << 10)
	select {} // keep the runtime alive; JS drives everything through the exports
}

//go:wasmexport es_seam
func es_seam() uint32 { return ptr(unsafe.Pointer(&seam[0])) }

// es_input makes the input buffer at least n bytes long.
//
//go:wasmexport es_input
func es_input(n int32) {
	if int(n) > len(input) {
		input = make([]byte, n)
		seam[4], seam[5] = ptr(unsafe.Pointer(&input[0])), uint32(n)
	}
}

// es_open makes a source from the init record in the input buffer and
// returns its id, or -1 with the reason as the text of the output.
//
//go:wasmexport es_open
func es_open(n int32) int32 {
	out.Reset()
	cfg, err := core.ParseConfig(input[:n])
	if err != nil {
		out.Text = append(out.Text, err.Error()...)
		publish()
		return -1
	}
	s := core.New(cfg)
	s.Out = &out
	nextID++
	sources[nextID] = s
	publish()
	return nextID
}

//go:wasmexport es_start
func es_start(id int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Start(now) })
}

// es_response: the input buffer holds the Content-Type (ctLen bytes), then
// the final URL (urlLen bytes).
//
//go:wasmexport es_response
func es_response(id, status, ctLen, urlLen int32, retryAfter, now float64) int32 {
	return with(id, func(s *core.Source) {
		s.Response(int(status), string(input[:ctLen]), string(input[ctLen:ctLen+urlLen]), retryAfter, now)
	})
}

// es_chunk: the input buffer holds n bytes of the body.
//
//go:wasmexport es_chunk
func es_chunk(id, n int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Chunk(input[:n], now) })
}

//go:wasmexport es_end
func es_end(id int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.End(now) })
}

//go:wasmexport es_fetch_failed
func es_fetch_failed(id, msgLen int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.FetchFailed(string(input[:msgLen]), now) })
}

//go:wasmexport es_probed
func es_probed(id, verdict int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Probed(core.Verdict(verdict), now) })
}

//go:wasmexport es_dropped
func es_dropped(id, msgLen, external int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Dropped(string(input[:msgLen]), external != 0, now) })
}

//go:wasmexport es_headers_failed
func es_headers_failed(id, msgLen int32) int32 {
	return with(id, func(s *core.Source) { s.HeadersFailed(string(input[:msgLen])) })
}

//go:wasmexport es_timer
func es_timer(id int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Timer(now) })
}

//go:wasmexport es_close
func es_close(id int32) int32 {
	return with(id, func(s *core.Source) { s.Close() })
}

//go:wasmexport es_hidden
func es_hidden(id, hidden int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Hidden(hidden != 0, now) })
}

//go:wasmexport es_online
func es_online(id int32, now float64) int32 {
	return with(id, func(s *core.Source) { s.Online(now) })
}

// es_sources is how many sources the core holds: a debug hook, so that the
// browser tests can see that closed and failed sources are freed.
//
//go:wasmexport es_sources
func es_sources() int32 { return int32(len(sources)) }

// with runs one input of source id and publishes its actions.
func with(id int32, input func(*core.Source)) (words int32) {
	out.Reset()
	s := sources[id]
	if s == nil {
		publish()
		return 0
	}
	defer func() {
		if r := recover(); r != nil {
			out.Reset()
			s.Internal(panicText(r))
		}
		if s.Done() {
			delete(sources, id)
		}
		publish()
		words = int32(len(out.Words))
	}()
	input(s)
	return
}

func publish() {
	seam[0], seam[1] = slicePtr(out.Words), uint32(len(out.Words))
	seam[2], seam[3] = slicePtr(out.Text), uint32(len(out.Text))
}

func slicePtr[T any](s []T) uint32 {
	if cap(s) == 0 {
		return 0
	}
	return ptr(unsafe.Pointer(unsafe.SliceData(s)))
}

func ptr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	default:
		return "unknown panic value"
	}
}
