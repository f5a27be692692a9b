// plone-rollback (PATHS.sbinDir): back to the previous release, restarted behind haproxy.
import { hostScript } from "./frame";

export function renderRollbackScript(): string {
    return hostScript(
        `plone-rollback: point \`current\` back at the release before it, restart the app's programs on it
(the clients one at a time behind haproxy), then remove the release rolled back from.`,
        `main() {
  local current previous="" release
  if (($# > 0)); then other_argument "$1"; fi
  begin
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
`,
    );
}
