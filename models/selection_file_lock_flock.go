//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package models

import (
	"errors"
	"os"
	"syscall"
)

// tryLockFile takes an exclusive flock on file without waiting. It reports
// false when another open file description of the same file holds one, in
// this process or another.
func tryLockFile(file *os.File) (bool, error) {
	err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR) {
		return false, nil
	}
	return err == nil, err
}

// matchOwner gives file the owner and group of the database file when the
// process runs as root, as SQLite's unix VFS does for the journal files it creates.
// Otherwise the owner stays the creating user.
func matchOwner(file *os.File, database os.FileInfo) {
	stat, ok := database.Sys().(*syscall.Stat_t)
	if !ok || os.Geteuid() != 0 {
		return
	}
	_ = file.Chown(int(stat.Uid), int(stat.Gid))
}
