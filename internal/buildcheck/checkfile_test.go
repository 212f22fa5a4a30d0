package buildcheck

import (
	"strings"
	"testing"
)

// TestCheckFile checks the check on made-up files.
func TestCheckFile(t *testing.T) {
	const jsImp = "import \"syscall/js\"\n\nvar _ = js.Global\n"
	const safeImp = "import \"github.com/hack-pad/safejs\"\n\nvar _ = safejs.Global\n"
	for _, tc := range []struct {
		name, src string
		want      string // part of the one problem expected, "" for none
	}{
		{"a/glue_js.go", "package a\n\n" + jsImp, ""},
		{"a/glue_js_test.go", "package a\n\n" + safeImp, ""},
		{"a/glue_js_wasm.go", "package a\n\n" + jsImp, ""},
		{"a/glue.go", "//go:build js\n\npackage a\n\n" + jsImp, ""},
		{"a/glue.go", "//go:build js && wasm\n\npackage a\n\n" + safeImp, ""},
		{"a/glue.go", "package a\n\n" + jsImp, "no build constraint"},
		{"a/glue_test.go", "package a\n\n" + safeImp, "no build constraint"},
		{"a/glue.go", "//go:build wasm\n\npackage a\n\n" + jsImp, "//go:build wasm"},           // wasip1 too
		{"a/glue.go", "//go:build !linux\n\npackage a\n\n" + jsImp, "//go:build !linux"},       // darwin too
		{"a/glue.go", "//go:build js || linux\n\npackage a\n\n" + jsImp, "js || linux"},        // linux too
		{"a/glue.go", "// A comment.\n\n//go:build js\n\npackage a\n\n" + jsImp, ""},           // after a comment
		{"a/glue.go", "package a\n\n// syscall/js is mentioned only.\n", ""},                   // no import
		{"a/glue_js.go", "//go:build !js\n\npackage a\n", "keeps it out of the js/wasm build"}, // never built
		{"a/glue_js.go", "//go:build ignore\n\npackage a\n", "keeps it out"},
		{"a/native.go", "//go:build !js\n\npackage a\n", ""},
		{"a/js.go", "package a\n\n" + jsImp, "no build constraint"}, // js.go is not named for GOOS=js
	} {
		got := checkFile(tc.name, []byte(tc.src))
		switch {
		case tc.want == "" && len(got) > 0:
			t.Errorf("%s %q: unexpected %q", tc.name, tc.src, got)
		case tc.want != "" && (len(got) != 1 || !strings.Contains(got[0], tc.want)):
			t.Errorf("%s %q: got %q, want one problem with %q", tc.name, tc.src, got, tc.want)
		}
	}
}
