// plone-restart (PATHS.sbinDir): the rolling restart of the host's Zope clients and Volto processes behind haproxy.
import { hostScript } from "./frame";

export function renderRestartScript(): string {
    return hostScript(
        `plone-restart [--backend|--frontend] [--all-at-once] [--servers] [--concurrency N] [--volto-concurrency N]:
  restart the app's programs on this host.
  The Zope clients, RESTART_CONCURRENCY at a time (deploy.env: the stack's plone.maxUnavailable
  shared among the hosts that restart together): each drained in haproxy (rotation file read by
  the haproxy agent), its open requests finished, restarted, checked on the health path, warmed
  up, put back, and taken back by the front ends before the next one goes. Then the workers
  (celery, init commands). The ZEO server and Solr restart only when their build changed. Then,
  on a volto host, the Volto processes the same way, VOLTO_RESTART_CONCURRENCY at a time, each
  back in rotation once it answers VOLTO_HEALTH_PATH (within VOLTO_START_TIMEOUT, or the restart
  stops, naming it).
  --backend        only the backend's programs (clients, workers, servers), on a host that also runs Volto.
  --frontend       only the Volto processes, on a host that also runs Zope clients.
  --all-at-once    restart every client (and Volto process) at the same time, without draining (for comparison).
  --servers        also restart the ZEO server and Solr.
  --concurrency N  at most N clients of this host out of rotation at once, instead of
                   RESTART_CONCURRENCY (1: one at a time).
  --volto-concurrency N  at most N Volto processes of this host out of rotation at once,
                   instead of VOLTO_RESTART_CONCURRENCY.`,
        `main() {
  local mode=rolling servers=false concurrency="" volto_concurrency="" only="" part parts=()
  while (($# > 0)); do
    case $1 in
    --backend) only=backend ;;
    --frontend) only=volto ;;
    --all-at-once) mode=all-at-once ;;
    --servers) servers=true ;;
    --concurrency)
      [[ \${2:-} =~ ^[1-9][0-9]{0,2}$ ]] || { warn "--concurrency needs a whole number from 1 to 999"; other_argument "$1"; }
      concurrency=$2
      shift
      ;;
    --volto-concurrency)
      [[ \${2:-} =~ ^[1-9][0-9]{0,2}$ ]] || { warn "--volto-concurrency needs a whole number from 1 to 999"; other_argument "$1"; }
      volto_concurrency=$2
      shift
      ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  begin
  # shellcheck disable=SC2034 # read by restart_clients_rolling, by name
  if [[ -n $concurrency ]]; then RESTART_CONCURRENCY=$concurrency; fi
  # shellcheck disable=SC2034 # the same
  if [[ -n $volto_concurrency ]]; then VOLTO_RESTART_CONCURRENCY=$volto_concurrency; fi
  for part in "\${HOST_PARTS[@]}"; do
    if [[ -z $only || $only == "$part" ]]; then parts+=("$part"); fi
  done
  if ((\${#parts[@]} == 0)); then
    case $only in
    volto) die "--frontend: $HOST runs no Volto processes" ;;
    *) die "--backend: $HOST runs no Zope clients" ;;
    esac
  fi
  restart_programs "$mode" "$servers" "\${parts[*]}"
  log "restarted the programs of $APP on $HOST"
}

main "$@"
`,
    );
}
