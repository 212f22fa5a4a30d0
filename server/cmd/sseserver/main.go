// Command sseserver serves the wasm-eventsource demo: the pages of -web at
// "/", the built engine of -dist at "/dist/", the demo's streams (/api/clock
// and /api/dashboard here, /api/chat from package chat, all on package
// server) and the test server's endpoints (/api/stream, /api/echo,
// /api/origins and the /s/ scenarios). It listens on loopback only:
//
//	go run ./server/cmd/sseserver -addr 127.0.0.1:8080 -web web -dist dist
//
// A second origin for cross-origin demos listens on -other (any free
// loopback port by default); GET /api/origins tells pages where it is.
//
// The chat (POST /api/chat, GET /api/chat/resume) keeps its answers in
// memory, or with -redis in Redis, so that two processes serve one
// another's answers:
//
//	sseserver -addr 127.0.0.1:8080 -redis redis://127.0.0.1:6379/0 &
//	sseserver -addr 127.0.0.1:8081 -redis redis://127.0.0.1:6379/0 &
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
	"github.com/wasm-eventsource/wasm-eventsource/server/redisstore"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr, nil))
}

// run parses args, starts the server and blocks until SIGINT/SIGTERM (or
// until stop is closed, for tests). It returns the exit code: 2 for bad
// flags, 1 when the server cannot start (e.g. a non-loopback -addr).
func run(args []string, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("sseserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback only)")
	other := fs.String("other", "127.0.0.1:0", "listen address of the second origin (loopback only)")
	web := fs.String("web", "web", "directory served at /")
	dist := fs.String("dist", "dist", "directory served at /dist/")
	quiet := fs.Bool("q", false, "do not log requests")
	redisURL := fs.String("redis", "", "keep the chat answers in this Redis (redis://127.0.0.1:6379/0), so that several sseserver processes resume one another's answers; default: in memory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sseserver: unexpected arguments %q\n", fs.Args())
		return 2
	}
	logger := log.New(stderr, "sseserver: ", log.LstdFlags)
	opts := testserver.Options{
		Addr:      *addr,
		OtherAddr: *other,
	}
	if !*quiet {
		opts.Logf = logger.Printf
	}
	if *redisURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		store, closeRedis, err := redisstore.Open(ctx, *redisURL, redisstore.Options{})
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "sseserver: -redis: %v\n", err)
			return 1
		}
		defer closeRedis()
		opts.ChatStore = store
	}
	// The pages, dist/ (precompressed) and the demo endpoints: demo.go.
	stopDemo := make(chan struct{})
	opts.Wrap = newDemo(*web, *dist, stopDemo, opts.Logf).wrap
	s, err := testserver.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "sseserver: %v\n", err)
		return 1
	}
	logger.Printf("serving %s on %s (second origin %s); /dist/ from %s", *web, s.URL(), s.OtherURL(), *dist)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case <-sig:
	case <-stop:
	}
	logger.Printf("shutting down")
	close(stopDemo)
	if err := s.Close(); err != nil {
		logger.Print(err)
		return 1
	}
	return 0
}
