package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/server"
	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

// A handler that streams a countdown, resuming after the client's
// Last-Event-ID.
func ExampleNewStream() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := server.NewStream(w, r, server.StreamOptions{Retry: 2 * time.Second})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer st.Close()
		from := 3
		if id, ok := st.LastEventID(); ok {
			fmt.Sscan(id, &from)
			from--
		}
		for i := from; i > 0; i-- {
			if err := st.Send(sse.Message{ID: fmt.Sprint(i), Data: fmt.Sprint(i, "...")}); err != nil {
				return // the client went away
			}
		}
		st.Send(sse.Message{Type: "done", Data: "liftoff"})
	})
	ts := httptest.NewServer(h)
	defer ts.Close()

	req, _ := http.NewRequest("GET", ts.URL, nil)
	req.Header.Set("Last-Event-ID", "3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), resp.Header.Get("X-Accel-Buffering"))
	fmt.Print(string(body))
	// Output:
	// text/event-stream no-store no
	// :ok
	//
	// retry: 2000
	//
	// id: 2
	// data: 2...
	//
	// id: 1
	// data: 1...
	//
	// event: done
	// data: liftoff
	//
}

// A broker replays strictly after the subscriber's Last-Event-ID, then
// delivers live events.
func ExampleBroker() {
	b := server.NewBroker(server.BrokerOptions{History: 100})
	defer b.Close()
	for _, price := range []string{"101", "102", "103"} {
		b.Publish("prices", sse.Message{Data: price})
	}
	sub, err := b.Subscribe("prices", "1") // the client saw event 1
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	b.Publish("prices", sse.Message{Data: "104"})

	// Next returns everything new since its last call, encoded once for
	// every subscriber.
	evs, _ := sub.Next(context.Background())
	fmt.Print(string(evs))
	// Output:
	// id: 2
	// data: 102
	//
	// id: 3
	// data: 103
	//
	// id: 4
	// data: 104
	//

}

// A producer appends to a resumable stream while readers follow it; a
// reader that lost its connection resumes after the last id it saw.
func ExampleResumeHandler() {
	store := server.NewMemoryStore(server.MemoryStoreOptions{})
	ctx := context.Background()

	// The producer: in a real server, a goroutine started by the POST that
	// asked for the answer, independent of that request.
	w, err := server.NewWriter(ctx, store, "answer42")
	if err != nil {
		panic(err)
	}
	for _, tok := range []string{"Hello", ",", " world"} {
		w.Append(ctx, "", tok)
	}
	w.Finish(ctx)

	ts := httptest.NewServer(server.ResumeHandler(store, server.StreamOptions{}))
	defer ts.Close()
	for _, last := range []string{"answer42.1", "nope.1"} {
		req, _ := http.NewRequest("GET", ts.URL, nil)
		req.Header.Set("Last-Event-ID", last)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %q\n", resp.StatusCode, body)
	}
	// Output:
	// 200 ":ok\n\nid: answer42.2\ndata: ,\n\nid: answer42.3\ndata:  world\n\n"
	// 404 "server: stream not found or expired\n"
}

// Follow reads a stream from any position, waiting for live appends until
// the stream is finished.
func ExampleFollow() {
	store := server.NewMemoryStore(server.MemoryStoreOptions{})
	ctx := context.Background()
	w, _ := server.NewWriter(ctx, store, "s")
	go func() {
		for i := range 3 {
			w.Append(ctx, "token", fmt.Sprint("t", i))
			time.Sleep(time.Millisecond)
		}
		w.Finish(ctx)
	}()
	for e, err := range server.Follow(ctx, store, "s", 0) {
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Message("s").ID, e.Type, e.Data)
	}
	// Output:
	// s.1 token t0
	// s.2 token t1
	// s.3 token t2
}
