// plone-restart (PATHS.sbinDir): the rolling restart of the host's Zope clients behind haproxy.
import { hostScript } from "./frame";

export function renderRestartScript(): string {
    return hostScript(
        `plone-restart [--all-at-once] [--servers] [--concurrency N]: restart the app's programs on this host.
  The Zope clients, RESTART_CONCURRENCY at a time (deploy.env: the stack's plone.maxUnavailable
  shared among the hosts that restart together): each drained in haproxy (rotation file read by
  the haproxy agent), its open requests finished, restarted, checked on the health path, warmed
  up, put back, and taken back by the front ends before the next one goes. Then the workers
  (celery, init commands). The ZEO server and Solr restart only when their build changed.
  --all-at-once    restart every client at the same time, without draining (for comparison).
  --servers        also restart the ZEO server and Solr.
  --concurrency N  at most N clients of this host out of rotation at once, instead of
                   RESTART_CONCURRENCY (1: one at a time).`,
        `main() {
  local mode=rolling servers=false concurrency=""
  while (($# > 0)); do
    case $1 in
    --all-at-once) mode=all-at-once ;;
    --servers) servers=true ;;
    --concurrency)
      [[ \${2:-} =~ ^[1-9][0-9]{0,2}$ ]] || { warn "--concurrency needs a whole number from 1 to 999"; other_argument "$1"; }
      concurrency=$2
      shift
      ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  begin
  if [[ -n $concurrency ]]; then RESTART_CONCURRENCY=$concurrency; fi
  restart_programs "$mode" "$servers"
  log "restarted the programs of $APP on $HOST"
}

main "$@"
`,
    );
}
