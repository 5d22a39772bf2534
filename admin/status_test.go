package admin

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/dialin/dialin/admin/wire"
)

// TestStatusVersionAndUptime: GET /status carries the build it was given
// and the time since start.
func TestStatusVersionAndUptime(t *testing.T) {
	dir := openDirectory(t, filepath.Join(t.TempDir(), "dialin.db"))
	started := time.Now().Add(-90 * time.Minute).UTC().Truncate(time.Second)
	h, err := NewHandler(Options{Directory: dir, Token: testToken, Version: "v1.2.3", Started: started})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, dir: dir, srv: srv, client: &http.Client{Timeout: 10 * time.Second}}
	var st wire.Status
	e.must(200, "GET", "/api/v1/status", "").decode(t, &st)
	if st.Version != "v1.2.3" || !st.StartedAt.Equal(started) || st.UptimeSeconds < 90*60 || st.UptimeSeconds > 91*60 {
		t.Fatalf("status: version %q, started_at %v, uptime %ds; want v1.2.3, %v, about 5400s",
			st.Version, st.StartedAt, st.UptimeSeconds, started)
	}
}
