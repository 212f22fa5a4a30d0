package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// The clock is a small hub in the style of Mercure: each channel (a name and
// an interval) has one ticker goroutine that appends numbered events to a
// bounded history, and every subscriber reads the history from its own
// cursor. Replay after Last-Event-ID and live delivery are then the same
// operation ("everything strictly after my cursor"), which is what makes
// duplicates impossible; a cursor that the history no longer reaches gets a
// reset event instead of a silent gap.

const (
	clockMaxChannels = 64          // distinct (ch, interval) channels kept
	clockIdleStop    = time.Minute // a channel without subscribers stops ticking after this
)

// clockEvent is one tick: id is its sequence number (1, 2, ...), msg the
// event as sent, encoded once by the ticker for every subscriber.
type clockEvent struct {
	id  uint64
	msg []byte
}

// history is a ring buffer of the last len(buf) events of a channel, whose
// ids are consecutive and end at last.
type history struct {
	buf   []clockEvent
	start int    // index of the oldest event in buf
	n     int    // number of events held
	last  uint64 // id of the newest event ever appended (0: none yet)
}

func newHistory(size int) *history { return &history{buf: make([]clockEvent, size)} }

// add appends the next event, whose id must be last+1, evicting the oldest
// one when full.
func (h *history) add(e clockEvent) {
	if h.n < len(h.buf) {
		h.buf[(h.start+h.n)%len(h.buf)] = e
		h.n++
	} else {
		h.buf[h.start] = e
		h.start = (h.start + 1) % len(h.buf)
	}
	h.last = e.id
}

// oldest is the id of the oldest event held (last+1 when empty).
func (h *history) oldest() uint64 { return h.last - uint64(h.n) + 1 }

// since returns the events with ids strictly greater than id, oldest first.
// ok is false when the history cannot say: id is newer than anything
// appended, or events after id were already evicted.
func (h *history) since(id uint64) (evs []clockEvent, ok bool) {
	if id > h.last || id+1 < h.oldest() {
		return nil, false
	}
	k := int(h.last - id) // number of events after id, <= h.n
	for i := h.n - k; i < h.n; i++ {
		evs = append(evs, h.buf[(h.start+i)%len(h.buf)])
	}
	return evs, true
}

// ParseEventID parses a Last-Event-ID this server issued: a sequence number
// in canonical decimal (ASCII digits, no sign, no leading zero except "0"
// itself, fitting in 64 bits). Anything else was not issued here and is
// reported as !ok.
func ParseEventID(s string) (id uint64, ok bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}

// clocks holds the channels of /api/clock.
type clocks struct {
	s  *Server
	mu sync.Mutex
	ch map[string]*clock
}

func (c *clocks) init(s *Server) {
	c.s = s
	c.ch = make(map[string]*clock)
}

// get returns the channel for (name, interval), creating it; nil when there
// are too many busy channels.
func (c *clocks) get(name string, interval time.Duration) *clock {
	key := name + "\x00" + interval.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.ch[key]; cl != nil {
		return cl
	}
	if len(c.ch) >= clockMaxChannels {
		for k, cl := range c.ch {
			if cl.idle() {
				delete(c.ch, k)
			}
		}
		if len(c.ch) >= clockMaxChannels {
			return nil
		}
	}
	cl := &clock{s: c.s, interval: interval, hist: newHistory(c.s.opts.ClockHistory), subs: make(map[chan struct{}]struct{})}
	c.ch[key] = cl
	return cl
}

// clock is one channel: a ticker goroutine (running only while it has had
// subscribers recently) and its history.
type clock struct {
	s        *Server
	interval time.Duration

	mu       sync.Mutex
	hist     *history
	subs     map[chan struct{}]struct{}
	running  bool
	lastSeen time.Time // when the last subscriber left
}

func (cl *clock) idle() bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return !cl.running && len(cl.subs) == 0
}

// subscribe registers a wake-up channel and starts the ticker if needed. It
// must be called from a handler (the ticker joins Server.active).
func (cl *clock) subscribe() chan struct{} {
	wake := make(chan struct{}, 1)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.subs[wake] = struct{}{}
	if !cl.running {
		cl.running = true
		cl.s.active.Add(1) // inside a handler: the counter is not zero
		go cl.run()
	}
	return wake
}

func (cl *clock) unsubscribe(wake chan struct{}) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	delete(cl.subs, wake)
	if len(cl.subs) == 0 {
		cl.lastSeen = time.Now()
	}
}

// run ticks until the server closes or nobody has listened for
// clockIdleStop. The history stays, so a later subscriber can still replay.
func (cl *clock) run() {
	defer cl.s.active.Done()
	t := time.NewTicker(cl.interval)
	defer t.Stop()
	for {
		select {
		case <-cl.s.closing:
			cl.mu.Lock()
			cl.running = false
			cl.mu.Unlock()
			return
		case now := <-t.C:
			cl.mu.Lock()
			id := cl.hist.last + 1
			msg, _ := sse.AppendMessage(nil, sse.Message{ID: strconv.FormatUint(id, 10), Data: now.UTC().Format(time.RFC3339Nano)})
			cl.hist.add(clockEvent{id: id, msg: msg})
			for wake := range cl.subs {
				select {
				case wake <- struct{}{}:
				default:
				}
			}
			stop := len(cl.subs) == 0 && now.Sub(cl.lastSeen) > clockIdleStop
			if stop {
				cl.running = false
			}
			cl.mu.Unlock()
			if stop {
				return
			}
		}
	}
}

// latest is the id of the newest event (0: none yet).
func (cl *clock) latest() uint64 {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.hist.last
}

// next returns the events after cursor, or ok=false with the newest id when
// the history does not reach cursor (or cursor is from the future).
func (cl *clock) next(cursor uint64) (evs []clockEvent, last uint64, oldest uint64, ok bool) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	evs, ok = cl.hist.since(cursor)
	return evs, cl.hist.last, cl.hist.oldest(), ok
}

// clockParams are the query parameters of /api/clock.
type clockParams struct {
	n         int           // events on this connection, replay included; 0: no limit
	interval  time.Duration // tick interval of the channel
	channel   string        // channel name, so parallel tests do not share ids
	retry     int           // >= 0: send "retry: <ms>" first
	heartbeat time.Duration // idle time before a heartbeat comment
}

// parseClockParams reads the query of /api/clock.
func parseClockParams(q url.Values, heartbeat time.Duration) (p clockParams, err error) {
	var interval, hb int
	for _, f := range []struct {
		name          string
		dst           *int
		def, min, max int
	}{
		{"n", &p.n, 0, 0, 1 << 30},
		{"interval", &interval, 1000, 10, 60_000},
		{"retry", &p.retry, -1, 0, 1 << 30},
		{"heartbeat", &hb, int(heartbeat / time.Millisecond), 10, 3_600_000},
	} {
		if *f.dst, err = IntParam(q, f.name, f.def, f.min, f.max); err != nil {
			return p, err
		}
	}
	p.interval = time.Duration(interval) * time.Millisecond
	p.heartbeat = time.Duration(hb) * time.Millisecond
	if p.channel = q.Get("ch"); len(p.channel) > 64 {
		return p, errors.New("ch: longer than 64 bytes")
	}
	return p, nil
}

// serveClock is /api/clock?n=N&interval=ms&ch=name&retry=ms&heartbeat=ms.
//
// It flushes ":ok\n\n" at once, then (with Last-Event-ID) replays the
// retained events strictly after that id, then sends each new tick as
// "id: <seq>\ndata: <RFC3339Nano time>\n\n". When the history no longer
// reaches the given id (or the id is not one this channel issued) it sends
// one "event: reset" whose id is the newest sequence number and whose data
// is a JSON object {"lastEventId": <as received>, "oldest": <oldest id
// kept>, "latest": <newest id>}, then continues live from there. Without
// Last-Event-ID the stream starts live. After n events (replayed ones count)
// the response ends, so an EventSource reconnects with its Last-Event-ID.
//
// Parameters: n (default 0: no limit); interval in ms (default 1000, 10 to
// 60000); ch, a channel name (up to 64 bytes, default "") that gives a test
// its own sequence numbers, since every (ch, interval) pair is its own
// channel; retry, a reconnection time in ms sent as "retry: <ms>\n\n" right
// after ":ok\n\n" (default: none); heartbeat, the idle time in ms before a
// ":\n" comment (default Options.ClockHeartbeat). Bad values get a 400
// with a JSON error.
func (s *Server) serveClock(w http.ResponseWriter, r *http.Request) {
	p, err := parseClockParams(r.URL.Query(), s.opts.ClockHeartbeat)
	if err != nil {
		jsonError(w, http.StatusBadRequest, err.Error())
		return
	}
	cl := s.clocks.get(p.channel, p.interval)
	if cl == nil {
		jsonError(w, http.StatusServiceUnavailable, "too many clock channels")
		return
	}
	wake := cl.subscribe()
	defer cl.unsubscribe(wake)

	SetStreamHeaders(w.Header())
	sw := NewStream(w, s.opts.WriteTimeout)
	buf := []byte(StreamOpening)
	if p.retry >= 0 {
		buf = append(sse.AppendRetry(buf, int64(p.retry)), '\n')
	}
	if err := sw.Send(buf); err != nil {
		return
	}

	cursor := cl.latest() // live: start after the newest event
	valid := true
	if raw, has := r.Header["Last-Event-Id"]; has {
		cursor, valid = ParseEventID(raw[0])
	}
	s.clockLoop(r.Context(), sw, cl, wake, cursor, valid, r.Header.Get("Last-Event-Id"), p)
}

// clockLoop sends everything after cursor, then waits for ticks. When valid
// is false (a Last-Event-ID this server did not issue), it starts with a
// reset. asked is the Last-Event-ID as received, which a first reset
// reports.
func (s *Server) clockLoop(ctx context.Context, sw *Stream, cl *clock, wake chan struct{}, cursor uint64, valid bool, asked string, p clockParams) {
	sent := 0
	hb := time.NewTimer(p.heartbeat)
	defer hb.Stop()
	var buf []byte
	for first := true; ; first = false {
		evs, last, oldest, ok := cl.next(cursor)
		buf = buf[:0]
		if !ok || !valid {
			if !first {
				asked = strconv.FormatUint(cursor, 10) // a later reset is about our own cursor
			}
			valid = true
			data, _ := json.Marshal(struct {
				LastEventID string `json:"lastEventId"`
				Oldest      uint64 `json:"oldest"`
				Latest      uint64 `json:"latest"`
			}{asked, oldest, last})
			buf, _ = sse.AppendMessage(buf, sse.Message{Type: "reset", ID: strconv.FormatUint(last, 10), Data: string(data)})
			cursor = last
			evs = nil
		}
		for _, e := range evs {
			if p.n > 0 && sent >= p.n {
				break
			}
			buf = append(buf, e.msg...)
			cursor = e.id
			sent++
		}
		if len(buf) > 0 {
			if err := sw.Send(buf); err != nil {
				return
			}
			hb.Reset(p.heartbeat)
		}
		if p.n > 0 && sent >= p.n {
			return
		}
		select {
		case <-wake:
		case <-hb.C:
			if err := sw.Send(sse.AppendComment(nil, "")); err != nil {
				return
			}
			hb.Reset(p.heartbeat)
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		}
	}
}
