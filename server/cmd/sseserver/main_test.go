package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "192.0.2.1:8080", "[::]:8080", "example.com:80"} {
		var stderr bytes.Buffer
		if code := run([]string{"-addr", addr, "-q"}, &stderr, nil); code != 1 {
			t.Errorf("-addr %s: exit code %d, want 1 (stderr %q)", addr, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), addr) {
			t.Errorf("-addr %s: stderr %q does not name the address", addr, stderr.String())
		}
	}
	var stderr bytes.Buffer
	if code := run([]string{"-other", "0.0.0.0:0", "-addr", "127.0.0.1:0", "-q"}, &stderr, nil); code != 1 {
		t.Errorf("-other 0.0.0.0:0: exit code %d, want 1", code)
	}
}

func TestRunServesAndStops(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan int)
	var stderr bytes.Buffer
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-web", t.TempDir(), "-dist", t.TempDir(), "-q"}, &stderr, stop)
	}()
	close(stop)
	if code := <-done; code != 0 {
		t.Fatalf("exit code %d, stderr %q", code, stderr.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-nope"}, &stderr, nil); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}
