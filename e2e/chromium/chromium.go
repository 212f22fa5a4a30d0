//go:build !js

// Package chromium holds how the browser suite (e2e) and the benchmark
// (e2e/cmd/bench) start headless Chromium, so that both measure and test
// the same browser configuration.
package chromium

import "github.com/chromedp/chromedp"

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
