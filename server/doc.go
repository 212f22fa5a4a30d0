// Package server serves server-sent events from Go: the server half of
// wasm-eventsource, usable with any EventSource client.
//
// It has three layers, each usable alone, and imports only the standard
// library and package sse:
//
//   - [Stream] writes one text/event-stream response: the headers that keep
//     proxies from buffering or caching it, an opening comment flushed at
//     once, the request's Last-Event-ID, events, comments and retry lines,
//     heartbeat comments when idle, and a write deadline on every write so
//     that a client that stops reading is dropped instead of holding the
//     handler. It ends when the client goes.
//   - [Broker] fans events out by topic, with a bounded history for replay
//     strictly after a Last-Event-ID, and one stated policy for slow
//     subscribers: a bounded queue each, and a subscriber whose queue is
//     full is dropped (it reconnects and replays), so that it never blocks
//     the publisher or the others and its memory stays bounded.
//   - Resumable streams ([Store], [Writer], [Follow], [ServeResume]): a
//     producer appends events to a stream ID independently of any request
//     (an LLM generating an answer); readers replay after a sequence number
//     and follow the live appends until the stream is finished. Event IDs
//     are "<stream>.<seq>", so a client that lost its connection resumes
//     with a GET carrying its Last-Event-ID, on any process sharing the
//     store. [MemoryStore] keeps streams in memory (bounded, expiring);
//     package redisstore keeps them in Redis Streams.
//
// The package listens on nothing itself: it gives http.Handlers and
// functions to call from them, for any address and server the caller
// chooses.
package server
