package httpx

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestIntParam(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  int
		ok    bool
	}{
		{"", 7, true}, {"n=3", 3, true}, {"n=0", 0, true}, {"n=10", 10, true},
		{"n=11", 0, false}, {"n=-1", 0, false}, {"n=x", 0, false}, {"n=", 0, false},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, err := IntParam(q, "n", 7, 0, 10)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("IntParam(%q) = %d, %v", tc.query, got, err)
		}
	}
}

func TestJSONError(t *testing.T) {
	w := httptest.NewRecorder()
	JSONError(w, 404, `no "such" stream`)
	if w.Code != 404 || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != `{"error":"no \"such\" stream"}`+"\n" {
		t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
