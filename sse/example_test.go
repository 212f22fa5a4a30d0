package sse_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/wasm-eventsource/wasm-eventsource/sse"
)

func ExampleParser_Feed() {
	var p sse.Parser
	print := func(e sse.Event) { fmt.Printf("%s %q id=%q\n", e.Type, e.Data, e.LastEventID) }

	// Chunks may end anywhere: in a field name, between CR and LF, inside
	// a multibyte character.
	for _, chunk := range []string{
		"\xEF\xBB\xBF: a comment\r",
		"\nid: 1\r\ndata: first\r\ndata: sec",
		"ond\r\n\r\nevent: tick\ndata: caf\xC3",
		"\xA9\n\nretry: 2500\ndata: never dispatched",
	} {
		if err := p.Feed([]byte(chunk), print); err != nil {
			fmt.Println(err)
		}
	}
	ms, _ := p.Retry()
	fmt.Println("last event ID:", p.LastEventID(), "retry:", ms)

	// A new connection: the unfinished event is dropped, the id carries over.
	p.Reset()
	p.Feed([]byte("data: again\n\n"), print)
	// Output:
	// message "first\nsecond" id="1"
	// tick "café" id="1"
	// last event ID: 1 retry: 2500
	// message "again" id="1"
}

func ExampleParser_Feed_limit() {
	p := sse.Parser{MaxEventSize: 16}
	err := p.Feed([]byte("data: small\n\ndata: this one is too large\n\n"), func(e sse.Event) {
		fmt.Printf("%q\n", e.Data)
	})
	fmt.Println(err, errors.Is(err, sse.ErrEventTooLarge))
	// Output:
	// "small"
	// sse: event exceeds the 16-byte limit true
}

func ExampleAppendMessage() {
	b, err := sse.AppendMessage(nil, sse.Message{Type: "update", ID: "42", Data: "line 1\nline 2"})
	if err != nil {
		panic(err)
	}
	b = sse.AppendComment(b, "keep-alive")
	b = sse.AppendRetry(b, 0)
	fmt.Printf("%s", b)

	_, err = sse.AppendMessage(nil, sse.Message{ID: "4\n2"})
	fmt.Println(err)
	// Output:
	// event: update
	// id: 42
	// data: line 1
	// data: line 2
	//
	// :keep-alive
	// retry: 0
	// sse: Message.ID contains CR or LF: a line end would cut the id field short
}

func ExampleEncoder() {
	e := sse.NewEncoder(os.Stdout)
	e.Comment("")
	e.Encode(sse.Message{Data: "hello"})
	e.Encode(sse.Message{ResetID: true, Data: ""})
	// Output:
	// :
	// data: hello
	//
	// id
	// data:
	//
}

func ExampleDecodeUTF8() {
	fmt.Printf("%+q\n", sse.DecodeUTF8([]byte("\xE2\x82A \xED\xA0\x80 \xC0\x80")))
	// Output:
	// "\ufffdA \ufffd\ufffd\ufffd \ufffd\ufffd"
}
