#!/usr/bin/env bash
# npm test: installs the Debian packages the daemon tests need (when missing and run as root),
# type-checks everything, then runs every test (or the spec files given as arguments).
#
# The suites tagged @root (test/helpers/privileges.ts) run what runs as root on a host. As root,
# everything runs in one pass. As another user with passwordless sudo (GitHub's runner), the rest
# runs as that user and then the @root suites alone run under sudo. Otherwise the @root suites say
# why they do not run (and fail in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
# The daemons' own checks (haproxy -c, nginx -t, exportfs...) live in sbin, which Debian leaves out
# of a normal user's PATH.
for dir in /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$dir:"*) ;; *) PATH="$PATH:$dir" ;; esac
done
export PATH
bash scripts/ensure-test-packages.sh
echo "Type-checking (tsc --noEmit)"
npx --no-install tsc --noEmit -p .
if [ $# -eq 0 ]; then
  set -- 'test/**/*.spec.ts'
fi
ROOT_TAG=@root
if [ "$(id -u)" -eq 0 ] || ! sudo -n true 2>/dev/null; then
  exec npx --no-install mocha "$@"
fi
echo "Running the tests as $(id -un), then the $ROOT_TAG suites under sudo"
status=0
npx --no-install mocha --grep "$ROOT_TAG" --invert "$@" || status=$?
echo "Running the $ROOT_TAG suites as root (sudo)"
# -E keeps CI and the PLONE_AWS_* switches; PATH is given again because sudo resets it; -H gives
# root its own HOME, and mocha runs without npx, so nothing root-owned lands in the user's npm cache.
sudo -n -E -H env "PATH=$PATH" node_modules/.bin/mocha --grep "$ROOT_TAG" "$@" || status=$?
exit "$status"
