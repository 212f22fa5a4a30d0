package main

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// awaiter waits for JS promises from a goroutine. One awaiter serves one
// sequence of awaits (a connection loop), so its then/catch pair is made once
// and reused: creating and releasing a pair per await costs about 30% more.
//
// An await always lasts until the promise settles. Callers cancel by
// aborting the fetch, which settles every pending promise of it; that way no
// callback is ever released while a promise may still call it.
type awaiter struct {
	onFulfilled, onRejected safejs.Func
	settled                 chan settlement
}

type settlement struct {
	value    safejs.Value
	rejected bool
}

func newAwaiter() (*awaiter, error) {
	a := &awaiter{settled: make(chan settlement, 1)}
	var err error
	a.onFulfilled, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		a.settled <- settlement{value: arg(args, 0)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.onRejected, err = safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		a.settled <- settlement{value: arg(args, 0), rejected: true}
		return nil
	})
	if err != nil {
		a.onFulfilled.Release()
		return nil, err
	}
	return a, nil
}

// await blocks the calling goroutine until p settles. A rejection comes back
// as a *jsError.
func (a *awaiter) await(p safejs.Value, err error) (safejs.Value, error) {
	if err != nil {
		return safejs.Undefined(), err
	}
	if _, err := p.Call("then", a.onFulfilled.Value(), a.onRejected.Value()); err != nil {
		return safejs.Undefined(), err
	}
	s := <-a.settled
	if s.rejected {
		return safejs.Undefined(), newJSError(s.value)
	}
	return s.value, nil
}

func (a *awaiter) release() {
	a.onFulfilled.Release()
	a.onRejected.Release()
}

// jsError is a rejection or exception value from JS, with its name (such as
// "TypeError" or "AbortError") and message read once.
type jsError struct {
	Name, Message string
}

func (e *jsError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

func newJSError(v safejs.Value) *jsError {
	e := &jsError{Name: "Error"}
	if v.Type() != safejs.TypeObject {
		if s, err := v.String(); err == nil {
			e.Message = s
		}
		return e
	}
	if n, err := v.Get("name"); err == nil && n.Type() == safejs.TypeString {
		e.Name, _ = n.String()
	}
	if m, err := v.Get("message"); err == nil && m.Type() == safejs.TypeString {
		e.Message, _ = m.String()
	}
	return e
}

// isAbort reports whether err is the AbortError of an aborted fetch.
func isAbort(err error) bool {
	var je *jsError
	return errors.As(err, &je) && je.Name == "AbortError"
}

func arg(args []safejs.Value, i int) safejs.Value {
	if i < len(args) {
		return args[i]
	}
	return safejs.Undefined()
}
