// plone-deploy's build of the Volto frontend, on the hosts carrying the volto layer: Node.js from
// volto.node.mirror, then a release of its own in <deploy dir>/frontend/releases/<timestamp>
// (render/app/layout.ts: VoltoLayout), built with volto.buildCommand in its volto.path folder as
// the deploy user. Activation, the rolling restart and the rollback are plone-deploy's and
// plone-rollback's, for the frontend's `current` as for the backend's.
//
// Where the hosts get Node.js: volto.node.mirror, https://nodejs.org/dist by default (reachable from
// EC2 through the NAT gateway), or a mirror of your own with the same layout
// (v<version>/node-v<version>-linux-<x64|arm64>.tar.xz, v<version>/SHASUMS256.txt and its signature
// SHASUMS256.txt.sig). SHASUMS256.txt must be signed by one of volto.node.releaseKeys (Node.js's
// active releasers' keys unless set: render/volto/nodeReleaseKeys.ts), and every tarball is checked
// against its SHA-256 there before it is unpacked. pnpm comes from corepack
// (shipped with Node.js up to 24), at the version of the project's packageManager field, fetched
// from volto.npmRegistry by the build and kept in the frontend's shared/corepack for the processes.

const USAGE = `  On a host carrying the volto layer, build and activate also deploy the Volto frontend:
  build     install Node.js NODE_VERSION from NODE_MIRROR (its SHASUMS256.txt signed by one of
            NODE_RELEASE_KEYS, the tarball checked against it) into
            NODE_ROOT/node-v<version>-linux-<arch> when it is not there, clone VOLTO_REVISION into
            frontend/releases/<UTC timestamp>, run VOLTO_BUILD_COMMAND in its VOLTO_PATH folder as
            the deploy user (pnpm through corepack, from NPM_REGISTRY). Nothing is built when the
            newest frontend release has the same VOLTO_PATH tree and build settings. A failed build
            is removed; frontend/current and the running processes are not touched.
  activate  also point frontend/current at the newest frontend release (after every volto host
            has built) and restart the Volto processes behind haproxy, VOLTO_RESTART_CONCURRENCY at
            a time, each drained and back in rotation once it answers VOLTO_HEALTH_PATH.
  rebuild   also build a new frontend release from the commit of the current one.`;

const FUNCTIONS = `# --- Node.js and the Volto frontend ---------------------------------------------------------------

# nodejs.org's name of this machine's architecture.
node_arch() {
  case $(uname -m) in
  x86_64 | amd64) echo x64 ;;
  aarch64 | arm64) echo arm64 ;;
  *) die "Node.js for $(uname -m) is not supported here (x86_64 or aarch64 instances)" ;;
  esac
}

NODE_DIR=""
NODE_DOWNLOAD=""
# Exit hook: a download that did not finish never stays behind.
discard_node_download() {
  if [[ -n $NODE_DOWNLOAD && -d $NODE_DOWNLOAD ]]; then rm -rf -- "$NODE_DOWNLOAD"; fi
}

# dearmor_keys <armored keys> <keyring>: gpgv reads binary keyrings; each OpenPGP public key block
# of the file (ASCII armor: headers, a blank line, base64, a checksum line), decoded. Data only:
# nothing of the file is run.
dearmor_keys() {
  local state=0 line b64=""
  : >"$2"
  while IFS= read -r line || [[ -n $line ]]; do
    line=\${line%$'\\r'}
    case $state:$line in
    "0:-----BEGIN PGP PUBLIC KEY BLOCK-----") state=1 b64="" ;;
    1:) state=2 ;;
    1:*) ;;
    "2:-----END PGP PUBLIC KEY BLOCK-----")
      printf '%s' "$b64" | base64 -d >>"$2" || return 1
      state=0
      ;;
    2:=*) ;;
    2:*) b64+=$line ;;
    esac
  done <"$1"
  ((state == 0)) && [[ -s $2 ]]
}

# Node.js NODE_VERSION in NODE_ROOT/node-v<version>-linux-<arch>, from NODE_MIRROR (nodejs.org/dist
# layout), with pnpm enabled through corepack. A release is unpacked only once its SHASUMS256.txt
# is signed by one of NODE_RELEASE_KEYS (SHASUMS256.txt.sig, checked with gpgv) and its tarball
# matched the SHA-256 there, into a directory of its own that is renamed into place: a failed
# download, a bad signature or a bad tarball leaves every installed Node.js as it was. Idempotent.
ensure_node() {
  local arch name url sum
  arch=$(node_arch)
  name="node-v$NODE_VERSION-linux-$arch"
  NODE_DIR="$NODE_ROOT/$name"
  if [[ -f $NODE_DIR/.plone-aws-installed && -x $NODE_DIR/bin/node ]]; then return 0; fi
  need curl tar xz sha256sum gpgv base64
  url="$NODE_MIRROR/v$NODE_VERSION"
  step "installing Node.js $NODE_VERSION ($arch) from $url"
  install -d -m 0755 "$NODE_ROOT"
  NODE_DOWNLOAD=$(mktemp -d "$NODE_ROOT/.download.XXXXXX")
  at_exit discard_node_download
  curl -fsSL --retry 3 -o "$NODE_DOWNLOAD/SHASUMS256.txt" "$url/SHASUMS256.txt" ||
    die "downloading $url/SHASUMS256.txt failed (volto.node.mirror, volto.node.version)"
  curl -fsSL --retry 3 -o "$NODE_DOWNLOAD/SHASUMS256.txt.sig" "$url/SHASUMS256.txt.sig" ||
    die "downloading $url/SHASUMS256.txt.sig failed (volto.node.mirror: a mirror carries each release's signature too)"
  dearmor_keys "$NODE_RELEASE_KEYS" "$NODE_DOWNLOAD/release-keys.gpg" ||
    die "$NODE_RELEASE_KEYS holds no OpenPGP public key in ASCII armor (volto.node.releaseKeys)"
  # A checksum catches a bad download; the signature, a mirror that serves something else.
  gpgv --homedir "$NODE_DOWNLOAD" --keyring "$NODE_DOWNLOAD/release-keys.gpg" "$NODE_DOWNLOAD/SHASUMS256.txt.sig" "$NODE_DOWNLOAD/SHASUMS256.txt" \\
    >"$NODE_DOWNLOAD/gpgv.log" 2>&1 ||
    die "$url/SHASUMS256.txt is not signed by one of the keys of volto.node.releaseKeys (Node.js's active releasers unless set): not installing Node.js $NODE_VERSION. gpgv said: $(tr '\\n' ' ' <"$NODE_DOWNLOAD/gpgv.log")"
  curl -fsSL --retry 3 -o "$NODE_DOWNLOAD/$name.tar.xz" "$url/$name.tar.xz" ||
    die "downloading $url/$name.tar.xz failed (volto.node.mirror, volto.node.version)"
  sum=$(awk -v f="$name.tar.xz" '$2 == f { print $1 }' "$NODE_DOWNLOAD/SHASUMS256.txt")
  [[ $sum =~ ^[0-9a-f]{64}$ ]] || die "$url/SHASUMS256.txt lists no $name.tar.xz"
  [[ $(sha256sum <"$NODE_DOWNLOAD/$name.tar.xz" | cut -c1-64) == "$sum" ]] ||
    die "$url/$name.tar.xz does not match its SHA-256 in SHASUMS256.txt: not unpacked"
  mkdir "$NODE_DOWNLOAD/unpacked"
  tar -xJf "$NODE_DOWNLOAD/$name.tar.xz" -C "$NODE_DOWNLOAD/unpacked" --no-same-owner || die "unpacking $name.tar.xz failed"
  [[ -x $NODE_DOWNLOAD/unpacked/$name/bin/node ]] || die "$name.tar.xz has no $name/bin/node"
  "$NODE_DOWNLOAD/unpacked/$name/bin/node" --version >/dev/null || die "the node of $name.tar.xz does not run on this host"
  [[ -x $NODE_DOWNLOAD/unpacked/$name/bin/corepack ]] ||
    die "Node.js $NODE_VERSION ships no corepack, which brings pnpm (Node.js 25 dropped it): choose a release up to 24 (volto.node.version)"
  # pnpm and pnpx beside node (corepack's shims, relative links). corepack starts with
  # "#!/usr/bin/env node", and a host has no other node on its PATH: this release's runs it.
  "$NODE_DOWNLOAD/unpacked/$name/bin/node" "$NODE_DOWNLOAD/unpacked/$name/bin/corepack" enable --install-directory "$NODE_DOWNLOAD/unpacked/$name/bin" pnpm ||
    die "corepack enable pnpm failed in $name"
  touch "$NODE_DOWNLOAD/unpacked/$name/.plone-aws-installed"
  # A directory left by an install that stopped half-way (no marker) is not in use: replace it.
  rm -rf -- "\${NODE_DIR:?}"
  mv -T "$NODE_DOWNLOAD/unpacked/$name" "$NODE_DIR"
  rm -rf -- "$NODE_DOWNLOAD"
  NODE_DOWNLOAD=""
  log "installed Node.js $("$NODE_DIR/bin/node" --version) in $NODE_DIR"
}

# Removes the Node.js releases that no frontend release kept on this host was built with (each
# records its node=), but never the one NODE_VERSION names.
prune_node() {
  local d used
  [[ -d $NODE_ROOT ]] || return 0
  used=$(for r in $(built_releases "$VOLTO_DEPLOY_TO"); do release_value "$r" node "$VOLTO_DEPLOY_TO"; done)
  for d in "$NODE_ROOT"/node-v*-linux-*/; do
    d=\${d%/}
    [[ -f $d/.plone-aws-installed ]] || continue
    [[ \${d##*/} != "node-v$NODE_VERSION-linux-"* ]] || continue
    if grep -qxF -- "$d" <<<"$used"; then continue; fi
    log "removing Node.js \${d##*/} (no frontend release on this host uses it)"
    rm -rf -- "$d"
  done
}

# The environment of the Volto build (as the deploy user, in a clean environment): Node.js and
# pnpm first on the PATH, corepack's cache and pnpm's store in the frontend's shared/, the npm
# registry, volto.environment, and the public API path the stack sets (RAZZLE_API_PATH).
VOLTO_BUILD_ENV=()
volto_build_env() {
  local home
  home=$(getent passwd "$DEPLOY_USER" | cut -d: -f6) || die "the deploy user $DEPLOY_USER does not exist"
  VOLTO_BUILD_ENV=("HOME=\${home:-/}" "USER=$DEPLOY_USER" "LOGNAME=$DEPLOY_USER" "LANG=C.UTF-8"
    "PATH=$NODE_DIR/bin:/usr/local/bin:/usr/bin:/bin" "CI=true"
    "COREPACK_HOME=$COREPACK_HOME" "COREPACK_NPM_REGISTRY=$NPM_REGISTRY" "COREPACK_ENABLE_DOWNLOAD_PROMPT=0"
    "COREPACK_ENABLE_AUTO_PIN=0" "npm_config_registry=$NPM_REGISTRY" "npm_config_store_dir=$PNPM_STORE"
    "RAZZLE_API_PATH=$VOLTO_API_PATH" "\${VOLTO_ENVIRONMENT[@]}")
}

as_volto_builder() { # as_volto_builder <command...>: as the deploy user, with the build's environment only
  if [[ $(id -un) == "$DEPLOY_USER" ]]; then
    env -i "\${VOLTO_BUILD_ENV[@]}" "$@"
  else
    runuser -u "$DEPLOY_USER" -- env -i "\${VOLTO_BUILD_ENV[@]}" "$@"
  fi
}

# sha256 of the build's settings: a release is built again when one of them changed.
volto_build_hash() {
  printf '%s\\n' "node=$NODE_DIR" "registry=$NPM_REGISTRY" "path=$VOLTO_PATH" "build=$VOLTO_BUILD_COMMAND" \\
    "api=$VOLTO_API_PATH" "\${VOLTO_ENVIRONMENT[@]}" | sha256sum | cut -c1-64
}

prepare_volto_directories() {
  local group
  group=$(deploy_group)
  install -d -m 0755 -o "$DEPLOY_USER" -g "$group" "$DEPLOY_TO" "$VOLTO_DEPLOY_TO" "$VOLTO_DEPLOY_TO/releases"
  install -d -m 0750 -o "$DEPLOY_USER" -g "$group" "$VOLTO_DEPLOY_TO/shared" "$COREPACK_HOME" "$PNPM_STORE"
}

# Builds the Volto frontend of VOLTO_REVISION in a new frontend release, unless the newest one
# already has the same VOLTO_PATH tree (a commit that changes only the backend builds nothing
# here) and the same build settings.
build_volto() {
  local root=$VOLTO_DEPLOY_TO commit tree build_hash newest reason name release rc=0
  need git curl runuser sha256sum
  prepare_volto_directories
  update_mirror "$VOLTO_REPOSITORY" "$root"
  commit=$(as_deploy git -C "$MIRROR" rev-parse --verify --quiet "$VOLTO_REVISION^{commit}") ||
    die "revision '$VOLTO_REVISION' is not a branch, tag or commit of $VOLTO_REPOSITORY (volto.revision)"
  if [[ -n $VOLTO_REBUILD_OF ]]; then commit=$(release_value "$VOLTO_REBUILD_OF" commit "$root"); fi
  tree=$(as_deploy git -C "$MIRROR" rev-parse --verify --quiet "$commit:$VOLTO_PATH") ||
    die "$VOLTO_REPOSITORY has no folder $VOLTO_PATH at \${commit:0:12} (volto.path)"
  ensure_node
  build_hash=$(volto_build_hash)
  newest=$(newest_release "$root")
  reason="first release"
  if [[ -n $VOLTO_REBUILD_OF ]]; then
    reason="rebuild of $(releases_label "$root")$VOLTO_REBUILD_OF"
  elif [[ -n $newest ]]; then
    if [[ $(release_value "$newest" tree "$root") != "$tree" ]]; then
      reason="$VOLTO_PATH changed"
    elif [[ $(release_value "$newest" build_sha256 "$root") != "$build_hash" ]]; then
      reason="the build settings changed"
    elif [[ $ALWAYS_BUILD == true ]]; then
      reason="ALWAYS_BUILD is set"
    else
      log "nothing to build for Volto: $(describe_release "$newest" "$root") already has $VOLTO_PATH of $VOLTO_REVISION at \${commit:0:12} and these build settings"
      return 0
    fi
  fi
  remove_unfinished_releases "$root"

  name=$(new_release_name "$root")
  release="$root/releases/$name"
  BUILDING=$release
  step "building $(releases_label "$root")$name from $VOLTO_REVISION at \${commit:0:12} ($reason)"
  as_deploy git clone --quiet --no-checkout "$MIRROR" "$release"
  as_deploy git -C "$release" remote set-url origin "$VOLTO_REPOSITORY"
  as_deploy git -C "$release" checkout --quiet --detach "$commit"
  if [[ -f $release/.gitmodules ]]; then
    step "updating the submodules of $(releases_label "$root")$name"
    as_deploy git -C "$release" submodule update --quiet --init --recursive
  fi
  [[ -f $release/$VOLTO_PATH/package.json ]] || die "$VOLTO_PATH has no package.json at \${commit:0:12} (volto.path: the Volto project's folder)"
  volto_build_env
  step "building $(releases_label "$root")$name/$VOLTO_PATH: $VOLTO_BUILD_COMMAND (Node.js $NODE_VERSION)"
  (cd "$release/$VOLTO_PATH" && as_volto_builder bash -c "$VOLTO_BUILD_COMMAND") || rc=$?
  ((rc == 0)) || die "the Volto build failed (exit $rc) in $(releases_label "$root")$name/$VOLTO_PATH: $VOLTO_BUILD_COMMAND"
  printf 'commit=%s\\nrevision=%s\\ntree=%s\\nbuild_sha256=%s\\nnode=%s\\nbuilt=%s\\n' \\
    "$commit" "$VOLTO_REVISION" "$tree" "$build_hash" "$NODE_DIR" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$release/$RELEASE_MARKER"
  BUILDING=""
  log "built $(describe_release "$name" "$root")"
}

`;

/** The usage text and the functions plone-deploy gets for the Volto frontend (every builder). */
export const VOLTO_BUILD = { usage: USAGE, functions: FUNCTIONS };
