// Package redistest starts a real redis-server for tests: on a free
// loopback port, with its files in a temporary directory, stopped when the
// test ends. It never skips: without a redis-server (make deps installs
// one) the test fails.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Start starts a redis-server and returns its URL, "redis://127.0.0.1:PORT/0".
// The server is killed, and its directory removed, in tb's cleanup.
func Start(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redistest: no redis-server on PATH (make deps installs Debian's redis-server): %v", err)
	}
	var lastErr error
	for range 5 { // a free port can be taken between picking and binding it
		addr, err := freePort()
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		_, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(bin,
			"--bind", "127.0.0.1", "--port", port,
			"--dir", tb.TempDir(), "--save", "", "--appendonly", "no",
			"--protected-mode", "yes", "--loglevel", "warning")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			tb.Fatalf("redistest: starting %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if lastErr = waitPing(addr, exited); lastErr == nil {
			tb.Cleanup(func() {
				cmd.Process.Kill()
				<-exited
			})
			return "redis://" + addr + "/0"
		}
		cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%v; redis-server said: %s", lastErr, strings.TrimSpace(out.String()))
	}
	tb.Fatalf("redistest: redis-server did not start: %v", lastErr)
	return ""
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitPing waits (up to 10 s) until the server at addr answers PING.
func waitPing(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on %s exited", addr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprint(c, "PING\r\n")
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer PING within 10s", addr)
}
