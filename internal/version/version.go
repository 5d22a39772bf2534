// Package version is what this binary is, from the build information Go
// records in it: dialin --version prints it, GET /api/v1/status and the
// metrics' build-info label read it. It imports nothing of the project.
package version

import (
	"runtime/debug"
	"strings"
	"time"
)

// Info is the build information of the running binary. Fields the build
// did not record are empty: go test binaries and go build -buildvcs=false
// have no VCS fields, and a build from a checkout has Version "(devel)".
type Info struct {
	// Version is the main module's version: v1.2.3 when built by go
	// install ...@v1.2.3, "(devel)" from a checkout.
	Version string `json:"version"`
	// Revision is the VCS commit (full hash) go build stamped.
	Revision string `json:"revision,omitempty"`
	// Time is the commit's time, as go build stamped it.
	Time time.Time `json:"time,omitzero"`
	// Modified: the checkout had changes not committed.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the Go release that built the binary ("go1.26.0").
	GoVersion string `json:"go_version"`
}

// Get reads the running binary's build information (cheap: the runtime
// parses it once; callers may still keep the result).
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	info := Info{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time, _ = time.Parse(time.RFC3339, s.Value) // zero if the build wrote something else
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// Short is the version in one word, for a label or a status field. Go
// 1.24 and later stamp a build in a git checkout with a pseudo-version
// ("v0.0.0-20260102150405-0123456789ab", "+dirty" when modified), which
// already names the commit; an older or -buildvcs=false build says
// "(devel)", to which the revision is added when known.
func (i Info) Short() string {
	if i.Version != "(devel)" || i.Revision == "" {
		return i.Version
	}
	v := i.Version + "-" + i.Revision[:min(12, len(i.Revision))]
	if i.Modified {
		v += "+modified"
	}
	return v
}

// String is the line dialin --version prints: "dialin (devel) revision
// 0123456789ab (2026-01-02T15:04:05Z, modified) go1.26.0".
func (i Info) String() string {
	var b strings.Builder
	b.WriteString("dialin ")
	b.WriteString(i.Version)
	if i.Revision != "" {
		b.WriteString(" revision ")
		b.WriteString(i.Revision[:min(12, len(i.Revision))])
		var notes []string
		if !i.Time.IsZero() {
			notes = append(notes, i.Time.UTC().Format(time.RFC3339))
		}
		if i.Modified {
			notes = append(notes, "modified")
		}
		if len(notes) > 0 {
			b.WriteString(" (" + strings.Join(notes, ", ") + ")")
		}
	}
	if i.GoVersion != "" {
		b.WriteString(" " + i.GoVersion)
	}
	return b.String()
}
