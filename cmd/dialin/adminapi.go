package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
)

// adminServices are the administration side of a running bridge: the
// REST API and the mailer that empties the directory's outbox.
type adminServices struct {
	api       *admin.Server // nil when admin.listen is empty
	served    chan error
	stopMail  context.CancelFunc
	mailerRun sync.WaitGroup
}

// startAdmin starts the mailer and, unless admin.listen is empty, the API.
func startAdmin(cfg config.Config, dir *store.Directory, ua *sipua.Server, live admin.LiveMeetings, meetings func() int, log zerolog.Logger) (*adminServices, error) {
	m, err := mailer.New(mailer.Options{
		Config:        cfg.Email,
		Outbox:        dir,
		DialInNumbers: cfg.SIP.PhoneNumbers(),
		Logger:        log.With().Str("component", "mailer").Logger(),
		// Retries are due RetryMin after a failure; look that often.
		PollInterval: min(5*time.Second, cfg.Email.RetryMin),
	})
	if err != nil {
		return nil, err
	}
	s := &adminServices{served: make(chan error, 1)}
	mailCtx, stop := context.WithCancel(context.Background())
	s.stopMail = stop
	s.mailerRun.Add(1)
	go func() {
		defer s.mailerRun.Done()
		m.Run(mailCtx)
	}()

	if cfg.Admin.Listen == "" {
		log.Info().Msg("admin API off (admin.listen is empty)")
		return s, nil
	}
	token, source, created, err := admin.LoadOrCreateToken(cfg.Admin, os.Getenv("DIALIN_ADMIN_TOKEN"), cfg.DataDir)
	if err != nil {
		s.stop(context.Background())
		return nil, err
	}
	if created {
		log.Info().Str("file", source).Msg("created the admin API token; the dialin subcommands read it from there")
	}
	h, err := admin.NewHandler(admin.Options{
		Directory:        dir,
		Token:            token,
		Live:             live,
		Meetings:         meetings,
		Calls:            func() (int, int) { return ua.ActiveCalls(), ua.RTPPortsInUse() },
		RefusedUntrusted: ua.RefusedUntrusted,
		RefusedAuth:      ua.RefusedAuth,
		Logger:           log.With().Str("component", "api").Logger(),
	})
	if err != nil {
		s.stop(context.Background())
		return nil, err
	}
	api, err := admin.Listen(cfg.Admin, h, log.With().Str("component", "api").Logger())
	if err != nil {
		s.stop(context.Background())
		return nil, fmt.Errorf("admin API: %w", err)
	}
	s.api = api
	go func() { s.served <- api.Serve() }()
	log.Info().Str("url", api.URL()).Str("token_source", source).Msg("admin API ready")
	return s, nil
}

// stop closes the API (letting requests in flight finish within ctx) and
// then the mailer; the directory is closed after both.
func (s *adminServices) stop(ctx context.Context) error {
	var err error
	if s.api != nil {
		err = s.api.Shutdown(ctx)
		if serveErr := <-s.served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
			err = errors.Join(err, serveErr)
		}
	}
	s.stopMail()
	s.mailerRun.Wait()
	return err
}

// failed receives the API server's error if it stops on its own.
func (s *adminServices) failed() <-chan error {
	if s.api == nil {
		return nil
	}
	return s.served
}
