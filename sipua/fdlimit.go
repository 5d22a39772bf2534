package sipua

import (
	"os"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Each call holds up to fdsPerCall descriptors: its RTP socket, its RTCP
// socket (RTP+1) and, for a caller over TCP, its signalling connection.
const fdsPerCall = 3

// fdHeadroom is kept for what is not a call: the SIP and API listeners, the
// database and its journal, API and SMTP connections, the bridge's own
// outgoing SIP connections, the runtime's epoll and pipes.
const fdHeadroom = 64

// FDLimit is the process's open-file limit as RaiseFDLimit left it.
type FDLimit struct {
	Soft, Hard uint64
	Open       int // descriptors open when it was read
}

// Calls is how many calls the limit leaves room for beside what is open.
func (l FDLimit) Calls() int {
	free := int64(min(l.Soft, 1<<40)) - int64(l.Open) - fdHeadroom
	return int(max(free, 0) / fdsPerCall)
}

// RaiseFDLimit raises the soft RLIMIT_NOFILE to the hard limit (Go does so
// at start since 1.19, but not past fs.nr_open when the hard limit is
// unlimited), logs once what it is and warns when it holds fewer than
// maxCalls calls: running out of descriptors would fail a call's RTP socket.
func RaiseFDLimit(maxCalls int, log zerolog.Logger) FDLimit {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn().Err(err).Msg("file descriptors: cannot read the limit")
		return FDLimit{}
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
			// An unlimited hard limit cannot be the soft one: nr_open can.
			if n, ok := nrOpen(); ok && n > lim.Cur && n < lim.Max {
				want.Cur = n
				err = unix.Setrlimit(unix.RLIMIT_NOFILE, &want)
			}
			if err != nil {
				log.Warn().Err(err).Uint64("soft", lim.Cur).Uint64("hard", lim.Max).Msg("file descriptors: cannot raise the soft limit")
			}
		}
		_ = unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	}
	l := FDLimit{Soft: lim.Cur, Hard: lim.Max, Open: openFDs()}
	ev := log.Info()
	if l.Calls() < maxCalls {
		ev = log.Warn().Int("limits_max_calls", maxCalls).
			Uint64("needed", uint64(l.Open+fdHeadroom+fdsPerCall*maxCalls)).
			Str("fix", "raise LimitNOFILE (systemd) or ulimit -n, or lower limits.max_calls")
	}
	ev.Msgf("file descriptors: soft %d hard %d; enough for %d calls", l.Soft, l.Hard, l.Calls())
	return l
}

// currentFDLimit reads the soft limit and counts the open descriptors: the
// slow path (a directory read), once per Serve.
func currentFDLimit() FDLimit {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return FDLimit{}
	}
	return FDLimit{Soft: lim.Cur, Hard: lim.Max, Open: openFDs()}
}

// openFDs counts this process's open descriptors (0 if it cannot tell).
func openFDs() int {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return 0
	}
	return len(names) - 1 // the directory's own descriptor
}

func nrOpen() (uint64, bool) {
	b, err := os.ReadFile("/proc/sys/fs/nr_open")
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}
