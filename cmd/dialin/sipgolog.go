package main

import (
	"log/slog"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/internal/loglimit"
)

// sipgo's lines: at most sipgoLogBurst of one message per sipgoLogInterval.
const (
	sipgoLogInterval = time.Second
	sipgoLogBurst    = 5
)

// sipgoLogger routes sipgo's log/slog output into zerolog. Anyone who
// reaches a SIP port can cause its lines (it logs a packet it cannot parse
// whole, before the trunk ACL sees it), so they are cut short and limited
// per message, with the count of what was left out.
func sipgoLogger(log zerolog.Logger) *slog.Logger {
	h := zerolog.NewSlogHandler(log.With().Str("component", "sipgo").Logger())
	return slog.New(loglimit.NewHandler(h, sipgoLogInterval, sipgoLogBurst))
}
