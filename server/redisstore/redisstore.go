// Package redisstore keeps resumable streams (server.Store) in Redis
// Streams, so that several server processes share them: a stream produced
// by one process can be read, live, from any other.
//
// Each stream is one Redis stream under Prefix+ID. Its entries have explicit
// Redis IDs that carry the sequence number: "0-1" marks the stream's
// creation, entry seq n is "n-0", and the finished marker is "(last+1)-0".
// Every entry is a hash {"t": type, "d": data}; the markers have "t" set to
// "\x00open" and "\x00end". Readers use XRANGE for what is stored and XREAD
// BLOCK to wait for appends. Every write refreshes the key's expiry (TTL);
// an expired stream is server.ErrStreamNotFound.
//
// Redis 6.2 or later is required (exclusive XRANGE ranges).
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// Defaults of the zero Options.
const (
	DefaultPrefix = "sse:stream:"
	DefaultTTL    = 10 * time.Minute
	// DefaultReadCount is the most entries one Read returns.
	DefaultReadCount = 4096
)

const (
	fieldType  = "t"
	fieldData  = "d"
	markOpen   = "\x00open"
	markEnd    = "\x00end"
	idOpen     = "0-1"
	typePrefix = "\x00" // types starting with NUL are reserved for markers
)

// Options configures a Store. The zero value is usable.
type Options struct {
	Prefix    string        // key prefix; "" means DefaultPrefix
	TTL       time.Duration // expiry after the last write; 0 means DefaultTTL
	ReadCount int64         // entries per Read; 0 means DefaultReadCount
}

// Store is a server.Store on Redis.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
}

var _ server.Store = (*Store)(nil)

// New returns a Store using rdb, which the caller owns (and closes).
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.ReadCount <= 0 {
		opts.ReadCount = DefaultReadCount
	}
	return &Store{rdb: rdb, opts: opts}
}

// Open connects to the Redis server at url ("redis://host:port/db", see
// redis.ParseURL), checks it answers, and returns a Store and a function
// that closes the connection.
func Open(ctx context.Context, url string, opts Options) (*Store, func() error, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("redisstore: %w", err)
	}
	rdb := redis.NewClient(o)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("redisstore: %s: %w", url, err)
	}
	return New(rdb, opts), rdb.Close, nil
}

func (s *Store) key(stream string) string { return s.opts.Prefix + stream }

// isIDTooSmall reports Redis' answer to an XADD whose ID is not above the
// stream's last one.
func isIDTooSmall(err error) bool {
	return err != nil && strings.Contains(err.Error(), "equal or smaller than the target stream top item")
}

// Create implements server.Store: XADD key 0-1 (the creation marker), which
// fails when the stream exists.
func (s *Store) Create(ctx context.Context, stream string) error {
	k := s.key(stream)
	pipe := s.rdb.TxPipeline()
	add := pipe.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: idOpen, Values: []string{fieldType, markOpen}})
	pipe.PExpire(ctx, k, s.opts.TTL)
	_, err := pipe.Exec(ctx)
	if isIDTooSmall(add.Err()) {
		return server.ErrStreamExists
	}
	if err != nil {
		return fmt.Errorf("redisstore: create %s: %w", stream, err)
	}
	return nil
}

// add appends one entry with Redis ID id, only if the stream exists
// (NOMKSTREAM), and refreshes the expiry. The caller checked that the stream
// is not finished (one producer per stream).
func (s *Store) add(ctx context.Context, stream, id string, values []string) error {
	k := s.key(stream)
	pipe := s.rdb.TxPipeline()
	add := pipe.XAdd(ctx, &redis.XAddArgs{Stream: k, NoMkStream: true, ID: id, Values: values})
	pipe.PExpire(ctx, k, s.opts.TTL)
	if _, err := pipe.Exec(ctx); err != nil {
		if errors.Is(add.Err(), redis.Nil) {
			return server.ErrStreamNotFound // expired in between
		}
		return fmt.Errorf("redisstore: %s: %w", stream, err)
	}
	return nil
}

// Append implements server.Store. The seq check is Redis' own: an ID not
// above the last one is refused. A gap is refused here.
func (s *Store) Append(ctx context.Context, stream string, e server.Entry) error {
	if strings.HasPrefix(e.Type, typePrefix) {
		return fmt.Errorf("redisstore: event type %q: types starting with NUL are reserved", e.Type)
	}
	last, err := s.lastSeq(ctx, stream)
	if err != nil {
		return err
	}
	if e.Seq != last+1 {
		return &server.SeqError{Want: last + 1, Got: e.Seq}
	}
	return s.add(ctx, stream, strconv.FormatUint(e.Seq, 10)+"-0", []string{fieldType, e.Type, fieldData, e.Data})
}

// Finish implements server.Store: the end marker after the last entry.
func (s *Store) Finish(ctx context.Context, stream string) error {
	last, err := s.lastSeq(ctx, stream)
	if err != nil {
		return err
	}
	return s.add(ctx, stream, strconv.FormatUint(last+1, 10)+"-0", []string{fieldType, markEnd})
}

// lastSeq is the seq of the last entry (0 for a new stream).
func (s *Store) lastSeq(ctx context.Context, stream string) (uint64, error) {
	last, err := s.rdb.XRevRangeN(ctx, s.key(stream), "+", "-", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: %s: %w", stream, err)
	}
	if len(last) == 0 {
		return 0, server.ErrStreamNotFound
	}
	if last[0].Values[fieldType] == markEnd {
		return 0, server.ErrStreamFinished
	}
	if last[0].ID == idOpen {
		return 0, nil
	}
	seq, _, err := parseID(last[0].ID)
	return seq, err
}

// parseID splits a Redis stream ID "ms-seq".
func parseID(id string) (ms, seq uint64, err error) {
	a, b, ok := strings.Cut(id, "-")
	if ok {
		if ms, err = strconv.ParseUint(a, 10, 64); err == nil {
			seq, err = strconv.ParseUint(b, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("redisstore: unexpected stream ID %q", id)
	}
	return ms, seq, nil
}

// convert turns Redis messages into entries after after; finished reports
// the end marker.
func convert(msgs []redis.XMessage, after uint64) (entries []server.Entry, finished bool, err error) {
	for _, m := range msgs {
		if m.ID == idOpen {
			continue
		}
		seq, _, err := parseID(m.ID)
		if err != nil {
			return nil, false, err
		}
		t, _ := m.Values[fieldType].(string)
		if t == markEnd {
			return entries, true, nil
		}
		if seq <= after {
			continue
		}
		d, _ := m.Values[fieldData].(string)
		entries = append(entries, server.Entry{Seq: seq, Type: t, Data: d})
	}
	return entries, false, nil
}

// Read implements server.Store: XRANGE for what is stored after after, and
// when there is nothing and wait > 0, XREAD BLOCK for up to wait (at least
// 1 ms, Redis' unit).
func (s *Store) Read(ctx context.Context, stream string, after uint64, wait time.Duration) ([]server.Entry, bool, error) {
	k := s.key(stream)
	from := "(" + strconv.FormatUint(after, 10) + "-0"
	if after == 0 {
		from = "(" + idOpen
	}
	for {
		msgs, err := s.rdb.XRangeN(ctx, k, from, "+", s.opts.ReadCount).Result()
		if err != nil {
			return nil, false, fmt.Errorf("redisstore: read %s: %w", stream, err)
		}
		if len(msgs) > 0 {
			return convert(msgs, after)
		}
		// Nothing after: the stream is empty there, finished right there,
		// or gone. Entries appended since the XRANGE send us back to it.
		last, err := s.rdb.XRevRangeN(ctx, k, "+", "-", 1).Result()
		if err != nil {
			return nil, false, fmt.Errorf("redisstore: read %s: %w", stream, err)
		}
		if len(last) == 0 {
			return nil, false, server.ErrStreamNotFound
		}
		seq := uint64(0)
		if last[0].ID != idOpen {
			if seq, _, err = parseID(last[0].ID); err != nil {
				return nil, false, err
			}
		}
		if last[0].Values[fieldType] == markEnd && seq <= after+1 {
			return nil, true, nil
		}
		if seq <= after {
			break // nothing new: wait
		}
	}
	if wait <= 0 {
		return nil, false, nil
	}
	lastID := strconv.FormatUint(after, 10) + "-0"
	if after == 0 {
		lastID = idOpen
	}
	res, err := s.rdb.XRead(ctx, &redis.XReadArgs{
		Streams: []string{k, lastID},
		Count:   s.opts.ReadCount,
		Block:   max(wait, time.Millisecond),
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil // timed out
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, fmt.Errorf("redisstore: read %s: %w", stream, err)
	}
	if len(res) == 0 {
		return nil, false, nil
	}
	return convert(res[0].Messages, after)
}
