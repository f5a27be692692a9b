// The frame of every host script: its header (which `--help` prints), where its settings come
// from, strict mode, and common.sh.
import { PATHS } from "../../topology/ports";

/** `header`: the help text, one comment line per line. `body`: the script after common.sh is sourced. */
export function hostScript(header: string, body: string): string {
    const comment = header
        .trim()
        .split("\n")
        .map((l) => (l ? `# ${l}` : "#"))
        .join("\n");
    return `#!/usr/bin/env bash
${comment}
# Settings: deploy.env ($PLONE_DEPLOY_ENV, or the only one under ${PATHS.configDir}). Written by
# plone-aws on every \`pulumi up\`.
set -euo pipefail
# shellcheck source=common.sh
source "\${PLONE_AWS_TOOLKIT:-${PATHS.toolkitDir}}/common.sh"

${body}`;
}
