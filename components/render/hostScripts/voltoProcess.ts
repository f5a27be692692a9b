// plone-volto (PATHS.sbinDir): what each Volto supervisor program runs (<app>-volto1..N). It reads
// deploy.env and starts volto.startCommand in the volto.path folder of the frontend's `current`,
// with the Node.js that release was built with, so a rollback also brings back its Node.js.
// supervisor's environment= has no escapes, so no value of the configuration goes there: the
// program names only its port, and this script exports the rest.
import { PATHS } from "../../topology/ports";
import { DEPLOY_ENV_VARIABLE } from "./appEnv";
import { RELEASE_MARKER } from "./common";

export const VOLTO_PROGRAM = `${PATHS.sbinDir}/plone-volto`;

export function renderVoltoProcessScript(): string {
    return `#!/usr/bin/env bash
# plone-volto PORT: runs one Volto server-side rendering process on PORT, from the volto.path folder
# of the frontend's current release (VOLTO_DEPLOY_TO/current in deploy.env), with the Node.js it
# was built with. Environment: volto.environment (VOLTO_ENVIRONMENT), NODE_ENV=production and the
# API paths the stack sets (RAZZLE_API_PATH: the site's public address; RAZZLE_INTERNAL_API_PATH:
# a front end's haproxy, which balances the Zope clients), which volto.environment may override;
# then PORT and HOST=0.0.0.0, which it may not (haproxy checks and sends requests there).
# The supervisor programs <app>-voltoN start it. Settings: deploy.env ($${DEPLOY_ENV_VARIABLE}).
# Written by plone-aws on every \`pulumi up\`.
set -euo pipefail
case \${1:-} in
  -h | --help)
    sed -n '2,/^set /s/^# \\{0,1\\}//p' "$0" | sed '$d'
    exit 0
    ;;
esac
fail() {
  echo "plone-volto: $*" >&2
  exit 1
}
[[ \${1:-} =~ ^[1-9][0-9]{0,4}$ ]] || {
  echo "usage: plone-volto PORT" >&2
  exit 2
}
file=\${${DEPLOY_ENV_VARIABLE}:?plone-volto: ${DEPLOY_ENV_VARIABLE} is not set (the supervisor program sets it)}
VOLTO_ENVIRONMENT=()
# shellcheck source=/dev/null
source "$file"
release=$(readlink -e "$VOLTO_DEPLOY_TO/current") || fail "no Volto release is active in $VOLTO_DEPLOY_TO (plone-deploy builds one)"
node=$(sed -n 's/^node=//p' "$release/${RELEASE_MARKER}")
[[ -n $node && -x $node/bin/node ]] || fail "the Node.js $release was built with ($node) is not installed: plone-deploy installs it"
cd "$release/$VOLTO_PATH"
export PATH="$node/bin:/usr/local/bin:/usr/bin:/bin"
# pnpm from corepack's cache, which the build filled: a start never reaches the registry.
export COREPACK_HOME COREPACK_ENABLE_NETWORK=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_ENABLE_AUTO_PIN=0
export NODE_ENV=production RAZZLE_API_PATH="$VOLTO_API_PATH" RAZZLE_INTERNAL_API_PATH="$VOLTO_INTERNAL_API_PATH"
# export, not env NAME=value: no value is on a command line.
# shellcheck disable=SC2163 # each entry is NAME=value
for kv in "\${VOLTO_ENVIRONMENT[@]}"; do export "$kv"; done
export PORT=$1 HOST=0.0.0.0
exec bash -c "$VOLTO_START_COMMAND"
`;
}
