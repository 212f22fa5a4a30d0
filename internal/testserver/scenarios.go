package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// scenarioState is one registered scenario and what it has seen.
type scenarioState struct {
	sc      Scenario
	next    int            // index the next non-preflight request gets
	lastFor map[string]int // request URI -> index of the Conn that last answered it (for HEAD probes)
	obs     []Observation
	changed chan struct{} // closed and replaced on every new observation
}

// Handle registers sc under id and returns its path, "/s/<id>" (escaped),
// which works on both origins. Registering an id again replaces the
// scenario and forgets what the old one saw. Tests running in parallel must
// use distinct ids. Handle panics on an empty id.
func (s *Server) Handle(id string, sc Scenario) string {
	if id == "" {
		panic("server: Handle with an empty id")
	}
	sc.Conns = append([]Conn(nil), sc.Conns...)
	s.mu.Lock()
	s.scenarios[id] = &scenarioState{sc: sc, changed: make(chan struct{})}
	s.mu.Unlock()
	return "/s/" + url.PathEscape(id)
}

// Observations returns copies of what scenario id has seen, in arrival
// order, preflights included (Index IndexPreflight). It is nil for an unknown id.
func (s *Server) Observations(id string) []Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.scenarios[id]
	if st == nil {
		return nil
	}
	return append([]Observation(nil), st.obs...)
}

// Wait waits until scenario id has seen at least n requests that are not
// preflights, then returns its observations like Observations (preflights
// included). On timeout it returns what was seen and an error.
func (s *Server) Wait(id string, n int, timeout time.Duration) ([]Observation, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		st := s.scenarios[id]
		if st == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("server: Wait: no scenario %q", id)
		}
		obs := append([]Observation(nil), st.obs...)
		seen, changed := st.next, st.changed
		s.mu.Unlock()
		if seen >= n {
			return obs, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return obs, fmt.Errorf("server: Wait %q: saw %d requests, want %d, after %v", id, seen, n, timeout)
		case <-s.closing:
			return obs, fmt.Errorf("server: Wait %q: server closed after %d requests, want %d", id, seen, n)
		}
	}
}

// serveScenario answers /s/<id>.
func (s *Server) serveScenario(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	id := strings.TrimPrefix(r.URL.Path, "/s/")
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	preflight := isPreflight(r)
	// A HEAD is how a fetch-based client probes a URL whose request failed
	// (wasm-eventsource does, to tell a CORS refusal or a bad redirect from
	// a network error). A real endpoint answers it as it answered the
	// request before, so a HEAD consumes nothing and gets the head of the
	// Conn that answered the last real request.
	probe := r.Method == http.MethodHead

	s.mu.Lock()
	st := s.scenarios[id]
	if st == nil {
		s.mu.Unlock()
		http.Error(w, fmt.Sprintf("no scenario %q", id), http.StatusNotFound)
		return
	}
	// A preflight is answered by the Conn the next real request gets,
	// without consuming it.
	index := st.next
	switch {
	case probe:
		// The Conn that last answered this URL (a redirect, say), else the
		// last one served.
		index = max(st.next-1, 0)
		if i, ok := st.lastFor[r.URL.RequestURI()]; ok {
			index = i
		}
	case !preflight:
		st.next++
		if st.lastFor == nil {
			st.lastFor = map[string]int{}
		}
		st.lastFor[r.URL.RequestURI()] = index
	}
	var conn *Conn
	if index < len(st.sc.Conns) {
		conn = &st.sc.Conns[index]
	}
	// Past the end, the answer (a 204) and its preflights keep the CORS
	// policy of the last Conn, so a cross-origin client sees a clean 204
	// rather than a CORS failure.
	cors := lastCORS(st.sc.Conns, index)
	ob := observe(r, body, at)
	ob.Index = index
	switch {
	case preflight:
		ob.Index = IndexPreflight
	case probe:
		ob.Index = IndexProbe
	}
	st.obs = append(st.obs, ob)
	obsAt := len(st.obs) - 1
	close(st.changed)
	st.changed = make(chan struct{})
	s.mu.Unlock()

	h := w.Header()
	origin := r.Header.Get("Origin")
	if preflight {
		if cors != nil {
			setCORS(h, cors, origin)
			if cors.AllowMethods != "" {
				h.Set("Access-Control-Allow-Methods", cors.AllowMethods)
			}
			if cors.AllowHeaders != "" {
				h.Set("Access-Control-Allow-Headers", cors.AllowHeaders)
			}
			h.Set("Access-Control-Max-Age", "0")
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if conn == nil {
		if cors != nil {
			setCORS(h, cors, origin)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if conn.NoResponse {
		s.abort(w, malformedResponse)
		return
	}
	if probe {
		// The status and headers of the Conn, no body.
		s.writeHead(w, r, conn)
		return
	}
	s.serveConn(w, r, conn)
	s.mu.Lock()
	st.obs[obsAt].Ended = time.Now()
	close(st.changed)
	st.changed = make(chan struct{})
	s.mu.Unlock()
}

// lastCORS is the CORS of Conns[index], or of the last Conn past the end.
func lastCORS(conns []Conn, index int) *CORS {
	switch {
	case index < len(conns):
		return conns[index].CORS
	case len(conns) > 0:
		return conns[len(conns)-1].CORS
	}
	return nil
}

// isPreflight reports whether r is a CORS preflight (not any OPTIONS).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

func observe(r *http.Request, body []byte, at time.Time) Observation {
	h := r.Header
	_, hasLEI := h["Last-Event-Id"]
	return Observation{
		Method:                      r.Method,
		Path:                        r.URL.RequestURI(),
		Accept:                      h.Get("Accept"),
		CacheControl:                h.Get("Cache-Control"),
		Pragma:                      h.Get("Pragma"),
		LastEventID:                 h.Get("Last-Event-Id"),
		HasLastEventID:              hasLEI,
		Origin:                      h.Get("Origin"),
		Cookie:                      h.Get("Cookie"),
		Authorization:               h.Get("Authorization"),
		ContentType:                 h.Get("Content-Type"),
		Body:                        string(body),
		AccessControlRequestHeaders: h.Get("Access-Control-Request-Headers"),
		At:                          at,
	}
}

// setCORS adds the response headers of c for a request from origin.
func setCORS(h http.Header, c *CORS, origin string) {
	h.Add("Vary", "Origin")
	allow := c.AllowOrigin
	if allow == "echo" {
		allow = origin
	}
	if allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
	}
	if c.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// serveConn plays one Conn (not a NoResponse one): headers flushed at
// once, each chunk after its delay and flushed, then the ending.
func (s *Server) serveConn(w http.ResponseWriter, r *http.Request, c *Conn) {
	sw := NewStream(w, s.opts.WriteTimeout)
	s.writeHead(w, r, c)
	if err := sw.Flush(); err != nil {
		return
	}
	ctx := r.Context()
	for _, ch := range c.Chunks {
		if !s.sleep(ctx, ch.Delay) {
			return
		}
		if err := sw.SendString(ch.Data); err != nil {
			return
		}
	}
	switch c.End {
	case EndHold:
		s.hold(ctx, sw, c.Heartbeat)
	case EndReset:
		s.abort(w, "")
	}
}

// hold keeps a response open until the client or the server goes away,
// sending ":\n" every heartbeat when heartbeat > 0.
func (s *Server) hold(ctx context.Context, sw *Stream, heartbeat time.Duration) {
	var tick <-chan time.Time
	if heartbeat > 0 {
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		case <-tick:
			if err := sw.SendString(":\n"); err != nil {
				return
			}
		}
	}
}

// errNoHijack is reported when the connection cannot be taken over.
var errNoHijack = errors.New("server: connection cannot be hijacked")

// malformedResponse is what a NoResponse Conn sends before closing: a
// response head that no client may accept (two different Content-Length
// values), which Chromium reports as a network error
// (net::ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH) whatever the port.
// Closing without a byte is not reliable: Chromium silently resends a GET
// whose reused keep-alive connection closes before sending anything (it
// takes that for a server dropping an idle connection), and a truncated head
// is not an error either: Chromium takes EOF for the end of the headers.
const malformedResponse = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"

// abort closes the connection abruptly, after writing last on it. Everything
// written before has been flushed; on HTTP/1.1 the chunked body's
// terminating 0-chunk never comes, so the client sees a network error
// mid-body (Chromium: net::ERR_INCOMPLETE_CHUNKED_ENCODING; Go:
// io.ErrUnexpectedEOF).
func (s *Server) abort(w http.ResponseWriter, last string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if s.opts.Logf != nil {
			s.opts.Logf("%v: %v; aborting the handler instead", errNoHijack, err)
		}
		panic(http.ErrAbortHandler)
	}
	if last != "" {
		conn.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		buf.WriteString(last)
		buf.Flush()
	}
	conn.Close()
}

// writeHead writes the status and headers of c.
func (s *Server) writeHead(w http.ResponseWriter, r *http.Request, c *Conn) {
	h := w.Header()
	SetStreamHeaders(h)
	if c.CORS != nil {
		setCORS(h, c.CORS, r.Header.Get("Origin"))
	}
	for k, v := range c.Headers {
		k = http.CanonicalHeaderKey(k)
		if v == "" {
			// A nil entry sends no header at all; for Content-Type it also
			// stops net/http from sniffing one.
			h[k] = nil
		} else {
			h[k] = []string{v}
		}
	}
	status := c.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
}
