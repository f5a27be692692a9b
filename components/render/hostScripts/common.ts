// common.sh (PATHS.toolkitDir): the functions plone-deploy, plone-rollback and plone-restart share:
// messages, the deploy lock, services (systemd or not), supervisor, releases and the rolling restart.
import { PATHS, PORTS } from "../../topology/ports";
import { GIT_ASKPASS_PROGRAM } from "./appEnv";

/** The file in a release (backend or frontend) that says it was built completely, and from what (key=value lines). */
export const RELEASE_MARKER = ".plone-aws-release";

export function renderCommonScript(): string {
    return `# shellcheck shell=bash
# plone-aws host toolkit, sourced by plone-deploy, plone-rollback and plone-restart: messages, the
# deploy lock, services and supervisor, releases, and the rolling restart of the Zope clients and
# the Volto processes behind haproxy. Written by plone-aws on every \`pulumi up\`.
#
# Settings come from deploy.env: $PLONE_DEPLOY_ENV, or the only ${PATHS.configDir}/<app>/deploy.env.
# A library: the scripts that source it run with \`set -euo pipefail\`.

PROG=\${0##*/}
STEP=""
DIED=""
EXIT_HOOKS=()
# How long a deploy or restart waits for another one of the same app to finish.
LOCK_WAIT=3600
RELEASE_MARKER=${RELEASE_MARKER}

log() { printf '%s %s: %s\\n' "$(date -u +%H:%M:%S)" "$PROG" "$*"; }
warn() { printf '%s %s: warning: %s\\n' "$(date -u +%H:%M:%S)" "$PROG" "$*" >&2; }
die() {
  DIED=1
  printf '%s %s: error: %s\\n' "$(date -u +%H:%M:%S)" "$PROG" "$*" >&2
  exit 1
}
# Announces a step; a failure nobody reported names the step it happened in.
step() {
  STEP=$*
  log "$*"
}

# The calling script's header comment, up to its first line of code.
usage() { sed -n '2,/^[^#]/s/^# \\{0,1\\}//p' "$0"; }

# An argument the script does not take: --help prints the usage, anything else is an error
# (exit 2, without a "failed while" line).
other_argument() {
  if [[ $1 == -h || $1 == --help ]]; then
    usage
    exit 0
  fi
  usage >&2
  DIED=1
  exit 2
}

at_exit() { EXIT_HOOKS+=("$1"); }
report_failure() { # report_failure <exit status>
  if (($1 != 0)) && [[ -z $DIED ]]; then
    printf '%s %s: error: failed while %s (exit %d)\\n' "$(date -u +%H:%M:%S)" "$PROG" "\${STEP:-starting}" "$1" >&2
  fi
}
run_exit_hooks() {
  local rc=$? hook
  for hook in "\${EXIT_HOOKS[@]}"; do
    "$hook" "$rc" || true
  done
  report_failure "$rc"
  exit "$rc"
}
trap run_exit_hooks EXIT

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "$c is not installed (the setup step installs it)"
  done
}

read_deploy_env() {
  local file=\${PLONE_DEPLOY_ENV:-} found=() v
  # Releases, the lock and supervisor belong to root; builds run as the deploy user.
  ((EUID == 0)) || die "$PROG must run as root: sudo $PROG"
  if [[ -z $file ]]; then
    shopt -s nullglob
    found=(${PATHS.configDir}/*/deploy.env)
    shopt -u nullglob
    ((\${#found[@]} > 0)) || die "no ${PATHS.configDir}/<app>/deploy.env on this host: pulumi up writes it"
    ((\${#found[@]} == 1)) || die "several apps on this host (\${found[*]}): set PLONE_DEPLOY_ENV to one of them"
    file=\${found[0]}
  fi
  [[ -r $file ]] || die "cannot read $file"
  # shellcheck source=deploy.env
  source "$file"
  for v in APP DEPLOY_TO CONFIG_DIR RUNTIME_DIR REPOSITORY REVISION DEPLOY_USER KEEP_RELEASES; do
    [[ -n \${!v:-} ]] || die "$file does not set $v"
  done
  # What this host deploys: the backend (the app's build) and/or the Volto frontend.
  : "\${BACKEND_BUILD:=true}"
  if ! declare -p VOLTO_PROCESSES >/dev/null 2>&1; then VOLTO_PROCESSES=(); fi
  HOST_PARTS=()
  if [[ $BACKEND_BUILD == true ]]; then HOST_PARTS+=(backend); fi
  if ((\${#VOLTO_PROCESSES[@]} > 0)); then HOST_PARTS+=(volto); fi
  VENV="$DEPLOY_TO/shared/env"
  STATE_DIR="$DEPLOY_TO/.plone-aws"
  GIT_SSH_COMMAND=""
  if [[ -f $CONFIG_DIR/deploy_key ]]; then
    # The key stays in its 0600 file; only its path is on ssh's command line.
    GIT_SSH_COMMAND="ssh -i $CONFIG_DIR/deploy_key -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=$DEPLOY_TO/shared/known_hosts"
  fi
}

# svc <start|stop|restart|reload> <service>: systemd on EC2, the init script where there is none.
# The lock's descriptor is closed for it: a daemon started by an init script must not hold the lock.
svc() {
  if [[ -d /run/systemd/system ]]; then
    systemctl "$1" "$2" 9>&-
  else
    service "$2" "$1" 9>&-
  fi
}

# What every script does first: its settings, the programs it needs, the app's lock.
begin() {
  read_deploy_env
  need supervisorctl ss curl flock
  acquire_lock
}

# One deploy, rollback or restart of the app at a time on this host.
acquire_lock() {
  local lock="$RUNTIME_DIR/$APP.lock"
  mkdir -p "$RUNTIME_DIR"
  exec 9>>"$lock"
  if ! flock -n 9; then
    log "waiting for another deploy or restart of $APP to finish (lock $lock)"
    flock -w "$LOCK_WAIT" 9 || die "another deploy or restart of $APP has held $lock for more than \${LOCK_WAIT}s"
  fi
}

deploy_group() { id -gn "$DEPLOY_USER"; }

# as_deploy <command...>: as the deploy user, in a clean environment with the app's variables.
as_deploy() {
  local home
  home=$(getent passwd "$DEPLOY_USER" | cut -d: -f6) || die "the deploy user $DEPLOY_USER does not exist"
  local vars=("HOME=\${home:-/}" "USER=$DEPLOY_USER" "LOGNAME=$DEPLOY_USER" "LANG=C.UTF-8"
    "PATH=$VENV/bin:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin" "VENV=$VENV"
    "\${APP_ENVIRONMENT[@]}")
  if [[ -n $GIT_SSH_COMMAND ]]; then vars+=("GIT_SSH_COMMAND=$GIT_SSH_COMMAND"); fi
  # An https repository's token: git asks plone-git-askpass, which reads the 0600 file.
  if [[ -f $CONFIG_DIR/repository_token ]]; then
    vars+=("GIT_ASKPASS=${GIT_ASKPASS_PROGRAM}" "PLONE_REPOSITORY_TOKEN_FILE=$CONFIG_DIR/repository_token" "GIT_TERMINAL_PROMPT=0")
  fi
  # plone-aws:appSecrets: exported from their 0640 file by the deploy user's own shell, so that no
  # value is ever on a command line (as plone-app-env does for the programs).
  # shellcheck disable=SC2016 # expanded by that shell, not this one
  local with_secrets='APP_SECRETS=(); if [[ -r $0 ]]; then source "$0"; fi; for kv in "\${APP_SECRETS[@]}"; do export "$kv"; done; exec "$@"'
  if [[ $(id -un) == "$DEPLOY_USER" ]]; then
    env -i "\${vars[@]}" bash -c "$with_secrets" "$CONFIG_DIR/app-secrets.env" "$@"
  else
    runuser -u "$DEPLOY_USER" -- env -i "\${vars[@]}" bash -c "$with_secrets" "$CONFIG_DIR/app-secrets.env" "$@"
  fi
}

wait_http() { # wait_http <url> <seconds>
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null -m 5 "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

wait_listening() { # wait_listening <port> <seconds>
  local deadline=$((SECONDS + $2))
  until [[ -n $(ss -Hltn "( sport = :$1 )" 2>/dev/null) ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# Established TCP connections to a local port (haproxy's requests in flight to a client).
connections() { ss -Htn state established "( sport = :$1 )" 2>/dev/null | wc -l; }

wait_idle() { # wait_idle <port> <seconds>
  local deadline=$((SECONDS + $2))
  while (($(connections "$1") > 0)); do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# --- supervisor ---------------------------------------------------------------------------------

sv() {
  if [[ -n \${SUPERVISOR_CONF:-} ]]; then
    supervisorctl -c "$SUPERVISOR_CONF" "$@"
  else
    supervisorctl "$@"
  fi
}

# sv_do <restart|update|start> <program>: fails when supervisor reports an error. Restarting a
# stopped or FATAL program says "ERROR (not running)" for the stop and then starts it: not a failure.
sv_do() {
  local out rc=0
  out=$(sv "$1" "$2" 2>&1) || rc=$?
  if ((rc != 0)) || grep -v 'ERROR (not running)' <<<"$out" | grep -q ERROR; then
    printf '%s\\n' "$out" >&2
    return 1
  fi
}

# SUPERVISORD_STARTED=1 once this run started supervisord: it started every program at once
# (autostart) on the current release, none of them in rotation yet, so the restart only waits
# until each client is ready (an instance booted from an image whose supervisor is not running).
SUPERVISORD_STARTED=0
ensure_supervisord() {
  if sv pid >/dev/null 2>&1; then return 0; fi
  [[ -z \${SUPERVISOR_CONF:-} ]] || die "supervisord ($SUPERVISOR_CONF) is not running"
  step "starting supervisord"
  svc start supervisor
  SUPERVISORD_STARTED=1
  local deadline=$((SECONDS + 30))
  until sv pid >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "supervisord did not start within 30s"
    sleep 1
  done
}

# What \`supervisorctl reread\` says about each program: available (new), changed, disappeared.
declare -A PROGRAM_STATE=()
reread_programs() {
  local out line
  PROGRAM_STATE=()
  out=$(sv reread 2>&1) || die "supervisorctl reread failed: $out"
  while IFS= read -r line; do
    if [[ $line =~ ^([^:[:space:]]+):\\ (available|changed|disappeared)$ ]]; then
      PROGRAM_STATE[\${BASH_REMATCH[1]}]=\${BASH_REMATCH[2]}
    fi
  done <<<"$out"
}

is_app_program() { [[ $1 == "$APP"-* || ( -n \${AGENT_PROGRAM:-} && $1 == "$AGENT_PROGRAM" ) ]]; }

# New programs are added (and started), removed ones stopped; other apps' programs are left alone.
apply_added_and_removed() {
  local name
  for name in $(printf '%s\\n' "\${!PROGRAM_STATE[@]}" | sort); do
    is_app_program "$name" || continue
    case \${PROGRAM_STATE[$name]} in
    available)
      step "adding and starting $name"
      sv_do update "$name" || die "supervisor could not add $name"
      ;;
    disappeared)
      if [[ $name =~ ^$APP-(client([0-9]+))$ ]]; then
        # A client the host no longer runs: out of rotation and idle before it stops.
        drain_client "\${BASH_REMATCH[1]}" "$((CLIENT_PORT_BASE + BASH_REMATCH[2]))"
      elif [[ $name =~ ^$APP-(volto([0-9]+))$ ]]; then
        # The same for a Volto process (volto.processCount went down, or the host left the volto layer).
        drain_client "\${BASH_REMATCH[1]}" "$((\${VOLTO_PORT_BASE:-${PORTS.voltoBase}} + BASH_REMATCH[2]))"
      fi
      step "stopping and removing $name (no longer configured)"
      sv_do update "$name" || die "supervisor could not remove $name"
      rm -f -- "$RUNTIME_DIR/rotation/\${name#"$APP"-}"
      ;;
    esac
  done
  if [[ -n \${AGENT_PROGRAM:-} && \${PROGRAM_STATE[$AGENT_PROGRAM]:-} == changed ]]; then
    step "restarting $AGENT_PROGRAM (its program changed)"
    sv_do update "$AGENT_PROGRAM" || die "supervisor could not restart $AGENT_PROGRAM"
  fi
}

# --- releases -----------------------------------------------------------------------------------

# A host has up to two deploy directories, each with releases/, current and shared/: the backend's
# ($DEPLOY_TO) and the Volto frontend's ($VOLTO_DEPLOY_TO, <deploy dir>/frontend). The release
# functions take the one they work on as their last argument, the backend's when it is left out.

# part_root <backend|volto>: the deploy directory of a part.
part_root() { if [[ $1 == volto ]]; then printf '%s\n' "$VOLTO_DEPLOY_TO"; else printf '%s\n' "$DEPLOY_TO"; fi; }

# How messages name a deploy directory's releases: "releases/" or "frontend/releases/".
releases_label() {
  local root=\${1:-$DEPLOY_TO}
  if [[ $root == "$DEPLOY_TO" ]]; then printf 'releases/'; else printf '%s/releases/' "\${root#"$DEPLOY_TO"/}"; fi
}

# Finished releases (they have a marker), oldest first.
built_releases() {
  local root=\${1:-$DEPLOY_TO} d
  for d in "$root"/releases/*/; do
    if [[ -f $d$RELEASE_MARKER ]]; then basename "$d"; fi
  done
}

newest_release() { built_releases "\${1:-$DEPLOY_TO}" | tail -n 1; }

current_release() {
  local target
  if target=$(readlink "\${1:-$DEPLOY_TO}/current"); then basename "$target"; fi
}

release_value() { sed -n "s/^$2=//p" "\${3:-$DEPLOY_TO}/releases/$1/$RELEASE_MARKER"; }

describe_release() { printf '%s%s (commit %.12s)' "$(releases_label "\${2:-}")" "$1" "$(release_value "$1" commit "\${2:-}")"; }

# Atomic: a new link renamed over the old one, so \`current\` always points at a whole release.
switch_current() {
  local root=\${2:-$DEPLOY_TO}
  ln -sfn "$root/releases/$1" "$root/current.new"
  mv -Tf "$root/current.new" "$root/current"
}

remove_release() {
  local root=\${2:-$DEPLOY_TO}
  rm -rf -- "\${root:?}/releases/$1"
}

prune_releases() {
  local root=\${1:-$DEPLOY_TO} releases=() current i
  mapfile -t releases < <(built_releases "$root")
  current=$(current_release "$root")
  for ((i = 0; i < \${#releases[@]} - KEEP_RELEASES; i++)); do
    if [[ \${releases[i]} != "$current" ]]; then
      log "removing old release $(releases_label "$root")\${releases[i]} (keeping $KEEP_RELEASES)"
      remove_release "\${releases[i]}" "$root"
    fi
  done
}

# --- restarts -----------------------------------------------------------------------------------

# sha256 of the release files that make up a server's build (its script and generated config),
# with release paths taken out: buildout writes its release's path into every script and config
# file, and it differs between releases that build the same server.
server_fingerprint() {
  local p f
  (
    cd "$DEPLOY_TO/current"
    for p in "$@"; do
      if [[ -e $p ]]; then
        find -L "$p" -type f -print0 | sort -z | while IFS= read -r -d '' f; do
          printf '%s\\n' "$f"
          sed -E "s#$DEPLOY_TO/(releases/[0-9]+|current)#RELEASE#g" "$f"
        done
      fi
    done
  ) | sha256sum | cut -c1-64
}

# ZEO and Solr restart only when their build changed (or with force): restarting them interrupts
# every client, while a new release of the app code usually leaves them as they are.
restart_servers() { # restart_servers <force: true|false>
  local i name fingerprint recorded reason paths=()
  for i in "\${!SERVER_PROGRAMS[@]}"; do
    name=\${SERVER_PROGRAMS[i]}
    read -ra paths <<<"\${SERVER_FINGERPRINTS[i]}"
    fingerprint=$(server_fingerprint "\${paths[@]}")
    recorded=$(cat "$STATE_DIR/$name.fingerprint" 2>/dev/null || true)
    reason=""
    case \${PROGRAM_STATE[$name]:-} in
    available) ;;
    changed) reason="its supervisor program changed" ;;
    *)
      if [[ $1 == true ]]; then
        reason="asked for"
      elif [[ -z $recorded ]]; then
        reason="no record of the build it runs"
      elif [[ $fingerprint != "$recorded" ]]; then
        reason="its build changed"
      fi
      ;;
    esac
    if [[ -n $reason ]]; then
      step "restarting $name ($reason)"
      if [[ \${PROGRAM_STATE[$name]:-} == changed ]]; then
        sv_do update "$name" || die "$name did not start"
      else
        sv_do restart "$name" || die "$name did not start"
      fi
    elif [[ \${PROGRAM_STATE[$name]:-} != available ]]; then
      log "$name: its build did not change, not restarted"
    fi
    if [[ -n \${SERVER_PORTS[i]} ]]; then
      wait_listening "\${SERVER_PORTS[i]}" "$START_TIMEOUT" || die "$name is not listening on port \${SERVER_PORTS[i]} after \${START_TIMEOUT}s"
    fi
    mkdir -p "$STATE_DIR"
    printf '%s\\n' "$fingerprint" >"$STATE_DIR/$name.fingerprint"
  done
}

warm_up() { # warm_up <client> <port>
  local path
  for path in "\${WARMUP_PATHS[@]}"; do
    curl -fsS -o /dev/null -m "$WARMUP_TIMEOUT" "http://127.0.0.1:$2/$SITE_ID$path" ||
      warn "$1: warming up /$SITE_ID$path failed; it goes back into rotation anyway"
  done
}

# A started client answers the health check, is warmed up, and goes back into rotation; one that
# does not answer stays drained (haproxy sends it nothing) and the restart fails, naming it.
client_ready() { # client_ready <client> <port>
  local rotation="$RUNTIME_DIR/rotation/$1"
  step "$1: waiting for $HEALTH_PATH on port $2"
  if ! wait_http "http://127.0.0.1:$2$HEALTH_PATH" "$START_TIMEOUT"; then
    printf 'drain\\n' >"$rotation"
    die "$1 did not answer $HEALTH_PATH on port $2 within \${START_TIMEOUT}s; it stays out of rotation (drain)"
  fi
  warm_up "$1" "$2"
  rm -f -- "$rotation"
  log "$1: back in rotation"
}

# A started Volto process answers volto.healthPath and goes back into rotation (no warm-up: it
# renders from the backend, which is warm). One that does not answer stays drained and the
# rollout stops, naming it.
volto_ready() { # volto_ready <process> <port>
  local rotation="$RUNTIME_DIR/rotation/$1"
  step "$1: waiting for $VOLTO_HEALTH_PATH on port $2"
  if ! wait_http "http://127.0.0.1:$2$VOLTO_HEALTH_PATH" "$VOLTO_START_TIMEOUT"; then
    printf 'drain\n' >"$rotation"
    die "the Volto process $1 ($APP-$1) did not answer $VOLTO_HEALTH_PATH on port $2 within \${VOLTO_START_TIMEOUT}s (volto.startTimeout); it stays out of rotation (drain) and the rollout stops"
  fi
  rm -f -- "$rotation"
  log "$1: back in rotation"
}

# process_ready <client|volto> <name> <port>
process_ready() {
  if [[ $1 == volto ]]; then volto_ready "$2" "$3"; else client_ready "$2" "$3"; fi
}

# Drains a Zope client or a Volto process: both are servers of haproxy backends whose agent checks
# read the same rotation directory.
drain_client() { # drain_client <client> <port>
  local open
  step "$1: draining it in haproxy"
  printf 'drain\\n' >"$RUNTIME_DIR/rotation/$1"
  # Every front end's haproxy asks the agent every few seconds: let them all see the drain.
  sleep "$DRAIN_GRACE"
  if ! wait_idle "$2" "$DRAIN_TIMEOUT"; then
    open=$(connections "$2")
    warn "$1: $open connection(s) still open after \${DRAIN_TIMEOUT}s; stopping it anyway"
  fi
}

# A client back in rotation is taken back by the front ends only at their next agent check (and,
# when their health checks marked it DOWN while it restarted, at their next checks of it): until
# then they send it nothing. Draining the next client sooner can leave haproxy without a usable
# client, and it answers 503.
wait_taken_back() { # wait_taken_back <client>
  local grace=\${READY_GRACE:-0}
  if ((grace > 0)); then
    log "$1: waiting \${grace}s for every front end to take it back"
    sleep "$grace"
  fi
}

restart_client() { # restart_client <client|volto> <name> <port>
  local kind=$1 name=$2 port=$3 program="$APP-$2"
  drain_client "$name" "$port"
  step "$name: restarting $program"
  if [[ \${PROGRAM_STATE[$program]:-} == changed ]]; then
    sv_do update "$program" || die "$name ($program) did not start; it stays out of rotation (drain)"
  else
    sv_do restart "$program" || die "$name ($program) did not start; it stays out of rotation (drain)"
  fi
  process_ready "$kind" "$name" "$port"
  wait_taken_back "$name"
}

# The rolling restart: at most RESTART_CONCURRENCY clients of this host out of rotation at once
# (deploy.env: the stack's plone.maxUnavailable, shared among the hosts of a restart wave), and
# then at most VOLTO_RESTART_CONCURRENCY of its Volto processes (the same limit over the stack's
# Volto processes). Each client (or process) restarts in a job of its own (drained, restarted, checked, warmed up, back in rotation,
# taken back by the front ends); its slot frees when the job ends. After a failure no client is
# taken out of rotation any more: the jobs running finish, then the restart fails naming them.
declare -A CLIENT_JOBS=()
CLIENT_JOBS_FAILED=()
# Waits for one client job to end; a failed one is noted.
reap_client_job() {
  local pid="" rc=0
  wait -n -p pid "\${!CLIENT_JOBS[@]}" || rc=$?
  [[ -n $pid ]] || die "lost track of the client restarts: \${CLIENT_JOBS[*]}"
  if ((rc != 0)); then CLIENT_JOBS_FAILED+=("\${CLIENT_JOBS[$pid]}"); fi
  unset "CLIENT_JOBS[$pid]"
}

# restart_clients_rolling [client|volto]: the Zope clients (CLIENTS), or the Volto processes (VOLTO_PROCESSES).
restart_clients_rolling() {
  local kind=\${1:-client} entry name port launched=0 limit entries=() what=clients setting=RESTART_CONCURRENCY
  if [[ $kind == volto ]]; then
    entries=("\${VOLTO_PROCESSES[@]}")
    what="Volto processes"
    setting=VOLTO_RESTART_CONCURRENCY
  else
    entries=("\${CLIENTS[@]}")
  fi
  limit=\${!setting:-1}
  [[ $limit =~ ^[1-9][0-9]*$ ]] || die "$setting must be a whole number of at least 1, not '$limit'"
  if ((limit > 1)); then log "restarting up to $limit $what of $HOST at once"; fi
  CLIENT_JOBS=()
  CLIENT_JOBS_FAILED=()
  for entry in "\${entries[@]}"; do
    name=\${entry%%:*}
    port=\${entry##*:}
    if [[ \${PROGRAM_STATE[$APP-$name]:-} == available ]] || ((SUPERVISORD_STARTED)); then
      process_ready "$kind" "$name" "$port" # just started by supervisor
      continue
    fi
    while ((\${#CLIENT_JOBS[@]} >= limit)); do reap_client_job; done
    ((\${#CLIENT_JOBS_FAILED[@]} == 0)) || break
    if [[ $kind == client ]] && ((launched > 0 && RESTART_DELAY > 0)); then
      log "waiting \${RESTART_DELAY}s before the next client (restart delay)"
      sleep "$RESTART_DELAY"
    fi
    # A job is a subshell: its own failure report, since traps do not reach it.
    (
      trap 'report_failure $?' EXIT
      restart_client "$kind" "$name" "$port"
    ) &
    CLIENT_JOBS[$!]=$name
    launched=$((launched + 1))
  done
  while ((\${#CLIENT_JOBS[@]} > 0)); do reap_client_job; done
  if ((\${#CLIENT_JOBS_FAILED[@]} > 0)); then
    die "the rolling restart stopped: \${CLIENT_JOBS_FAILED[*]} did not come back (see above)"
  fi
}

# The naive restart, for comparison: every client (or Volto process) at once, no draining.
restart_clients_at_once() { # restart_clients_at_once [client|volto]
  local kind=\${1:-client} entry programs=() name entries=()
  if [[ $kind == volto ]]; then entries=("\${VOLTO_PROCESSES[@]}"); else entries=("\${CLIENTS[@]}"); fi
  for entry in "\${entries[@]}"; do
    name="$APP-\${entry%%:*}"
    case \${PROGRAM_STATE[$name]:-} in
    available) ;;
    changed) sv_do update "$name" || die "$name did not start" ;;
    *) programs+=("$name") ;;
    esac
  done
  if ((\${#programs[@]} > 0)); then
    step "restarting every $kind at once: \${programs[*]}"
    sv restart "\${programs[@]}" || die "supervisorctl restart \${programs[*]} failed"
  fi
  for entry in "\${entries[@]}"; do
    process_ready "$kind" "\${entry%%:*}" "\${entry##*:}"
  done
}

restart_workers() {
  local i name
  for i in "\${!WORKER_PROGRAMS[@]}"; do
    name=\${WORKER_PROGRAMS[i]}
    if [[ \${PROGRAM_STATE[$name]:-} != available && \${WORKER_DELAYS[i]:-0} -gt 0 ]]; then
      log "waiting \${WORKER_DELAYS[i]}s before restarting $name (its delay)"
      sleep "\${WORKER_DELAYS[i]}"
    fi
    case \${PROGRAM_STATE[$name]:-} in
    available) ;;
    changed)
      step "restarting $name (its program changed)"
      sv_do update "$name" || die "$name did not start"
      ;;
    *)
      step "restarting $name"
      sv_do restart "$name" || die "$name did not start"
      ;;
    esac
  done
}

# restart_programs <rolling|all-at-once> <force servers: true|false> [parts]: apply supervisor
# program changes and restart the app: of the backend, the servers that changed, then the
# clients, then the workers; then the Volto processes. parts: "backend", "volto" or both
# (space-separated; every part of this host when left out), what a deploy or rollback changed.
restart_programs() {
  local parts=\${3:-\${HOST_PARTS[*]}}
  if [[ " $parts " == *" backend "* ]]; then
    [[ -e $DEPLOY_TO/current ]] || die "no release is active in $DEPLOY_TO: run plone-deploy first"
  fi
  if [[ " $parts " == *" volto "* ]]; then
    [[ -e $VOLTO_DEPLOY_TO/current ]] || die "no Volto release is active in $VOLTO_DEPLOY_TO: run plone-deploy first"
  fi
  mkdir -p "$RUNTIME_DIR/rotation"
  ensure_supervisord
  reread_programs
  apply_added_and_removed
  if [[ " $parts " == *" backend "* ]]; then
    restart_servers "$2"
    if [[ $1 == all-at-once ]]; then
      restart_clients_at_once client
    else
      restart_clients_rolling client
    fi
    restart_workers
  fi
  if [[ " $parts " == *" volto "* ]]; then
    if [[ $1 == all-at-once ]]; then
      restart_clients_at_once volto
    else
      restart_clients_rolling volto
    fi
  fi
}

# Runs restart_programs in a subshell with errexit on and leaves its exit status in RESTART_RC,
# so that a caller can react to a failure. Call it as a plain command: bash ignores errexit in a
# function called as a condition (if, ||, &&).
RESTART_RC=0
try_restart_programs() {
  set +e
  (
    trap 'report_failure $?' EXIT
    set -e
    restart_programs "$@"
  )
  # shellcheck disable=SC2034 # read by plone-deploy and plone-rollback
  RESTART_RC=$?
  set -e
}
`;
}
