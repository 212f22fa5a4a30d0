package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func TestLeftSeesAGoroutine(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	found := false
	for _, g := range Left() {
		if strings.Contains(g, "TestLeftSeesAGoroutine.func1") {
			found = true
		}
	}
	close(stop)
	if !found {
		t.Fatal("Left did not report a running goroutine")
	}
	// The goroutine ends soon after; on a loaded machine, give it time.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		still := false
		for _, g := range Left() {
			still = still || strings.Contains(g, "TestLeftSeesAGoroutine.func1")
		}
		if !still {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("Left still reports a goroutine that ended 5 s ago")
		}
	}
}
