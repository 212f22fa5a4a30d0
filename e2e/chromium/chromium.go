//go:build !js

// Package chromium holds how the browser suite (e2e) and the benchmark
// (e2e/bench) find, start and drive headless Chromium, so that both
// measure and test the same browser configuration and read its pages the
// same way.
package chromium

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
)

// StartTimeout bounds starting Chromium and opening a tab.
const StartTimeout = 60 * time.Second

// names are the usual names of Chromium on PATH, in the order Find tries
// them (the Makefile's deps target accepts the same).
var names = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// Find returns the Chromium to drive: override when it is not empty (a path,
// or a name on PATH), else the first of the usual names on PATH.
func Find(override string) (string, error) {
	if override != "" {
		p, err := exec.LookPath(override)
		if err != nil {
			return "", fmt.Errorf("no Chromium at %s: %w", override, err)
		}
		return p, nil
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium on PATH (%s): run `make deps` to install Debian's chromium", strings.Join(names, ", "))
}

// Options returns the chromedp allocator options for a headless Chromium
// at exe with its profile in userDataDir: no GPU, no background network
// traffic of its own (only loopback addresses are reachable here), no QUIC,
// no sandbox (CI runs as root), and no throttling of background timers or
// renderers, so that a tab's timing does not depend on which tab is in
// front.
func Options(exe, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.UserDataDir(userDataDir),
	}
}

// Browser is a running headless Chromium with a profile of its own.
type Browser struct {
	// Version is Chromium's product string ("Chrome/<version>").
	Version string

	ctx  context.Context // the browser's chromedp context (its first tab); tabs are its children
	stop func()          // ends the allocator and removes the profile
}

// Start starts headless Chromium at exe (with Options, in a new temporary
// profile) and asks its version. It gives up after StartTimeout. The browser
// lives until Close or until parent is done.
func Start(parent context.Context, exe string) (*Browser, error) {
	udd, err := os.MkdirTemp("", "chromium-profile-")
	if err != nil {
		return nil, err
	}
	actx, cancelA := chromedp.NewExecAllocator(parent, Options(exe, udd)...)
	bctx, cancelB := chromedp.NewContext(actx)
	b := &Browser{ctx: bctx, stop: func() {
		cancelB()
		cancelA()
		os.RemoveAll(udd)
	}}
	// The first Run starts the browser (and its first, unused tab) and binds
	// the browser's life to its context: give it bctx itself, and bound the
	// wait from outside.
	if err := within(StartTimeout, func() error { return chromedp.Do(bctx) }); err != nil {
		b.stop()
		return nil, fmt.Errorf("starting Chromium (%s): %w", exe, err)
	}
	vctx, cancelV := context.WithTimeout(bctx, 10*time.Second)
	defer cancelV()
	v, err := chromedp.CallBrowser(vctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		b.stop()
		return nil, fmt.Errorf("asking Chromium (%s) its version: %w", exe, err)
	}
	b.Version = v.Product
	return b, nil
}

// Close closes the browser gracefully and removes its profile.
func (b *Browser) Close() error {
	err := chromedp.Cancel(b.ctx)
	b.stop()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// NewTab opens a tab, in a new browser context (with its own cookie jar,
// HTTP cache and connection pool) when isolated. listen, when not nil,
// gets the tab's events from its start (see chromedp.WithListener; a
// Console's Listen fits). It gives up after StartTimeout. cancel closes the
// tab; call it also when NewTab fails.
func (b *Browser) NewTab(isolated bool, listen func(ev any)) (ctx context.Context, cancel context.CancelFunc, err error) {
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	if listen != nil {
		opts = append(opts, chromedp.WithListener(listen))
	}
	ctx, cancel = chromedp.NewContext(b.ctx, opts...)
	// The first Run binds the tab's life to its context: no timeout there.
	if err := within(StartTimeout, func() error { return chromedp.Do(ctx) }); err != nil {
		return ctx, cancel, fmt.Errorf("opening a tab: %w", err)
	}
	return ctx, cancel, nil
}

// within runs fn and gives up waiting for it after d.
func within(d time.Duration, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("no answer after %v", d)
	}
}
