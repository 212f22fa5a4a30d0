package sse

import (
	"io"
	"strconv"
	"strings"
)

// Message is one event as a server writes it.
//
// Text is written as given: invalid UTF-8 is not refused, and reaches clients
// as U+FFFD (see [AppendUTF8]).
type Message struct {
	Type string // written as "event: Type" when non-empty; clients see "message" when empty
	// Data is split on CRLF, LF and CR into one "data: " line each; it is
	// always written, so the message dispatches even when Data == "".
	// Clients receive the lines joined with LF: CRLF and CR become LF.
	Data    string
	ID      string // written as "id: ID" when non-empty; must not hold CR, LF or NUL
	ResetID bool   // write a bare "id" line, which resets the client's last event ID to ""; ID must then be ""
	// Retry is written as "retry: Retry" when > 0; zero writes nothing and a
	// negative value is an error. To send a reconnection time of 0, use
	// [AppendRetry] or [Encoder.Retry]: a retry line takes effect as soon as
	// the client reads it, so it need not belong to a message.
	Retry int64
}

// AppendMessage appends m to dst in the text/event-stream format, ending with
// the blank line that makes clients dispatch it. Fields come in the order
// event, id, retry, data.
//
// It returns dst unchanged and a *MessageError (matching
// [ErrInvalidMessage]) when m cannot be written faithfully: Type or ID holds
// CR or LF (a line end would cut the field short and turn the rest into
// another line), ID holds NUL (clients ignore such an id field), ResetID is
// set together with a non-empty ID, or Retry is negative.
func AppendMessage(dst []byte, m Message) ([]byte, error) {
	if err := m.check(); err != nil {
		return dst, err
	}
	if m.Type != "" {
		dst = appendField(dst, "event", m.Type)
	}
	if m.ResetID {
		dst = append(dst, "id\n"...)
	} else if m.ID != "" {
		dst = appendField(dst, "id", m.ID)
	}
	if m.Retry > 0 {
		dst = AppendRetry(dst, m.Retry)
	}
	dst = appendLines(dst, "data: ", "data:", m.Data)
	return append(dst, '\n'), nil
}

// check reports why m cannot be encoded, or nil.
func (m *Message) check() error {
	switch {
	case strings.ContainsAny(m.Type, "\r\n"):
		return &MessageError{"Type", "contains CR or LF: a line end would cut the event field short"}
	case strings.ContainsAny(m.ID, "\r\n"):
		return &MessageError{"ID", "contains CR or LF: a line end would cut the id field short"}
	case strings.IndexByte(m.ID, 0) >= 0:
		return &MessageError{"ID", "contains NUL: clients ignore an id field holding NUL"}
	case m.ResetID && m.ID != "":
		return &MessageError{"ID", "is not empty although ResetID is set"}
	case m.Retry < 0:
		return &MessageError{"Retry", "is negative"}
	}
	return nil
}

// AppendComment appends text as comment lines, which clients ignore: ":"
// followed by the line, for each line of text (split on CRLF, LF and CR).
// No space is added after the colon. An empty text gives ":\n", the usual
// keep-alive.
func AppendComment(dst []byte, text string) []byte {
	return appendLines(dst, ":", ":", text)
}

// AppendRetry appends a "retry: ms" line, which sets the client's
// reconnection time as soon as it is read. A negative ms is written as 0.
func AppendRetry(dst []byte, ms int64) []byte {
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, max(ms, 0), 10)
	return append(dst, '\n')
}

// appendField appends "name: value\n". The space after the colon is always
// written, so that a value starting with a space keeps it (clients strip one).
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, '\n')
}

// appendLines appends prefix+line+LF for each line of text split on CRLF, LF
// and CR, using empty instead of prefix for an empty line (so that "data: "
// leaves no trailing space).
func appendLines(dst []byte, prefix, empty, text string) []byte {
	for {
		i := strings.IndexAny(text, "\r\n")
		line := text
		if i >= 0 {
			line = text[:i]
		}
		if line == "" {
			dst = append(dst, empty...)
		} else {
			dst = append(dst, prefix...)
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if i < 0 {
			return dst
		}
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
}

// Encoder writes messages, comments and retry lines to an io.Writer, one
// Write call each. It does not flush: over HTTP, flush the response after the
// writes that should leave at once.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes m as AppendMessage formats it. An invalid m writes nothing
// and returns the *MessageError.
func (e *Encoder) Encode(m Message) error {
	buf, err := AppendMessage(e.buf[:0], m)
	if err != nil {
		return err
	}
	return e.write(buf)
}

// Comment writes text as comment lines (see AppendComment).
func (e *Encoder) Comment(text string) error {
	return e.write(AppendComment(e.buf[:0], text))
}

// Retry writes a retry line (see AppendRetry).
func (e *Encoder) Retry(ms int64) error {
	return e.write(AppendRetry(e.buf[:0], ms))
}

func (e *Encoder) write(buf []byte) error {
	_, err := e.w.Write(buf)
	e.buf = recycle(buf)
	return err
}
