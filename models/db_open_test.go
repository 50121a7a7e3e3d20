package models

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNewSQLiteFileIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "console.db")
	db, _, err := Open(OpenOptions{URL: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	defer sqlDB.Close()
	if err := db.Exec("CREATE TABLE probe (id INTEGER)").Error; err != nil {
		t.Fatalf("write: %v", err)
	}

	for _, name := range []string{path, path + "-wal"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Errorf("stat %s: %v", name, err)
			continue
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s mode: got %o, want 600", filepath.Base(name), mode)
		}
	}
}

func TestExistingSQLiteFileKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.db")
	if err := os.WriteFile(path, nil, 0o640); err != nil {
		t.Fatalf("create: %v", err)
	}
	db, _, err := Open(OpenOptions{URL: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o640 {
		t.Errorf("mode: got %o, want the existing 640", mode)
	}
}
