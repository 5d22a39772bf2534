// Package pgtest runs a real PostgreSQL server for tests: Debian's
// binaries (initdb, pg_ctl), a cluster in a temporary folder, reached
// through a unix socket in that folder (no TCP port to collide with),
// stopped when the test package ends. Each test gets a database of its own.
//
// PostgreSQL refuses to run as root, and the tests run as root in CI: the
// server then runs as the "postgres" user where the Debian package made one,
// else as "nobody", with the folder handed to that user.
//
// A test double: only tests import it.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL cluster.
type Server struct {
	dir     string // holds data/ (the cluster), the socket and the log
	bin     string // the folder of initdb, pg_ctl and postgres
	cred    *syscall.Credential
	nextDB  atomic.Int64
	stopped atomic.Bool
	reaper  *exec.Cmd // stops the server if the tests die without Stop
}

// Lazy starts one Server for a test package the first time a test asks for
// it, so a run of the package's other tests costs nothing. Its zero value is
// ready; TestMain calls Stop after m.Run.
type Lazy struct {
	once sync.Once
	srv  *Server
	err  error
}

// Get returns the package's server, starting it on the first call. It
// skips t, loudly, where PostgreSQL is not installed, and fails it where
// the server does not start.
func (l *Lazy) Get(t testing.TB) *Server {
	t.Helper()
	l.once.Do(func() { l.srv, l.err = Start() })
	if errors.Is(l.err, ErrNotInstalled) {
		t.Skipf("\n\n*** SKIPPED: %v: install Debian's postgresql package (scripts/install-test-deps.sh) ***\n\n", l.err)
	}
	if l.err != nil {
		t.Fatal(l.err)
	}
	return l.srv
}

// Stop stops the server if one was started.
func (l *Lazy) Stop() {
	if l.srv != nil {
		l.srv.Stop()
	}
}

// ErrNotInstalled says that no PostgreSQL binaries were found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL (initdb, pg_ctl) not found")

// findBin finds the folder of the server's binaries: Debian keeps them out
// of PATH, in /usr/lib/postgresql/VERSION/bin.
func findBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) }) // newest first
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNotInstalled
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start makes a cluster in a new temporary folder and starts it.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = serverUser(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if err := s.start(); err != nil {
		s.Stop()
		return nil, err
	}
	s.startReaper()
	return s, nil
}

// startReaper starts a shell that waits for this process to end and then
// stops the server and removes its folder: a test binary killed by
// go test's -timeout, or by a signal, runs no TestMain and would leave the
// server running. Stop ends it.
func (s *Server) startReaper() {
	data := filepath.Join(s.dir, "data")
	script := fmt.Sprintf(`while [ -d /proc/%d ]; do sleep 1; done; "%s" stop -D "%s" -m immediate >/dev/null 2>&1; rm -rf "%s"`,
		os.Getpid(), filepath.Join(s.bin, "pg_ctl"), data, s.dir)
	cmd := exec.Command("/bin/sh", "-c", script)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	if err := cmd.Start(); err == nil { // best effort: Stop does the same
		s.reaper = cmd
	}
}

// serverUser is the unprivileged user the server runs as under root.
func serverUser() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgtest: running as root, and neither a postgres nor a nobody user exists to run the server")
}

func (s *Server) start() error {
	data := filepath.Join(s.dir, "data")
	// trust: only this folder's socket is open, and only to its user and root.
	if err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
		"--encoding=UTF8", "--locale=C.UTF-8"); err != nil {
		return err
	}
	// No TCP (listen_addresses empty): the socket in the folder only.
	// fsync off: a test cluster need not survive a power loss. The
	// parallel workers' shared memory in files of the cluster, not in
	// /dev/shm, which containers keep small (64 MB in Docker).
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off "+
		"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "+
		"-c dynamic_shared_memory_type=mmap", s.dir)
	return s.run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(s.dir, "server.log"), "-o", opts)
}

// run runs one of the server's binaries as the server's user.
func (s *Server) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("pgtest: %s %s: %w\n%s\n%s", name, strings.Join(args, " "), err, out, log)
	}
	return nil
}

// Stop stops the server (fast: it closes every session) and removes its
// folder.
func (s *Server) Stop() {
	if s.stopped.Swap(true) {
		return
	}
	if s.reaper != nil {
		_ = s.reaper.Process.Kill()
		_ = s.reaper.Wait()
	}
	if _, err := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
		_ = s.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", filepath.Join(s.dir, "data"))
	}
	os.RemoveAll(s.dir)
}

// DSN is the connection string of database name on this server.
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("host=%s user=postgres dbname=%s sslmode=disable", s.dir, name)
}

// NewDatabase creates an empty database for t, dropped when t ends, and
// returns its connection string.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.nextDB.Add(1))
	if err := s.exec(fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// FORCE: a test that failed may have left a connection open.
		if err := s.exec(fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil && !s.stopped.Load() {
			t.Error(err)
		}
	})
	return s.DSN(name)
}

// exec runs one statement in the postgres database.
func (s *Server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %s: %w", sql, err)
	}
	return nil
}

// Stored returns every byte the server has on disk for the database dsn
// names, after a checkpoint: its table files and the write-ahead log
// (shared by every database of the server), for tests that look for a
// secret stored in clear, as SQLite's tests read the database file.
func (s *Server) Stored(t testing.TB, dsn string) []byte {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var oid uint32
	if err := conn.QueryRow(ctx, `SELECT oid FROM pg_database WHERE datname = $1`, cfg.Database).Scan(&oid); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, dir := range []string{filepath.Join("base", strconv.FormatUint(uint64(oid), 10)), "pg_wal"} {
		files, err := filepath.Glob(filepath.Join(s.dir, "data", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if fi, err := os.Stat(f); err != nil || !fi.Mode().IsRegular() {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, data...)
		}
	}
	return all
}
