package testserver

import "time"

// This file is the contract between the server and the e2e suite: the types a
// test uses to describe what the server does on each connection, and what the
// server reports back about each request it saw.

// Ending says how a connection ends after its last chunk.
type Ending int

const (
	// EndClose ends the response cleanly (the body reaches EOF).
	EndClose Ending = iota
	// EndHold keeps the response open until the client goes away or the
	// server shuts down; heartbeats are not sent unless Heartbeat is set.
	EndHold
	// EndReset aborts the connection (TCP reset / abrupt close) after the last
	// chunk, so the client sees a network error mid-body.
	EndReset
)

// Chunk is one write to the response body, flushed at once, after Delay.
type Chunk struct {
	Delay time.Duration
	Data  string // raw bytes, written as they are (may hold invalid UTF-8)
}

// CORS is how a connection answers cross-origin requests (and preflights).
// A nil *CORS sends no CORS headers at all.
type CORS struct {
	AllowOrigin      string // "*", "echo" (echo the request's Origin), or an exact origin
	AllowCredentials bool
	AllowHeaders     string // Access-Control-Allow-Headers on preflight answers
	AllowMethods     string // Access-Control-Allow-Methods on preflight answers
}

// Conn is what the server does for one request of a scenario.
type Conn struct {
	Status    int               // 0 means 200
	Headers   map[string]string // response headers; "Content-Type" defaults to "text/event-stream" when absent from the map; set it to "" to send none
	Chunks    []Chunk
	End       Ending
	CORS      *CORS
	Heartbeat time.Duration // with EndHold: send ":\n" comments at this interval

	// NoResponse answers with a malformed response head (two different
	// Content-Length headers) and closes the connection at once; Status,
	// Headers, Chunks and End are ignored. Clients see a network error before
	// any response: no open event, and an EventSource reconnects. (Closing
	// without sending a byte would not do: Chromium silently resends a GET
	// when a reused keep-alive connection closes that way.)
	NoResponse bool
}

// Scenario is a list of connections: the n-th request (counting redirects and
// retries, not counting CORS preflights) gets Conns[n]. Requests past the end
// get 204 No Content, which makes every EventSource stop reconnecting.
type Scenario struct {
	Conns []Conn
}

// Observation.Index of requests that no Conn of their own answered.
const (
	// IndexPreflight marks a CORS preflight: an OPTIONS request with
	// Access-Control-Request-Method, answered for the Conn the next request
	// gets, without consuming it.
	IndexPreflight = -1
	// IndexProbe marks a HEAD request (the client's probe after a rejected
	// fetch): answered with the head of the Conn that last answered its URL,
	// consuming nothing.
	IndexProbe = -2
)

// IsPreflight reports whether o is a CORS preflight.
func (o Observation) IsPreflight() bool { return o.Index == IndexPreflight }

// IsProbe reports whether o is a HEAD probe.
func (o Observation) IsProbe() bool { return o.Index == IndexProbe }

// Observation is what the server saw on one request of a scenario.
type Observation struct {
	Index                       int // which Conn answered it; IndexPreflight, IndexProbe, or len(Conns) or more past the end
	Method                      string
	Path                        string // path and query
	Accept                      string
	CacheControl                string
	Pragma                      string
	LastEventID                 string // raw header value; see HasLastEventID
	HasLastEventID              bool
	Origin                      string
	Cookie                      string
	Authorization               string
	ContentType                 string
	Body                        string
	AccessControlRequestHeaders string // preflights only
	At                          time.Time
	// Ended is when the server was done with a request a Conn answered: the
	// response ended, or the client went away while it was held or
	// between chunks (zero while it runs).
	Ended time.Time
}
