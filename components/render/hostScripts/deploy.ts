// plone-deploy (PATHS.sbinDir): Capistrano-style build and activation of the app's buildout.
import { hostScript } from "./frame";
import type { Builder } from "../../config/schema";
import { PIP_BUILD } from "./pipBuild";
import { VOLTO_BUILD } from "./voltoBuild";
import { REPOSITORY_MIRROR } from "../app/layout";

const BUILDOUT_USAGE = `plone-deploy [build|activate|rebuild|develop-up]: Capistrano-style deploy of the app's buildout on this host.
  build     clone REVISION into releases/<UTC timestamp> (through a mirror in shared/), install
            deploy.cfg, link the shared dirs, run the bootstrap and build commands as the deploy
            user. Nothing is built when the newest release already has that commit and that
            deploy.cfg (unless ALWAYS_BUILD). A failed build is removed; \`current\` and the
            running programs are not touched.
  activate  point \`current\` at the newest built release, restart the clients behind haproxy,
            RESTART_CONCURRENCY at a time (plone-restart), keep KEEP_RELEASES releases. If a client does not
            come back, \`current\` goes back to the previous release and the clients are restarted
            on it.
  rebuild   build a new release from the commit of the current one and the current deploy.cfg
            (even when nothing changed), then activate it as above: the buildout runs again
            without touching the release the clients run (ops rebuild).
  develop-up  bin/develop up (mr.developer) in the current release as the deploy user; nothing
            is restarted (ops develop-up).
  (none)    build, then activate.`;

/** The functions both builders share, up to cmd_build. */
const FUNCTIONS = `BUILDING=""
# Exit hook: a release that did not finish building never stays behind.
discard_unfinished_build() {
  if [[ -n $BUILDING && -d $BUILDING ]]; then
    rm -rf -- "$BUILDING"
    log "removed the unfinished release $(releases_label "\${BUILDING%/releases/*}")\${BUILDING##*/}; current and the running programs are untouched"
  fi
}

prepare_directories() {
  local group d
  group=$(deploy_group)
  install -d -m 0755 -o "$DEPLOY_USER" -g "$group" "$DEPLOY_TO" "$DEPLOY_TO/releases"
  install -d -m 0750 -o "$DEPLOY_USER" -g "$group" "$DEPLOY_TO/shared"
  for d in "\${CREATE_DIRS_BEFORE_SYMLINK[@]}"; do
    as_deploy mkdir -p -m 0750 "$DEPLOY_TO/shared/$d"
  done
  if [[ -n $BLOB_MOUNT ]] && ! mountpoint -q "$BLOB_MOUNT"; then
    die "the blob storage $BLOB_MOUNT is not mounted (the setup step mounts it): not deploying, blobs would land on the local disk"
  fi
  for d in "\${DATA_DIRS[@]}"; do
    if [[ ! -d $d ]]; then
      install -d -m 0700 -o "$DEPLOY_USER" -g "$group" "$d"
    elif [[ $(stat -c %U "$d") != "$DEPLOY_USER" ]]; then
      log "giving $d to $DEPLOY_USER"
      chown "$DEPLOY_USER:$group" "$d"
      chmod 0700 "$d"
    fi
  done
}

MIRROR=""
update_mirror() { # update_mirror [repository] [deploy directory]: the backend's, unless told otherwise
  local repository=\${1:-$REPOSITORY}
  MIRROR="\${2:-$DEPLOY_TO}/${REPOSITORY_MIRROR}"
  step "fetching $repository"
  if [[ ! -d $MIRROR ]]; then
    as_deploy git init --quiet --bare "$MIRROR"
    as_deploy git -C "$MIRROR" remote add origin "$repository"
    as_deploy git -C "$MIRROR" config remote.origin.fetch '+refs/heads/*:refs/heads/*'
  fi
  as_deploy git -C "$MIRROR" remote set-url origin "$repository"
  as_deploy git -C "$MIRROR" fetch --quiet --force --prune --prune-tags --tags origin
}

ensure_venv() {
  local wanted installed
  if [[ ! -x $VENV/bin/python ]]; then
    step "creating the virtualenv $VENV ($PYTHON)"
    as_deploy "$PYTHON" -m venv "$VENV"
  fi
  if ((\${#PIP_PACKAGES[@]} > 0)); then
    wanted=$(printf '%s\\n' "\${PIP_PACKAGES[@]}" | sha256sum | cut -c1-64)
    installed=$(cat "$VENV/.plone-aws-pip" 2>/dev/null || true)
    if [[ $wanted != "$installed" ]]; then
      step "installing into the virtualenv: \${PIP_PACKAGES[*]}"
      as_deploy "$VENV/bin/pip" install --quiet "\${PIP_PACKAGES[@]}"
      printf '%s\\n' "$wanted" >"$VENV/.plone-aws-pip"
    fi
  fi
}

curl_config_quote() {
  local s=\${1//\\\\/\\\\\\\\}
  printf '"%s"' "\${s//\\"/\\\\\\"}"
}

unpack_cache_archives() {
  local i url path user location archive password
  for i in "\${!CACHE_ARCHIVE_URLS[@]}"; do
    url=\${CACHE_ARCHIVE_URLS[i]}
    path=\${CACHE_ARCHIVE_PATHS[i]}
    user=\${CACHE_ARCHIVE_USERS[i]}
    location="$DEPLOY_TO/$path"
    if [[ \${CACHE_ARCHIVE_PURGE[i]} == true ]]; then rm -rf -- "$location"; fi
    as_deploy mkdir -p "$location"
    if [[ -n $(ls -A "$location") ]]; then continue; fi
    step "unpacking the cache archive $url into $path"
    archive=$(mktemp)
    if [[ -n $user ]]; then
      [[ -r $CONFIG_DIR/cache_archive_password ]] || die "$url needs the password in $CONFIG_DIR/cache_archive_password (plone-aws:cacheArchivePassword)"
      password=$(<"$CONFIG_DIR/cache_archive_password")
      # The credentials reach curl on stdin (-K -), never on a command line.
      printf 'user = %s\\n' "$(curl_config_quote "$user:$password")" | curl -fsSL -K - -o "$archive" "$url" ||
        { rm -f "$archive"; die "downloading $url failed"; }
    else
      curl -fsSL -o "$archive" "$url" || { rm -f "$archive"; die "downloading $url failed"; }
    fi
    as_deploy tar -xzf - -C "$location" <"$archive" || { rm -f "$archive"; die "unpacking $url into $path failed"; }
    rm -f "$archive"
  done
}

new_release_name() { # new_release_name [deploy directory]
  local name root=\${1:-$DEPLOY_TO}
  name=$(date -u +%Y%m%d%H%M%S)
  while [[ -e $root/releases/$name ]]; do
    sleep 1
    name=$(date -u +%Y%m%d%H%M%S)
  done
  printf '%s\\n' "$name"
}

# Releases without a marker were interrupted (a reboot during a build): nothing points at them.
remove_unfinished_releases() { # remove_unfinished_releases [deploy directory]
  local d current root=\${1:-$DEPLOY_TO}
  current=$(current_release "$root")
  for d in "$root"/releases/*/; do
    [[ -d $d ]] || continue
    d=\${d%/}
    if [[ ! -f $d/$RELEASE_MARKER && \${d##*/} != "$current" ]]; then
      log "removing the unfinished release $(releases_label "$root")\${d##*/}"
      rm -rf -- "$d"
    fi
  done
}

link_shared_dirs() { # link_shared_dirs <release dir>
  local release=$1 d i from to
  for d in "\${PURGE_BEFORE_SYMLINK[@]}"; do
    rm -rf -- "\${release:?}/$d"
  done
  for i in "\${!SYMLINK_FROM[@]}"; do
    from="$DEPLOY_TO/shared/\${SYMLINK_FROM[i]}"
    to="$release/\${SYMLINK_TO[i]}"
    as_deploy mkdir -p "$from" "$(dirname "$to")"
    rm -rf -- "$to"
    as_deploy ln -s "$from" "$to"
  done
  if [[ $GLOBAL_TMP == true && ! -L $DEPLOY_TO/shared/var/tmp ]]; then
    rm -rf -- "$DEPLOY_TO/shared/var/tmp"
    as_deploy ln -s /tmp "$DEPLOY_TO/shared/var/tmp"
  fi
}

run_in_release() { # run_in_release <release dir> <what> <command line>
  local rc=0
  (cd "$1" && as_deploy bash -c "$3") || rc=$?
  ((rc == 0)) || die "$2 failed (exit $rc) in releases/\${1##*/}: $3"
}

`;

/** cmd_build of the buildout builder: deploy.cfg, the bootstrap and build commands. */
const BUILDOUT_BUILD = `build_backend() {
  local commit cfg_hash newest reason name release
  need git curl flock runuser sha256sum mountpoint
  [[ -r $CONFIG_DIR/deploy.cfg ]] || die "$CONFIG_DIR/deploy.cfg is missing (pulumi up writes it)"
  prepare_directories
  update_mirror
  commit=$(as_deploy git -C "$MIRROR" rev-parse --verify --quiet "$REVISION^{commit}") ||
    die "revision '$REVISION' is not a branch, tag or commit of $REPOSITORY"
  if [[ -n $REBUILD_OF ]]; then commit=$(release_value "$REBUILD_OF" commit); fi
  cfg_hash=$(sha256sum <"$CONFIG_DIR/deploy.cfg" | cut -c1-64)
  newest=$(newest_release)
  reason="first release"
  if [[ -n $REBUILD_OF ]]; then
    reason="rebuild of releases/$REBUILD_OF"
  elif [[ -n $newest ]]; then
    if [[ $(release_value "$newest" commit) != "$commit" ]]; then
      reason="new commit"
    elif [[ $(release_value "$newest" deploy_cfg_sha256) != "$cfg_hash" ]]; then
      reason="deploy.cfg changed"
    elif [[ $ALWAYS_BUILD == true ]]; then
      reason="ALWAYS_BUILD is set"
    else
      log "nothing to deploy: $(describe_release "$newest") already has $REVISION at \${commit:0:12} and this deploy.cfg"
      return 0
    fi
  fi
  remove_unfinished_releases
  ensure_venv
  unpack_cache_archives

  name=$(new_release_name)
  release="$DEPLOY_TO/releases/$name"
  BUILDING=$release
  step "building releases/$name from $REVISION at \${commit:0:12} ($reason)"
  as_deploy git clone --quiet --no-checkout "$MIRROR" "$release"
  as_deploy git -C "$release" remote set-url origin "$REPOSITORY"
  as_deploy git -C "$release" checkout --quiet --detach "$commit"
  if [[ -f $release/.gitmodules ]]; then
    step "updating the submodules of releases/$name"
    as_deploy git -C "$release" submodule update --quiet --init --recursive
  fi
  install -m 0600 -o "$DEPLOY_USER" -g "$(deploy_group)" "$CONFIG_DIR/deploy.cfg" "$release/deploy.cfg"
  link_shared_dirs "$release"
  step "bootstrapping releases/$name: $BOOTSTRAP_COMMAND"
  run_in_release "$release" "the bootstrap" "$BOOTSTRAP_COMMAND"
  step "building releases/$name: $BUILD_COMMAND\${BUILDOUT_FLAGS:+ $BUILDOUT_FLAGS}"
  run_in_release "$release" "the build" "$BUILD_COMMAND\${BUILDOUT_FLAGS:+ $BUILDOUT_FLAGS}"
  printf 'commit=%s\\nrevision=%s\\ndeploy_cfg_sha256=%s\\nbuilt=%s\\n' \\
    "$commit" "$REVISION" "$cfg_hash" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$release/$RELEASE_MARKER"
  BUILDING=""
  log "built $(describe_release "$name")"
}

`;

/** Activation, rebuild, develop-up and the entry point, the same for both builders. */
const ACTIVATE = `# Builds what this host deploys: the backend (the app's build), then the Volto frontend.
cmd_build() {
  if [[ $BACKEND_BUILD == true ]]; then build_backend; fi
  if ((\${#VOLTO_PROCESSES[@]} > 0)); then build_volto; fi
}

# Points \`current\` of each part (backend, Volto frontend) at its newest built release and restarts
# what changed; if that does not run, every part switched goes back to its previous release.
cmd_activate() {
  local part root target previous switched=() described=() back=() failed=()
  declare -A TARGET=() PREVIOUS=()
  for part in "\${HOST_PARTS[@]}"; do
    root=$(part_root "$part")
    target=$(newest_release "$root")
    [[ -n $target ]] || die "no release has been built in $root: run plone-deploy build"
    previous=$(current_release "$root")
    if [[ $target == "$previous" ]]; then
      log "$(describe_release "$target" "$root") is already active"
      continue
    fi
    step "activating $(describe_release "$target" "$root")\${previous:+ instead of $(releases_label "$root")$previous}"
    switch_current "$target" "$root"
    TARGET[$part]=$target
    PREVIOUS[$part]=$previous
    switched+=("$part")
  done
  ((\${#switched[@]} > 0)) || return 0
  try_restart_programs rolling false "\${switched[*]}"
  if ((RESTART_RC == 0)); then
    for part in "\${switched[@]}"; do
      root=$(part_root "$part")
      prune_releases "$root"
      if [[ $part == volto ]]; then prune_node; fi
      log "deployed $(describe_release "\${TARGET[$part]}" "$root")"
    done
    return 0
  fi
  for part in "\${switched[@]}"; do
    root=$(part_root "$part")
    failed+=("$(releases_label "$root")\${TARGET[$part]}")
    previous=\${PREVIOUS[$part]}
    if [[ -z $previous || ! -d $root/releases/$previous ]]; then
      die "$(releases_label "$root")\${TARGET[$part]} does not run (see above) and there is no earlier release to go back to"
    fi
  done
  for part in "\${switched[@]}"; do
    root=$(part_root "$part")
    step "rolling back to $(releases_label "$root")\${PREVIOUS[$part]}: $(releases_label "$root")\${TARGET[$part]} does not run (see above)"
    switch_current "\${PREVIOUS[$part]}" "$root"
    back+=("$(releases_label "$root")\${PREVIOUS[$part]}")
  done
  try_restart_programs rolling false "\${switched[*]}"
  if ((RESTART_RC != 0)); then
    die "the deploy of \${failed[*]} failed, and so did the restart on \${back[*]} (see above): current is \${back[*]}"
  fi
  for part in "\${switched[@]}"; do
    root=$(part_root "$part")
    remove_release "\${TARGET[$part]}" "$root"
    described+=("$(describe_release "\${PREVIOUS[$part]}" "$root")")
  done
  die "the deploy of \${failed[*]} failed (see above); rolled back to \${described[*]}, which is running; \${failed[*]} was removed"
}

REBUILD_OF=""
VOLTO_REBUILD_OF=""
cmd_rebuild() {
  if [[ $BACKEND_BUILD == true ]]; then
    REBUILD_OF=$(current_release)
    [[ -n $REBUILD_OF ]] || die "no release is active in $DEPLOY_TO: run plone-deploy first"
  fi
  if ((\${#VOLTO_PROCESSES[@]} > 0)); then
    VOLTO_REBUILD_OF=$(current_release "$VOLTO_DEPLOY_TO")
    [[ -n $VOLTO_REBUILD_OF ]] || die "no Volto release is active in $VOLTO_DEPLOY_TO: run plone-deploy first"
  fi
  cmd_build
  cmd_activate
}

cmd_develop_up() {
  local release
  release=$(current_release)
  [[ -n $release ]] || die "no release is active in $DEPLOY_TO: run plone-deploy first"
  [[ -x $DEPLOY_TO/current/bin/develop ]] || die "releases/$release has no bin/develop: the buildout does not use mr.developer"
  step "bin/develop up in releases/$release (nothing is restarted)"
  (cd "$DEPLOY_TO/current" && as_deploy bin/develop up) || die "bin/develop up failed in releases/$release"
  log "checkouts updated; they take effect at the next restart (ops restart) or rebuild"
}

main() {
  local command=\${1:-}
  case $command in
  "" | build | activate | rebuild | develop-up) ;;
  *) other_argument "$command" ;;
  esac
  begin
  at_exit discard_unfinished_build
  case $command in
  build) cmd_build ;;
  activate) cmd_activate ;;
  rebuild) cmd_rebuild ;;
  develop-up) cmd_develop_up ;;
  "")
    cmd_build
    cmd_activate
    ;;
  esac
}

main "$@"
`;

/**
 * plone-deploy for the app's builder: the buildout one, or the pip one (a fresh virtual environment
 * per release, render/hostScripts/pipBuild.ts). Releases, activation and rollback are the same.
 * Every host's plone-deploy can also build the Volto frontend (render/hostScripts/voltoBuild.ts):
 * the hosts carrying the volto layer do, as their deploy.env says.
 */
export function renderDeployScript(builder: Builder = "buildout"): string {
    const usage = `${builder === "pip" ? PIP_BUILD.usage : BUILDOUT_USAGE}\n${VOLTO_BUILD.usage}`;
    return hostScript(usage, FUNCTIONS + (builder === "pip" ? PIP_BUILD.functions : BUILDOUT_BUILD) + VOLTO_BUILD.functions + ACTIVATE);
}
