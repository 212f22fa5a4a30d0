// Package testserver is the scripted test double of the browser suite, and
// the base the benchmarks and the demo server (server/cmd/sseserver) add
// their routes to (Options.Wrap).
//
// It serves three things from one handler:
//
//   - scripted scenarios under /s/<id> (see [Scenario]): the browser
//     conformance tests describe, connection by connection, the exact bytes,
//     status, headers, CORS answers and endings the server produces, and read
//     back what the browser sent ([Observation]);
//   - fixed endpoints under /api/ for the tests and the benchmarks: the
//     resumable LLM-like chat (package chat: POST /api/chat, GET
//     /api/chat/resume), a bulk stream and an echo of the request;
//   - static files (the demo pages and dist/).
//
// [Start] listens on two loopback ports so that tests have a second origin for
// cross-origin cases. The server never listens on anything but loopback.
//
// Every streamed response leaves at once (headers flushed immediately, with
// Cache-Control: no-store and X-Accel-Buffering: no), every write has a
// deadline so a client that stops reading is dropped, and [Server.Close]
// ends held streams and waits for the handlers.
package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/chat"
	"github.com/wasm-eventsource/wasm-eventsource/server"
)

// DemoToken is the bearer token /api/chat always accepts.
const DemoToken = chat.DemoToken

// Defaults of the zero Options.
const (
	DefaultWriteTimeout = 30 * time.Second
)

// maxBody bounds how much of a request body the server reads (scenarios,
// /api/echo, /api/chat).
const maxBody = 1 << 20

// Options configures a Server. The zero value is usable.
type Options struct {
	// Static maps URL prefixes to directories served as static files, e.g.
	// {"/dist/": "dist", "/": "web"}. The longest matching prefix wins.
	// .wasm is served as application/wasm and .mjs/.js as text/javascript.
	Static map[string]string

	// Logf, when set, receives one line per request and the http.Server's
	// own errors. It is called from handler goroutines until Close returns.
	Logf func(format string, args ...any)

	// ChatStore keeps the answers of /api/chat for /api/chat/resume; nil
	// means one in memory. Several servers sharing a store (Redis) resume
	// one another's answers.
	ChatStore server.Store

	// Tokens are bearer tokens /api/chat accepts besides DemoToken. They
	// are read once, by New.
	Tokens []string

	// Addr and OtherAddr are the listen addresses of Start's primary and
	// second origin. Empty means "127.0.0.1:0" (any free port). Both must be
	// loopback addresses (see CheckLoopback).
	Addr, OtherAddr string

	// AllowOrigins lists extra origins that /api/ endpoints answer
	// cross-origin (credentialed) requests from, besides the server's own
	// two origins (as 127.0.0.1 and as localhost).
	AllowOrigins []string

	// WriteTimeout bounds each write and flush of a response: a client that
	// does not read for that long is dropped. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration

	// Wrap, when set, wraps the server's routing (scenarios, /api/, static
	// files): the demo server puts its own routes in front. Wrapped
	// handlers run inside the request logging and Close's tracking.
	Wrap func(next http.Handler) http.Handler
}

// Server is the scenario, API and static file server. Create it with Start
// (listening) or New (handler only, e.g. for httptest).
type Server struct {
	opts   Options
	static []staticRoute
	routed http.Handler // route, wrapped by Options.Wrap

	closing   chan struct{} // closed by Close: held streams end
	closeOnce sync.Once

	mu        sync.Mutex
	closed    bool
	active    sync.WaitGroup // handlers; Add only under mu while !closed
	scenarios map[string]*scenarioState
	origins   map[string]bool
	chat      *chat.Handler // /api/chat and /api/chat/resume

	srv      *http.Server
	url      string
	otherURL string
}

type staticRoute struct {
	prefix string
	h      http.Handler
}

// New returns a Server that does not listen: use its Handler with your own
// listener (httptest.NewServer). URL and OtherURL are empty; /api/ CORS
// then only allows Options.AllowOrigins. Close it when done.
func New(opts Options) *Server {
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	s := &Server{
		opts:      opts,
		closing:   make(chan struct{}),
		scenarios: make(map[string]*scenarioState),
		origins:   make(map[string]bool),
	}
	s.chat = chat.New(chat.Options{
		Store:  opts.ChatStore,
		Tokens: opts.Tokens,
		Stream: server.StreamOptions{WriteTimeout: opts.WriteTimeout},
		Logf:   opts.Logf,
	})
	for _, o := range opts.AllowOrigins {
		s.origins[o] = true
	}
	for prefix, dir := range opts.Static {
		if !strings.HasPrefix(prefix, "/") {
			prefix = "/" + prefix
		}
		s.static = append(s.static, staticRoute{prefix, staticHandler(prefix, dir)})
	}
	sort.Slice(s.static, func(i, j int) bool { return len(s.static[i].prefix) > len(s.static[j].prefix) })
	s.routed = http.HandlerFunc(s.route)
	if opts.Wrap != nil {
		s.routed = opts.Wrap(s.routed)
	}
	return s
}

// Start listens on two loopback ports (Options.Addr and Options.OtherAddr,
// "127.0.0.1:0" each by default): the primary origin and a second origin for
// cross-origin tests. Both serve the same handler.
func Start(opts Options) (*Server, error) {
	addr, other := opts.Addr, opts.OtherAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if other == "" {
		other = "127.0.0.1:0"
	}
	for _, a := range []string{addr, other} {
		if err := CheckLoopback(a); err != nil {
			return nil, err
		}
	}
	ln1, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen %s: %w", addr, err)
	}
	ln2, err := net.Listen("tcp", other)
	if err != nil {
		ln1.Close()
		return nil, fmt.Errorf("server: listen %s: %w", other, err)
	}
	s := New(opts)
	s.url = "http://" + ln1.Addr().String()
	s.otherURL = "http://" + ln2.Addr().String()
	for _, ln := range []net.Listener{ln1, ln2} {
		s.origins["http://"+ln.Addr().String()] = true
		if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
			s.origins["http://localhost:"+strconv.Itoa(int(ap.Port()))] = true
		}
	}
	var errLog *log.Logger
	if opts.Logf != nil {
		errLog = log.New(logfWriter(opts.Logf), "", 0)
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          errLog,
	}
	for _, ln := range []net.Listener{ln1, ln2} {
		go s.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	}
	return s, nil
}

type logfWriter func(format string, args ...any)

func (f logfWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// URL is the primary origin, "http://127.0.0.1:PORT" (empty for New).
func (s *Server) URL() string { return s.url }

// OtherURL is the second origin, "http://127.0.0.1:PORT2" (empty for New).
func (s *Server) OtherURL() string { return s.otherURL }

// Handler is the server's handler (the Server itself).
func (s *Server) Handler() http.Handler { return s }

// Close ends held streams and live endpoints, stops listening, and waits (up
// to 5 s) for every handler to return. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.closing)
		s.mu.Unlock()
		s.chat.Close() // ends the generations and the chat streams

		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.srv != nil {
			if e := s.srv.Shutdown(ctx); e != nil {
				err = fmt.Errorf("server: shutdown: %w", e)
				s.srv.Close()
			}
		}
		done := make(chan struct{})
		go func() { s.active.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, errors.New("server: handlers still running after 5s"))
		}
	})
	return err
}

// enter registers a running handler; false once the server is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

// ServeHTTP routes /s/, /api/ and the static prefixes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.active.Done()

	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	rc := http.NewResponseController(sw)
	// net/http keeps a write deadline across keep-alive requests: set a
	// fresh one for this request, and again when it ends so that the final
	// chunk of a long-held stream can still be written.
	_ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
	defer func() { _ = rc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout)) }()
	if s.opts.Logf != nil {
		defer func() {
			s.opts.Logf("%s %s -> %d %dB %s", r.Method, r.URL.RequestURI(), sw.code(), sw.n, time.Since(start).Round(time.Millisecond))
		}()
	}

	s.routed.ServeHTTP(sw, r)
}

// route sends a request to the scenarios, /api/ or the static files.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/s/"):
		s.serveScenario(w, r)
	case strings.HasPrefix(p, "/api/"):
		s.serveAPI(w, r)
	default:
		for _, st := range s.static {
			if strings.HasPrefix(p, st.prefix) || p+"/" == st.prefix {
				st.h.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}
}

// statusWriter records the status and size for the log line. It unwraps to
// the real ResponseWriter so http.ResponseController reaches Flush,
// Hijack and SetWriteDeadline.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// WriteString passes strings through to net/http's WriteString, so that
// Stream.SendString does not copy them.
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// staticHandler serves dir under prefix, with the module MIME types set
// explicitly (system mime tables vary) and no caching (dist/ is rebuilt).
func staticHandler(prefix, dir string) http.Handler {
	fs := http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServer(http.Dir(dir)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch path.Ext(r.URL.Path) {
		case ".wasm":
			w.Header().Set("Content-Type", "application/wasm")
		case ".mjs", ".js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		}
		w.Header().Set("Cache-Control", "no-cache")
		fs.ServeHTTP(w, r)
	})
}

// CheckLoopback returns an error unless addr is host:port with a loopback
// host: a loopback IP literal (127.0.0.0/8, ::1) or "localhost". An empty
// host (":8080") or an unspecified one ("0.0.0.0") would listen on every
// interface, so they are refused.
func CheckLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("server: address %q: %w", addr, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(p, 10) != port {
		return fmt.Errorf("server: address %q: bad port %q", addr, port)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.Zone() != "" || !ip.IsLoopback() {
		return fmt.Errorf("server: address %q is not loopback: this server only listens on 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}
