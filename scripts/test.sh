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
# One mocha pass over the given specs. As root: one run. As a user with passwordless sudo: the
# rest as the user, then the @root suites alone under sudo; both run, and either failing fails it.
ROOT_TAG=@root
suites() {
  if [ "$(id -u)" -eq 0 ] || ! sudo -n true 2>/dev/null; then
    npx --no-install mocha "$@"
    return
  fi
  echo "Running the tests as $(id -un), then the $ROOT_TAG suites under sudo"
  local status=0
  npx --no-install mocha --grep "$ROOT_TAG" --invert "$@" || status=$?
  echo "Running the $ROOT_TAG suites as root (sudo)"
  # -E keeps CI and the PLONE_AWS_* switches; PATH is given again because sudo resets it; -H gives
  # root its own HOME, and mocha runs without npx, so nothing root-owned lands in the user's npm cache.
  sudo -n -E -H env "PATH=$PATH" node_modules/.bin/mocha --grep "$ROOT_TAG" "$@" || status=$?
  return "$status"
}

# mocha's parallel pool starts the files in the order given: the specs that take longest (wall time,
# `npm run bench:tests`) start first, so that none of them starts near the end and keeps one worker
# busy alone while the others are done. Among them, the ones that mostly wait on their daemons and
# host scripts (restart, deploy, the volto and pip deploys) alternate with ones that keep a core
# busy (every-key, operations-files, the hostile configurations, offline-check): four waiting specs
# at once leave both cores idle. (The pass on 2 cores: 462 s this way, 481 and 499 s with the waiting
# specs first; `npm run bench:tests -- --suite --no-tools`.) The rest follow in path order.
SLOW_FIRST=(
  test/hostScripts/restart.spec.ts
  test/program/every-key.spec.ts
  test/hostScripts/deploy.spec.ts
  test/daemons/operations-files.spec.ts
  test/hostScripts/volto-combined.spec.ts
  test/daemons/hostile-config-frontend.spec.ts
  test/hostScripts/volto-deploy.spec.ts
  test/policy/offline-check.spec.ts
  test/daemons/frontend-volto.spec.ts
  test/daemons/hostile-config-app.spec.ts
  test/hostScripts/pip-deploy.spec.ts
  test/daemons/storage.spec.ts
  test/hostScripts/backup-restore.spec.ts
  test/daemons/hostile-config.spec.ts
  test/hostScripts/ops-host-scripts.spec.ts
  test/policy/pull-request-workflow.spec.ts
)
spec_files() {
  local f
  for f in "${SLOW_FIRST[@]}"; do
    if [ -e "$f" ]; then echo "$f"; fi
  done
  shopt -s globstar nullglob
  for f in test/**/*.spec.ts; do
    case "$f" in test/rehearsal/*) continue ;; esac
    case " ${SLOW_FIRST[*]} " in *" $f "*) ;; *) echo "$f" ;; esac
  done
}
# The rehearsal's specs. teardown.spec kills a run and must be the one that cleans it up (a
# rehearsal starting beside it would clean it first): it runs alone, first (REHEARSAL_ALONE). The
# others (the stacks' rehearsals, the CLI's, the runner's, the test hosts') spend most of their
# time waiting on their test hosts (apt, restart delays, health checks, load windows), each run in
# namespaces of its own: they run two at a time (PLONE_AWS_REHEARSAL_JOBS), the longest first
# (REHEARSAL_LONGEST_FIRST, as SLOW_FIRST above), then the rest in path order.
REHEARSAL_ALONE=(test/rehearsal/teardown.spec.ts)
REHEARSAL_LONGEST_FIRST=(
  test/rehearsal/prod.spec.ts
  test/rehearsal/plone6.spec.ts
  test/rehearsal/scale.spec.ts
  test/rehearsal/cli.spec.ts
)
# rehearsal_specs alone|pooled: the rehearsal spec files of that pass.
rehearsal_specs() {
  local f
  if [ "$1" = alone ]; then
    for f in "${REHEARSAL_ALONE[@]}"; do
      if [ -e "$f" ]; then echo "$f"; fi
    done
    return
  fi
  for f in "${REHEARSAL_LONGEST_FIRST[@]}"; do
    if [ -e "$f" ]; then echo "$f"; fi
  done
  shopt -s globstar nullglob
  for f in test/rehearsal/**/*.spec.ts; do
    case " ${REHEARSAL_ALONE[*]} ${REHEARSAL_LONGEST_FIRST[*]} " in *" $f "*) ;; *) echo "$f" ;; esac
  done
}
# The order of the parallel pass, for npm run bench:tests -- --suite.
if [ "${1:-}" = "--list-specs" ]; then
  spec_files
  exit
fi
bash scripts/ensure-test-packages.sh
if [ $# -gt 0 ]; then
  echo "Type-checking (tsc --noEmit)"
  npx --no-install tsc --noEmit -p .
  suites "$@"
  exit
fi
# The whole suite also runs the checks that keep the code's shape: lint and format, no import
# cycle, no unused export (each says what to change). They and the type check are single-threaded:
# side by side on two cores, the check's output printed whole once the type check has ended.
# (Run beside the spec files instead, they saved nothing: the spec files keep both cores busy, and
# npm test took 631 s that way against 627 s this way on a clean clone on 2 cores; this way a
# type error stops npm test before its 10 minutes of tests.)
echo "Type-checking (tsc --noEmit), and the checks of the code's shape (npm run check) beside it"
check_log=$(mktemp)
npm run --silent check >"$check_log" 2>&1 &
check_pid=$!
tsc_status=0
npx --no-install tsc --noEmit -p . || tsc_status=$?
check_status=0
wait "$check_pid" || check_status=$?
cat "$check_log"
rm -f "$check_log"
if [ "$tsc_status" -ne 0 ] || [ "$check_status" -ne 0 ]; then
  echo "npm test: the type check or npm run check failed (above); no test ran" >&2
  exit 1
fi
# Most specs wait on daemons and scripts rather than compute, so several spec files run at once
# (PLONE_AWS_TEST_JOBS, 4 by default: the figure measured on 2 cores). The rehearsal's test hosts
# (namespaces, a bridge per subnet, the teardown of stale runs) run after them: the teardown's
# spec alone, then the others side by side (REHEARSAL_ALONE above).
mapfile -t specs < <(spec_files)
mapfile -t rehearsal_alone < <(rehearsal_specs alone)
mapfile -t rehearsal_pooled < <(rehearsal_specs pooled)
# Without PLONE_AWS_REHEARSAL=1 the rehearsal's specs only say that they are skipped, and why: they
# join the parallel pass (at its end) rather than start mocha twice more.
if [ "${PLONE_AWS_REHEARSAL:-}" != 1 ]; then
  specs+=("${rehearsal_alone[@]}" "${rehearsal_pooled[@]}")
  rehearsal_alone=()
  rehearsal_pooled=()
fi
status=0
suites --parallel --jobs "${PLONE_AWS_TEST_JOBS:-4}" "${specs[@]}" || status=$?
if [ "${#rehearsal_alone[@]}" -gt 0 ]; then suites "${rehearsal_alone[@]}" || status=$?; fi
if [ "${#rehearsal_pooled[@]}" -gt 0 ]; then
  suites --parallel --jobs "${PLONE_AWS_REHEARSAL_JOBS:-2}" "${rehearsal_pooled[@]}" || status=$?
fi
exit "$status"
