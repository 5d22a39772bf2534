#!/usr/bin/env bash
# Installs what the tests need and a fresh machine lacks:
# - staticcheck and deadcode, at pinned versions, into GOBIN (GOPATH/bin
#   when unset), for scripts/lint.sh;
# - sipp (Debian's sip-tester, which also ships the RFC 4733 DTMF pcaps the
#   tests replay), and espeak-ng and sox, which the in-band DTMF talk-off
#   test uses to make minutes of speech;
# - kamailio (the stateful proxy in front of the bridge in
#   cmd/dialin/kamailio_test.go, with the kamcmd it reads the dispatcher
#   with), baresip (a real softphone) and tshark (counts packets on the
#   wire);
# - promtool (Debian's prometheus package), which checks what /metrics
#   serves (cmd/dialin/metrics_e2e_test.go). The package also brings the
#   Prometheus server and its unit; nothing here starts it;
# - postgresql (Debian's server binaries: initdb and pg_ctl, kept in
#   /usr/lib/postgresql/VERSION/bin), which internal/pgtest starts in a
#   temporary folder for the store's tests on PostgreSQL; the package also
#   brings a system cluster and its unit, which nothing here uses;
# - chromium (headless, driven by chromedp), the real browser the admin
#   center's pages are tested in (cmd/dialin/center_browser_test.go);
# - axe-core, pinned, from the npm registry into build/test-deps (not
#   committed): the accessibility check the browser tests inject into
#   each page.
# With --lint it installs only the Go tools.
set -euo pipefail
GO=${GO:-go}

# The lint tools, pinned: a newer release may report new things and turn
# the build red without a change here.
staticcheck_version=v0.8.2 # honnef.co/go/tools
deadcode_version=v0.52.0   # golang.org/x/tools

gobin=$("$GO" env GOBIN)
[[ -n $gobin ]] || gobin="$("$GO" env GOPATH)/bin"

# go_tool NAME PACKAGE VERSION: installs PACKAGE@VERSION unless GOBIN
# already holds NAME built from that version.
go_tool() {
  if [[ -x $gobin/$1 ]] && "$GO" version -m "$gobin/$1" 2>/dev/null |
    awk -v v="$3" '$1 == "mod" && $3 == v { found = 1 } END { exit !found }'; then
    return 0
  fi
  echo "installing $2@$3 into $gobin for the lint..." >&2
  GOBIN="$gobin" "$GO" install "$2@$3"
}
go_tool staticcheck honnef.co/go/tools/cmd/staticcheck "$staticcheck_version"
go_tool deadcode golang.org/x/tools/cmd/deadcode "$deadcode_version"
if [[ ${1:-} == --lint ]]; then
  exit 0
fi

axe_version=4.14.1
root=$(cd "$(dirname "$0")/.." && pwd)
if ! grep -qs "\"version\": \"$axe_version\"" "$root/build/test-deps/node_modules/axe-core/package.json"; then
  echo "installing axe-core@$axe_version into build/test-deps for the browser tests..." >&2
  mkdir -p "$root/build/test-deps"
  npm install --silent --no-audit --no-fund --no-save --prefix "$root/build/test-deps" "axe-core@$axe_version" >/dev/null
fi

missing=()
if ! command -v sipp >/dev/null || [ ! -e /usr/share/sip-tester/dtmf_2833_1.pcap ]; then
  missing+=(sip-tester)
fi
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v sox >/dev/null || missing+=(sox)
command -v kamailio >/dev/null && command -v kamcmd >/dev/null || missing+=(kamailio)
command -v baresip >/dev/null || missing+=(baresip)
command -v tshark >/dev/null || missing+=(tshark)
command -v promtool >/dev/null || missing+=(prometheus)
command -v chromium >/dev/null || missing+=(chromium)
pg_bin() { compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || command -v pg_ctl >/dev/null; }
pg_bin || missing+=(postgresql)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing ${missing[*]} for the tests..." >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
for cmd in sipp espeak-ng sox kamailio kamcmd baresip tshark promtool chromium; do
  command -v "$cmd" >/dev/null || { echo "install-test-deps: $cmd still missing" >&2; exit 1; }
done
pg_bin || { echo "install-test-deps: PostgreSQL's pg_ctl still missing" >&2; exit 1; }
