// plone-rollback (PATHS.sbinDir): back to the previous release, restarted behind haproxy.
import { hostScript } from "./frame";

export function renderRollbackScript(): string {
    return hostScript(
        `plone-rollback [--backend|--frontend]: point \`current\` back at the release before it, restart the app's
programs on it (the clients one at a time behind haproxy), then remove the release rolled back from.
On a volto host the Volto frontend (frontend/current) goes back the same way, its processes
restarted one at a time: both parts by default, one of them with --backend or --frontend. A part
whose current release is its oldest is left as it is (an error when no part can go back).`,
        `main() {
  local only="" part root current previous release parts=() from=() to=() described=() unchanged=()
  declare -A CURRENT=()
  while (($# > 0)); do
    case $1 in
    --backend) only=backend ;;
    --frontend) only=volto ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  begin
  for part in "\${HOST_PARTS[@]}"; do
    [[ -z $only || $only == "$part" ]] || continue
    root=$(part_root "$part")
    current=$(current_release "$root")
    if [[ -z $current ]]; then
      unchanged+=("no release is active in $root: nothing to roll back")
      continue
    fi
    previous=""
    for release in $(built_releases "$root"); do
      if [[ $release < "$current" ]]; then previous=$release; fi
    done
    if [[ -z $previous ]]; then
      unchanged+=("$(describe_release "$current" "$root") is the oldest release on this host: there is none to roll back to")
      continue
    fi
    step "rolling back from $(describe_release "$current" "$root") to $(describe_release "$previous" "$root")"
    switch_current "$previous" "$root"
    CURRENT[$part]=$current
    parts+=("$part")
    from+=("$(releases_label "$root")$current")
    to+=("$(releases_label "$root")$previous")
    described+=("$(describe_release "$previous" "$root")")
  done
  if ((\${#parts[@]} == 0)); then
    local IFS=";"
    die "\${unchanged[*]}"
  fi
  for release in "\${unchanged[@]}"; do log "$release; it stays as it is"; done
  try_restart_programs rolling false "\${parts[*]}"
  if ((RESTART_RC != 0)); then
    die "current is \${to[*]}, but its restart failed (see above); \${from[*]} is kept"
  fi
  for part in "\${parts[@]}"; do remove_release "\${CURRENT[$part]}" "$(part_root "$part")"; done
  log "rolled back to \${described[*]}; removed \${from[*]}"
}

main "$@"
`,
    );
}
