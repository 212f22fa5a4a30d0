package buildcheck

import (
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// jsOnlyImports are the packages that exist (or work) only under GOOS=js:
// a file importing one of them, or a package below them, must be built for
// js alone.
var jsOnlyImports = []string{"syscall/js", "github.com/hack-pad/safejs"}

// TestJSConstraints checks every Go file of the repository.
func TestJSConstraints(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at the repository root %s: %v", root, err)
	}
	n := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			// Hidden folders (.git, .bin, caches), node_modules and testdata
			// hold no source of this repository's packages.
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		n++
		for _, p := range checkFile(rel, src) {
			t.Error(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no Go file found under %s", root)
	}
	t.Logf("%d Go files checked", n)
}

// checkFile returns what is wrong with the constraints of one file.
func checkFile(name string, src []byte) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.ParseComments)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var expr constraint.Expr
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break // constraints stand before the package clause
		}
		for _, c := range g.List {
			if constraint.IsGoBuild(c.Text) {
				if expr, err = constraint.Parse(c.Text); err != nil {
					return []string{fmt.Sprintf("%s: %v", name, err)}
				}
			}
		}
	}
	var jsImport string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		for _, js := range jsOnlyImports {
			if path == js || strings.HasPrefix(path, js+"/") {
				jsImport = path
			}
		}
	}

	var problems []string
	namedJS := namedForJS(name)
	if jsImport != "" && !namedJS && !jsOnly(expr) {
		what := "no build constraint"
		if expr != nil {
			what = "//go:build " + expr.String()
		}
		problems = append(problems, fmt.Sprintf("%s imports %s but can be built for GOOS other than js (%s): name it *_js.go or add //go:build js", name, jsImport, what))
	}
	if namedJS && expr != nil && !expr.Eval(func(tag string) bool { return jsTags(tag) }) {
		problems = append(problems, fmt.Sprintf("%s is named for GOOS=js but //go:build %s keeps it out of the js/wasm build", name, expr))
	}
	return problems
}

// namedForJS reports whether the file name alone restricts it to GOOS=js
// (name_js.go, name_js_wasm.go, and their _test forms).
func namedForJS(name string) bool {
	base := strings.TrimSuffix(filepath.Base(name), ".go")
	base = strings.TrimSuffix(base, "_test")
	base = strings.TrimSuffix(base, "_wasm")
	return strings.HasSuffix(base, "_js")
}

// jsOnly reports whether a //go:build expression excludes every GOOS but
// js: false when no tag holds but those of the toolchain, and false when
// every tag holds but js.
func jsOnly(expr constraint.Expr) bool {
	if expr == nil {
		return false
	}
	none := expr.Eval(func(tag string) bool { return toolchainTag(tag) })
	allButJS := expr.Eval(func(tag string) bool { return tag != "js" })
	return !none && !allButJS
}

// jsTags are the tags that hold in this repository's js/wasm build.
func jsTags(tag string) bool { return tag == "js" || tag == "wasm" || toolchainTag(tag) }

func toolchainTag(tag string) bool { return tag == "gc" || strings.HasPrefix(tag, "go1.") }
