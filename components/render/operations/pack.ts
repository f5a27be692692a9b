// plone-pack (PATHS.sbinDir): pack the database now, as the scheduled job does (zeopack on the ZEO
// server, zodbpack on the RelStorage packing host), showing its output.
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import { appLayout } from "../app/layout";
import type { RenderContext } from "../context";
import { cronJobs, ZODBPACK_SCRIPT } from "./cron";
import { scriptHeader, sh, shellArray, shellQuote } from "../scriptKit";

/** The pack job of a host ("zeopack" or "zodbpack") and the command it runs now, or undefined. */
export function packNowCommand(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): { name: string; command: string[] } | undefined {
    const job = cronJobs(ctx, host).find((j) => j.name === "zeopack" || j.name === "zodbpack");
    if (!job) return undefined;
    // A two-stage RelStorage pack, run now, is one full pack.
    const command = job.name === "zodbpack" ? [ZODBPACK_SCRIPT, "full"] : job.command.split(" ");
    return { name: job.name, command };
}

export function renderPackScript(ctx: RenderContext, host: HostPlan): string | undefined {
    const pack = packNowCommand(ctx, host);
    if (!pack) return undefined;
    return `${scriptHeader(
        "plone-pack",
        [
            `pack the database of ${ctx.spec.app.name} now: ${pack.command.join(" ")} in the current release, as ${DEPLOY_USER},`,
            `keeping ${ctx.spec.plone.pack.days} days of history. Refused while the scheduled ${pack.name} runs. Its output is also`,
            `appended to ${PATHS.logDir}/${pack.name}.log.`,
        ],
        [],
    )}
RELEASE=${appLayout(ctx.spec).current}
DEPLOY_USER=$\{PLONE_DEPLOY_USER:-${DEPLOY_USER}}
LOCK_DIR=$\{PLONE_LOCK_DIR:-/run/lock}
LOG_DIR=$\{PLONE_LOG_DIR:-${PATHS.logDir}}
NAME=${shellQuote(pack.name)}
COMMAND=${shellArray(pack.command)}
${PACK_LOGIC}`;
}

const PACK_LOGIC = sh`if [ $# -gt 0 ]; then
  case $1 in
    -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
    *) echo "usage: $SCRIPT_NAME" >&2; exit 2 ;;
  esac
fi
if [ "$(id -u)" -eq 0 ] && [ "$DEPLOY_USER" != root ]; then
  exec runuser -u "$DEPLOY_USER" -- "$0" "$@"
fi
[ "$(id -un)" = "$DEPLOY_USER" ] || die "run as root or as $DEPLOY_USER, not $(id -un)"
[ -d "$RELEASE" ] || die "no release is deployed yet ($RELEASE): nothing to pack"
cd "$RELEASE"
[ -e "$\{COMMAND[0]}" ] || command -v "$\{COMMAND[0]}" >/dev/null 2>&1 || die "$\{COMMAND[0]} not found in $RELEASE: does the buildout build it?"
# The scheduled job holds the same lock (plone-cron-job $NAME).
exec 9>"$LOCK_DIR/plone-aws-$NAME.lock"
flock -n 9 || die "the scheduled $NAME is running now (lock $LOCK_DIR/plone-aws-$NAME.lock): not starting another"
log=$LOG_DIR/$NAME.log
stamp() { date '+%Y-%m-%d %H:%M:%S %z'; }
say "packing: $\{COMMAND[*]} (in $RELEASE)"
echo "$(stamp) $NAME: start (plone-pack): $\{COMMAND[*]}" >>"$log" 2>/dev/null || log=/dev/null
status=0
"$\{COMMAND[@]}" 2>&1 | tee -a "$log" || status=$\{PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "$(stamp) $NAME: FAILED (exit $status)" >>"$log"
  die "$\{COMMAND[*]} failed (exit $status)"
fi
echo "$(stamp) $NAME: done" >>"$log"
say "packed"
`;
