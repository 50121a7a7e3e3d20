package main

import (
	"strings"
	"testing"
)

func TestImportDirectory(t *testing.T) {
	directory := t.TempDir()
	code, _, stderr, _ := runWith(t, "", "import", directory)
	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	want := "import: " + directory + " is a directory; give the path of an export file"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr, want)
	}
	if !strings.Contains(stderr, "Usage: evidence-console import FILE") {
		t.Errorf("stderr = %q, want the usage of import", stderr)
	}
	if strings.Contains(stderr, "not valid JSON") {
		t.Errorf("stderr = %q, want no JSON error for a directory", stderr)
	}
}
