package models

import (
	"context"
	"fmt"
	"os"
	"strings"

	"gorm.io/gorm"
)

// holdFileLock takes an exclusive flock on the lock file of subjectKind's
// selection lock beside db's SQLite database file, trying again until ctx
// ends, and returns the open lock file. Every process that opens the same
// database file uses the same lock file, and the kernel releases the lock
// when the holder closes the file or exits. An in-memory database has no
// file that another process could open, so it returns nil and no error.
func holdFileLock(ctx context.Context, db *gorm.DB, subjectKind string) (*os.File, error) {
	var databasePath string
	err := db.WithContext(ctx).Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&databasePath).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the SQLite database file name for the %s selection lock: %w", subjectKind, err)
	}
	if databasePath == "" {
		return nil, nil
	}
	if subjectKind == "" || strings.ContainsAny(subjectKind, `/\`) {
		return nil, fmt.Errorf("models: invalid subject kind %q for a selection lock file name", subjectKind)
	}

	lockPath := databasePath + "-retry-selection-" + subjectKind + ".lock"
	file, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the selection lock file %s: %w", lockPath, err)
	}
	err = pollLock(ctx, subjectKind, func() (bool, error) {
		acquired, err := tryLockFile(file)
		if err != nil {
			return false, fmt.Errorf("models: unable to lock the selection lock file %s: %w", lockPath, err)
		}
		return acquired, nil
	})
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	return file, nil
}
