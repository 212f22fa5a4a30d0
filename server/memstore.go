package server

import (
	"context"
	"sync"
	"time"
)

// Defaults of the zero MemoryStoreOptions.
const (
	DefaultTTL        = 10 * time.Minute
	DefaultMaxStreams = 10_000
	DefaultMaxEntries = 100_000
)

// MemoryStoreOptions bounds a [MemoryStore]. The zero value is usable.
type MemoryStoreOptions struct {
	// TTL is how long a stream is kept after its last write. Zero means
	// DefaultTTL.
	TTL time.Duration
	// MaxStreams is the most streams held at once; Create fails with
	// ErrStoreFull beyond it (expired streams are removed first). Zero
	// means DefaultMaxStreams.
	MaxStreams int
	// MaxEntries is the most entries of one stream; Append fails with
	// ErrStreamFull beyond it. Zero means DefaultMaxEntries.
	MaxEntries int
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
}

// MemoryStore is a [Store] in this process's memory: bounded in streams and
// entries per stream, each stream expiring TTL after its last write.
type MemoryStore struct {
	opts MemoryStoreOptions

	mu        sync.Mutex
	streams   map[string]*memStream
	lastSweep time.Time // when Create last removed every expired stream
}

type memStream struct {
	entries  []Entry
	finished bool
	expires  time.Time
	changed  chan struct{} // closed and replaced on every write
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryStoreOptions) *MemoryStore {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = DefaultMaxStreams
	}
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &MemoryStore{opts: opts, streams: make(map[string]*memStream)}
}

// get returns the live stream, deleting it when expired. Called under mu.
func (m *MemoryStore) get(stream string, now time.Time) *memStream {
	s := m.streams[stream]
	if s != nil && !now.Before(s.expires) {
		delete(m.streams, stream)
		close(s.changed) // wake readers: they find it gone
		return nil
	}
	return s
}

// Create implements [Store].
func (m *MemoryStore) Create(_ context.Context, stream string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	if m.get(stream, now) != nil {
		return ErrStreamExists
	}
	// Expired streams nobody reads again are removed here: every TTL/4,
	// or at once when the store is full.
	if len(m.streams) >= m.opts.MaxStreams || now.Sub(m.lastSweep) >= m.opts.TTL/4 {
		for id := range m.streams {
			m.get(id, now)
		}
		m.lastSweep = now
		if len(m.streams) >= m.opts.MaxStreams {
			return ErrStoreFull
		}
	}
	m.streams[stream] = &memStream{expires: now.Add(m.opts.TTL), changed: make(chan struct{})}
	return nil
}

// write runs f on the live stream under the lock, then wakes its readers.
func (m *MemoryStore) write(stream string, f func(s *memStream) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	s := m.get(stream, now)
	if s == nil {
		return ErrStreamNotFound
	}
	if s.finished {
		return ErrStreamFinished
	}
	if err := f(s); err != nil {
		return err
	}
	s.expires = now.Add(m.opts.TTL)
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// Append implements [Store].
func (m *MemoryStore) Append(_ context.Context, stream string, e Entry) error {
	return m.write(stream, func(s *memStream) error {
		if e.Seq != uint64(len(s.entries))+1 {
			return errSeq(uint64(len(s.entries))+1, e.Seq)
		}
		if len(s.entries) >= m.opts.MaxEntries {
			return ErrStreamFull
		}
		s.entries = append(s.entries, e)
		return nil
	})
}

// Finish implements [Store].
func (m *MemoryStore) Finish(_ context.Context, stream string) error {
	return m.write(stream, func(s *memStream) error {
		s.finished = true
		return nil
	})
}

// Read implements [Store]. It returns at most 4096 entries at a time.
func (m *MemoryStore) Read(ctx context.Context, stream string, after uint64, wait time.Duration) ([]Entry, bool, error) {
	var timer <-chan time.Time
	for {
		m.mu.Lock()
		s := m.get(stream, m.opts.Now())
		if s == nil {
			m.mu.Unlock()
			return nil, false, ErrStreamNotFound
		}
		n := uint64(len(s.entries))
		if after < n || s.finished || wait <= 0 {
			var out []Entry
			if after < n {
				end := min(n, after+4096)
				out = append(out, s.entries[after:end]...) // a copy: Append may reuse the array
				fin := s.finished && end == n
				m.mu.Unlock()
				return out, fin, nil
			}
			fin := s.finished
			m.mu.Unlock()
			return nil, fin, nil
		}
		changed := s.changed
		m.mu.Unlock()
		if timer == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-changed:
		case <-timer:
			return nil, false, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
	}
}

// Len is the number of streams held, expired ones not yet removed included.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.streams)
}
