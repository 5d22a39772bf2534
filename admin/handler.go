// Package admin is the administration REST API (API.md): users, PINs,
// conference IDs, meetings and settings, over JSON with a bearer token.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/dialin/dialin/admin/wire"
)

// Directory is what the API needs of the directory (*store.Directory in
// production): the union of the small interfaces each group of handlers
// declares next to itself. Each group holds only its own, so a handler
// reaches only what it declares, and a test can break one method.
type Directory interface {
	userDirectory
	settingsDirectory
	meetingDirectory
	selfDirectory
	mailQueue
	outboxDirectory
	auditDirectory
	adminDirectory
}

// mailQueue is what GET /status reads of the directory.
type mailQueue interface {
	PendingMail(ctx context.Context) (int, error)
}

// Options configure the API handler.
type Options struct {
	Directory Directory
	// Token is an administrators' bearer token, named "local" in the
	// audit; Tokens are more, each with its name. At least one is needed.
	Token  string
	Tokens []Credential
	// Live reports meetings in progress and controls them; nil: no
	// meeting is ever started, and the live-control routes answer 503.
	Live LiveMeetings
	// Calls reports the calls in progress and the RTP ports they hold,
	// for GET /api/v1/status; nil reports zeros.
	Calls func() (calls, rtpPorts int)
	// Meetings reports how many meetings the bridge holds (on, or with
	// callers in the lobby), for GET /api/v1/status; nil reports 0.
	Meetings func() int
	// RefusedUntrusted counts the SIP requests refused since start because
	// their source is outside sip.trusted_networks; nil reports 0.
	RefusedUntrusted func() uint64
	// RefusedAuth counts the calls refused since start for wrong digest
	// credentials (sip.auth); nil reports 0.
	RefusedAuth func() uint64
	Logger      zerolog.Logger

	// PeersGone counts the calls hung up since start because the caller's
	// side was gone (no media, no answer to the in-dialog OPTIONS); nil
	// reports 0.
	PeersGone func() uint64

	// Health serves GET /healthz and GET /readyz (the metrics package's
	// checks), here as on the metrics listener, without a token; nil
	// answers both 200 "ok" (the process serves HTTP, nothing more known).
	Health http.Handler
	// Version is the bridge's build for GET /api/v1/status (version.Get's
	// Short); Started is when it started, for the uptime (zero: now).
	Version string
	Started time.Time
	// Counters are the figures since start for GET /status; nil: zeros.
	Counters func() wire.Counters
	// CallRecords are read by /calls and /reports/usage (calls.go); nil:
	// they answer 503. ShowCallingNumbers shows calling numbers whole
	// (call_records.mask_calling_number off).
	CallRecords        CallRecords
	ShowCallingNumbers bool
	// Cluster makes the API a cluster node's (cluster.go): a meeting's
	// live routes reach its home node; nil: a node alone.
	Cluster *Cluster
}

// api holds the handlers' dependencies.
type api struct {
	users            userDirectory
	settings         settingsDirectory
	meetingDir       meetingDirectory
	selfDir          selfDirectory
	mail             mailQueue
	outbox           outboxDirectory
	audit            auditDirectory
	admins           adminDirectory
	live             LiveMeetings
	calls            func() (calls, rtpPorts int)
	meetings         func() int
	refusedUntrusted func() uint64
	refusedAuth      func() uint64
	log              zerolog.Logger
	credentials      []credential
	mux              *http.ServeMux
	public           map[string]bool // patterns served without a token
	self             map[string]bool // patterns served with a user's own token

	peersGone    func() uint64
	healthChecks http.Handler
	version      string
	started      time.Time
	counters     func() wire.Counters

	records     CallRecords
	showCallers bool
	node        *nodeAPI // nil: a node alone
}

// handlerFunc is a route's handler: it writes the success response itself
// and returns an error for anything else, which serve turns into the
// error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the route table, the single list from which the
// mux is built and against which the OpenAPI document is tested.
type route struct {
	method, path string
	public       bool // no token needed
	handle       handlerFunc
}

func (a *api) routes() []route {
	return []route{
		{"GET", "/api/v1/health", true, a.health},
		{"GET", "/healthz", true, a.probe},
		{"GET", "/readyz", true, a.probe},
		{"GET", "/api/v1/openapi.json", true, a.openAPI},
		{"GET", "/api/v1/status", false, a.status},
		{"GET", "/api/v1/audit", false, a.listAudit},

		{"GET", "/api/v1/admins", false, a.listAdmins},
		{"POST", "/api/v1/admins", false, a.addAdmin},
		{"POST", "/api/v1/admins/{name}/password", false, a.resetAdminPassword},
		{"DELETE", "/api/v1/admins/{name}", false, a.removeAdmin},

		{"GET", "/api/v1/users", false, a.listUsers},
		{"POST", "/api/v1/users", false, a.enableUser},
		{"GET", "/api/v1/users/{email}", false, a.withUser(a.getUser)},
		{"PATCH", "/api/v1/users/{email}", false, a.withUser(a.patchUser)},
		{"DELETE", "/api/v1/users/{email}", false, a.withUser(a.disableUser)},
		{"POST", "/api/v1/users/{email}/pin/reset", false, a.withUser(a.resetPIN)},
		{"PUT", "/api/v1/users/{email}/pin", false, a.withUser(a.setPIN)},
		{"POST", "/api/v1/users/{email}/pin/unlock", false, a.withUser(a.unlockPIN)},
		{"POST", "/api/v1/users/{email}/conference-id/reset", false, a.withUser(a.resetConferenceID)},
		{"PUT", "/api/v1/users/{email}/conference-id", false, a.withUser(a.setConferenceID)},
		{"POST", "/api/v1/users/{email}/conference-id/send-info", false, a.withUser(a.sendConferenceInfo)},
		{"POST", "/api/v1/users/{email}/token", false, a.withUser(a.issueUserToken)},
		{"DELETE", "/api/v1/users/{email}/token", false, a.withUser(a.revokeUserToken)},

		{"GET", "/api/v1/outbox", false, a.listOutbox},
		{"POST", "/api/v1/outbox/{id}/retry", false, a.retryEmail},
		{"DELETE", "/api/v1/outbox/{id}", false, a.dropEmail},

		{"GET", "/api/v1/settings", false, a.getSettings},
		{"PATCH", "/api/v1/settings", false, a.patchSettings},

		{"GET", "/api/v1/meetings", false, a.listMeetings},
		{"POST", "/api/v1/meetings", false, a.createMeeting},
		{"GET", "/api/v1/meetings/{conference_id}", false, a.getMeeting},
		{"DELETE", "/api/v1/meetings/{conference_id}", false, a.deleteMeeting},
		{"POST", "/api/v1/meetings/{conference_id}/start", false, a.startMeeting},
		{"POST", "/api/v1/meetings/{conference_id}/end", false, a.endMeeting},
		{"POST", "/api/v1/meetings/{conference_id}/admit", false, a.admit},
		{"PUT", "/api/v1/meetings/{conference_id}/lock", false, a.setLocked},
		{"GET", "/api/v1/live", false, a.listLive},
		{"PUT", "/api/v1/meetings/{conference_id}/participants/{participant_id}/mute", false, a.setMuted},
		{"DELETE", "/api/v1/meetings/{conference_id}/participants/{participant_id}", false, a.removeCaller},

		{"GET", "/api/v1/calls", false, a.listCalls},
		{"GET", "/api/v1/calls/{call_id}", false, a.getCall},
		{"GET", "/api/v1/reports/usage", false, a.usageReport},
	}
}

// NewHandler returns the API's http.Handler.
func NewHandler(opts Options) (http.Handler, error) {
	if opts.Directory == nil {
		return nil, errors.New("admin API: no directory")
	}
	if _, err := credentialsOf(opts); err != nil {
		return nil, err
	}
	return newAPI(opts), nil
}

func newAPI(opts Options) *api {
	a := &api{
		users:            opts.Directory,
		settings:         opts.Directory,
		meetingDir:       opts.Directory,
		selfDir:          opts.Directory,
		mail:             opts.Directory,
		outbox:           opts.Directory,
		audit:            opts.Directory,
		admins:           opts.Directory,
		live:             opts.Live,
		calls:            opts.Calls,
		meetings:         opts.Meetings,
		refusedUntrusted: opts.RefusedUntrusted,
		refusedAuth:      opts.RefusedAuth,
		log:              opts.Logger,
		mux:              http.NewServeMux(),
		public:           map[string]bool{},
		self:             map[string]bool{},
	}
	a.peersGone = opts.PeersGone
	a.credentials, _ = credentialsOf(opts) // NewHandler has checked them
	a.healthChecks = opts.Health
	a.version, a.started = opts.Version, opts.Started
	a.counters = opts.Counters
	if a.started.IsZero() {
		a.started = time.Now()
	}
	a.records, a.showCallers = opts.CallRecords, opts.ShowCallingNumbers
	a.node = newNodeAPI(opts.Cluster)
	for _, rt := range a.routes() {
		pattern := rt.method + " " + rt.path
		a.mux.Handle(pattern, a.serve(a.forwarding(rt.method, rt.path, a.audited(rt.method, rt.path, rt.handle))))
		if rt.public {
			a.public[pattern] = true
		}
	}
	for _, rt := range a.selfRoutes() {
		pattern := rt.method + " " + rt.path
		a.mux.Handle(pattern, a.serve(a.audited(rt.method, rt.path, a.withSelf(rt.handle))))
		a.self[pattern] = true
	}
	return a
}

// ServeHTTP logs the request, checks the token and routes it. Unknown
// routes need the token too, so that they reveal nothing to strangers.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	credential := ""
	polling := false
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.log.Error().Interface("panic", p).Str("method", r.Method).Str("path", r.URL.Path).Msg("admin API handler panicked")
			if sw.status == 0 {
				a.writeError(sw, r, errors.New("panic"))
			}
		}
		// Never the query, the headers or the body: the token and PINs
		// travel there.
		line := a.log.Info()
		if polling && sw.statusCode() < 500 {
			line = a.log.Debug()
		}
		line.Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.statusCode()).
			Dur("duration", time.Since(start)).Str("remote", r.RemoteAddr).Str("credential", credential).Msg("admin API request")
	}()

	act, r := inProcess(r)
	polling = isPolling(r.Context())
	_, pattern := a.mux.Handler(r)
	if len(r.Header.Values(ForwardHeader)) > 0 {
		// Another node's, signed (cluster.go): that node's credential,
		// for the forwarded routes only.
		fr, c, err := a.acceptForwarded(sw, r, pattern)
		if err != nil {
			a.refuseForwarded(sw, r, err)
			return
		}
		// The request's log line keeps the node's address; the
		// handlers (the audit) see the client's.
		credential, polling = c.credentialName(), c.polling
		a.mux.ServeHTTP(sw, fr.WithContext(withCredential(fr.Context(), credential)))
		return
	}
	// A user's own routes check that user's token themselves (withSelf).
	if !a.public[pattern] && !a.self[pattern] {
		if act.account != "" {
			credential = accountCredential(act.account)
		} else if act.user == "" {
			credential = a.authorized(r)
		}
	}
	if !a.public[pattern] && !a.self[pattern] && credential == "" {
		sw.Header().Set("WWW-Authenticate", `Bearer realm="dialin"`)
		e := &apiError{Status: http.StatusUnauthorized, Code: wire.CodeUnauthorized,
			Message: "missing or wrong bearer token (Authorization: Bearer TOKEN)"}
		writeJSON(sw, e.Status, e.body())
		return
	}
	if pattern == "" {
		a.noRoute(sw, r)
		return
	}
	a.mux.ServeHTTP(sw, r.WithContext(withCredential(r.Context(), credential)))
}

// bearerToken is the token of an Authorization: Bearer header, or "".
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Credential is an administrator's bearer token and the name the audit
// trail records of whoever uses it.
type Credential struct {
	Name  string
	Token string
}

// credential is a Credential as the server keeps it: the token's hash.
type credential struct {
	name string
	hash [sha256.Size]byte
}

// credentialsOf hashes the tokens of opts, refusing none at all, a name
// without a token, and one token under two names (the audit could not
// tell who used it). Errors never show a token.
func credentialsOf(opts Options) ([]credential, error) {
	all := opts.Tokens
	if opts.Token != "" {
		all = append([]Credential{{Name: "local", Token: opts.Token}}, all...)
	}
	if len(all) == 0 {
		return nil, errors.New("admin API: no token")
	}
	var creds []credential
	for _, c := range all {
		if c.Name == "" || c.Token == "" {
			return nil, errors.New("admin API: a token without a name, or a name without a token")
		}
		h := sha256.Sum256([]byte(c.Token))
		for _, o := range creds {
			if o.name == c.Name {
				return nil, errors.New("admin API: two tokens named " + c.Name)
			}
			if o.hash == h {
				return nil, errors.New("admin API: tokens " + o.name + " and " + c.Name + " are the same token: give each its own")
			}
		}
		creds = append(creds, credential{name: c.Name, hash: h})
	}
	return creds, nil
}

// authorized is the name of the credential whose token the request
// carries, "" if none. Every credential is compared, in constant time and
// without stopping at a match, so the time taken says nothing of which
// matched; hashing both sides first keeps the comparison from revealing a
// token's length.
func (a *api) authorized(r *http.Request) string {
	token := bearerToken(r)
	if token == "" {
		return ""
	}
	got := sha256.Sum256([]byte(token))
	match := -1
	for i := range a.credentials {
		eq := subtle.ConstantTimeCompare(got[:], a.credentials[i].hash[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return ""
	}
	return a.credentials[match].name
}

// noRoute answers a request no pattern matched: the mux's own answer (404,
// 405 with Allow, or a redirect to the clean path), with a JSON body for
// the errors.
func (a *api) noRoute(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{header: http.Header{}}
	a.mux.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		a.writeError(w, r, notFound("no route %s %s", r.Method, r.URL.Path))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		a.writeError(w, r, &apiError{Status: http.StatusMethodNotAllowed, Code: wire.CodeMethodNotAllowed,
			Message: "method " + r.Method + " not allowed on " + r.URL.Path + " (Allow: " + rec.header.Get("Allow") + ")"})
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body)
	}
}

// serve adapts a handlerFunc to http.Handler.
func (a *api) serve(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// writeError writes err as the API's error body; an internal error is
// logged with its cause, which the client never sees.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, internal := toAPIError(err)
	if internal {
		a.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("admin API request failed")
	}
	writeJSON(w, e.Status, e.body())
}

// writeJSON writes v with status. Encoding our own types cannot fail, so
// an error here is the client going away, which nobody can act on.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // responses may hold a PIN
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// status reports what the bridge is doing; tests read it to show that
// calls leave no goroutines or ports behind.
func (a *api) status(w http.ResponseWriter, r *http.Request) error {
	var st wire.Status
	if a.calls != nil {
		st.Calls, st.RTPPorts = a.calls()
	}
	if a.meetings != nil {
		st.Meetings = a.meetings()
	}
	if a.refusedUntrusted != nil {
		st.SIPRefusedUntrusted = a.refusedUntrusted()
	}
	if a.refusedAuth != nil {
		st.SIPRefusedAuth = a.refusedAuth()
	}
	if a.peersGone != nil {
		st.SIPPeersGone = a.peersGone()
	}
	if a.counters != nil {
		st.Counters = a.counters()
	}
	st.Version, st.StartedAt = a.version, a.started
	st.UptimeSeconds = int64(time.Since(a.started) / time.Second)
	st.Goroutines = runtime.NumGoroutine()
	st.HeapLiveBytes, st.GoHeldBytes = memoryUse()
	n, err := a.mail.PendingMail(r.Context())
	if err != nil {
		return err
	}
	st.EmailsPending = n
	writeJSON(w, http.StatusOK, st)
	return nil
}

// memoryUse reads the runtime's own accounting (no stop-the-world, unlike
// runtime.ReadMemStats): the heap that was live at the last collection, and
// what the Go runtime holds from the operating system (mapped, minus what
// it has handed back).
func memoryUse() (heapLive, held uint64) {
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(samples)
	value := func(i int) uint64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0 // an older or newer runtime without this metric
		}
		return samples[i].Value.Uint64()
	}
	return value(0), value(1) - min(value(2), value(1))
}

// probe answers /healthz and /readyz with the health checks' handler.
func (a *api) probe(w http.ResponseWriter, r *http.Request) error {
	if a.healthChecks == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
		return nil
	}
	a.healthChecks.ServeHTTP(w, r)
	return nil
}

func (a *api) health(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, wire.Health{Status: "ok"})
	return nil
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recorder captures the mux's answer to an unmatched request.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}
