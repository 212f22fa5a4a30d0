package chat_test

import (
	"os"
	"testing"

	"github.com/wasm-eventsource/wasm-eventsource/internal/leakcheck"
)

// TestMain fails the run when a test leaves a goroutine behind: a
// generation, a follower or a stream outliving its client or its Handler.
func TestMain(m *testing.M) { os.Exit(leakcheck.After(m.Run())) }
