// plone-restart (PATHS.sbinDir): the rolling restart of the host's Zope clients behind haproxy.
import { PATHS } from "../../topology/ports";

export function renderRestartScript(): string {
    return `#!/usr/bin/env bash
# plone-restart [--all-at-once] [--servers]: restart the app's programs on this host.
#   Each Zope client in turn: drained in haproxy (rotation file read by the haproxy agent), its
#   open requests finished, restarted, checked on the health path, warmed up, put back; never
#   more than one client of the host down. Then the workers (celery, init commands). The ZEO
#   server and Solr restart only when their build changed.
#   --all-at-once  restart every client at the same time, without draining (for comparison).
#   --servers      also restart the ZEO server and Solr.
# Settings: deploy.env ($PLONE_DEPLOY_ENV, or the only one under ${PATHS.configDir}). Written by
# plone-aws on every \`pulumi up\`.
set -euo pipefail
# shellcheck source=common.sh
source "\${PLONE_AWS_TOOLKIT:-${PATHS.toolkitDir}}/common.sh"

usage() {
  sed -n '2,8s/^# \\{0,1\\}//p' "$0"
}

main() {
  local mode=rolling servers=false
  while (($# > 0)); do
    case $1 in
    --all-at-once) mode=all-at-once ;;
    --servers) servers=true ;;
    -h | --help)
      usage
      return 0
      ;;
    *)
      usage >&2
      bad_usage
      ;;
    esac
    shift
  done
  read_deploy_env
  need supervisorctl ss curl flock
  acquire_lock
  restart_programs "$mode" "$servers"
  log "restarted the programs of $APP on $HOST"
}

main "$@"
`;
}
