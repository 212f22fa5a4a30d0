package core

import "testing"

// A rejected fetch whose HEAD probe finds the server reachable is a CORS
// refusal, or a request cut before its response (a reset, a proxy dropping
// it): fetch rejects both with the same TypeError. Native EventSource fails
// the first and reconnects after the second. A source that has opened
// before re-sends the request once, at once and silently, to tell them
// apart (issue 8: the reliability suite's kills before the response made
// ours fail for good where native reconnected).

var polCORS = func(s *Source, now float64) { s.Probed(VerdictCORS, now) }

func polRejected(s *Source, now float64) { s.FetchFailed("Failed to fetch", now) }

func TestRecheckNeverOpenedFailsAtOnce(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(5, polRejected, "probe")
	p.want(6, polCORS, "error rs=2 cors st=0 a=0 in=-1 | free")
}

func TestRecheckAfterAResetBeforeTheResponse(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polEnd, "error rs=0 ended st=0 a=0 in=3000 | timer 3000")
	p.want(3002, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
	p.want(3003, polRejected, "probe")
	// The server answered the probe: the same request once more, no event.
	p.want(3004, polCORS, "fetch "+polURL+" a=1 st=0 lid=")
	// It got a response: the first was cut on its way. Reconnect as after a
	// network error (the response is dropped; the next attempt is a new one).
	p.want(3005, polOK, "abort | error rs=0 network st=0 a=1 in=3000 | timer 3000")
	p.want(6005, polTimer, "fetch "+polURL+" a=2 st=0 lid=")
	p.want(6006, polOK, "open")
}

func TestRecheckRefusedAgainFails(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polEnd, "error rs=0 ended st=0 a=0 in=3000 | timer 3000")
	p.want(3002, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
	p.want(3003, polRejected, "probe")
	p.want(3004, polCORS, "fetch "+polURL+" a=1 st=0 lid=")
	// Rejected again right after the server answered: a refusal. No second probe.
	p.want(3005, polRejected, "error rs=2 cors st=0 a=1 in=-1 | free")
}

func TestRecheckIsOneRequestOnly(t *testing.T) {
	// After a re-check that got a response, the next rejection is probed
	// and re-checked again (a server that cuts every other request goes on
	// like native); a network verdict never re-checks.
	p := newPol(t, "reconnect", "true")
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polEnd, "error rs=0 ended st=0 a=0 in=3000 | timer 3000")
	p.want(3002, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
	p.want(3003, polNetFail, "probe | error rs=0 network st=0 a=1 in=3000 | timer 3000")
	p.want(6003, polTimer, "fetch "+polURL+" a=2 st=0 lid=")
	p.want(6004, polRejected, "probe")
	p.want(6005, polCORS, "fetch "+polURL+" a=2 st=0 lid=")
	p.want(6006, polOK, "abort | error rs=0 network st=0 a=2 in=3000 | timer 3000")
	p.want(9006, polTimer, "fetch "+polURL+" a=3 st=0 lid=")
	p.want(9007, polRejected, "probe")
	p.want(9008, polCORS, "fetch "+polURL+" a=3 st=0 lid=")
	p.want(9009, polClose, "abort | free")
}

// On a cross-origin-isolated page the probe cannot tell a refusal from an
// unreachable server (VerdictUnknown). Never opened: a refusal, as native
// fails on it. Opened: reconnect, as native does through a server restart,
// for UnknownGrace at most, so that a refusal never makes retries endless.

var polUnknown = func(s *Source, now float64) { s.Probed(VerdictUnknown, now) }

func TestUnknownNeverOpenedFails(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(5, polRejected, "probe")
	p.want(6, polUnknown, "error rs=2 cors st=0 a=0 in=-1 | free")
}

func TestUnknownAfterAnOpenReconnectsForAWhile(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polEnd, "error rs=0 ended st=0 a=0 in=3000 | timer 3000")
	now := 3002.0
	attempt := 1
	// The server is down: every reconnection is rejected, the probe cannot
	// tell. Reconnect until UnknownGrace has passed since the first.
	first := now + 2
	for ; now+2-first < UnknownGrace; now += 3002 {
		p.want(now, polTimer, "fetch "+polURL+" a="+itoa(int32(attempt))+" st=0 lid=")
		p.want(now+1, polRejected, "probe")
		p.want(now+2, polUnknown, "error rs=0 network st=0 a="+itoa(int32(attempt))+" in=3000 | timer 3000")
		attempt++
	}
	p.want(now, polTimer, "fetch "+polURL+" a="+itoa(int32(attempt))+" st=0 lid=")
	p.want(now+1, polRejected, "probe")
	p.want(now+2, polUnknown, "error rs=2 cors st=0 a="+itoa(int32(attempt))+" in=-1 | free")
}

func TestUnknownGraceStartsOverAfterAnOpen(t *testing.T) {
	p := newPol(t)
	p.want(0, polStart, "fetch "+polURL+" a=0 st=0 lid=")
	p.want(1, polOK, "open")
	p.want(2, polEnd, "error rs=0 ended st=0 a=0 in=3000 | timer 3000")
	p.want(3002, polTimer, "fetch "+polURL+" a=1 st=0 lid=")
	p.want(3003, polRejected, "probe")
	p.want(3004, polUnknown, "error rs=0 network st=0 a=1 in=3000 | timer 3000")
	// The server is back: the stream opens, then ends.
	p.want(28000, polTimer, "fetch "+polURL+" a=2 st=0 lid=")
	p.want(28001, polOK, "open")
	p.want(28002, polEnd, "error rs=0 ended st=0 a=2 in=3000 | timer 3000")
	// A new outage 30 s after the first began: its own grace.
	p.want(40000, polTimer, "fetch "+polURL+" a=3 st=0 lid=")
	p.want(40001, polRejected, "probe")
	p.want(40002, polUnknown, "error rs=0 network st=0 a=3 in=3000 | timer 3000")
}
