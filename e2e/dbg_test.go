package e2e

import (
	"testing"
	"time"
)

func TestDbg(t *testing.T) {
	takeSlot(t)
	tt, err := openTab(t, "native")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{`1`, `globalThis.runnerState`, `setTimeout(()=>{}, 0), 1`, `Promise.resolve(3)`} {
		t0 := time.Now()
		v, err := evalIn[any](tt, e, 5*time.Second)
		t.Logf("%s -> %v %v (%v)", e, v, err, time.Since(t0))
	}
}
