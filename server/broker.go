package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// Defaults of the zero BrokerOptions.
const (
	DefaultHistory   = 1000
	DefaultQueueSize = 256
)

// Errors a [Subscription] ends with.
var (
	// ErrSlowSubscriber: the subscriber's queue was full when an event was
	// published, so the broker dropped it rather than wait for it or buffer
	// without bound. Its client reconnects with Last-Event-ID and replays
	// what it missed from the history.
	ErrSlowSubscriber = errors.New("server: subscriber dropped: too slow")
	// ErrBrokerClosed: [Broker.Close] was called.
	ErrBrokerClosed = errors.New("server: broker closed")

	errUnsubscribed = errors.New("server: subscription closed")
)

// BrokerOptions configures a [Broker]. The zero value is usable.
type BrokerOptions struct {
	// History is how many events each topic keeps for replay after a
	// Last-Event-ID. Zero means DefaultHistory.
	History int
	// QueueSize is how many events may wait for one subscriber. A
	// subscriber whose queue is full when an event is published is dropped
	// (ErrSlowSubscriber): it never blocks the publisher, never delays the
	// other subscribers, and its memory stays bounded. Zero means
	// DefaultQueueSize.
	QueueSize int
	// Stream configures the streams ServeHTTP opens.
	Stream StreamOptions
	// Topic names the topic a request subscribes to in ServeHTTP. Nil means
	// the "topic" query parameter.
	Topic func(r *http.Request) string
}

// Broker fans events out to subscribers by topic, in the style of Mercure's
// hub. Each topic numbers its events 1, 2, 3, ... (the event ID) and keeps
// the last History of them, so that a subscriber coming back with a
// Last-Event-ID gets exactly the events after it: replay and live delivery
// are taken under one lock, so nothing is sent twice or skipped.
//
// The policy for slow subscribers: each has a queue of QueueSize events; a
// Publish that finds it full drops the subscriber instead of waiting. Events
// are encoded once per Publish and shared by every queue.
type Broker struct {
	opts BrokerOptions

	mu     sync.Mutex
	closed bool
	topics map[string]*topic
}

type topic struct {
	mu   sync.Mutex
	hist ring
	subs map[*Subscription]struct{}
}

// event is one published event, encoded once.
type event struct {
	seq uint64
	enc []byte
}

// ring holds the last len(buf) events of a topic; their seqs are
// consecutive and end at last.
type ring struct {
	buf   []event
	start int
	n     int
	last  uint64
}

func (h *ring) add(e event) {
	if h.n < len(h.buf) {
		h.buf[(h.start+h.n)%len(h.buf)] = e
		h.n++
	} else {
		h.buf[h.start] = e
		h.start = (h.start + 1) % len(h.buf)
	}
	h.last = e.seq
}

// since returns the events with seq > after; ok is false when the history
// no longer reaches after+1, or after is in the future.
func (h *ring) since(after uint64) (evs []event, ok bool) {
	oldest := h.last - uint64(h.n) + 1
	if after > h.last || after+1 < oldest {
		return nil, false
	}
	k := int(h.last - after)
	evs = make([]event, 0, k)
	for i := h.n - k; i < h.n; i++ {
		evs = append(evs, h.buf[(h.start+i)%len(h.buf)])
	}
	return evs, true
}

// NewBroker returns a Broker.
func NewBroker(opts BrokerOptions) *Broker {
	if opts.History <= 0 {
		opts.History = DefaultHistory
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
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
		t = &topic{hist: ring{buf: make([]event, b.opts.History)}, subs: make(map[*Subscription]struct{})}
		b.topics[name] = t
	}
	return t, nil
}

// Publish sends m to every subscriber of topic and keeps it for replay. The
// broker sets the ID (m.ID is ignored): the topic's next sequence number,
// which Publish returns. It never blocks on a subscriber: one whose queue is
// full is dropped. An invalid m returns the *sse.MessageError.
func (b *Broker) Publish(topicName string, m sse.Message) (id string, err error) {
	t, err := b.topic(topicName)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.hist.last + 1
	m.ID, m.ResetID = strconv.FormatUint(seq, 10), false
	enc, err := sse.AppendMessage(nil, m)
	if err != nil {
		return "", err
	}
	e := event{seq: seq, enc: enc}
	t.hist.add(e)
	for s := range t.subs {
		select {
		case s.queue <- e:
		default:
			delete(t.subs, s)
			s.end(ErrSlowSubscriber)
		}
	}
	return m.ID, nil
}

// Subscription is one subscriber of a topic: the events it replays, then
// the live ones. Read them with Next; Close it when done.
type Subscription struct {
	b      *Broker
	t      *topic
	replay []event
	queue  chan event
	gap    bool

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
// after it that the history still holds are delivered first; when the
// history no longer reaches it (or it is not an ID this topic issued),
// Gap reports true and delivery starts with the live events.
func (b *Broker) Subscribe(topicName, lastEventID string) (*Subscription, error) {
	t, err := b.topic(topicName)
	if err != nil {
		return nil, err
	}
	s := &Subscription{b: b, t: t, queue: make(chan event, b.opts.QueueSize), ended: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if lastEventID != "" {
		after, ok := parseSeq(lastEventID)
		if ok {
			s.replay, ok = t.hist.since(after)
		}
		s.gap = !ok
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

// Next returns the next event, encoded (id, data and the blank line), waiting
// for one. After the subscription ended it returns the events still queued,
// then the reason: ErrSlowSubscriber, ErrBrokerClosed, or ctx's error.
func (s *Subscription) Next(ctx context.Context) ([]byte, error) {
	if len(s.replay) > 0 {
		e := s.replay[0]
		s.replay = s.replay[1:]
		return e.enc, nil
	}
	select {
	case e := <-s.queue:
		return e.enc, nil
	default:
	}
	select {
	case e := <-s.queue:
		return e.enc, nil
	case <-s.ended:
		select {
		case e := <-s.queue:
			return e.enc, nil
		default:
			return nil, s.reason
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// appendReady appends every event available without waiting to dst.
func (s *Subscription) appendReady(dst []byte) []byte {
	for _, e := range s.replay {
		dst = append(dst, e.enc...)
	}
	s.replay = nil
	for {
		select {
		case e := <-s.queue:
			dst = append(dst, e.enc...)
		default:
			return dst
		}
	}
}

// Close unsubscribes. It is safe to call more than once.
func (s *Subscription) Close() {
	s.t.mu.Lock()
	delete(s.t.subs, s)
	s.t.mu.Unlock()
	s.end(errUnsubscribed)
}

// Close ends every subscription (their Next returns ErrBrokerClosed, so
// ServeHTTP handlers return) and refuses new ones and new events.
func (b *Broker) Close() {
	b.mu.Lock()
	b.closed = true
	topics := b.topics
	b.mu.Unlock()
	for _, t := range topics {
		t.mu.Lock()
		for s := range t.subs {
			delete(t.subs, s)
			s.end(ErrBrokerClosed)
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
	var buf []byte
	if sub.Gap() {
		buf, _ = sse.AppendMessage(buf, sse.Message{Type: "reset"})
	}
	for {
		buf = sub.appendReady(buf)
		if len(buf) > 0 {
			if st.SendEncoded(buf) != nil {
				return
			}
			buf = buf[:0]
		}
		e, err := sub.Next(st.Context())
		if err != nil {
			return
		}
		buf = append(buf, e...)
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
