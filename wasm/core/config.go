package core

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// Config is what a Source needs to know of `new EventSource(url, init)`.
// Everything the engine never looks at (headers, body, the signal) stays in
// JS with the host. The zero value of each policy field means "as native".
type Config struct {
	URL          string // absolute, serialized
	Method       string // "GET" unless the caller chose another
	Reconnect    int8   // -1: by method (GET reconnects, others do not); 0: never; 1: always
	MaxEventSize int    // bytes; 0: sse.DefaultMaxEventSize
	LastEventID  string // to start from: sent on the first request too

	RetryOn    []int // statuses that reconnect instead of failing
	MaxRetries int   // reconnection attempts without an open before failing; -1: no limit

	Backoff      bool    // grow reconnection waits (else the fixed reconnection time)
	InitialDelay int     // ms, the first wait when the server sent no retry: (default 1000)
	MaxDelay     int     // ms, the longest wait (default 30000)
	Factor       float64 // growth per attempt (default 2)
	Jitter       bool    // full jitter: each wait uniform in [0, computed wait]

	ResumeSet bool   // continue a dropped non-GET stream by GET (resume)
	ResumeURL string // the resume URL; "" when the host computes it (a function)

	IdleTimeout       int  // ms without a byte before the connection counts as dropped; 0: none
	PauseWhenHidden   bool // close while the document is hidden, reconnect when visible (GET only)
	ReconnectOnOnline bool // the online event ends a reconnection wait at once

	Seed uint64 // for the jitter
}

// DefaultRetry is the reconnection time, in ms, before any `retry:` field, as in Chromium.
const DefaultRetry = 3000

// maxTimer is the longest delay, in ms, that setTimeout honours; larger values fire at once.
const maxTimer = 1<<31 - 1

func (c *Config) isGet() bool { return asciiEqualFold(c.Method, "GET") }

// reconnects decides whether a stream that ended or dropped is opened again.
// Native EventSource always reconnects; it only ever sends GET. A request
// with another method (an LLM prompt sent by POST) is not re-sent unless the
// caller asked for it, because the server would act on it again.
func (c *Config) reconnects() bool {
	if c.Reconnect >= 0 {
		return c.Reconnect == 1
	}
	return c.isGet()
}

func (c *Config) retriesOn(status int) bool {
	for _, s := range c.RetryOn {
		if s == status {
			return true
		}
	}
	return false
}

// delay is the wait before the next reconnection, in ms: a Retry-After the
// server sent with a retryOn status wins; else the reconnection time (the
// server's retry: field, else the default), grown by the backoff policy
// when there is one.
func (s *Source) delay(retryAfter float64) int32 {
	if retryAfter >= 0 {
		return clampTimer(retryAfter)
	}
	base, ok := s.parser.Retry()
	c := &s.cfg
	if !c.Backoff {
		if !ok {
			return DefaultRetry
		}
		return clampTimer(float64(base))
	}
	d := float64(c.InitialDelay)
	if ok {
		d = float64(base)
	}
	for i := 0; i < s.retries && d < float64(c.MaxDelay); i++ {
		d *= c.Factor
	}
	d = min(d, float64(c.MaxDelay))
	if c.Jitter {
		d *= s.random()
	}
	return clampTimer(d)
}

func clampTimer(ms float64) int32 {
	if ms < 0 {
		return 0
	}
	if ms > maxTimer {
		return maxTimer
	}
	return int32(ms)
}

// random returns a number in [0, 1) (xorshift64*: the jitter needs no more,
// and math/rand would add to the download).
func (s *Source) random() float64 {
	s.rng ^= s.rng >> 12
	s.rng ^= s.rng << 25
	s.rng ^= s.rng >> 27
	return float64((s.rng*2685821657736338717)>>11) / (1 << 53)
}

// ParseConfig reads the init record the host writes: a sequence of fields,
// each a one-byte name length, the name, a four-byte little-endian value
// length and the value, all text. Fields are read by name; an unknown name
// or a bad value is an error, so the two sides cannot drift apart silently.
func ParseConfig(rec []byte) (Config, error) {
	c := Config{Method: "GET", Reconnect: -1, MaxRetries: -1, InitialDelay: 1000, MaxDelay: 30000, Factor: 2, Jitter: true}
	for len(rec) > 0 {
		n := int(rec[0])
		if len(rec) < 1+n+4 {
			return c, errors.New("truncated init record")
		}
		name := string(rec[1 : 1+n])
		vn := int(binary.LittleEndian.Uint32(rec[1+n:]))
		rec = rec[1+n+4:]
		if len(rec) < vn {
			return c, errors.New("truncated init record")
		}
		if err := c.set(name, string(rec[:vn])); err != nil {
			return c, err
		}
		rec = rec[vn:]
	}
	return c, c.check()
}

func (c *Config) set(name, v string) error {
	var err error
	switch name {
	case "url":
		c.URL = v
	case "method":
		c.Method = v
	case "reconnect":
		c.Reconnect = 0
		if v == "true" {
			c.Reconnect = 1
		}
	case "maxEventSize":
		c.MaxEventSize, err = positive(v)
	case "lastEventId":
		c.LastEventID = v
	case "retryOn":
		for _, f := range strings.Split(v, ",") {
			st, err := strconv.Atoi(f)
			if err != nil || st < 100 || st > 599 {
				return errors.New("retryOn: " + f + " is not an HTTP status")
			}
			c.RetryOn = append(c.RetryOn, st)
		}
	case "maxRetries":
		c.MaxRetries, err = positive(v)
	case "backoff":
		c.Backoff = true
	case "initialDelay":
		c.InitialDelay, err = positive(v)
	case "maxDelay":
		c.MaxDelay, err = positive(v)
	case "factor":
		c.Factor, err = strconv.ParseFloat(v, 64)
		if err == nil && !(c.Factor >= 1 && c.Factor <= 1000) {
			err = errors.New("not between 1 and 1000")
		}
	case "jitter":
		c.Jitter = v == "true"
	case "resume":
		c.ResumeSet, c.ResumeURL = true, v
	case "idleTimeout":
		c.IdleTimeout, err = positive(v)
	case "pauseWhenHidden":
		c.PauseWhenHidden = v == "true"
	case "reconnectOnOnline":
		c.ReconnectOnOnline = v == "true"
	case "seed":
		c.Seed, err = strconv.ParseUint(v, 10, 64)
	default:
		return errors.New("unknown init field " + name)
	}
	if err != nil {
		return errors.New(name + ": " + v + " is not valid")
	}
	return nil
}

// positive parses a whole number of at most 2^31-1 (ms or bytes).
func positive(v string) (int, error) {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, errors.New("not a whole number")
	}
	return int(n), nil
}

func (c *Config) check() error {
	switch {
	case c.URL == "":
		return errors.New("no URL")
	case strings.ContainsAny(c.LastEventID, "\r\n\x00"):
		return errors.New("lastEventId must not contain CR, LF or NUL")
	case c.MaxDelay < c.InitialDelay && c.Backoff:
		return errors.New("backoff: maxDelay is smaller than initialDelay")
	}
	return nil
}
