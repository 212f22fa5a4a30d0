package core

import (
	"strconv"
	"strings"
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

// actionLines decodes every action of out.
func actionLines(out *Out) []string {
	w, text := out.Words, out.Text
	str := func(off, n int32) string { return string(text[off : off+n]) }
	var lines []string
	for i := 0; i < len(w); {
		switch Op(w[i]) {
		case OpFetch:
			l := "fetch " + str(w[i+4], w[i+5]) + " attempt=" + itoa(w[i+1]) + " status=" + itoa(w[i+2]) +
				" lid=" + strconv.Quote(str(w[i+6], w[i+7]))
			if w[i+3]&FetchResume != 0 {
				l += " resume"
			}
			if w[i+3]&FetchStripAuth != 0 {
				l += " strip-auth"
			}
			lines = append(lines, l)
			i += 8
		case OpAbort:
			lines = append(lines, "abort")
			i++
		case OpOpen:
			lines = append(lines, "open")
			i++
		case OpClose:
			lines = append(lines, "close")
			i++
		case OpFree:
			lines = append(lines, "free")
			i++
		case OpState:
			lines = append(lines, "state "+itoa(w[i+1]))
			i += 2
		case OpTimer:
			if w[i+1] < 0 {
				lines = append(lines, "timer clear")
			} else {
				lines = append(lines, "timer "+itoa(w[i+1]))
			}
			i += 2
		case OpProbe:
			lines = append(lines, "probe "+str(w[i+1], w[i+2]))
			i += 3
		case OpError:
			lines = append(lines, "error rs="+itoa(w[i+1])+" kind="+KindNames[w[i+2]]+" status="+itoa(w[i+3])+
				" attempt="+itoa(w[i+4])+" retryIn="+itoa(w[i+5])+" "+strconv.Quote(str(w[i+6], w[i+7])))
			i += 8
		case OpEvents:
			n := int(w[i+1])
			units := utf16.Encode([]rune(str(w[i+2], w[i+3])))
			off := 0
			take := func(k int32) string {
				s := string(utf16.Decode(units[off : off+int(k)]))
				off += int(k)
				return s
			}
			id := ""
			for e := 0; e < n; e++ {
				t := w[i+4+3*e:]
				typ := "message"
				if t[0] >= 0 {
					typ = take(t[0])
				}
				data := take(t[1])
				if t[2] >= 0 {
					id = take(t[2])
				} else if e == 0 {
					panic("the first event of a record must carry its id")
				}
				lines = append(lines, "event "+typ+" "+strconv.Quote(data)+" id="+strconv.Quote(id))
			}
			if off != len(units) {
				panic("event text not consumed exactly")
			}
			i += 4 + 3*n
		default:
			panic("unknown op " + itoa(w[i]))
		}
	}
	return lines
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// step runs one input on s and returns its actions, joined by " | ".
func step(s *Source, input func()) string {
	s.Out.Reset()
	input()
	return strings.Join(actionLines(s.Out), " | ")
}
