package main

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// engine is what the JS class shell calls: open(es, state, url, init) -> id
// and close(id). It owns every live source, which also keeps each
// EventSource object reachable while it is connecting or open (a JS value
// held by Go is a GC root), as the spec requires.
type engine struct {
	rt      jsRuntime
	sources map[int]*source
	nextID  int
	funcs   []safejs.Func
}

// jsRuntime holds the helpers of jsglue/eventsource.mjs, read once.
type jsRuntime struct {
	open, error, end, dispatch, task safejs.Value
	connect, probe, consoleError     safejs.Value
	uint8Array                       safejs.Value
}

// The readyState values the engine hands to runtime.error.
const (
	readyConnecting = 0
	readyClosed     = 2
)

func newRuntime(rt safejs.Value) (jsRuntime, error) {
	var r jsRuntime
	fields := []struct {
		from safejs.Value
		name string
		to   *safejs.Value
	}{
		{rt, "open", &r.open}, {rt, "error", &r.error}, {rt, "end", &r.end},
		{rt, "dispatch", &r.dispatch}, {rt, "task", &r.task}, {rt, "connect", &r.connect},
		{rt, "probe", &r.probe}, {rt, "consoleError", &r.consoleError},
		{safejs.Global(), "Uint8Array", &r.uint8Array},
	}
	for _, f := range fields {
		v, err := f.from.Get(f.name)
		if err != nil {
			return r, err
		}
		if v.Type() != safejs.TypeFunction {
			return r, errors.New("wasm-eventsource: runtime." + f.name + " is not a function")
		}
		*f.to = v
	}
	return r, nil
}

func newEngine(rt safejs.Value) (*engine, error) {
	r, err := newRuntime(rt)
	if err != nil {
		return nil, err
	}
	return &engine{rt: r, sources: make(map[int]*source)}, nil
}

// exports builds the JS object {open, close} handed to the class shell.
func (e *engine) exports() (safejs.Value, error) {
	open, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) (result any) {
		defer e.recoverCallback("open", nil)
		return e.open(args)
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	closeFn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		defer e.recoverCallback("close", nil)
		if id, err := arg(args, 0).Int(); err == nil {
			if s := e.sources[id]; s != nil {
				s.close()
			}
		}
		return nil
	})
	if err != nil {
		open.Release()
		return safejs.Undefined(), err
	}
	e.funcs = append(e.funcs, open, closeFn)
	return newObject(map[string]any{"open": open.Value(), "close": closeFn.Value()})
}

// open starts a source for a freshly constructed EventSource and returns its
// id. The arguments are checked and converted by the class shell: es, state,
// url, method, headers, body, credentials, reconnect (boolean or null),
// maxEventSize (number, 0 for the default), lastEventId (string or null).
func (e *engine) open(args []safejs.Value) any {
	e.nextID++
	s := newSource(e, e.nextID, args)
	e.sources[s.id] = s
	go s.run()
	return s.id
}

func (e *engine) forget(s *source) {
	delete(e.sources, s.id)
}

// recoverCallback keeps a Go panic from killing the module: the panic is
// reported on the console and, when it belongs to a source, fails that
// source with an error event.
func (e *engine) recoverCallback(where string, s *source) {
	r := recover()
	if r == nil {
		return
	}
	text := "wasm-eventsource: internal error in " + where + ": " + panicText(r)
	e.rt.consoleError.Invoke(text)
	if s != nil {
		s.failInternal(panicText(r))
	}
}

func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	default:
		return "unknown panic value"
	}
}

// newObject makes a plain JS object. safejs.ValueOf cannot convert maps that
// hold safejs values, so the properties are set one by one.
func newObject(props map[string]any) (safejs.Value, error) {
	obj, err := safejs.ValueOf(map[string]any{})
	if err != nil {
		return obj, err
	}
	for k, v := range props {
		if err := obj.Set(k, v); err != nil {
			return obj, err
		}
	}
	return obj, nil
}
