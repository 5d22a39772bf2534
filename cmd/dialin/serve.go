package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin"
	"github.com/dialin/dialin/admin/center"
	"github.com/dialin/dialin/admin/mailer"
	"github.com/dialin/dialin/admin/token"
	"github.com/dialin/dialin/bridge"
	"github.com/dialin/dialin/cluster"
	"github.com/dialin/dialin/config"
	"github.com/dialin/dialin/internal/datalock"
	"github.com/dialin/dialin/internal/idletrim"
	"github.com/dialin/dialin/internal/version"
	"github.com/dialin/dialin/ivr"
	"github.com/dialin/dialin/lobby"
	"github.com/dialin/dialin/media"
	"github.com/dialin/dialin/media/prompts"
	"github.com/dialin/dialin/sipua"
	"github.com/dialin/dialin/store"
	"github.com/dialin/dialin/store/postgres"
	"github.com/dialin/dialin/store/sqlite"
)

func newLogger(cfg config.Log, out io.Writer) zerolog.Logger {
	// Millisecond timestamps: signalling races are read off the log.
	zerolog.TimeFieldFormat = "2006-01-02T15:04:05.000Z07:00"
	// Durations as the config writes them ("1.5s", "250ms"), never a bare
	// number whose unit the reader must guess. Measurements meant to be
	// compared across lines (rtt_ms, duration_ms) carry the unit in their
	// name instead.
	zerolog.DurationFieldFormat = zerolog.DurationFormatString
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil {
		level = zerolog.InfoLevel // Validate has refused anything else already
	}
	if cfg.Format == "console" {
		// Colour codes only for a person at a terminal: redirected to a
		// file or journald they are noise.
		out = zerolog.ConsoleWriter{Out: out, TimeFormat: "15:04:05.000", NoColor: !isTerminal(out)}
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

// isTerminal reports whether w is a terminal (a character device
// answering terminal ioctls), where colours are read by a person.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func serve(cfg config.Config, stdout, stderr io.Writer) error {
	// Catch SIGTERM from the start: one that arrives while the directory
	// loads must stop the bridge cleanly once it is up, not kill it.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)

	started := time.Now()
	build := version.Get()
	log := newLogger(cfg.Log, stdout)
	log.Info().Str("version", build.Short()).Str("go", build.GoVersion).Msg("starting")
	for _, w := range cfg.Warnings {
		log.Warn().Msg("config: " + w)
	}
	// sipgo logs through log/slog; route it into the same zerolog output.
	// sipgo reads this default when its layers are built, so set it first.
	sip.SetDefaultLogger(sipgoLogger(log))
	// Every call needs descriptors (RTP, RTCP, maybe TCP): raise the soft
	// limit to the hard one and say how many calls it holds.
	sipua.RaiseFDLimit(cfg.Limits.MaxCalls, log)
	// One bridge per data folder, before anything in it is read or made.
	lock, err := datalock.Acquire(cfg.DataDir)
	if err != nil {
		return err
	}
	defer lock.Release()

	list, err := prompts.Load(cfg.Prompts)
	if err != nil {
		return err
	}
	// Calls play prompts pre-encoded; only what the mixer plays over a
	// meeting needs linear samples.
	list.DropPCM(bridge.MixedPrompts()...)
	dir, err := openDirectory(context.Background(), cfg, log, stderr)
	if err != nil {
		return err
	}
	defer dir.Close()
	warnNoDialInNumbers(dir.Settings(), cfg.SIP, log)
	warnStoredSettings(dir.Settings(), log)
	records, stopRecords := startRecords(cfg.CallRecords, dir, log)
	defer stopRecords() // before the directory closes: what is queued is written
	clock := media.NewClock(runtime.GOMAXPROCS(0))
	var music *media.Prompt // nil: the built-in music-on-hold
	if cfg.Lobby.Music != "" {
		if music, err = prompts.LoadFile(prompts.MusicOnHold, cfg.Lobby.Music); err != nil {
			return fmt.Errorf("lobby.music: %w", err)
		}
		music.DropPCM()
	}
	room := lobby.New(lobby.Options{
		Prompts:        list,
		Music:          music,
		Clock:          clock,
		NoticeInterval: cfg.Lobby.NoticeInterval,
		Timeout:        cfg.Lobby.Timeout,
	})
	defer room.Close()
	meetings := bridge.New(bridge.Options{
		Prompts: list,
		Clock:   clock,
		Lobby:   room,
		Meeting: cfg.Meeting,
	})
	guard, err := ivr.GuardOptionsFrom(cfg.IVR, cfg.SIP.CarrierNetworks)
	if err != nil {
		return err
	}
	menu := &ivr.Menu{
		Prompts:   list,
		Directory: dir,
		Meetings:  meetings,
		Guard:     ivr.NewGuard(guard),
		Config:    cfg.IVR,
	}
	// One node, or one of a cluster (cluster.go): where an identified
	// caller's meeting is.
	var nodes *cluster.Placer
	place := placement{dir: dir, join: func(ctx context.Context, call *sipua.Call, j bridge.Joining) bridge.Left {
		return meetings.Join(ctx, call, j)
	}}
	ua, err := sipua.New(sipua.Options{
		SIP:     cfg.SIP,
		RTP:     cfg.RTP,
		Limits:  cfg.Limits,
		Cluster: cfg.Cluster,
		Logger:  log,
		Clock:   clock,
		Handler: func(ctx context.Context, call *sipua.Call) { answer(ctx, call, menu, &place) },
		AcceptJoin: func(j sipua.Join) bool {
			return nodes == nil || nodes.AcceptJoin(j)
		},
		BeforeHangup: func() {
			if nodes != nil {
				nodes.Close()
			}
		},
		OnEnd: func(e sipua.Ended) {
			if e.Join != nil {
				// A caller moved here from another node: their record is
				// that node's, which answered them; this one would count
				// the call twice in the usage.
				return
			}
			records.Record(callRecord(e))
		},
	})
	if err != nil {
		return err
	}
	// The REST API and the mailer; logs "admin API ready" with the url.
	ops := &operations{cfg: cfg, ua: ua, menu: menu, meetings: meetings, clock: clock, dir: dir, records: records}
	adminSvc, err := startAdmin(cfg, dir, ua, meetings, meetings.Meetings, ops, build.Short(), started, log)
	if err != nil {
		return err
	}
	// Metrics and health checks (operations.go); logs "metrics ready".
	if err := ops.listen(log.With().Str("component", "metrics").Logger()); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = adminSvc.stop(ctx)
		cancel()
		return err
	}
	defer ops.stop(log)
	stopAdmin := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := adminSvc.stop(ctx); err != nil {
			log.Warn().Err(err).Msg("admin API stopped with an error")
		}
	}
	if err := ua.Listen(); err != nil {
		stopAdmin()
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if cfg.Cluster.Enabled() {
		if nodes, err = startCluster(ctx, cfg.Cluster, dir, ua, meetings, list, adminSvc.url(), log); err != nil {
			stopAdmin()
			return err
		}
		menu.Meetings = nodes
		place.join = func(ctx context.Context, call *sipua.Call, j bridge.Joining) bridge.Left {
			return nodes.Join(ctx, call, j)
		}
		place.here = func(ctx context.Context, call *sipua.Call, j bridge.Joining) bridge.Left {
			return nodes.JoinMoved(ctx, call, j)
		}
	}
	go clock.Run(ctx)
	go idletrim.Run(ctx, ua.ActiveCalls, idletrim.After, func() {
		debug.FreeOSMemory()
		log.Debug().Msg("no call for a minute: free memory handed back to the system")
	})
	served := make(chan error, 1)
	go func() { served <- ua.Serve(ctx) }()

	for _, a := range ua.Addrs() {
		host := a.Host
		if cfg.SIP.PublicAddress != "" {
			host = cfg.SIP.PublicAddress
		}
		log.Info().Msgf("ready: call sip:conference@%s:%d;transport=%s", host, a.Port, a.Transport)
	}

	select {
	case err := <-served:
		stopAdmin()
		return err
	case err := <-adminSvc.failed():
		log.Error().Err(err).Msg("admin API failed; stopping")
	case sig := <-signals:
		log.Info().Str("signal", sig.String()).Msg("stopping")
	}
	if nodes != nil {
		nodes.Drain() // its meetings finish here; none starts
	}
	// Graceful: refuse new calls, let calls finish within the grace period,
	// then BYE the rest. A second signal stops at once.
	shutdownCtx, stopNow := context.WithTimeout(context.Background(), cfg.Limits.ShutdownGrace+10*time.Second)
	defer stopNow()
	go func() {
		select {
		case <-signals:
			stopNow()
		case <-shutdownCtx.Done():
		}
	}()
	if err := ua.Shutdown(shutdownCtx); err != nil {
		log.Warn().Err(err).Msg("shutdown cut short")
	}
	stopAdmin()
	cancel()
	if err := <-served; err != nil {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

// answer is one call's way through the bridge: the IVR finds out who the
// caller is, then the meeting (or its lobby) takes them until the call ends.
// What they found and how it ended is noted for the call's record. A call
// from another node of the cluster skips the IVR: that node's found them.
func answer(ctx context.Context, call *sipua.Call, menu *ivr.Menu, place *placement) {
	if j, ok := call.Joined(); ok {
		place.joinMoved(ctx, call, j)
		return
	}
	e, ok := menu.Identify(ctx, call)
	note := &flowNote{entry: e}
	call.Note(note)
	if !ok {
		return
	}
	note.left = place.join(ctx, call, bridge.Joining{ConferenceID: e.ConferenceID, Conference: e.Conference, Organizer: e.Organizer})
	note.joined = true
}

// warnNoDialInNumbers warns when emails are on but would tell users no
// number to call: the directory's dial_in_numbers setting is empty and
// sip.called_numbers, the fallback, holds no phone number.
func warnNoDialInNumbers(s store.Settings, sip config.SIP, log zerolog.Logger) {
	if s.SendEmails && len(s.DialInNumbers) == 0 && len(sip.PhoneNumbers()) == 0 {
		log.Warn().Msg("emails are on (send-emails) but name no dial-in number: users will read \"Ask your administrator for the dial-in numbers\"; " +
			"run dialin settings set dial-in-numbers \"+1 425 555 0100\" (or list phone numbers in sip.called_numbers)")
	}
}

// warnStoredSettings says when the stored settings no longer pass today's
// checks (a dial-in number written before numbers were checked): they
// keep working, but every change of the settings is refused, naming the
// field, until that field is fixed.
func warnStoredSettings(s store.Settings, log zerolog.Logger) {
	if err := s.Validate(); err != nil {
		log.Warn().Err(err).Msg("the stored settings do not pass the checks: every change of the settings is refused until this is fixed " +
			"(admin center > Settings, or dialin settings set)")
	}
}

// demoEmail is the demo organizer's address (config.Config.DemoOrganizer).
const demoEmail = "demo@example.com"

// openDirectory opens the directory: its database (openBackend) and the
// PIN secret (see loadPINSecret). On first start with an
// empty directory, when demo_organizer is on (no config file, or asked
// for), it creates the demo organizer and prints its conference ID and
// PIN, once, to banner.
func openDirectory(ctx context.Context, cfg config.Config, log zerolog.Logger, banner io.Writer) (*store.Directory, error) {
	secret, err := loadPINSecret(cfg, log)
	if err != nil {
		return nil, err
	}
	db, where, err := openBackend(ctx, cfg.Store, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	dir, err := store.Open(ctx, store.Options{Backend: db, Secret: secret, UserTokenTTL: cfg.Admin.UserTokenTTL,
		Logger: log.With().Str("component", "directory").Logger()})
	if err != nil {
		db.Close()
		return nil, err
	}
	log.Info().Str("store", cfg.Store.Driver).Str("database", where).Int("users", dir.Users()).Msg("directory loaded")
	if dir.Users() == 0 && cfg.DemoOrganizer {
		e, err := dir.EnableUser(ctx, store.EnableRequest{Email: demoEmail, DisplayName: "Demo Organizer", Mail: store.MailOptions{Skip: true}})
		if err != nil {
			dir.Close()
			return nil, fmt.Errorf("create the demo organizer: %w", err)
		}
		// The one time this PIN is shown: on the terminal, never in the log.
		fmt.Fprintf(banner, "\n  Demo organizer created (shown once):\n    conference ID: %s\n    PIN:           %s\n"+
			"  Remove it when done: dialin user disable %s\n\n", e.User.ConferenceID, e.PIN, demoEmail)
		log.Info().Str("email", demoEmail).Str("conference_id", e.User.ConferenceID).
			Msg("created the demo organizer (demo_organizer): anyone who reads its PIN can start meetings; remove it with dialin user disable " + demoEmail)
	}
	return dir, nil
}

// openBackend opens the engine store.driver names: the SQLite file in the
// data folder, or the PostgreSQL database of store.dsn. This is the one
// place that links the drivers. It also says where the database is, for
// the log (a PostgreSQL DSN may hold a password: only its host and
// database are named).
func openBackend(ctx context.Context, sc config.Store, dataDir string) (store.Backend, string, error) {
	switch sc.Driver {
	case config.StorePostgres:
		db, err := postgres.Open(ctx, sc.DSN)
		if err != nil {
			return nil, "", err
		}
		return db, db.Where(), nil
	case config.StoreSQLite:
		path := filepath.Join(dataDir, "dialin.db")
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", err
		}
		return db, path, nil
	}
	return nil, "", fmt.Errorf("store.driver %q is not sqlite or postgres", sc.Driver) // Validate refuses it first
}

// adminServices are the administration side of a running bridge: the
// REST API and the mailer that empties the directory's outbox.
type adminServices struct {
	api       *admin.Server  // nil when admin.listen is empty
	pages     *center.Center // the admin center beside the API; nil with it
	served    chan error
	stopMail  context.CancelFunc
	mailerRun sync.WaitGroup
}

// startAdmin starts the mailer and, unless admin.listen is empty, the API.
func startAdmin(cfg config.Config, dir *store.Directory, ua *sipua.Server, live admin.LiveMeetings, meetings func() int,
	ops *operations, build string, started time.Time, log zerolog.Logger) (*adminServices, error) {
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
	ops.setMailer(m)
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
	// Under systemd the built-in token may be a credential (LoadCredential=
	// admin-token:...), read like DIALIN_ADMIN_TOKEN and after it.
	getenv, fromCredential := os.Getenv, false
	if os.Getenv(token.Env) == "" && cfg.Admin.Token == "" {
		t, ok, err := token.ReadCredential(os.Getenv(store.CredentialsEnv))
		if err != nil {
			s.stop(context.Background())
			return nil, err
		}
		if ok {
			fromCredential = true
			getenv = func(name string) string {
				if name == token.Env {
					return t
				}
				return os.Getenv(name)
			}
		}
	}
	creds, source, created, err := token.LoadAll(cfg.Admin, getenv, cfg.DataDir)
	if err != nil {
		s.stop(context.Background())
		return nil, err
	}
	if fromCredential {
		source = "systemd credential " + token.File
		creds[0].Name = config.TokenNameCredential
	}
	if created {
		log.Info().Str("file", source).Msg("created the admin API token; the dialin subcommands read it from there")
	}
	// A cluster node's API reaches every node's meetings (admin/cluster.go).
	var nodes *admin.Cluster
	if cfg.Cluster.Enabled() {
		if nodes, err = adminCluster(cfg.Cluster, dir); err != nil {
			s.stop(context.Background())
			return nil, err
		}
	}
	h, err := admin.NewHandler(admin.Options{
		Directory:          dir,
		Cluster:            nodes,
		Tokens:             adminCredentials(creds),
		Live:               live,
		Meetings:           meetings,
		Calls:              func() (int, int) { return ua.ActiveCalls(), ua.RTPPortsInUse() },
		RefusedUntrusted:   ua.RefusedUntrusted,
		RefusedAuth:        ua.RefusedAuth,
		PeersGone:          ua.PeersGone,
		Health:             ops.healthHandler(),
		Counters:           ops.counters,
		Version:            build,
		Started:            started,
		CallRecords:        dir.CallRecords(),
		ShowCallingNumbers: !cfg.CallRecords.MaskCallingNumber,
		Logger:             log.With().Str("component", "api").Logger(),
	})
	if err != nil {
		s.stop(context.Background())
		return nil, err
	}
	mux := http.NewServeMux()
	api, err := admin.Listen(cfg.Admin, mux, log.With().Str("component", "api").Logger())
	if err != nil {
		s.stop(context.Background())
		return nil, fmt.Errorf("admin API: %w", err)
	}
	// The admin center's pages and the self-service page beside the API,
	// on the same listener (bound first: the sign-in links point at it
	// unless admin.public_url says where users reach it).
	publicURL := cfg.Admin.PublicURL
	if publicURL == "" {
		publicURL = api.URL()
	}
	pages, err := center.New(center.Options{Accounts: dir, API: h, Secure: cfg.Admin.TLSCert != "",
		IdleTimeout: cfg.Admin.SessionIdle, MaxAge: cfg.Admin.SessionMax,
		SelfService: dir, LinkMailer: m, PublicURL: publicURL,
		DialInNumbers: func() []string { return dialInNumbers(dir, cfg) },
		Logger:        log.With().Str("component", "center").Logger()})
	if err != nil {
		_ = api.Shutdown(context.Background()) // never served: closes the listener
		s.stop(context.Background())
		return nil, fmt.Errorf("admin center: %w", err)
	}
	mux.Handle("/admin/", pages)
	mux.Handle("/me/", pages)
	mux.Handle("/", h)
	s.api, s.pages = api, pages
	go func() { s.served <- api.Serve() }()
	log.Info().Str("url", api.URL()).Str("token_source", source).Int("named_tokens", len(cfg.Admin.Tokens)).Msg("admin API ready")
	return s, nil
}

// url is the admin API's URL, "" when it is off.
func (s *adminServices) url() string {
	if s.api == nil {
		return ""
	}
	return s.api.URL()
}

// dialInNumbers are the numbers the self-service page shows: the
// settings' (as the emails print them), else the SIP config's.
func dialInNumbers(dir *store.Directory, cfg config.Config) []string {
	if n := dir.Settings().DialInNumbers; len(n) > 0 {
		return n
	}
	return cfg.SIP.PhoneNumbers()
}

// stop closes the API (letting requests in flight finish within ctx) and
// then the mailer; the directory is closed after both.
func (s *adminServices) stop(ctx context.Context) error {
	var err error
	if s.api != nil {
		if s.pages != nil {
			s.pages.Close() // the live pages' event streams would hold Shutdown
		}
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
