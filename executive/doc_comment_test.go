package executive

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocCommentsNameTheirDeclaration checks that no doc comment of a
// top-level declaration in this package starts with the name of another
// declaration, as one left above the wrong declaration does. go doc shows
// such a comment as the documentation of the declaration below it.
func TestDocCommentsNameTheirDeclaration(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatalf("list the package files: %v", err)
	}
	type documented struct {
		name, firstWord, position string
	}
	names := map[string]bool{}
	var decls []documented
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		for _, decl := range file.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if d.Recv != nil {
					continue
				}
				names[d.Name.Name] = true
				decls = append(decls, documented{d.Name.Name, firstWord(d.Doc), fset.Position(d.Pos()).String()})
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					var specNames []*ast.Ident
					switch s := spec.(type) {
					case *ast.ValueSpec:
						specNames = s.Names
					case *ast.TypeSpec:
						specNames = []*ast.Ident{s.Name}
					}
					for _, name := range specNames {
						names[name.Name] = true
						// The doc of a group belongs to the group, so only a
						// declaration of one name is checked.
						if len(d.Specs) == 1 && len(specNames) == 1 {
							decls = append(decls, documented{name.Name, firstWord(d.Doc), fset.Position(name.Pos()).String()})
						}
					}
				}
			}
		}
	}
	for _, decl := range decls {
		if decl.firstWord != decl.name && names[decl.firstWord] {
			t.Errorf("%s: the doc comment of %s starts with %s, the name of another declaration", decl.position, decl.name, decl.firstWord)
		}
	}
}

// firstWord returns the first word of a doc comment, or "" without one.
func firstWord(doc *ast.CommentGroup) string {
	if doc == nil {
		return ""
	}
	fields := strings.Fields(doc.Text())
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
