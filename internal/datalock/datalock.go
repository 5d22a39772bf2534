// Package datalock keeps one bridge per data folder: an exclusive flock(2)
// on the file dialin.lock in it, held for the life of the process. Two
// bridges on one database would each trust their own in-memory index and
// hand out the same conference IDs; the lock refuses the second one at
// start. The kernel drops the lock when the process ends, however it ends
// (a crash, SIGKILL, the OOM killer), so a stale lock file never blocks a
// restart; the file itself is left in place.
//
// It imports nothing of the project.
package datalock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FileName is the lock file in the data folder.
const FileName = "dialin.lock"

// HeldError says that another process holds the lock.
type HeldError struct {
	Dir string // the data folder
	PID int    // the holder's process ID as it wrote it; 0 if unknown
}

func (e *HeldError) Error() string {
	holder := "another dialin serve"
	if e.PID > 0 {
		holder += fmt.Sprintf(" (PID %d)", e.PID)
	}
	return fmt.Sprintf("data folder %s is in use by %s: one bridge per data folder; stop that one first, "+
		"or give this one its own data_dir (lock file %s)", e.Dir, holder, filepath.Join(e.Dir, FileName))
}

// Lock is a held lock; Release lets it go (so does the process's end).
type Lock struct {
	f *os.File
}

// Acquire creates the data folder if needed and takes its lock without
// waiting: a *HeldError if another process has it. It then writes this
// process's ID into the file for the next one's message.
func Acquire(dir string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// O_CLOEXEC (set by os.OpenFile): a child process never inherits it.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data folder: %w", err)
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &HeldError{Dir: dir, PID: readPID(path)}
		}
		return nil, fmt.Errorf("lock the data folder (%s): %w", path, err)
	}
	if err := writePID(f); err != nil {
		f.Close() // releases the lock
		return nil, fmt.Errorf("lock the data folder (%s): %w", path, err)
	}
	return &Lock{f: f}, nil
}

// flock takes the exclusive lock, retrying when a signal interrupts it.
func flock(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readPID reads the holder's ID; 0 if the file holds none yet (it took
// the lock an instant ago) or something else.
func readPID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// Release unlocks and closes the file; the file stays, holding the last
// holder's ID, which the next Acquire overwrites.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor drops the flock
	l.f = nil
	return err
}
