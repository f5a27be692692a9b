// Scheduled jobs in /etc/cron.d: repozo backups and zeopack on the ZEO server, zodbpack (RelStorage)
// on the one db_packing host. Each job runs as the deploy user in the current release through
// plone-cron-job, which skips it before the first deploy, never runs it twice at once (flock) and
// logs to PATHS.logDir.
import { cronFields } from "../../config/schema";
import { blobStorageDir, DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import { appLayout, PIP_INSTANCES_DIR, PIP_VENV_DIR, pipReleasePath } from "../app/layout";
import type { RenderContext, RenderedFile } from "../context";
import { scriptHeader, sh, shellQuote } from "../scriptKit";
import { copiesOffsite } from "./backup";
import { dumpsDatabase } from "./database";
import { OPS_SCRIPTS } from "./scripts";

export const CRON_JOB_SCRIPT = `${PATHS.sbinDir}/plone-cron-job`;
export const ZODBPACK_SCRIPT = `${PATHS.sbinDir}/plone-zodbpack`;
/** zeopack of a pip-built ZEO server (the buildout's bin/zeopack knows the address; ZEO's own script is told it). */
export const ZEOPACK_SCRIPT = `${PATHS.sbinDir}/plone-zeopack`;

const WEEKDAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** 0..7 (7 is Sunday again) from a number or a three-letter name. */
function weekdayNumber(token: string): number {
    const named = WEEKDAY_NAMES.indexOf(token.toLowerCase());
    const n = named >= 0 ? named : Number(token);
    if (!Number.isInteger(n) || n < 0 || n > 7) throw new Error(`"${token}" is not a weekday`);
    return n;
}

/** The days (0 = Sunday) a cron weekday field names: "1-5", "sat,sun", "*\/2", ... */
export function weekdaysOf(field: string): number[] {
    const days = new Set<number>();
    for (const part of field.split(",")) {
        const [range, stepText] = part.split("/");
        const step = stepText === undefined ? 1 : Number(stepText);
        if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in "${part}"`);
        let from: number;
        let to: number;
        if (range === "*") [from, to] = [0, 6];
        else if (range.includes("-")) [from, to] = range.split("-").map(weekdayNumber);
        else [from, to] = [weekdayNumber(range), stepText === undefined ? weekdayNumber(range) : 6];
        for (let d = from; d <= to; d += step) days.add(d % 7);
    }
    return [...days].sort((a, b) => a - b);
}

/**
 * The schedule of the pack stage of a two-stage RelStorage pack: the prepack's schedule one day
 * later. It needs weekdays (the config rules require them): "0 1 * * 6" -> "0 1 * * 0".
 */
export function nextDaySchedule(schedule: string): string {
    const [minute, hour, dom, month, dow] = cronFields(schedule);
    if (dom !== "*" || dow === "*") throw new Error(`${schedule}: a two-stage pack needs a schedule by weekday, with * as day of month`);
    const next = weekdaysOf(dow)
        .map((d) => (d + 1) % 7)
        .sort((a, b) => a - b);
    return [minute, hour, dom, month, next.join(",")].join(" ");
}

interface CronJob {
    comment: string;
    schedule: string;
    /** Lock and log name: jobs with the same name never overlap. */
    name: string;
    command: string;
}

/** The scheduled jobs of one host. */
export function cronJobs(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): CronJob[] {
    const { plone } = ctx.spec;
    const jobs: CronJob[] = [];
    if (plone.storage === "zeo" && host.layers.includes("zeoserver")) {
        if (plone.backups.enabled) {
            jobs.push({
                comment: `repozo backup of the ZEO server (${ctx.spec.app.builder === "pip" ? "repozo -B from the release's environment" : "collective.recipe.backup's bin/backup -q"}) to ${PATHS.backups}, keeping ${plone.backups.keep} full backups${copiesOffsite(ctx, host) ? ", then the copy to S3" : ""} (plone-backup)`,
                schedule: plone.backups.schedule,
                name: "backup",
                command: OPS_SCRIPTS.backup,
            });
        }
        if (plone.pack.enabled) {
            jobs.push({
                comment: `pack the ZODB, keeping ${plone.pack.days} days of history`,
                schedule: plone.pack.schedule,
                name: "zeopack",
                command: ctx.spec.app.builder === "pip" ? ZEOPACK_SCRIPT : `bin/zeopack -D ${plone.pack.days}`,
            });
        }
    }
    if (dumpsDatabase(ctx, host)) {
        jobs.push({
            comment: `dump of the RelStorage database (pg_dump -Fc) to S3, keeping ${ctx.spec.database?.dump.keepDays} days (plone-pgdump)`,
            schedule: ctx.spec.database!.dump.schedule,
            name: "pgdump",
            command: OPS_SCRIPTS.pgdump,
        });
    }
    if (plone.storage === "relstorage" && copiesOffsite(ctx, host)) {
        jobs.push({
            comment: `copy of the blobs to S3 (plone-backup)${dumpsDatabase(ctx, host) ? ", after the database dump" : "; the database has RDS's automated backups"}`,
            schedule: plone.backups.schedule,
            name: "backup",
            command: OPS_SCRIPTS.backup,
        });
    }
    if (plone.storage === "relstorage" && plone.pack.enabled && ctx.topology.endpoints.packingHost === host.name) {
        if (plone.pack.twoStage) {
            jobs.push(
                {
                    comment: `RelStorage pre-pack (zodbpack --prepack), keeping ${plone.pack.days} days`,
                    schedule: plone.pack.schedule,
                    name: "zodbpack",
                    command: `${ZODBPACK_SCRIPT} prepack`,
                },
                {
                    comment: "RelStorage pack from the pre-pack state, the day after",
                    schedule: nextDaySchedule(plone.pack.schedule),
                    name: "zodbpack",
                    command: `${ZODBPACK_SCRIPT} pack`,
                },
            );
        } else {
            jobs.push({
                comment: `RelStorage pack (zodbpack), keeping ${plone.pack.days} days of history`,
                schedule: plone.pack.schedule,
                name: "zodbpack",
                command: `${ZODBPACK_SCRIPT} full`,
            });
        }
    }
    return jobs;
}

/** /etc/cron.d/plone-aws-<app> of one host, or undefined when it runs no job. */
export function renderCronFile(ctx: RenderContext, host: HostPlan): string | undefined {
    const jobs = cronJobs(ctx, host);
    if (jobs.length === 0) return undefined;
    return [
        `# Scheduled jobs of ${ctx.spec.app.name} on ${host.name}. Written by plone-aws: changes are overwritten.`,
        `# Times are the host's time zone (plone.timezone: ${ctx.spec.plone.timezone}). Each job logs to ${PATHS.logDir}/<name>.log.`,
        "SHELL=/bin/bash",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "MAILTO=root",
        ...jobs.flatMap((j) => [`# ${j.comment}`, `${j.schedule} ${DEPLOY_USER} ${CRON_JOB_SCRIPT} ${j.name} ${j.command}`]),
        "",
    ].join("\n");
}

export function cronFilePath(ctx: RenderContext): string {
    // cron ignores /etc/cron.d files with dots in their names.
    return `/etc/cron.d/plone-aws-${ctx.spec.app.name}`;
}

/** plone-cron-job NAME COMMAND...: how every scheduled job runs. */
export function renderCronJobScript(ctx: RenderContext): string {
    return `${scriptHeader(
        "plone-cron-job",
        [
            `NAME COMMAND [ARG...]: runs a scheduled job of ${ctx.spec.app.name} in its current release, as ${DEPLOY_USER},`,
            `one at a time per NAME, appending to ${PATHS.logDir}/NAME.log. A failure is also printed for cron's mail.`,
        ],
        [],
    )}
RELEASE=${appLayout(ctx.spec).current}
LOG_DIR=${PATHS.logDir}
${CRON_JOB_LOGIC}`;
}

const CRON_JOB_LOGIC = sh`[ $# -ge 2 ] || die "usage: $SCRIPT_NAME NAME COMMAND [ARG...]"
[ "$(id -un)" = ${DEPLOY_USER} ] || die "run as ${DEPLOY_USER}, not $(id -un)"
name=$1
shift
[[ $name =~ ^[a-z0-9_-]+$ ]] || die "bad job name '$name'"
log=$LOG_DIR/$name.log
exec 3>&2 >>"$log" 2>&1
stamp() { date '+%Y-%m-%d %H:%M:%S %z'; }
if [ ! -d "$RELEASE" ]; then
  echo "$(stamp) $name: skipped, no release deployed yet ($RELEASE)"
  exit 0
fi
cd "$RELEASE"
if [ ! -e "$1" ] && ! command -v "$1" >/dev/null 2>&1; then
  echo "$(stamp) $name: $1 not found in $RELEASE: does the buildout build it?"
  echo "plone-aws: $name: $1 not found in $RELEASE (see $log)" >&3
  exit 1
fi
exec 9>"/run/lock/plone-aws-$name.lock"
if ! flock -n 9; then
  echo "$(stamp) $name: skipped, the previous run is still going"
  exit 0
fi
echo "$(stamp) $name: start: $*"
status=0
"$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "$(stamp) $name: FAILED (exit $status)"
  echo "plone-aws: $name failed with exit $status on $(hostname), see $log" >&3
  exit "$status"
fi
echo "$(stamp) $name: done"
`;

/** A value for a libpq connection string, inside ZConfig ($ is ZConfig's substitution). */
function dsnValue(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`.replace(/\$/g, "$$$$");
}

function databaseOf(ctx: RenderContext): { host: string; port: number; name: string; user: string; password: string } {
    const { database, secrets, spec } = ctx;
    if (!database || !spec.database) throw new Error("RelStorage packing needs the database endpoint in the render context");
    if (secrets.dbPassword === undefined) throw new Error("RelStorage packing needs secrets.dbPassword");
    return { host: database.address, port: database.port, name: spec.database.name, user: spec.database.user, password: secrets.dbPassword };
}

/** The RelStorage configuration zodbpack packs with (it holds the database password). */
export function renderZodbpackConf(ctx: RenderContext): string {
    const { plone, app } = ctx.spec;
    const db = databaseOf(ctx);
    const blobs = ctx.topology.endpoints.blobs;
    const sharedDir = blobStorageDir(blobs);
    const blobLines = sharedDir
        ? ["    shared-blob-dir true", `    blob-dir ${sharedDir}`]
        : [
              "    shared-blob-dir false",
              `    blob-dir ${appLayout(ctx.spec).sharedVar}/zodbpack-blobcache`,
              `    blob-cache-size ${plone.relstorage.blobCacheSize}`,
          ];
    const dsn = [
        `dbname=${dsnValue(db.name)}`,
        `user=${dsnValue(db.user)}`,
        `host=${dsnValue(db.host)}`,
        `port=${dsnValue(String(db.port))}`,
        `password=${dsnValue(db.password)}`,
    ];
    return [
        `# RelStorage packing of ${app.name} (plone-aws): plone-zodbpack runs bin/zodbpack with this file.`,
        "<relstorage>",
        `    pack-gc ${plone.pack.gc}`,
        `    keep-history ${plone.relstorage.keepHistory}`,
        "    create-schema false",
        ...blobLines,
        "    <postgresql>",
        `        dsn ${dsn.join(" ")}`,
        "    </postgresql>",
        "</relstorage>",
        "",
    ].join("\n");
}

/** plone-zodbpack [full|prepack|pack]: RelStorage's zodbpack, then (truncateRefs) clear the ref tables. */
export function renderZodbpackScript(ctx: RenderContext): string {
    const { plone } = ctx.spec;
    const db = databaseOf(ctx);
    // RelStorage's console script: the buildout's bin/, or the pip release's own environment.
    const zodbpack = ctx.spec.app.builder === "pip" ? `${pipReleasePath(ctx.spec, PIP_VENV_DIR)}/bin/zodbpack` : "bin/zodbpack";
    const made = ctx.spec.app.builder === "pip" ? "the project's requirements must install RelStorage" : "the buildout must build RelStorage's zodbpack script";
    return `${scriptHeader(
        "plone-zodbpack",
        [
            `[full|prepack|pack]: packs the RelStorage database of ${ctx.spec.app.name}, keeping ${plone.pack.days} days of history.`,
            "prepack and pack are the two stages of plone.pack.twoStage. Run by plone-cron-job in the current release;",
            "the buildout builds bin/zodbpack (RelStorage's console script).",
        ],
        [],
    )}
CONFIG=${appLayout(ctx.spec).zodbpackConf}
DAYS=${plone.pack.days}
TRUNCATE_REFS=${plone.pack.truncateRefs ? 1 : 0}
stage=$\{1:-full}
case $stage in
  full) stage_args=() ;;
  prepack) stage_args=(--prepack) ;;
  pack) stage_args=(--use-prepack-state) ;;
  *) die "usage: $SCRIPT_NAME [full|prepack|pack]" ;;
esac
[ -x ${zodbpack} ] || die "${zodbpack} not found in $PWD: ${made} on the db_packing host"
[ -r "$CONFIG" ] || die "$CONFIG is missing or unreadable"
${zodbpack} --days "$DAYS" "$\{stage_args[@]}" "$CONFIG"
if [ "$TRUNCATE_REFS" -eq 1 ] && [ "$stage" != prepack ]; then
  # The next pack rebuilds the reference tables from scratch: they stop growing without bound.
  PGPASSFILE=${appLayout(ctx.spec).pgpass} psql -X -q -w -v ON_ERROR_STOP=1 -h ${shellQuote(db.host)} -p ${db.port} -U ${shellQuote(db.user)} -d ${shellQuote(db.name)} \\
    -c 'TRUNCATE object_ref, object_refs_added' || die "clearing the object_ref tables failed"
  say "cleared the object_ref tables"
fi
`;
}

/**
 * plone-zeopack: ZEO's zeopack from the pip release's environment, against the address of the
 * zeo.conf the ZEO server of that release runs (its private address, known to the stack only at
 * `pulumi up`). Run by plone-cron-job and plone-pack in the current release.
 */
export function renderZeopackScript(ctx: RenderContext): string {
    const zeopack = pipReleasePath(ctx.spec, `${PIP_VENV_DIR}/bin/zeopack`);
    const conf = pipReleasePath(ctx.spec, `${PIP_INSTANCES_DIR}/zeoserver/zeo.conf`);
    return `${scriptHeader(
        "plone-zeopack",
        [
            `packs the ZODB of ${ctx.spec.app.name} on this ZEO server, keeping ${ctx.spec.plone.pack.days} days of history.`,
            "Run in the current release by plone-cron-job; ZEO's zeopack from the release's environment.",
        ],
        [],
    )}
ZEOPACK=${zeopack}
CONF=${conf}
DAYS=${ctx.spec.plone.pack.days}
[ -x "$ZEOPACK" ] || die "$ZEOPACK not found in $PWD: the project's requirements must install ZEO on the ZEO server"
address=$(sed -n 's/^[[:space:]]*address[[:space:]][[:space:]]*//p' "$CONF" | head -n 1)
[ -n "$address" ] || die "no address in $CONF"
"$ZEOPACK" -d "$DAYS" "$address"
`;
}

/** The cron files, scripts and configuration of one host's scheduled jobs. */
export function renderCronFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const cron = renderCronFile(ctx, host);
    if (!cron) return [];
    const files: RenderedFile[] = [
        { path: cronFilePath(ctx), content: cron, mode: "0644", owner: "root", group: "root" },
        { path: CRON_JOB_SCRIPT, content: renderCronJobScript(ctx), mode: "0755", owner: "root", group: "root" },
    ];
    if (cron.includes(ZEOPACK_SCRIPT)) files.push({ path: ZEOPACK_SCRIPT, content: renderZeopackScript(ctx), mode: "0755", owner: "root", group: "root" });
    if (cron.includes(ZODBPACK_SCRIPT)) {
        files.push(
            { path: ZODBPACK_SCRIPT, content: renderZodbpackScript(ctx), mode: "0755", owner: "root", group: "root" },
            { path: appLayout(ctx.spec).zodbpackConf, content: renderZodbpackConf(ctx), mode: "0640", owner: "root", group: DEPLOY_USER, secret: true },
        );
    }
    return files;
}
