package sse

import (
	"errors"
	"strconv"
)

// ErrEventTooLarge matches (with [errors.Is]) the error [Parser.Feed] returns
// when one event, or one line, does not fit in [Parser.MaxEventSize] bytes.
var ErrEventTooLarge = errors.New("sse: event too large")

// LimitError is the error [Parser.Feed] returns when the bytes it must buffer
// for one event exceed the limit. It matches [ErrEventTooLarge].
type LimitError struct {
	Limit int // the MaxEventSize in effect, in bytes
}

func (e *LimitError) Error() string {
	return "sse: event exceeds the " + strconv.Itoa(e.Limit) + "-byte limit"
}

// Is reports whether target is [ErrEventTooLarge].
func (e *LimitError) Is(target error) bool { return target == ErrEventTooLarge }

// ErrInvalidMessage matches (with [errors.Is]) every error [AppendMessage]
// returns for a [Message] that cannot be written faithfully.
var ErrInvalidMessage = errors.New("sse: invalid message")

// MessageError says which field of a [Message] cannot be encoded, and why.
// It matches [ErrInvalidMessage].
type MessageError struct {
	Field  string // "Type", "ID" or "Retry"
	Reason string
}

func (e *MessageError) Error() string {
	return "sse: Message." + e.Field + " " + e.Reason
}

// Is reports whether target is [ErrInvalidMessage].
func (e *MessageError) Is(target error) bool { return target == ErrInvalidMessage }
