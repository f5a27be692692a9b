// operations.sh (PATHS.toolkitDir): what plone-program and plone-restore share on top of common.sh:
// finding the app's programs (and a volto host's Volto processes) by name, and stopping and
// starting them without dropping a request.
import { PATHS } from "../../topology/ports";
import { sh } from "../scriptKit";

export const OPERATIONS_TOOLKIT = `${PATHS.toolkitDir}/operations.sh`;

export function renderOperationsToolkit(): string {
    return OPERATIONS_TOOLKIT_TEXT;
}

const OPERATIONS_TOOLKIT_TEXT = sh`# shellcheck shell=bash
# plone-aws operations toolkit, sourced after common.sh by plone-program and plone-restore: the
# app's programs by name, stopped (clients drained first) and started (checked, warmed up, back in
# rotation). Written by plone-aws on every pulumi up.

# The port of a client of this host (client1 -> 8081), or status 1.
client_port() {
  local entry
  for entry in "$\{CLIENTS[@]}"; do
    if [[ $\{entry%%:*} == "$1" ]]; then
      printf '%s\n' "$\{entry##*:}"
      return 0
    fi
  done
  return 1
}

program_state() { sv status "$1" 2>/dev/null | awk '{print $2}'; }

# The port of a Volto process of this host (volto1 -> 3001), or status 1.
volto_port() {
  local entry
  for entry in "$\{VOLTO_PROCESSES[@]}"; do
    if [[ $\{entry%%:*} == "$1" ]]; then
      printf '%s\n' "$\{entry##*:}"
      return 0
    fi
  done
  return 1
}

# The programs a target names: SELECTED_CLIENTS and SELECTED_VOLTO (name:port), SELECTED_PROGRAMS (supervisor names).
SELECTED_CLIENTS=()
SELECTED_VOLTO=()
SELECTED_PROGRAMS=()
select_programs() { # select_programs <target>
  local target=$1 name i port
  SELECTED_CLIENTS=()
  SELECTED_VOLTO=()
  SELECTED_PROGRAMS=()
  if ! declare -p VOLTO_PROCESSES >/dev/null 2>&1; then VOLTO_PROCESSES=(); fi
  case $target in
  clients) SELECTED_CLIENTS=("$\{CLIENTS[@]}") ;;
  volto) SELECTED_VOLTO=("$\{VOLTO_PROCESSES[@]}") ;;
  workers) SELECTED_PROGRAMS=("$\{WORKER_PROGRAMS[@]}") ;;
  app)
    SELECTED_CLIENTS=("$\{CLIENTS[@]}")
    SELECTED_PROGRAMS=("$\{WORKER_PROGRAMS[@]}")
    ;;
  *)
    name=$\{target#"$APP"-}
    if port=$(client_port "$name"); then
      SELECTED_CLIENTS=("$name:$port")
      return 0
    fi
    if port=$(volto_port "$name"); then
      SELECTED_VOLTO=("$name:$port")
      return 0
    fi
    for i in "$\{WORKER_PROGRAMS[@]}" "$\{SERVER_PROGRAMS[@]}"; do
      if [[ $i == "$APP-$name" ]]; then
        SELECTED_PROGRAMS=("$i")
        return 0
      fi
    done
    die "$HOST runs no program '$target': its programs are $(describe_programs)"
    ;;
  esac
  if (($\{#SELECTED_CLIENTS[@]} + $\{#SELECTED_VOLTO[@]} + $\{#SELECTED_PROGRAMS[@]} == 0)); then
    die "$HOST runs no $target"
  fi
}

describe_programs() {
  local entry names=()
  for entry in "$\{CLIENTS[@]}" "$\{VOLTO_PROCESSES[@]}"; do names+=("$\{entry%%:*}"); done
  for entry in "$\{SERVER_PROGRAMS[@]}" "$\{WORKER_PROGRAMS[@]}"; do names+=("$\{entry#"$APP"-}"); done
  printf '%s' "$\{names[*]:-none}"
}

# The port a server program listens on, or nothing.
server_port() {
  local i
  for i in "$\{!SERVER_PROGRAMS[@]}"; do
    if [[ $\{SERVER_PROGRAMS[i]} == "$1" ]]; then printf '%s' "$\{SERVER_PORTS[i]}"; fi
  done
}

# A client leaves haproxy's rotation, finishes its requests, stops, and stays out (maint) until started.
stop_client() { # stop_client <client> <port>
  local program="$APP-$1"
  mkdir -p "$RUNTIME_DIR/rotation"
  if [[ $(program_state "$program") != RUNNING && $(program_state "$program") != STARTING ]]; then
    printf 'maint\n' >"$RUNTIME_DIR/rotation/$1"
    log "$1: already stopped ($program is $(program_state "$program"))"
    return 0
  fi
  drain_client "$1" "$2"
  step "$1: stopping $program"
  sv_do stop "$program" || die "supervisor could not stop $program"
  printf 'maint\n' >"$RUNTIME_DIR/rotation/$1"
  log "$1: stopped; out of rotation until it is started"
}

start_client() { # start_client <client> <port> [<ready check>: client_ready (warm-up), volto_ready]
  local program="$APP-$1" ready=$\{3:-client_ready}
  mkdir -p "$RUNTIME_DIR/rotation"
  if [[ $(program_state "$program") == RUNNING ]]; then
    log "$1: already running"
  else
    step "$1: starting $program"
    sv_do start "$program" || die "$1 ($program) did not start; it stays out of rotation"
  fi
  "$ready" "$1" "$2"
}

# A Volto process leaves haproxy's rotation and stops as a client does (stop_client), and comes
# back when it answers volto.healthPath (volto_ready, common.sh): Volto has nothing to warm up.
start_volto() { start_client "$1" "$2" volto_ready; }

stop_program() { # stop_program <program>
  if [[ $(program_state "$1") != RUNNING && $(program_state "$1") != STARTING ]]; then
    log "$1: already stopped ($(program_state "$1"))"
    return 0
  fi
  step "stopping $1"
  sv_do stop "$1" || die "supervisor could not stop $1"
}

start_program() { # start_program <program>
  local port
  if [[ $(program_state "$1") == RUNNING ]]; then
    log "$1: already running"
  else
    step "starting $1"
    sv_do start "$1" || die "$1 did not start"
  fi
  port=$(server_port "$1")
  if [[ -n $port ]]; then
    wait_listening "$port" "$START_TIMEOUT" || die "$1 is not listening on port $port after $\{START_TIMEOUT}s"
  fi
}

# Stops what a target selected: workers first, then the clients one at a time, then the Volto processes.
stop_selected() {
  local entry
  for entry in "$\{SELECTED_PROGRAMS[@]}"; do stop_program "$entry"; done
  for entry in "$\{SELECTED_CLIENTS[@]}" "$\{SELECTED_VOLTO[@]}"; do stop_client "$\{entry%%:*}" "$\{entry##*:}"; done
}

# Starts what a target selected: servers, then the clients one at a time, then the workers.
start_selected() {
  local entry
  for entry in "$\{SELECTED_PROGRAMS[@]}"; do
    if [[ -n $(server_port "$entry") ]]; then start_program "$entry"; fi
  done
  for entry in "$\{SELECTED_CLIENTS[@]}"; do start_client "$\{entry%%:*}" "$\{entry##*:}"; done
  for entry in "$\{SELECTED_PROGRAMS[@]}"; do
    if [[ -z $(server_port "$entry") ]]; then start_program "$entry"; fi
  done
  for entry in "$\{SELECTED_VOLTO[@]}"; do start_volto "$\{entry%%:*}" "$\{entry##*:}"; done
}

# ZEO clients keep a persistent cache (var/*.zec) of the database they last saw; after a restore
# to an older state the server is "behind" it and the clients refuse to connect: remove it while
# the clients are stopped.
clear_zeo_caches() {
  local entry running=() file
  for entry in "$\{CLIENTS[@]}"; do
    if [[ $(program_state "$APP-$\{entry%%:*}") == RUNNING ]]; then running+=("$\{entry%%:*}"); fi
  done
  (($\{#running[@]} == 0)) || die "the ZEO client caches can only be removed while the clients are stopped (running: $\{running[*]})"
  [[ -d $DEPLOY_TO/shared/var ]] || return 0
  while IFS= read -r -d '' file; do
    rm -f -- "$file"
    log "removed the ZEO client cache $\{file#"$DEPLOY_TO"/}"
  done < <(find -L "$DEPLOY_TO/shared/var" -maxdepth 2 -type f \( -name '*.zec' -o -name '*.zec.lock' \) -print0)
}
`;
