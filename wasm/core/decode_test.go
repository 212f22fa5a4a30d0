package core

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// This file reads an Out the way the JS host does (jsglue/eventsource.mjs,
// Core.actions and Stream.dispatch), so that the tests of this package
// check what the host would carry out, as one line per action:
//
//	fetch url attempt=0 status=0 lid="" [resume] [strip-auth]
//	abort | open | close | free | state 0
//	event type "data" id="…"
//	error rs=0 kind=ended status=0 attempt=0 retryIn=3000 "message"
//	timer 3000 | timer clear
//	probe url

// polAct is one decoded action.
type polAct struct {
	op   Op
	args []int32  // the words after the op, string references left as they are
	strs []string // the strings the record refers to, in order (fetch: url, lid; error: message; probe: url)
}

// polDecode reads every action of out, checking its layout: the one
// decoder of this package's tests (events are left encoded: actionLines
// decodes them).
func polDecode(t *testing.T, out *Out) []polAct {
	t.Helper()
	w := out.Words
	str := func(off, n int32) string {
		if off < 0 || n < 0 || int(off+n) > len(out.Text) {
			t.Fatalf("string (%d, %d) outside the text (%d bytes)", off, n, len(out.Text))
		}
		return string(out.Text[off : off+n])
	}
	var acts []polAct
	for i := 0; i < len(w); {
		op := Op(w[i])
		var size int
		switch op {
		case OpFetch, OpError:
			size = 8
		case OpAbort, OpOpen, OpClose, OpFree:
			size = 1
		case OpTimer, OpState:
			size = 2
		case OpProbe:
			size = 3
		case OpEvents:
			size = 4 + 3*int(w[i+1])
		default:
			t.Fatalf("unknown op %d at word %d", op, i)
		}
		if i+size > len(w) {
			t.Fatalf("op %d at word %d runs past the end (%d words)", op, i, len(w))
		}
		a := polAct{op: op, args: append([]int32(nil), w[i+1:i+size]...)}
		switch op {
		case OpFetch:
			a.strs = []string{str(w[i+4], w[i+5]), str(w[i+6], w[i+7])}
		case OpError:
			a.strs = []string{str(w[i+6], w[i+7])}
		case OpProbe:
			a.strs = []string{str(w[i+1], w[i+2])}
		}
		acts = append(acts, a)
		i += size
	}
	return acts
}

// actionLines decodes every action of out, events included.
func actionLines(t *testing.T, out *Out) []string {
	t.Helper()
	var lines []string
	for _, a := range polDecode(t, out) {
		w := a.args
		switch a.op {
		case OpFetch:
			l := "fetch " + a.strs[0] + " attempt=" + itoa(w[0]) + " status=" + itoa(w[1]) + " lid=" + strconv.Quote(a.strs[1])
			if w[2]&FetchResume != 0 {
				l += " resume"
			}
			if w[2]&FetchStripAuth != 0 {
				l += " strip-auth"
			}
			lines = append(lines, l)
		case OpProbe:
			lines = append(lines, "probe "+a.strs[0])
		case OpError:
			lines = append(lines, "error rs="+itoa(w[0])+" kind="+KindNames[w[1]]+" status="+itoa(w[2])+
				" attempt="+itoa(w[3])+" retryIn="+itoa(w[4])+" "+strconv.Quote(a.strs[0]))
		case OpEvents:
			lines = append(lines, eventLines(t, out, w)...)
		default:
			lines = append(lines, a.String())
		}
	}
	return lines
}

// eventLines decodes an OpEvents record (its words after the op) as JS
// does: one string for the text, sliced by UTF-16 lengths.
func eventLines(t *testing.T, out *Out, w []int32) []string {
	t.Helper()
	n := int(w[0])
	units := utf16.Encode([]rune(string(out.Text[w[1] : w[1]+w[2]])))
	off := 0
	take := func(k int32) string {
		s := string(utf16.Decode(units[off : off+int(k)]))
		off += int(k)
		return s
	}
	var lines []string
	id := ""
	for e := 0; e < n; e++ {
		r := w[3+3*e:]
		typ := "message"
		if r[0] >= 0 {
			typ = take(r[0])
		}
		data := take(r[1])
		if r[2] >= 0 {
			id = take(r[2])
		} else if e == 0 {
			t.Fatal("the first event of a record must carry its id")
		}
		lines = append(lines, "event "+typ+" "+strconv.Quote(data)+" id="+strconv.Quote(id))
	}
	if off != len(units) {
		t.Fatal("event text not consumed exactly")
	}
	return lines
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// step runs one input on s and returns its actions, joined by " | ".
func step(t *testing.T, s *Source, input func()) string {
	t.Helper()
	s.Out.Reset()
	input()
	return strings.Join(actionLines(t, s.Out), " | ")
}
