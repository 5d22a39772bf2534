#!/usr/bin/env bash
# lint.sh: go vet, staticcheck and deadcode over the whole module; fails on
# anything any of them reports, after running all three. `make lint` runs it, and `make test`
# before the tests. scripts/install-test-deps.sh installs the two tools.
#
# deadcode runs twice: from the programs' main functions, so production
# code reached only from tests counts as dead (minus the test-helper
# packages in scripts/deadcode-testonly.txt), and with -test, so test
# helpers no test uses count too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
gobin=$("$GO" env GOBIN)
[[ -n $gobin ]] || gobin="$("$GO" env GOPATH)/bin"
for tool in staticcheck deadcode; do
	[[ -x $gobin/$tool ]] || { echo "lint: $gobin/$tool missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done

failed=()
echo "== go vet ./..."
"$GO" vet ./... || failed+=(vet)

echo "== staticcheck ./..."
"$gobin/staticcheck" ./... || failed+=(staticcheck)

# testonly: the allowlist as one grep -E alternation of ^directory.
testonly=$(grep -v '^[[:space:]]*\(#\|$\)' scripts/deadcode-testonly.txt | sed 's/[.]/\\./g; s/^/^/' | paste -sd'|' -)

echo "== deadcode ./..."
out=$("$gobin/deadcode" ./...)
dead=$(grep -Ev "$testonly" <<<"$out" || true)

echo "== deadcode -test ./..."
deadTest=$("$gobin/deadcode" -test ./...)

if [[ -n $dead ]]; then
	echo "deadcode: unreachable from the programs (production code that only tests use, or nothing):" >&2
	echo "$dead" >&2
	failed+=(deadcode)
fi
if [[ -n $deadTest ]]; then
	echo "deadcode -test: unreachable even from the tests:" >&2
	echo "$deadTest" >&2
	failed+=("deadcode -test")
fi
if ((${#failed[@]})); then
	echo "lint: failed: $(IFS=,; echo "${failed[*]}")" >&2
	exit 1
fi
echo "lint: clean"
