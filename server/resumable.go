package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// A resumable stream is an append-only list of events kept in a [Store]
// under a stream ID, so that its reader can change: the request that
// started a generation (a POST to an LLM endpoint) streams it while it is
// produced, and a client that lost that connection continues with a GET
// carrying Last-Event-ID, on this process or another one sharing the store.
//
// Events are numbered 1, 2, 3, ... and sent with the id "<stream>.<seq>",
// so a Last-Event-ID names both the stream and the position in it
// ([ParseResumeID]). The producer runs independently of any request: it
// appends with a [Writer] and finishes the stream; readers replay after a
// sequence number and then follow live appends until the stream is
// finished ([Follow], [ServeResume]).

// Errors of a [Store].
var (
	// ErrStreamNotFound: no such stream, or it expired. An HTTP handler
	// answers 404 (see [ResumeHandler]).
	ErrStreamNotFound = errors.New("server: stream not found or expired")
	// ErrStreamExists: Create with an ID already in use.
	ErrStreamExists = errors.New("server: stream already exists")
	// ErrStreamFinished: Append or Finish on a finished stream.
	ErrStreamFinished = errors.New("server: stream already finished")
	// ErrStreamFull: the stream holds the most events the store allows.
	ErrStreamFull = errors.New("server: stream too long")
	// ErrStoreFull: the store holds the most streams it allows.
	ErrStoreFull = errors.New("server: too many streams")
)

// Entry is one event of a resumable stream.
type Entry struct {
	Seq  uint64 // 1, 2, 3, ... in the stream
	Type string // the event type; "" is a message
	Data string
}

// Store keeps resumable streams. Implementations: [MemoryStore] here, and
// package redisstore (Redis Streams) for several processes. A stream
// expires some time after its last write; then it is not found.
//
// A store must be safe for concurrent use. Each stream has one producer
// (one [Writer]); readers are any number.
type Store interface {
	// Create makes an empty, unfinished stream, or returns ErrStreamExists.
	Create(ctx context.Context, stream string) error
	// Append adds e, whose Seq must be one more than the previous one (1
	// for the first).
	Append(ctx context.Context, stream string, e Entry) error
	// Finish marks the stream complete: readers end after its last entry.
	Finish(ctx context.Context, stream string) error
	// Read returns the entries with Seq > after, in order (possibly only
	// the first ones of them), and whether the stream is finished and
	// nothing is left after them. When there are none yet and it is not
	// finished, it waits up to wait for some (zero: it does not wait).
	// An unknown or expired stream returns ErrStreamNotFound.
	Read(ctx context.Context, stream string, after uint64, wait time.Duration) (entries []Entry, finished bool, err error)
}

// SeqError is returned by a [Store]'s Append when the entry's Seq is not
// the next one.
type SeqError struct{ Want, Got uint64 }

func (e *SeqError) Error() string {
	return "server: append: seq " + strconv.FormatUint(e.Got, 10) + ", want " + strconv.FormatUint(e.Want, 10)
}

func errSeq(want, got uint64) error { return &SeqError{Want: want, Got: got} }

// NewStreamID returns a random stream ID: 32 lowercase hex digits (128
// bits), which a client cannot guess to read another one's stream.
func NewStreamID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// ResumeID returns the event ID of event seq of stream: "<stream>.<seq>".
func ResumeID(stream string, seq uint64) string {
	return stream + "." + strconv.FormatUint(seq, 10)
}

// ParseResumeID splits an event ID made by [ResumeID]. The stream part must
// be non-empty and the seq canonical decimal; ok is false otherwise.
func ParseResumeID(id string) (stream string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, '.')
	if i <= 0 {
		return "", 0, false
	}
	seq, ok = parseSeq(id[i+1:])
	if !ok {
		return "", 0, false
	}
	return id[:i], seq, true
}

// Writer appends to one resumable stream: the producer's side.
type Writer struct {
	store  Store
	stream string
	seq    uint64
}

// NewWriter creates stream in store and returns its Writer.
func NewWriter(ctx context.Context, store Store, stream string) (*Writer, error) {
	if err := store.Create(ctx, stream); err != nil {
		return nil, err
	}
	return &Writer{store: store, stream: stream}, nil
}

// Stream is the stream's ID.
func (w *Writer) Stream() string { return w.stream }

// Append adds one event and returns its event ID, "<stream>.<seq>".
func (w *Writer) Append(ctx context.Context, typ, data string) (id string, err error) {
	e := Entry{Seq: w.seq + 1, Type: typ, Data: data}
	if err := w.store.Append(ctx, w.stream, e); err != nil {
		return "", err
	}
	w.seq = e.Seq
	return ResumeID(w.stream, e.Seq), nil
}

// Finish marks the stream complete.
func (w *Writer) Finish(ctx context.Context) error {
	return w.store.Finish(ctx, w.stream)
}

// followWait is how long one Read of Follow waits for new entries before
// checking its context again and reading anew (a store's Read may not see
// ctx's end while it waits, as with Redis' XREAD BLOCK).
const followWait = time.Second

// Follow yields the entries of stream after seq after, in order, waiting for
// new ones until the stream is finished (then the sequence ends) or ctx
// ends. An error (ErrStreamNotFound, ctx's error, a store failure) is
// yielded once, with a zero Entry, and ends the sequence.
func Follow(ctx context.Context, store Store, stream string, after uint64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for {
			if err := ctx.Err(); err != nil {
				yield(Entry{}, err)
				return
			}
			entries, finished, err := store.Read(ctx, stream, after, followWait)
			if err != nil {
				yield(Entry{}, err)
				return
			}
			for _, e := range entries {
				if e.Seq <= after { // a store bug must not turn into a duplicate
					continue
				}
				if !yield(e, nil) {
					return
				}
				after = e.Seq
			}
			if finished {
				return
			}
		}
	}
}

// Message returns e as the message a reader sends: its type, data and id
// "<stream>.<seq>".
func (e Entry) Message(stream string) sse.Message {
	return sse.Message{Type: e.Type, Data: e.Data, ID: ResumeID(stream, e.Seq)}
}

// ServeResume streams stream after seq after on w: it answers 404 when the
// stream is unknown or expired (nothing else was written then), else opens a
// [Stream] with opts and sends every entry as [Entry.Message], following
// new ones until the stream is finished; then the response ends. It returns
// nil when the stream was sent to its end.
func ServeResume(w http.ResponseWriter, r *http.Request, store Store, stream string, after uint64, opts StreamOptions) error {
	// One Read that does not wait decides between 404 and a stream.
	first, finished, err := store.Read(r.Context(), stream, after, 0)
	if errors.Is(err, ErrStreamNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return err
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return err
	}
	st, err := NewStream(w, r, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	// What one Read returns leaves in one write: a replay of thousands of
	// stored tokens is a few writes, not one per token.
	var buf []byte
	send := func(entries []Entry) error {
		buf = buf[:0]
		for _, e := range entries {
			if buf, err = sse.AppendMessage(buf, e.Message(stream)); err != nil {
				return err
			}
		}
		if len(buf) == 0 {
			return nil
		}
		return st.SendEncoded(buf)
	}
	if err := send(first); err != nil {
		return err
	}
	if len(first) > 0 {
		after = first[len(first)-1].Seq
	}
	for !finished {
		var entries []Entry
		entries, finished, err = readWait(st.Context(), store, stream, after)
		if err != nil {
			return err
		}
		if err := send(entries); err != nil {
			return err
		}
		if len(entries) > 0 {
			after = entries[len(entries)-1].Seq
		}
	}
	return nil
}

// readWait is one Read that waits, dropping entries at or before after (a
// store bug must not turn into a duplicate).
func readWait(ctx context.Context, store Store, stream string, after uint64) ([]Entry, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	entries, finished, err := store.Read(ctx, stream, after, followWait)
	if err != nil {
		return nil, false, err
	}
	for len(entries) > 0 && entries[0].Seq <= after {
		entries = entries[1:]
	}
	return entries, finished, nil
}

// ResumeHandler serves resumptions: a GET whose Last-Event-ID is
// "<stream>.<seq>" gets the events after seq ([ServeResume]). A missing or
// malformed Last-Event-ID is a 400, an unknown or expired stream a 404.
func ResumeHandler(store Store, opts StreamOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream, seq, ok := ParseResumeID(r.Header.Get("Last-Event-Id"))
		if !ok {
			http.Error(w, "Last-Event-ID: want <stream>.<seq>", http.StatusBadRequest)
			return
		}
		_ = ServeResume(w, r, store, stream, seq, opts)
	})
}
