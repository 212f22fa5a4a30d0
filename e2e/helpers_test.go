//go:build !js

package e2e

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wasm-eventsource/wasm-eventsource/internal/testserver"
)

// Helpers to write scenarios briefly.

// Expected entries, as entry.brief renders them.
const (
	open1  = "open RS1"
	err0   = "error RS0" // reestablish the connection
	err2   = "error RS2" // fail the connection
	closed = "#close RS2"
)

func msg(data string) string            { return msgID(data, "") }
func msgID(data, id string) string      { return named("message", data, id) }
func named(typ, data, id string) string { return fmt.Sprintf("%s(%q, id=%q) RS1", typ, data, id) }

// chunkGap is the pause between two chunks of one response, so that the
// browser reads them separately.
const chunkGap = 10 * time.Millisecond

func chunks(data []string) []testserver.Chunk {
	out := make([]testserver.Chunk, len(data))
	for i, d := range data {
		out[i] = testserver.Chunk{Data: d}
		if i > 0 {
			out[i].Delay = chunkGap
		}
	}
	return out
}

// ends is a 200 text/event-stream response of these chunks that then ends.
func ends(data ...string) testserver.Conn { return testserver.Conn{Chunks: chunks(data)} }

// holds is like ends but the response stays open.
func holds(data ...string) testserver.Conn {
	return testserver.Conn{Chunks: chunks(data), End: testserver.EndHold}
}

// resets is like ends but the connection is then reset (network error),
// 500 ms after the last chunk. (Chromium's fetch() body streams drop data
// that arrives together with a network error; native EventSource does not.
// network/reset-right-after-data shows it; the pause keeps the other
// scenarios about what they test.)
func resets(data ...string) testserver.Conn {
	c := testserver.Conn{Chunks: chunks(data), End: testserver.EndReset}
	c.Chunks = append(c.Chunks, testserver.Chunk{Delay: 500 * time.Millisecond})
	return c
}

// withStatus is a response with this status, Content-Type text/event-stream
// and a body holding a valid event.
func withStatus(code int) testserver.Conn {
	return testserver.Conn{Status: code, Chunks: chunks([]string{"data: x\n\n"})}
}

// withType is a 200 response with this Content-Type ("" for none) and a
// body holding one event, that then ends.
func withType(ct string, data ...string) testserver.Conn {
	if len(data) == 0 {
		data = []string{"data: x\n\n"}
	}
	return testserver.Conn{Headers: map[string]string{"Content-Type": ct}, Chunks: chunks(data)}
}

// redirect answers code with a Location.
func redirect(code int, location string) testserver.Conn {
	return testserver.Conn{Status: code, Headers: map[string]string{"Location": location, "Content-Type": ""}}
}

func cors(c testserver.Conn, allow string, credentials bool) testserver.Conn {
	c.CORS = &testserver.CORS{AllowOrigin: allow, AllowCredentials: credentials}
	return c
}

// listenTypes returns the named event types a list of briefs mentions.
func listenTypes(want []string) []string {
	var types []string
	for _, w := range want {
		// `type("data", id="") RS1` or `type RS1`
		typ, _, ok := strings.Cut(w, "(")
		if !ok {
			typ = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(w, " RS0"), " RS1"), " RS2")
		}
		switch typ {
		case "open", "message", "error":
			continue
		}
		if strings.HasPrefix(typ, "#") || slices.Contains(types, typ) {
			continue
		}
		types = append(types, typ)
	}
	return types
}

// stopAt is a one-source spec on @S0@ that ends after n events.
func stopAt(n int, listen ...string) spec {
	return spec{
		Sources:   []source{{URL: "@S0@", Listen: listen}},
		StopAfter: &stop{Events: n},
		TimeoutMs: 5000,
	}
}

// streamCase is a scenario whose connections are conns and whose native
// trace should be want; the trace ends with the last wanted event.
func streamCase(name string, rules []int, conns []testserver.Conn, want ...string) *scenario {
	return &scenario{
		name:  name,
		rules: rules,
		conns: conns,
		spec:  stopAt(len(want), listenTypes(want)...),
		want:  want,
	}
}

// parse is a scenario that sends the chunks on one response that then
// ends: the trace is open, the messages, and the reconnection error.
func parse(name string, rules []int, data []string, msgs ...string) *scenario {
	want := append(append([]string{open1}, msgs...), err0)
	return streamCase(name, rules, []testserver.Conn{ends(data...)}, want...)
}

// parse1 is parse with one chunk.
func parse1(name string, rules []int, body string, msgs ...string) *scenario {
	return parse(name, rules, []string{body}, msgs...)
}

// failing is a scenario whose only connection must fail: exactly one error
// with readyState CLOSED, no open, no reconnection.
func failing(name string, rules []int, c testserver.Conn) *scenario {
	sc := &scenario{
		name:  name,
		rules: rules,
		conns: []testserver.Conn{c},
		spec:  spec{Sources: []source{{URL: "@S0@"}}, SettleMs: 400, TimeoutMs: 5000},
		want:  []string{err2},
	}
	return sc
}

// rules joins rule numbers; it reads better than []int{...} in tables.
func rules(r ...int) []int { return r }

// js quotes s as a JS string literal.
func js(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
