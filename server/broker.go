package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// DefaultHistory is the History of the zero BrokerOptions.
const DefaultHistory = 1000

// Errors a [Subscription] ends with.
var (
	// ErrSlowSubscriber: the subscriber fell more than History events
	// behind the newest, out of what the topic keeps, so the broker
	// dropped it rather than wait for it or keep events for it. Its client
	// reconnects with Last-Event-ID and learns of the gap (a "reset"
	// event in ServeHTTP).
	ErrSlowSubscriber = errors.New("server: subscriber dropped: too slow")
	// ErrBrokerClosed: [Broker.Close] was called.
	ErrBrokerClosed = errors.New("server: broker closed")

	errUnsubscribed = errors.New("server: subscription closed")
)

// BrokerOptions configures a [Broker]. The zero value is usable.
type BrokerOptions struct {
	// History is how many events each topic keeps, for replay after a
	// Last-Event-ID and as every subscriber's queue: subscribers read the
	// shared history from their own position, so a subscriber holds no
	// events of its own, and one that falls more than History events
	// behind the newest is dropped (ErrSlowSubscriber) when it next reads.
	// It never blocks the publisher or delays the other subscribers; one
	// stalled in a write is ended by the write deadline. Zero means
	// DefaultHistory.
	History int
	// Stream configures the streams ServeHTTP opens.
	Stream StreamOptions
	// Topic names the topic a request subscribes to in ServeHTTP. Nil means
	// the "topic" query parameter.
	Topic func(r *http.Request) string
}

// Broker fans events out to subscribers by topic, in the style of Mercure's
// hub. Each topic numbers its events 1, 2, 3, ... (the event ID) and keeps
// the last History of them. Every subscriber reads that history from its
// own position, so that replay after a Last-Event-ID and live delivery are
// one operation ("the events after my position"): nothing is sent twice or
// skipped, and a subscriber that wakes up late gets everything new in one
// batch.
//
// Events are encoded once per Publish and shared. A Publish costs the same
// whatever the number of subscribers: it appends to the history and wakes
// all waiting subscribers with one channel close. The policy for slow
// subscribers: one that falls out of the history (more than History events
// behind) is dropped instead of waited for; until then it costs the
// publisher nothing and holds no memory of its own.
type Broker struct {
	opts BrokerOptions

	mu     sync.Mutex
	closed bool
	topics map[string]*topic
}

type topic struct {
	b    *Broker
	name string
	mu   sync.RWMutex // readers copy from hist under RLock
	hist ring
	subs map[*Subscription]struct{}
	// dead: removed from the broker (no events, no subscribers left); a
	// caller that finds it so asks the broker for the topic again.
	dead bool
	// notify is closed by the next Publish (and replaced): every
	// subscriber waiting for new events waits on it, so that waking them
	// all costs the publisher one close, whatever their number.
	notify chan struct{}
}

// remove unsubscribes s, ending it with reason, and forgets a topic left
// with neither events nor subscribers (so that subscribing to made-up
// topics costs nothing once the clients leave). Called with mu held.
func (t *topic) remove(s *Subscription, reason error) {
	delete(t.subs, s)
	s.end(reason)
	if len(t.subs) == 0 && t.hist.n == 0 && !t.dead {
		t.dead = true
		t.b.mu.Lock()
		if t.b.topics[t.name] == t {
			delete(t.b.topics, t.name)
		}
		t.b.mu.Unlock()
	}
}

// event is one published event, encoded once.
type event struct {
	seq uint64
	enc []byte
}

// ring holds the last size events of a topic; their seqs are consecutive
// and end at last. buf grows to size as events come.
type ring struct {
	buf   []event
	size  int
	start int
	n     int
	last  uint64
}

func (h *ring) add(e event) {
	if h.n == len(h.buf) && len(h.buf) < h.size { // still growing: start is 0
		h.buf = append(h.buf, e)
		h.n++
	} else if h.n < len(h.buf) {
		h.buf[(h.start+h.n)%len(h.buf)] = e
		h.n++
	} else {
		h.buf[h.start] = e
		h.start = (h.start + 1) % len(h.buf)
	}
	h.last = e.seq
}

// reaches reports whether the events after after are all held (after is
// not in the future, and none after it was evicted).
func (h *ring) reaches(after uint64) bool {
	oldest := h.last - uint64(h.n) + 1
	return after <= h.last && after+1 >= oldest
}

// appendSince appends the encodings of the events after after (which
// reaches must accept) to dst.
func (h *ring) appendSince(dst []byte, after uint64) []byte {
	k := int(h.last - after)
	for i := h.n - k; i < h.n; i++ {
		dst = append(dst, h.buf[(h.start+i)%len(h.buf)].enc...)
	}
	return dst
}

// NewBroker returns a Broker.
func NewBroker(opts BrokerOptions) *Broker {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	return &Broker{opts: opts, topics: make(map[string]*topic)}
}

func (b *Broker) topic(name string) (*topic, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrBrokerClosed
	}
	t := b.topics[name]
	if t == nil {
		t = &topic{b: b, name: name, hist: ring{size: b.opts.History}, subs: make(map[*Subscription]struct{}), notify: make(chan struct{})}
		b.topics[name] = t
	}
	return t, nil
}

// Publish sends m to every subscriber of topic and keeps it for replay. The
// broker sets the ID (m.ID is ignored): the topic's next sequence number,
// which Publish returns. It never waits for a subscriber, and its cost does
// not grow with their number: it appends to the history and wakes every
// waiting subscriber at once (one channel close). A subscriber finds out it
// fell out of the history when it next reads, and is dropped then. An
// invalid m returns the *sse.MessageError.
func (b *Broker) Publish(topicName string, m sse.Message) (id string, err error) {
	t, err := b.lockedTopic(topicName)
	if err != nil {
		return "", err
	}
	seq := t.hist.last + 1
	m.ID, m.ResetID = strconv.FormatUint(seq, 10), false
	enc, err := sse.AppendMessage(nil, m)
	if err != nil {
		t.mu.Unlock()
		return "", err
	}
	t.hist.add(event{seq: seq, enc: enc})
	woken := t.notify
	t.notify = make(chan struct{})
	t.mu.Unlock()
	close(woken)
	return m.ID, nil
}

// Subscription is one subscriber of a topic: the events it replays, then
// the live ones. Read them with Next; Close it when done. A Subscription is
// read by one goroutine at a time.
type Subscription struct {
	t      *topic
	cursor atomic.Uint64 // seq of the last event handed out
	gap    bool

	pending []byte // events read from the history, not yet returned by Next

	endOnce sync.Once
	ended   chan struct{}
	reason  error
}

func (s *Subscription) end(err error) {
	s.endOnce.Do(func() {
		s.reason = err
		close(s.ended)
	})
}

// Subscribe subscribes to topic. With a non-empty lastEventID, the events
// after it that the history still holds are delivered first ("0" means
// from the first event); when the history no longer reaches it (or it is
// not an ID this topic issued), Gap reports true and delivery starts with
// the live events.
func (b *Broker) Subscribe(topicName, lastEventID string) (*Subscription, error) {
	t, err := b.lockedTopic(topicName)
	if err != nil {
		return nil, err
	}
	defer t.mu.Unlock()
	s := &Subscription{t: t, ended: make(chan struct{})}
	s.cursor.Store(t.hist.last)
	if lastEventID != "" {
		after, ok := parseSeq(lastEventID)
		if ok && t.hist.reaches(after) {
			s.cursor.Store(after)
		} else {
			s.gap = true
		}
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return nil, ErrBrokerClosed
	}
	t.subs[s] = struct{}{}
	return s, nil
}

// Gap reports that the Last-Event-ID given to Subscribe could not be
// resumed from: events were missed that the history no longer holds.
func (s *Subscription) Gap() bool { return s.gap }

// lockedTopic returns the topic, created if need be, with its mu held.
func (b *Broker) lockedTopic(name string) (*topic, error) {
	for {
		t, err := b.topic(name)
		if err != nil {
			return nil, err
		}
		t.mu.Lock()
		if !t.dead {
			return t, nil
		}
		t.mu.Unlock()
	}
}

// appendReady appends every event after the subscriber's position to dst
// and moves the position to the newest. With nothing new it returns the
// channel the next Publish closes. It errors when the subscription ended,
// or when it fell out of the history (it is then dropped).
func (s *Subscription) appendReady(dst []byte) ([]byte, <-chan struct{}, error) {
	select {
	case <-s.ended:
		return dst, nil, s.reason
	default:
	}
	t := s.t
	t.mu.RLock()
	h := &t.hist
	cursor := s.cursor.Load()
	if cursor == h.last {
		notify := t.notify
		t.mu.RUnlock()
		return dst, notify, nil
	}
	if !h.reaches(cursor) {
		t.mu.RUnlock()
		t.mu.Lock()
		t.remove(s, ErrSlowSubscriber)
		t.mu.Unlock()
		return dst, nil, ErrSlowSubscriber
	}
	dst = h.appendSince(dst, cursor)
	s.cursor.Store(h.last)
	t.mu.RUnlock()
	return dst, nil, nil
}

// Next returns the next events, encoded (each with its id, data and blank
// line), waiting for at least one: all that were published since the last
// call, in one slice, which is valid until the next call. After the
// subscription ended it returns the reason: ErrSlowSubscriber (it was
// out of the history), ErrBrokerClosed, or ctx's error.
func (s *Subscription) Next(ctx context.Context) ([]byte, error) {
	for {
		buf, notify, err := s.appendReady(s.pending[:0])
		if err != nil {
			return nil, err
		}
		s.pending = buf
		if len(buf) > 0 {
			return buf, nil
		}
		select {
		case <-notify:
		case <-s.ended:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close unsubscribes. It is safe to call more than once.
func (s *Subscription) Close() {
	s.t.mu.Lock()
	s.t.remove(s, errUnsubscribed)
	s.t.mu.Unlock()
}

// Close ends every subscription (their Next returns ErrBrokerClosed, so
// ServeHTTP handlers return) and refuses new ones and new events.
func (b *Broker) Close() {
	b.mu.Lock()
	b.closed = true
	topics := make([]*topic, 0, len(b.topics))
	for _, t := range b.topics {
		topics = append(topics, t)
	}
	b.mu.Unlock()
	for _, t := range topics {
		t.mu.Lock()
		for s := range t.subs {
			t.remove(s, ErrBrokerClosed)
		}
		t.mu.Unlock()
	}
}

// ServeHTTP streams a topic (BrokerOptions.Topic, by default the "topic"
// query parameter) to one client: the replay after its Last-Event-ID, then
// the live events, each flushed at once and several at a time when they
// queue up. A gap in the history is announced by an event of type "reset"
// with empty data (no id), so that the client can reload what it missed.
// The response ends when the client goes away, when it is too slow (it
// then reconnects and replays), or at Close.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("topic")
	if b.opts.Topic != nil {
		name = b.opts.Topic(r)
	}
	sub, err := b.Subscribe(name, r.Header.Get("Last-Event-Id"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer sub.Close()
	st, err := NewStream(w, r, b.opts.Stream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer st.Close()
	if sub.Gap() {
		if st.Send(sse.Message{Type: "reset"}) != nil {
			return
		}
	}
	for {
		evs, err := sub.Next(st.Context())
		if err != nil || st.SendEncoded(evs) != nil {
			return
		}
	}
}

// parseSeq parses a canonical decimal sequence number: ASCII digits, no
// sign, no leading zero except "0" itself, fitting in 64 bits.
func parseSeq(s string) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
