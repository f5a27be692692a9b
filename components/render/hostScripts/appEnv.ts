// plone-app-env and plone-git-askpass (PATHS.sbinDir): how the app's programs get their environment
// and git its token, without either ever being written where others can read it.
//
// The supervisor programs run `plone-app-env <command>`: it reads app.environment from deploy.env
// (APP_ENVIRONMENT) and plone-aws:appSecrets from app-secrets.env (APP_SECRETS, mode 0640, readable
// by the deploy user only), then execs the command with exactly those variables added. supervisor's
// own environment= has no escapes and strips quotes, so no value of the configuration goes there.
import { PATHS } from "../../topology/ports";

/** The variable that points plone-app-env (and the host scripts) at deploy.env. */
export const DEPLOY_ENV_VARIABLE = "PLONE_DEPLOY_ENV";

export const APP_ENV_PROGRAM = `${PATHS.sbinDir}/plone-app-env`;
export const GIT_ASKPASS_PROGRAM = `${PATHS.sbinDir}/plone-git-askpass`;

export function renderAppEnvScript(): string {
    return `#!/usr/bin/env bash
# plone-app-env COMMAND [ARGUMENT...]: runs COMMAND with the app's environment: app.environment
# (APP_ENVIRONMENT in deploy.env) and plone-aws:appSecrets (APP_SECRETS in app-secrets.env beside it,
# readable by root and the deploy user only). The supervisor programs start through it.
# Settings: deploy.env ($${DEPLOY_ENV_VARIABLE}). Written by plone-aws on every \`pulumi up\`.
set -euo pipefail
case \${1:-} in
  "" | -h | --help)
    sed -n '2,/^set /s/^# \\{0,1\\}//p' "$0" | sed '$d'
    [[ -n \${1:-} ]] || exit 2
    exit 0
    ;;
esac
file=\${${DEPLOY_ENV_VARIABLE}:?plone-app-env: ${DEPLOY_ENV_VARIABLE} is not set (the supervisor program sets it)}
APP_ENVIRONMENT=()
APP_SECRETS=()
# shellcheck source=/dev/null
source "$file"
secrets="$(dirname "$file")/app-secrets.env"
if [[ -f $secrets ]]; then
  # shellcheck source=/dev/null
  source "$secrets"
fi
# export, not env NAME=value: no value is ever on a command line (ps would show it).
for kv in "\${APP_ENVIRONMENT[@]}" "\${APP_SECRETS[@]}"; do export "$kv"; done
exec "$@"
`;
}

export function renderGitAskpassScript(): string {
    return `#!/usr/bin/env bash
# plone-git-askpass PROMPT: git's GIT_ASKPASS for an https app.repository. It answers git's password
# prompt with plone-aws:repositoryToken, read from its 0600 file ($PLONE_REPOSITORY_TOKEN_FILE), so
# the token is never on a command line, in a URL or in git's configuration. The user name is the
# one in app.repository (https://USER@host/...).
# Written by plone-aws on every \`pulumi up\`.
set -euo pipefail
case \${1:-} in
  -h | --help)
    sed -n '2,/^set /s/^# \\{0,1\\}//p' "$0" | sed '$d'
    exit 0
    ;;
  Password* | password*)
    file=\${PLONE_REPOSITORY_TOKEN_FILE:?plone-git-askpass: PLONE_REPOSITORY_TOKEN_FILE is not set}
    tr -d '\\n' <"$file"
    echo
    ;;
  *)
    echo "plone-git-askpass: git asked '\${1:-}': put the user name into app.repository (https://USER@host/...)" >&2
    exit 1
    ;;
esac
`;
}
