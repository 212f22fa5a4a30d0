// Package sse implements the text/event-stream format of the WHATWG HTML
// Standard ("Server-sent events"): an incremental parser for the client side
// and an encoder for the server side.
//
// The parser follows the standard's algorithm exactly, including the corners
// that other implementations get wrong: one leading byte order mark is
// stripped per stream (also when it is split across chunks), a CR at the end
// of one chunk and an LF at the start of the next are a single line end, an
// unterminated event at the end of a stream is discarded, `retry` accepts
// ASCII digits only, an `id` holding NUL is ignored, and a block with no
// `data` field fires nothing but still updates the last event ID.
//
// # Decoding
//
// An event stream is always UTF-8, whatever charset the response names, and
// ill-formed bytes become U+FFFD exactly as the WHATWG Encoding Standard's
// "UTF-8 decode" (TextDecoder) replaces them: one U+FFFD per maximal
// ill-formed subpart. The parser splits lines on raw bytes and decodes each
// field value on its own with [AppendUTF8]. That gives the same text as
// decoding the whole stream first, because CR, LF, colon and space are ASCII
// and an ASCII byte always ends an ill-formed subpart; and it means a
// character split across network chunks needs no special care, since lines
// are only decoded once they are complete.
//
// # Performance and limits
//
// [Parser.Feed] runs in time linear in its input however the input is
// chunked: lines wholly inside a chunk are read in place, and only the
// unfinished tail of a chunk is copied, once, into a reusable buffer.
// Dispatching an event allocates its Data string and nothing else in the
// common case (type "message" or a repeated type, unchanged id).
// Memory is bounded by [Parser.MaxEventSize]; buffers that grew for one large
// event are released afterwards rather than kept for the life of the stream.
//
// The package uses the standard library only and avoids fmt and reflect, so
// that it stays small inside a WebAssembly binary.
package sse
