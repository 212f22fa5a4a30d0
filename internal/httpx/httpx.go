// Package httpx holds the small HTTP helpers that the demo's and the tests'
// handlers share (internal/chat, internal/testserver, the bench).
package httpx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// JSONError answers with {"error": msg} and status code.
func JSONError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Write(append(b, '\n'))
}

// IntParam reads the integer query parameter name of q: def when absent,
// else its value, which must be a decimal integer with min <= v <= max.
func IntParam(q url.Values, name string, def, min, max int) (int, error) {
	s, ok := q[name]
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(s[0])
	if err != nil || v < min || v > max {
		return 0, fmt.Errorf("%s: want an integer in [%d, %d], got %q", name, min, max, s[0])
	}
	return v, nil
}
