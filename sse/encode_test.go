package sse

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestAppendMessage(t *testing.T) {
	cases := []struct {
		name string
		m    Message
		want string
	}{
		{"data only", Message{Data: "hello"}, "data: hello\n\n"},
		{"empty data still dispatches", Message{}, "data:\n\n"},
		{"all fields", Message{Type: "tick", ID: "7", Retry: 1500, Data: "x"}, "event: tick\nid: 7\nretry: 1500\ndata: x\n\n"},
		{"LF lines", Message{Data: "a\nb"}, "data: a\ndata: b\n\n"},
		{"CRLF and CR lines", Message{Data: "a\r\nb\rc"}, "data: a\ndata: b\ndata: c\n\n"},
		{"CR CR is two line ends", Message{Data: "a\r\rb"}, "data: a\ndata:\ndata: b\n\n"},
		{"trailing line end", Message{Data: "a\n"}, "data: a\ndata:\n\n"},
		{"leading space kept", Message{Type: " t", ID: " i", Data: " d"}, "event:  t\nid:  i\ndata:  d\n\n"},
		{"colons in data", Message{Data: "a: b"}, "data: a: b\n\n"},
		{"reset id", Message{ResetID: true, Data: "x"}, "id\ndata: x\n\n"},
		{"NUL in type and data", Message{Type: "a\x00", Data: "\x00"}, "event: a\x00\ndata: \x00\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendMessage([]byte("<"), tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "<"+tc.want {
				t.Errorf("got %q, want %q", got, "<"+tc.want)
			}
		})
	}
}

func TestAppendMessageErrors(t *testing.T) {
	cases := []struct {
		m     Message
		field string
	}{
		{Message{Type: "a\nb"}, "Type"},
		{Message{Type: "a\r"}, "Type"},
		{Message{ID: "1\n"}, "ID"},
		{Message{ID: "\r1"}, "ID"},
		{Message{ID: "1\x002"}, "ID"},
		{Message{ID: "1", ResetID: true}, "ID"},
		{Message{Retry: -1}, "Retry"},
	}
	for _, tc := range cases {
		dst, err := AppendMessage([]byte("x"), tc.m)
		var me *MessageError
		if !errors.As(err, &me) || me.Field != tc.field || !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%+v: error %v, want a *MessageError for %s", tc.m, err, tc.field)
			continue
		}
		if string(dst) != "x" {
			t.Errorf("%+v: dst changed to %q", tc.m, dst)
		}
		if !strings.HasPrefix(err.Error(), "sse: Message."+tc.field+" ") {
			t.Errorf("error text %q does not name the field", err)
		}
	}
}

func TestAppendComment(t *testing.T) {
	cases := map[string]string{
		"":             ":\n",
		"keep-alive":   ":keep-alive\n",
		" spaced":      ": spaced\n",
		"a\nb\r\nc\rd": ":a\n:b\n:c\n:d\n",
		"a\n":          ":a\n:\n",
	}
	for in, want := range cases {
		if got := string(AppendComment(nil, in)); got != want {
			t.Errorf("AppendComment(%q) = %q, want %q", in, got, want)
		}
		// A comment never changes what a parser sees.
		p := Parser{}
		p.Feed(AppendComment(nil, in), func(e Event) { t.Errorf("comment %q dispatched %+v", in, e) })
		p.Feed([]byte("\n"), func(e Event) { t.Errorf("comment %q dispatched %+v", in, e) })
	}
}

func TestAppendRetry(t *testing.T) {
	cases := map[int64]string{0: "retry: 0\n", 1500: "retry: 1500\n", -5: "retry: 0\n", 1<<63 - 1: "retry: 9223372036854775807\n"}
	for in, want := range cases {
		got := AppendRetry(nil, in)
		if string(got) != want {
			t.Errorf("AppendRetry(%d) = %q, want %q", in, got, want)
		}
		var p Parser
		p.Feed(got, nil)
		if ms, ok := p.Retry(); !ok || ms != max(in, 0) {
			t.Errorf("parsed %q as %d, %v", got, ms, ok)
		}
	}
}

type errWriter struct{ err error }

func (w errWriter) Write(p []byte) (int, error) { return 0, w.err }

func TestEncoder(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	if err := e.Comment("hi"); err != nil {
		t.Fatal(err)
	}
	if err := e.Retry(0); err != nil {
		t.Fatal(err)
	}
	if err := e.Encode(Message{Type: "t", ID: "1", Data: "a\nb"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Encode(Message{ID: "x\n"}); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("invalid message: %v", err)
	}
	if err := e.Encode(Message{Data: "c"}); err != nil {
		t.Fatal(err)
	}
	want := ":hi\nretry: 0\nevent: t\nid: 1\ndata: a\ndata: b\n\ndata: c\n\n"
	if buf.String() != want {
		t.Fatalf("wrote %q, want %q", buf.String(), want)
	}
	var p Parser
	var got []Event
	p.Feed(buf.Bytes(), func(e Event) { got = append(got, e) })
	if wantEv := []Event{named("t", "a\nb", "1"), msg("c", "1")}; !reflect.DeepEqual(got, wantEv) {
		t.Errorf("parsed %q, want %q", got, wantEv)
	}
	if ms, ok := p.Retry(); !ok || ms != 0 {
		t.Errorf("retry %d, %v", ms, ok)
	}

	werr := errors.New("broken pipe")
	e = NewEncoder(errWriter{werr})
	if err := e.Encode(Message{Data: "x"}); err != werr {
		t.Errorf("Encode returned %v, want the writer's error", err)
	}
	if err := e.Comment(""); err != werr {
		t.Errorf("Comment returned %v, want the writer's error", err)
	}
	if err := e.Retry(1); err != werr {
		t.Errorf("Retry returned %v, want the writer's error", err)
	}
}
