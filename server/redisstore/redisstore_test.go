package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/redistest"
	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/server/redisstore"
	"github.com/wasm-eventsource/wasm-eventsource/server/storetest"
)

func open(t *testing.T, url string, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	s, closeFn, err := redisstore.Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeFn() })
	return s
}

func TestConformance(t *testing.T) {
	url := redistest.Start(t)
	storetest.Run(t, func(t *testing.T) server.Store { return open(t, url, redisstore.Options{}) })
}

// Two Store values on two connections share streams: what one writes, the
// other reads, live.
func TestSharedBetweenClients(t *testing.T) {
	url := redistest.Start(t)
	a, b := open(t, url, redisstore.Options{}), open(t, url, redisstore.Options{})
	ctx := context.Background()
	w, err := server.NewWriter(ctx, a, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, "shared"); !errors.Is(err, server.ErrStreamExists) {
		t.Fatalf("Create on the other client: %v, want ErrStreamExists", err)
	}
	got := make(chan string, 10)
	go func() {
		for e, err := range server.Follow(ctx, b, "shared", 0) {
			if err != nil {
				t.Error(err)
				break
			}
			got <- e.Data
		}
		close(got)
	}()
	for _, d := range []string{"a", "b", "c"} {
		if _, err := w.Append(ctx, "", d); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.Finish(ctx)
	var all string
	for d := range got {
		all += d
	}
	if all != "abc" {
		t.Fatalf("the other client read %q, want abc", all)
	}
}

func TestExpiry(t *testing.T) {
	url := redistest.Start(t)
	// Wide margins: on a loaded CI machine a sleep may last far longer than
	// asked. Three writes 700 ms apart outlive one 2 s TTL only if each
	// write extends it.
	s := open(t, url, redisstore.Options{TTL: 2 * time.Second})
	ctx := context.Background()
	w, err := server.NewWriter(ctx, s, "short")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // each write extends the life
		time.Sleep(700 * time.Millisecond)
		if _, err := w.Append(ctx, "", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _, err := s.Read(ctx, "short", 0, 0); err != nil || len(got) != 3 {
		t.Fatalf("Read: %v %v", got, err)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, _, err := s.Read(ctx, "short", 0, 0); !errors.Is(err, server.ErrStreamNotFound) {
		t.Fatalf("Read after the TTL: %v, want ErrStreamNotFound", err)
	}
	if _, err := w.Append(ctx, "", "late"); !errors.Is(err, server.ErrStreamNotFound) {
		t.Fatalf("Append after the TTL: %v, want ErrStreamNotFound", err)
	}
}

func TestReservedType(t *testing.T) {
	s := open(t, redistest.Start(t), redisstore.Options{})
	ctx := context.Background()
	w, _ := server.NewWriter(ctx, s, "r")
	if _, err := w.Append(ctx, "\x00end", ""); err == nil {
		t.Fatal("Append with a reserved type succeeded")
	}
}
