// plone-restart (PATHS.sbinDir): the rolling restart of the host's Zope clients behind haproxy.
import { hostScript } from "./frame";

export function renderRestartScript(): string {
    return hostScript(
        `plone-restart [--all-at-once] [--servers]: restart the app's programs on this host.
  Each Zope client in turn: drained in haproxy (rotation file read by the haproxy agent), its
  open requests finished, restarted, checked on the health path, warmed up, put back; never
  more than one client of the host down. Then the workers (celery, init commands). The ZEO
  server and Solr restart only when their build changed.
  --all-at-once  restart every client at the same time, without draining (for comparison).
  --servers      also restart the ZEO server and Solr.`,
        `main() {
  local mode=rolling servers=false
  while (($# > 0)); do
    case $1 in
    --all-at-once) mode=all-at-once ;;
    --servers) servers=true ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  begin
  restart_programs "$mode" "$servers"
  log "restarted the programs of $APP on $HOST"
}

main "$@"
`,
    );
}
