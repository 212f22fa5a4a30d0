//go:build !js

package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// goDied are console texts that mean the Go program of a page died.
var goDied = []string{"panic:", "fatal error:", "Go program has already exited", "exit code:"}

// ConsoleOptions says what a Console takes for a sign that the page broke.
type ConsoleOptions struct {
	// ErrorsFatal makes console.error and console.assert fatal too (the
	// bench: its pages log no error when all is well).
	ErrorsFatal bool
	// Expected, when not empty, marks uncaught exceptions thrown on
	// purpose: one whose text contains it is counted (see Expected), not
	// fatal.
	Expected string
	// Limit, when above 0, is how many lines and how many fatal texts the
	// Console keeps; it drops the rest.
	Limit int
}

// Console records what a page logs and what means that the page broke:
// uncaught exceptions and console text of a dead Go program. Its Listen
// gets the tab's events (see Browser.NewTab). It is safe for concurrent use.
type Console struct {
	opts ConsoleOptions

	mu       sync.Mutex
	lines    []string // everything the page logged and threw, in order
	fatal    []string // uncaught exceptions and Go deaths (and errors, with ErrorsFatal)
	expected int      // uncaught exceptions thrown on purpose
}

// NewConsole returns an empty Console.
func NewConsole(opts ConsoleOptions) *Console { return &Console{opts: opts} }

// Listen records a console call or an uncaught exception. It runs in
// chromedp's reader loop, so it does not block.
func (c *Console) Listen(ev any) {
	switch e := ev.(type) {
	case *cdpruntime.EventConsoleAPICalled:
		parts := make([]string, 0, len(e.Args))
		for _, a := range e.Args {
			parts = append(parts, remoteText(a))
		}
		text := strings.Join(parts, " ")
		line := fmt.Sprintf("console.%s: %s", e.Type, text)
		fatal := c.opts.ErrorsFatal && (e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeAssert)
		for _, f := range goDied {
			fatal = fatal || strings.Contains(text, f)
		}
		c.add(line, fatal, false)
	case *cdpruntime.EventExceptionThrown:
		d := e.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		line := fmt.Sprintf("uncaught exception: %s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		expected := c.opts.Expected != "" && strings.Contains(text, c.opts.Expected)
		c.add(line, !expected, expected)
	}
}

func (c *Console) add(line string, fatal, expected bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.opts.Limit <= 0 || len(c.lines) < c.opts.Limit {
		c.lines = append(c.lines, line)
	}
	if fatal && (c.opts.Limit <= 0 || len(c.fatal) < c.opts.Limit) {
		c.fatal = append(c.fatal, line)
	}
	if expected {
		c.expected++
	}
}

// remoteText renders a console argument the way the DevTools console does,
// roughly: strings as they are, other values as JSON or their description.
func remoteText(a *cdpruntime.RemoteObject) string {
	if a == nil {
		return ""
	}
	if len(a.Value) > 0 {
		var s string
		if err := json.Unmarshal(a.Value, &s); err == nil {
			return s
		}
		return string(a.Value)
	}
	if a.Description != "" {
		return a.Description
	}
	return string(a.Type)
}

// Lines returns what the page logged and threw, one line each.
func (c *Console) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// Fatal returns the uncaught exceptions and Go deaths seen (and console
// errors, with ErrorsFatal), the exceptions thrown on purpose left out.
func (c *Console) Fatal() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.fatal...)
}

// Expected returns how many uncaught exceptions were thrown on purpose
// (see ConsoleOptions.Expected).
func (c *Console) Expected() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.expected
}

// Reset forgets everything seen so far, for a page that is used again.
func (c *Console) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines, c.fatal, c.expected = nil, nil, 0
}

// Open navigates the tab of ctx to url and waits until the JS expression
// state is truthy: the page is loaded when it is "ready", and any other
// value says why it did not load. timeout bounds the whole.
func Open(ctx context.Context, url, state string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("navigating to %s: %w", url, err)
	}
	s, err := chromedp.Run(ctx, chromedp.Poll[string](state,
		chromedp.WithPollingInterval(5*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return fmt.Errorf("waiting for %s to load: %w", url, err)
	}
	if s != "ready" {
		return fmt.Errorf("%s did not load: %s", url, s)
	}
	return nil
}

// Eval evaluates the JS expression expr in the tab of ctx, awaiting a
// promise, and decodes its value into T as chromedp.Evaluate does. It
// gives up after timeout, with a message that says the page hangs.
func Eval[T any](ctx context.Context, expr string, timeout time.Duration) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return v, fmt.Errorf("no answer after %v (the page hangs?): %w", timeout, err)
	}
	return v, err
}
