// plone-rollback (PATHS.sbinDir): back to the previous release, restarted behind haproxy.
import { PATHS } from "../../topology/ports";

export function renderRollbackScript(): string {
    return `#!/usr/bin/env bash
# plone-rollback: point \`current\` back at the release before it, restart the app's programs on it
# (the clients one at a time behind haproxy), then remove the release rolled back from.
# Settings: deploy.env ($PLONE_DEPLOY_ENV, or the only one under ${PATHS.configDir}). Written by
# plone-aws on every \`pulumi up\`.
set -euo pipefail
# shellcheck source=common.sh
source "\${PLONE_AWS_TOOLKIT:-${PATHS.toolkitDir}}/common.sh"

main() {
  local current previous="" release
  case \${1:-} in
  "") ;;
  -h | --help)
    sed -n '2,3s/^# //p' "$0"
    return 0
    ;;
  *)
    sed -n '2,3s/^# //p' "$0" >&2
    bad_usage
    ;;
  esac
  read_deploy_env
  need supervisorctl ss curl flock
  acquire_lock
  current=$(current_release)
  [[ -n $current ]] || die "no release is active in $DEPLOY_TO: nothing to roll back"
  for release in $(built_releases); do
    if [[ $release < "$current" ]]; then previous=$release; fi
  done
  [[ -n $previous ]] || die "$(describe_release "$current") is the oldest release on this host: there is none to roll back to"
  step "rolling back from $(describe_release "$current") to $(describe_release "$previous")"
  switch_current "$previous"
  try_restart_programs rolling false
  if ((RESTART_RC != 0)); then
    die "current is releases/$previous, but its restart failed (see above); releases/$current is kept"
  fi
  remove_release "$current"
  log "rolled back to $(describe_release "$previous"); removed releases/$current"
}

main "$@"
`;
}
