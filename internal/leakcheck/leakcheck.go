// Package leakcheck fails a test binary that leaves goroutines behind: a
// stream, subscription, follower or generation that outlives its client is
// a leak. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.After(m.Run())) }
package leakcheck

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

// After returns code, or 1 when code is 0 but goroutines other than the
// caller's, the runtime's and testing's own are still running 10 s after
// the tests (idle HTTP client connections are closed while it waits); it
// prints their stacks.
func After(code int) int {
	if code != 0 {
		return code
	}
	left := Left()
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = Left() {
		http.DefaultClient.CloseIdleConnections()
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "%d goroutines left after the tests:\n\n%s\n", len(left), strings.Join(left, "\n\n"))
		return 1
	}
	return 0
}

// Left returns the stacks of the goroutines other than TestMain's and
// signal handling's.
func Left() []string {
	buf := make([]byte, 1<<20)
	var left []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "TestMain") || strings.Contains(g, "os/signal.") || strings.TrimSpace(g) == "" {
			continue
		}
		left = append(left, g)
	}
	return left
}
