// plone-program (PATHS.sbinDir): start, stop or restart the app's supervisor programs on one host
// without dropping a request (what the cookbook's instances-start/-stop/-restart and
// zeoserver-start/-stop recipes did, behind haproxy).
import { sh } from "../scriptKit";
import { hostScript } from "../hostScripts/frame";
import { PATHS } from "../../topology/ports";

export function renderProgramScript(): string {
    return hostScript(
        `plone-program start|stop|restart|status TARGET [--clear-cache]: the app's programs on this host.
  TARGET  clients, workers (celery, init commands), app (clients and workers), a client (client2),
          volto (the Volto processes), a Volto process (volto2),
          or a program (zeoserver, solr, celery, an init command; with or without the app prefix).
  stop     clients leave haproxy's rotation first, finish their open requests, stop, and stay out
           of rotation until they are started; workers and servers stop.
  start    servers, then clients (each checked on the health path, warmed up, put back in
           rotation), then workers.
  restart  stop and start, one client at a time (plone-restart restarts every client this way).
  status   supervisor's view of them.
  --clear-cache  with stop: remove the ZEO client caches (needed after a restore to an older state).`,
        sh`# shellcheck source=operations.sh
source "$\{PLONE_AWS_TOOLKIT:-${PATHS.toolkitDir}}/operations.sh"

main() {
  local action=$\{1:-} target=$\{2:-} clear=false entry
  case $action in
  start | stop | restart | status) ;;
  *) other_argument "$action" ;;
  esac
  [[ -n $target ]] || other_argument ""
  shift 2
  while (($# > 0)); do
    case $1 in
    --clear-cache) clear=true ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  if [[ $clear == true && $action != stop ]]; then other_argument "--clear-cache"; fi
  begin
  ensure_supervisord
  select_programs "$target"
  case $action in
  status)
    for entry in "$\{SELECTED_PROGRAMS[@]}"; do sv status "$entry" || true; done
    for entry in "$\{SELECTED_CLIENTS[@]}" "$\{SELECTED_VOLTO[@]}"; do sv status "$APP-$\{entry%%:*}" || true; done
    ;;
  stop)
    stop_selected
    if [[ $clear == true ]]; then clear_zeo_caches; fi
    log "stopped $target on $HOST"
    ;;
  start)
    start_selected
    log "started $target on $HOST"
    ;;
  restart)
    for entry in "$\{SELECTED_PROGRAMS[@]}"; do
      stop_program "$entry"
      start_program "$entry"
    done
    for entry in "$\{SELECTED_CLIENTS[@]}"; do
      stop_client "$\{entry%%:*}" "$\{entry##*:}"
      start_client "$\{entry%%:*}" "$\{entry##*:}"
    done
    for entry in "$\{SELECTED_VOLTO[@]}"; do
      stop_client "$\{entry%%:*}" "$\{entry##*:}"
      start_volto "$\{entry%%:*}" "$\{entry##*:}"
    done
    log "restarted $target on $HOST"
    ;;
  esac
}

main "$@"
`,
    );
}
