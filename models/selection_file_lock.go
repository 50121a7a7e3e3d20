package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gorm.io/gorm"
)

// maxFileNameLength is the longest file name, in bytes, that common Linux
// and macOS file systems accept.
const maxFileNameLength = 255

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

	lockPath := selectionLockPath(databasePath, subjectKind)
	file, err := openLockFile(lockPath, databasePath)
	if err != nil {
		return nil, err
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

// selectionLockPath names the lock file of subjectKind beside the database
// file. A name that the file system would reject as too long is replaced by
// one built from a hash of the database path and the kind.
func selectionLockPath(databasePath, subjectKind string) string {
	name := filepath.Base(databasePath) + "-retry-selection-" + subjectKind + ".lock"
	if len(name) > maxFileNameLength {
		sum := sha256.Sum256([]byte(databasePath + "\x00" + subjectKind))
		name = "retry-selection-" + hex.EncodeToString(sum[:8]) + ".lock"
	}
	return filepath.Join(filepath.Dir(databasePath), name)
}

// openLockFile opens the lock file read-only, which is all flock needs, and
// creates it when it is missing with the permissions and, where the process
// may set it, the owner of the database file. Every user who can open the
// database can then open the lock file too.
func openLockFile(lockPath, databasePath string) (*os.File, error) {
	database, err := os.Stat(databasePath)
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the SQLite database file %s for its selection lock: %w", databasePath, err)
	}
	_, statErr := os.Stat(lockPath)
	created := errors.Is(statErr, fs.ErrNotExist)
	file, err := os.OpenFile(lockPath, os.O_RDONLY|os.O_CREATE, database.Mode().Perm())
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("models: unable to open the selection lock file %s: %w; "+
			"give every user who runs the console on %s read access to it, as to the database file", lockPath, err, databasePath)
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to open the selection lock file %s: %w", lockPath, err)
	}
	if created {
		// The umask may have removed bits that the database file has, and
		// only the owner may put them back, so a failure is not an error.
		_ = file.Chmod(database.Mode().Perm())
		matchOwner(file, database)
	}
	return file, nil
}
