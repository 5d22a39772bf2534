package loglimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// maxMessages bounds how many distinct messages a Handler tracks; lines
// with further messages share one limit.
const maxMessages = 256

// Handler wraps a slog.Handler so that no message floods the log: each
// message (with its level) gets its own Limiter, a line let through after
// others were left out carries "suppressed": their number, and every string,
// error or other value is cut to an Excerpt. sipgo logs up to the whole of
// a packet it cannot parse, before the bridge's trunk ACL has seen it.
type Handler struct {
	next  slog.Handler
	state *handlerState // shared with the handlers WithAttrs and WithGroup make
}

type handlerState struct {
	interval time.Duration
	burst    int
	now      func() time.Time

	mu       sync.Mutex
	limiters map[limitKey]*Limiter
	overflow Limiter
}

type limitKey struct {
	level slog.Level
	msg   string
}

// NewHandler lets burst lines of each message through per interval to next.
func NewHandler(next slog.Handler, interval time.Duration, burst int) *Handler {
	return &Handler{next: next, state: &handlerState{
		interval: interval,
		burst:    burst,
		now:      time.Now,
		limiters: make(map[limitKey]*Limiter),
		overflow: Limiter{Interval: interval, Burst: burst},
	}}
}

// Enabled reports what the wrapped handler writes.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle writes r if its message's limit allows, with its values cut short.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	ok, suppressed := h.state.limiter(r.Level, r.Message).Allow(h.state.now())
	if !ok {
		return nil
	}
	out := slog.NewRecord(r.Time, r.Level, Excerpt(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(shorten(a))
		return true
	})
	if suppressed > 0 {
		out.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, out)
}

// WithAttrs shortens the attributes too; the limits stay shared.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	short := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		short[i] = shorten(a)
	}
	return &Handler{next: h.next.WithAttrs(short), state: h.state}
}

// WithGroup keeps the limits shared.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(Excerpt(name)), state: h.state}
}

func (s *handlerState) limiter(level slog.Level, msg string) *Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := limitKey{level, msg}
	if l, ok := s.limiters[k]; ok {
		return l
	}
	if len(s.limiters) >= maxMessages {
		return &s.overflow
	}
	l := &Limiter{Interval: s.interval, Burst: s.burst}
	s.limiters[k] = l
	return l
}

// shorten cuts an attribute's value to an excerpt: strings, errors,
// Stringers, byte slices and anything else printed with fmt. Numbers,
// booleans, times and durations are short already.
func shorten(a slog.Attr) slog.Attr {
	a.Key = Excerpt(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(Excerpt(v.String()))
	case slog.KindGroup:
		group := v.Group()
		short := make([]slog.Attr, len(group))
		for i, g := range group {
			short[i] = shorten(g)
		}
		a.Value = slog.GroupValue(short...)
	case slog.KindAny:
		a.Value = slog.StringValue(Excerpt(anyText(v.Any())))
	default:
		a.Value = v
	}
	return a
}

// anyText prints v as fmt does, which also survives a nil receiver.
func anyText(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}
