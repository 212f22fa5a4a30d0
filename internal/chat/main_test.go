package chat_test

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when a test leaves a goroutine behind: a
// generation, a follower or a stream outliving its client or its Handler.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		left := leftGoroutines()
		for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = leftGoroutines() {
			http.DefaultClient.CloseIdleConnections()
			time.Sleep(50 * time.Millisecond)
		}
		if len(left) > 0 {
			fmt.Fprintf(os.Stderr, "%d goroutines left after the tests:\n\n%s\n", len(left), strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

func leftGoroutines() []string {
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
