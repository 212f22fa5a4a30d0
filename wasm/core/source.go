package core

import (
	"strconv"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// ReadyState is the EventSource readyState attribute.
type ReadyState int32

const (
	Connecting ReadyState = 0
	Open       ReadyState = 1
	Closed     ReadyState = 2
)

// Kind says why an error event fired; it is the event's `kind` property.
type Kind int32

const (
	KindHTTP             Kind = iota + 1 // a status the stream cannot open with
	KindContentType                      // a Content-Type other than text/event-stream
	KindNetwork                          // fetch rejected: the server could not be reached
	KindCORS                             // fetch rejected: a CORS refusal or an unfetchable redirect
	KindDropped                          // the body failed mid-stream
	KindTooLarge                         // an event larger than maxEventSize
	KindIdle                             // no bytes for idleTimeout
	KindRetriesExhausted                 // maxRetries attempts without an open
	KindEnded                            // the body ended (a GET reconnects, as native does)
	KindHeaders                          // the caller's headers function failed
	KindURL                              // a URL that cannot be streamed
	KindInternal                         // a bug in the engine, reported rather than crashing
)

// KindNames are the `kind` strings, indexed by Kind.
var KindNames = [...]string{"", "http", "content-type", "network", "cors", "dropped", "too-large",
	"idle", "retries-exhausted", "ended", "headers", "url", "internal"}

// Verdict is the answer to an OpProbe.
type Verdict int32

const (
	VerdictNetwork  Verdict = iota // the server could not be reached: reconnect
	VerdictCORS                    // a cross-origin server answered, so it refused CORS: fail
	VerdictRedirect                // the URL redirects to something fetch refused: fail
	VerdictUnknown                 // the probe cannot tell (a cross-origin-isolated page blocks it): see Probed
)

// phase is where a Source is in the processing model. readyState is not
// kept here: it is what the host announces with each action, in dispatch
// order, so the host owns it.
type phase uint8

const (
	phaseNew       phase = iota // constructed; Start comes in a later task
	phaseFetching               // request sent, no response yet
	phaseProbing                // fetch rejected, probe sent
	phaseStreaming              // open, reading the body
	phaseWaiting                // the reconnection timer is armed
	phasePaused                 // hidden (pauseWhenHidden): no connection, no timer
	phaseClosed                 // closed, failed or ended: the source is finished
)

// Source is the processing model of one EventSource object as a state
// machine, with no I/O: each input method records what it must and appends
// actions to Out, which the host carries out (fetch, dispatch, timers). It
// owns the stream's parser, and with it the last event ID and the
// reconnection time.
//
// The host calls inputs one at a time and decodes Out after each; time comes
// in as `now`, milliseconds on any monotonic clock.
type Source struct {
	// Out receives the actions of each input. New gives each Source its
	// own; a host may point several at one it decodes after every call.
	Out *Out

	cfg    Config
	parser sse.Parser
	phase  phase
	url    string // where a GET (re)connection goes: the constructor's URL, then the final URL of the last response
	origin string // the origin the caller's headers were given for (cfg.URL's)

	resuming   bool    // the stream continues by GET from the resume URL
	attempt    int32   // requests made so far, less one (0: the first request)
	retries    int     // reconnection attempts since the last open
	prevStatus int32   // HTTP status of the last failed attempt, else 0
	lastByte   float64 // when the last byte (or the response) arrived, for idleTimeout
	rng        uint64  // jitter
	hidden     bool    // the document is hidden (pauseWhenHidden)
	inFlight   bool    // a request may be in flight: abort it before leaving
	failure    string  // why the fetch that is being probed was rejected
	opened     bool    // a response of this source's server opened the stream once
	rechecking bool    // the request in flight re-sends one rejected on a reachable server (see Probed)
	unknownAt  float64 // when the first rejection the probe could not tell since the last open came (0: none)
}

// New makes a Source for a checked Config. Nothing happens until Start.
func New(cfg Config) *Source {
	if !cfg.isGet() {
		// pauseWhenHidden is GET only: pausing another method would re-send
		// it when the page is shown again.
		cfg.PauseWhenHidden = false
	}
	s := &Source{Out: &Out{batchAt: -1}, cfg: cfg, url: cfg.URL, origin: originOf(cfg.URL), rng: cfg.Seed | 1}
	s.parser.MaxEventSize = cfg.MaxEventSize
	if cfg.LastEventID != "" {
		s.parser.SetLastEventID(cfg.LastEventID)
	}
	return s
}

// LastEventID is the last event ID string.
func (s *Source) LastEventID() string { return s.parser.LastEventID() }

// Done reports whether the source is finished (closed, failed or ended).
func (s *Source) Done() bool { return s.phase == phaseClosed }

// Start makes the first request. The host calls it in a task after the
// constructor returned, as native EventSource fetches in a task, so that
// new EventSource() followed by close() sends nothing and an error found
// at once still reaches listeners added after the constructor.
func (s *Source) Start(now float64) {
	if s.phase != phaseNew {
		return
	}
	if !isFetchableURL(s.url) {
		s.fail(KindURL, 0, "cannot stream "+schemeOf(s.url)+" URLs: only http(s), data: and blob:")
		return
	}
	if s.hidden && s.cfg.PauseWhenHidden {
		// Hidden from the start: the first request waits until the page is
		// shown (Hidden counts it as attempt 0).
		s.phase = phasePaused
		s.attempt = -1
		return
	}
	s.fetch(now)
}

func (s *Source) fetch(now float64) {
	s.phase = phaseFetching
	s.rechecking = false
	flags := int32(0)
	url := s.url
	if s.resuming {
		flags |= FetchResume
		url = s.cfg.ResumeURL
	} else if originOf(url) != s.origin {
		flags |= FetchStripAuth
	}
	uo, ul := s.Out.str(url)
	lo, ll := s.Out.str(s.parser.LastEventID())
	s.inFlight = true
	s.Out.op(OpFetch, s.attempt, s.prevStatus, flags, uo, ul, lo, ll)
	s.armIdle(now)
}

// Response takes the status line and headers of a response: its status,
// Content-Type, final URL (after redirects), and the wait a Retry-After
// header asks for in ms (-1 when none or unreadable).
func (s *Source) Response(status int, contentType, finalURL string, retryAfter float64, now float64) {
	if s.phase != phaseFetching {
		return
	}
	s.lastByte = now
	if finalURL != "" && !s.resuming {
		s.url = finalURL // Chromium reconnects to the final URL
	}
	if s.rechecking {
		// The re-sent request got a response: the rejected one was cut on
		// its way (a reset before the response), not refused by CORS.
		// Reconnect as after a network error, as native does.
		s.rechecking = false
		s.abort()
		s.prevStatus = 0
		s.reconnect(KindNetwork, 0, "network error: "+s.failure, -1, now)
		return
	}
	reason := ""
	kind := KindHTTP
	if status != 200 {
		reason = "HTTP " + strconv.Itoa(status)
	} else if reason = checkContentType(contentType); reason != "" {
		kind = KindContentType
	}
	if reason == "" {
		s.phase = phaseStreaming
		s.opened = true
		s.unknownAt = 0
		s.retries, s.prevStatus = 0, 0
		s.parser.Reset()
		s.Out.op(OpOpen)
		return
	}
	s.prevStatus = int32(status)
	if kind == KindHTTP && s.cfg.retriesOn(status) {
		s.abort()
		s.reconnect(KindHTTP, status, reason, retryAfter, now)
		return
	}
	s.fail(kind, status, reason)
}

// Chunk feeds the next bytes of the body. The parser copies what it keeps;
// chunk may be reused once Chunk returns.
func (s *Source) Chunk(chunk []byte, now float64) {
	if s.phase != phaseStreaming {
		return
	}
	s.lastByte = now
	err := s.parser.FeedRaw(chunk, s.Out.event)
	s.Out.batchAt = -1
	if err != nil {
		s.fail(KindTooLarge, 0, err.Error())
	}
}

// End takes the end of the body.
func (s *Source) End(now float64) {
	if s.phase != phaseStreaming {
		return
	}
	s.inFlight = false
	switch {
	case s.resuming || (s.cfg.ResumeSet && !s.cfg.isGet()):
		s.end() // the answer is complete
	case s.cfg.reconnects():
		s.reconnect(KindEnded, 0, "the stream ended", -1, now)
	default:
		s.end()
	}
}

// FetchFailed takes a rejected fetch, before any response. Reconnecting
// sources ask the host to probe first (see Probed); others fail at once,
// since no answer of the probe would change what happens.
func (s *Source) FetchFailed(message string, now float64) {
	if s.phase != phaseFetching {
		return
	}
	s.inFlight = false
	if !s.cfg.reconnects() && !s.resuming {
		s.fail(KindNetwork, 0, "network error: "+message)
		return
	}
	if s.rechecking {
		// Rejected again, right after the probe found the server
		// reachable: a refusal.
		s.rechecking = false
		s.fail(KindCORS, 0, "CORS check failed for "+originOf(s.url))
		return
	}
	s.phase = phaseProbing
	s.failure = message
	uo, ul := s.Out.str(s.url)
	if s.resuming {
		uo, ul = s.Out.str(s.cfg.ResumeURL)
	}
	s.Out.op(OpProbe, uo, ul)
}

// Probed takes the verdict of an OpProbe.
func (s *Source) Probed(v Verdict, now float64) {
	if s.phase != phaseProbing {
		return
	}
	switch v {
	case VerdictCORS:
		if s.opened {
			// The server answered the probe, so it refused CORS, or the
			// request was cut before its response (a reset, a proxy
			// dropping it): fetch rejects both alike. A server that has
			// opened this stream before is more likely the second: send
			// the same request once more, at once and with no event. A
			// refusal is refused again (then fail); a response means a
			// network failure (then reconnect). Never opened: fail at once,
			// as native does on a refusal.
			s.fetch(now)
			s.rechecking = true
			return
		}
		s.fail(KindCORS, 0, "CORS check failed for "+originOf(s.url))
	case VerdictRedirect:
		s.fail(KindCORS, 0, "redirected to a URL that cannot be fetched (CORS or scheme)")
	case VerdictUnknown:
		// On a cross-origin-isolated page the browser blocks the probe
		// whatever the server did: a refusal and an unreachable server
		// look alike. Never opened: a refusal, as native fails on it. Once
		// the server has opened the stream, an outage (a restart) is more
		// likely: reconnect, as native does, but not forever, since a
		// refusal (of the preflight a reconnection's Last-Event-ID needs,
		// say) would never end.
		if !s.opened {
			s.fail(KindCORS, 0, "CORS check failed for "+originOf(s.url)+" (or the server could not be reached: a cross-origin-isolated page cannot tell)")
			return
		}
		if s.unknownAt == 0 {
			s.unknownAt = max(now, 1)
		} else if now-s.unknownAt >= UnknownGrace {
			s.fail(KindCORS, 0, "CORS check failed for "+originOf(s.url)+", or the server has been unreachable for "+
				strconv.Itoa(UnknownGrace/1000)+" s (a cross-origin-isolated page cannot tell)")
			return
		}
		s.prevStatus = 0
		s.reconnect(KindNetwork, 0, "network error: "+s.failure, -1, now)
	default:
		s.prevStatus = 0
		s.reconnect(KindNetwork, 0, "network error: "+s.failure, -1, now)
	}
}

// UnknownGrace is how long, in ms, a stream that has opened keeps
// reconnecting after rejected requests the probe cannot tell apart (see
// VerdictUnknown) before it fails: a server restart is over by then.
const UnknownGrace = 30000

// Dropped takes a request that failed after its response arrived (a
// network error in the body). external is true when something other than
// the engine aborted it (window.stop() aborts every fetch of a document):
// native EventSource then fails the connection for good.
func (s *Source) Dropped(message string, external bool, now float64) {
	if s.phase != phaseStreaming && s.phase != phaseFetching {
		return
	}
	s.inFlight = false
	if external {
		s.fail(KindDropped, 0, "the page aborted the request (window.stop()): "+message)
		return
	}
	if s.phase == phaseFetching {
		s.FetchFailed(message, now)
		return
	}
	s.drop(KindDropped, "connection lost: "+message, now)
}

// drop handles a connection lost mid-stream: resume, reconnect or fail.
func (s *Source) drop(kind Kind, message string, now float64) {
	opened := s.phase == phaseStreaming
	s.abort()
	s.prevStatus = 0
	switch {
	case s.resuming || (opened && s.cfg.ResumeSet && !s.cfg.isGet()):
		s.resuming = true
		s.reconnect(kind, 0, message, -1, now)
	case s.cfg.reconnects():
		s.reconnect(kind, 0, message, -1, now)
	default:
		s.fail(kind, 0, message+"; not reconnecting a "+s.cfg.Method+" request (set reconnect: true or resume to allow it)")
	}
}

// HeadersFailed takes a rejected headers function: the connection fails.
func (s *Source) HeadersFailed(message string) {
	if s.phase != phaseFetching {
		return
	}
	s.fail(KindHeaders, 0, "cannot make the request: "+message)
}

// Timer takes the firing of the source's timer.
func (s *Source) Timer(now float64) {
	switch s.phase {
	case phaseWaiting:
		s.attempt++
		s.retries++
		s.fetch(now)
	case phaseFetching, phaseStreaming:
		if s.cfg.IdleTimeout <= 0 {
			return
		}
		idle := now - s.lastByte
		if idle < float64(s.cfg.IdleTimeout) {
			s.Out.op(OpTimer, int32(float64(s.cfg.IdleTimeout)-idle+1))
			return
		}
		s.drop(KindIdle, "no bytes for "+strconv.Itoa(s.cfg.IdleTimeout)+" ms", now)
	}
}

// Close takes EventSource.close() (or an aborted signal). The host has set
// readyState to CLOSED already; no event fires.
func (s *Source) Close() {
	if s.phase == phaseClosed {
		return
	}
	s.finish()
	s.Out.op(OpFree)
}

// Internal fails the source after a recovered panic in the engine.
func (s *Source) Internal(message string) {
	if s.phase != phaseClosed {
		s.fail(KindInternal, 0, "internal error: "+message)
	}
}

// Hidden takes a change of document visibility (pauseWhenHidden).
func (s *Source) Hidden(hidden bool, now float64) {
	s.hidden = hidden
	if !s.cfg.PauseWhenHidden {
		return
	}
	switch {
	case hidden && (s.phase == phaseFetching || s.phase == phaseStreaming || s.phase == phaseWaiting || s.phase == phaseProbing):
		s.abort()
		s.Out.op(OpTimer, -1)
		s.phase = phasePaused
		s.Out.op(OpState, int32(Connecting))
	case !hidden && s.phase == phasePaused:
		s.attempt++
		s.fetch(now)
	}
}

// Online takes the browser's online event (reconnectOnOnline): a waiting
// reconnection happens at once.
func (s *Source) Online(now float64) {
	if s.cfg.ReconnectOnOnline && s.phase == phaseWaiting {
		s.Out.op(OpTimer, -1)
		s.Timer(now)
	}
}

// reconnect announces an error with readyState CONNECTING and arms the
// reconnection timer, or fails when the retries are exhausted.
func (s *Source) reconnect(kind Kind, status int, message string, retryAfter float64, now float64) {
	if s.cfg.MaxRetries >= 0 && s.retries >= s.cfg.MaxRetries {
		s.fail(KindRetriesExhausted, status, message+"; gave up after "+strconv.Itoa(s.retries)+" retries")
		return
	}
	d := s.delay(retryAfter)
	s.Out.op(OpError, int32(Connecting), int32(kind), int32(status), s.attempt, d, 0, 0)
	s.setMessage(message)
	if s.hidden && s.cfg.PauseWhenHidden {
		s.phase = phasePaused
		return
	}
	s.phase = phaseWaiting
	s.Out.op(OpTimer, d)
}

// setMessage fills the message of the OpError record just written.
func (s *Source) setMessage(message string) {
	w := s.Out.Words
	w[len(w)-2], w[len(w)-1] = s.Out.str(message)
}

// fail is "fail the connection": error with readyState CLOSED, no retry.
func (s *Source) fail(kind Kind, status int, message string) {
	s.finish()
	s.Out.op(OpError, int32(Closed), int32(kind), int32(status), s.attempt, -1, 0, 0)
	s.setMessage(message)
	s.Out.op(OpFree)
}

// end finishes a stream that is not reopened: readyState CLOSED, close event.
func (s *Source) end() {
	s.finish()
	s.Out.op(OpClose)
	s.Out.op(OpFree)
}

// abort ends the request in flight, if any.
func (s *Source) abort() {
	if s.inFlight {
		s.inFlight = false
		s.Out.op(OpAbort)
	}
}

// finish ends the request and the timer; the caller announces why and
// then frees the source (OpFree).
func (s *Source) finish() {
	s.abort()
	if s.phase == phaseWaiting || s.cfg.IdleTimeout > 0 {
		s.Out.op(OpTimer, -1)
	}
	s.phase = phaseClosed
	s.parser.Reset() // releases what a large event left
}

func (s *Source) armIdle(now float64) {
	if s.cfg.IdleTimeout > 0 {
		s.lastByte = now
		s.Out.op(OpTimer, int32(s.cfg.IdleTimeout))
	}
}

func schemeOf(url string) string {
	for i := 0; i < len(url); i++ {
		if url[i] == ':' {
			return url[:i+1]
		}
	}
	return "such"
}
