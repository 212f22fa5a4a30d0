package testserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// A scenario scripts the responses; observations tell what was requested.
func Example() {
	s, err := testserver.Start(testserver.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	path := s.Handle("example", testserver.Scenario{Conns: []testserver.Conn{
		{Chunks: []testserver.Chunk{{Data: "id: 1\ndata: hello\n\n"}}},
	}})
	for range 2 {
		resp, err := http.Get(s.URL() + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%d %s %q\n", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	obs, err := s.Wait("example", 2, time.Second)
	if err != nil {
		panic(err)
	}
	for _, o := range obs {
		fmt.Println(o.Index, o.Method, o.Path)
	}
	// Output:
	// 200 text/event-stream "id: 1\ndata: hello\n\n"
	// 204  ""
	// 0 GET /s/example
	// 1 GET /s/example
}

// New gives the handler alone, for httptest or another listener.
func ExampleNew() {
	s := testserver.New(testserver.Options{})
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer s.Close() // first: ends held streams so that ts.Close does not wait for them

	path := s.Handle("held", testserver.Scenario{Conns: []testserver.Conn{
		{Chunks: []testserver.Chunk{{Data: "data: x\n\n"}}, End: testserver.EndHold},
	}})
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 16)
	n, _ := resp.Body.Read(buf)
	fmt.Printf("%q\n", buf[:n])
	// Output:
	// "data: x\n\n"
}
