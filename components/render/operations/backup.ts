// Backups and their off-site copies on the host that keeps them (the ZEO server; with RelStorage,
// a host that sees the blobs): backup.env, plone-backup (repozo through collective.recipe.backup's
// bin/backup, then the copy to S3) and plone-restore (a backup of a date, fetched from S3, restored
// with repozo, and the blobs). The scheduled job (operations/cron.ts) and `ops backup` run the same
// plone-backup; `ops restore` runs plone-restore between stopping and starting the clients.
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import { BACKUP_LOCATIONS } from "../../topology/ports";
import { appLayout, PIP_VENV_DIR, pipReleasePath, programName } from "../app/layout";
import type { RenderContext } from "../context";
import { scriptHeader, sh } from "../scriptKit";
import { hostScript } from "../hostScripts/frame";
import { shellAssignments } from "../shell";
import { OFFSITE_FOLDERS, OffsiteTarget, offsitePlanOf, offsitePrefix } from "../../topology/offsite";

/** The settings plone-backup and plone-restore read. */
export function backupEnvPath(ctx: Pick<RenderContext, "spec">): string {
    return `${appLayout(ctx.spec).configDir}/backup.env`;
}

/** The repozo script of the buildout (plone.recipe.zeoserver and collective.recipe.backup make it). */
export const REPOZO = "bin/repozo";

/** Whether `host` keeps backups: it runs plone-backup (repozo on the ZEO server, or the copy of the blobs). */
export function keepsBackups(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): boolean {
    const repozo = ctx.spec.plone.storage === "zeo" && ctx.spec.plone.backups.enabled && host.layers.includes("zeoserver");
    return repozo || copiesOffsite(ctx, host);
}

/** Whether `host` copies the stack's data to S3. */
export function copiesOffsite(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): boolean {
    return ctx.spec.offsiteBackups.enabled && offsitePlanOf(ctx, host) !== undefined;
}

/** Whether `host` restores backups from S3: the ZEO server, when there are copies it may read. */
export function restoresBackups(ctx: Pick<RenderContext, "spec">, host: HostPlan): boolean {
    const { offsiteBackups, plone } = ctx.spec;
    return plone.storage === "zeo" && host.layers.includes("zeoserver") && (offsiteBackups.enabled || offsiteBackups.restoreFrom.length > 0);
}

function offsiteOf(ctx: RenderContext): OffsiteTarget {
    if (!ctx.offsite) throw new Error("the render context has no offsite target (the backup buckets): the program fills it from the account id");
    return ctx.offsite;
}

/**
 * The pip builder's backup: repozo -B (incremental, compressed) of Data.fs into the backups volume,
 * then the full backups beyond plone.backups.keep removed with the incrementals that follow them (as
 * collective.recipe.backup's keep does). The blobs are on their volume's snapshots and, with
 * offsiteBackups, in S3.
 */
function pipRepozoCommand(spec: RenderContext["spec"]): string {
    const repozo = pipReleasePath(spec, `${PIP_VENV_DIR}/bin/repozo`);
    const dir = BACKUP_LOCATIONS.location;
    return [
        `mkdir -p ${dir}`,
        `${repozo} -B -z -r ${dir} -f ${PATHS.filestorage}/Data.fs`,
        // The oldest full backup kept; every file named before it goes.
        `keep=$(ls ${dir} | grep -E '^[0-9]{4}(-[0-9]{2}){5}[.]fsz?$' | sort | tail -n ${spec.plone.backups.keep} | head -n 1)`,
        `for f in ${dir}/*; do n=\${f##*/}; if [ -n "$keep" ] && [[ $n =~ ^[0-9]{4}(-[0-9]{2}){5}[.] ]] && [[ \${n:0:19} < \${keep:0:19} ]]; then rm -f -- "$f"; fi; done`,
    ].join(" && ");
}

export function renderBackupEnv(ctx: RenderContext, host: HostPlan): string {
    const { spec } = ctx;
    const layout = appLayout(spec);
    const plan = offsitePlanOf(ctx, host);
    const zeo = spec.plone.storage === "zeo" && host.layers.includes("zeoserver");
    const repozo = zeo && spec.plone.backups.enabled;
    const offsite = copiesOffsite(ctx, host);
    const target = offsite || restoresBackups(ctx, host) ? offsiteOf(ctx) : undefined;
    const sources = Object.entries(target?.sourceBuckets ?? {});
    const vars = {
        APP: spec.app.name,
        STACK: spec.stackName,
        HOST: host.name,
        DEPLOY_USER,
        RELEASE: layout.current,
        LOG_DIR: PATHS.logDir,
        // collective.recipe.backup's incremental repozo backup (the scheduled job's command); with the pip
        // builder, repozo itself from the release's environment, keeping plone.backups.keep full backups.
        BACKUP_COMMAND: repozo ? (spec.app.builder === "pip" ? pipRepozoCommand(spec) : "bin/backup -q") : "",
        REPOZO: spec.app.builder === "pip" ? pipReleasePath(spec, `${PIP_VENV_DIR}/bin/repozo`) : REPOZO,
        REPOZO_DIR: repozo ? (plan?.repozoDir ?? "") : "",
        FILESTORAGE: zeo ? `${PATHS.filestorage}/Data.fs` : "",
        // Where plone-restore fetches repozo's files: the backups volume when there is one.
        RESTORE_WORK: zeo ? (spec.plone.backups.enabled ? `${PATHS.backups}/restore` : `${PATHS.filestorage}/.restore`) : "",
        BLOB_DIR: plan?.blobDir ?? "",
        ZEO_PROGRAM: zeo ? programName(spec.app.name, "zeoserver") : "",
        OFFSITE: offsite,
        AWS: "aws",
        REGION: spec.region,
        BUCKET: offsite && target ? target.bucket : "",
        PREFIX: offsitePrefix(spec),
        REPOZO_FOLDER: OFFSITE_FOLDERS.repozo,
        BLOB_FOLDER: OFFSITE_FOLDERS.blobs,
        KEEP_DAYS: spec.offsiteBackups.keepDays,
        // Stacks whose copies plone-restore may read (offsiteBackups.restoreFrom and this one), and their buckets.
        SOURCE_STACKS: sources.map(([stack]) => stack),
        SOURCE_BUCKETS: sources.map(([, bucket]) => bucket),
    };
    return [
        `# Backup settings of ${spec.app.name} on ${host.name} (stack ${spec.stackName}), read by plone-backup and`,
        "# plone-restore. Written by plone-aws on every `pulumi up`.",
        // The pip builder's BACKUP_COMMAND is kept unexpanded ($keep is set when it runs).
        spec.app.builder === "pip" && repozo ? "# shellcheck shell=bash disable=SC2034,SC2016" : "# shellcheck shell=bash disable=SC2034",
        shellAssignments(vars),
        "",
    ].join("\n");
}

/** plone-backup: repozo, then the off-site copy. Runs as root (ops) or as the deploy user (cron). */
export function renderBackupScript(ctx: RenderContext): string {
    return `${scriptHeader(
        "plone-backup",
        [
            "[--no-offsite]: back up the app's data now, as the scheduled job does.",
            "1. repozo: bin/backup -q in the current release (collective.recipe.backup; ZEO servers only).",
            "2. the copy to S3 (offsiteBackups): repozo's files to s3://BUCKET/STACK/filestorage/ and the blob",
            "   directory to s3://BUCKET/STACK/blobstorage/, with aws s3 sync. Blobs are never deleted from the",
            "   bucket (any restored Data.fs finds its blobs); repozo files older than KEEP_DAYS are, except",
            "   the last full backup before them. Run as root or as the deploy user; one run at a time.",
            "--no-offsite  only step 1.",
        ],
        [],
    )}
SETTINGS=$\{PLONE_BACKUP_ENV:-${backupEnvPath(ctx)}}
LOCK_DIR=$\{PLONE_LOCK_DIR:-/run/lock}
${BACKUP_LOGIC}`;
}

const BACKUP_LOGIC = sh`copy=1
case $\{1:-} in
  "") ;;
  --no-offsite) copy=0 ;;
  -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
  *) echo "usage: $SCRIPT_NAME [--no-offsite]" >&2; exit 2 ;;
esac
[ -r "$SETTINGS" ] || die "cannot read $SETTINGS (pulumi up writes it on the hosts that keep backups)"
# shellcheck source=/dev/null
source "$SETTINGS"
export LC_ALL=C
if [ "$(id -u)" -eq 0 ] && [ "$DEPLOY_USER" != root ]; then
  # The backups and the blobs belong to the deploy user; so do the copies it fetches.
  exec runuser -u "$DEPLOY_USER" -- "$0" "$@"
fi
[ "$(id -un)" = "$DEPLOY_USER" ] || die "run as root or as $DEPLOY_USER, not $(id -un)"
exec 8>"$LOCK_DIR/plone-aws-backup-run.lock"
if ! flock -n 8; then
  say "waiting for the backup that is running to finish"
  flock -w 7200 8 || die "another backup has been running for two hours ($LOCK_DIR/plone-aws-backup-run.lock)"
fi

if [ -n "$BACKUP_COMMAND" ]; then
  [ -d "$RELEASE" ] || die "no release is deployed yet ($RELEASE): nothing to back up"
  say "backing up $FILESTORAGE: $BACKUP_COMMAND (in $RELEASE)"
  (cd "$RELEASE" && bash -c "$BACKUP_COMMAND") || die "$BACKUP_COMMAND failed: no copy was made"
fi

if [ "$copy" -eq 0 ] || [ "$OFFSITE" != true ]; then
  [ "$OFFSITE" = true ] || say "off-site copies are off (offsiteBackups.enabled)"
  exit 0
fi
command -v "$AWS" >/dev/null 2>&1 || die "$AWS is not installed (the setup step installs awscli)"
s3() { "$AWS" --region "$REGION" s3 "$@"; }

if [ -n "$REPOZO_DIR" ]; then
  [ -d "$REPOZO_DIR" ] || die "$REPOZO_DIR does not exist: bin/backup made no backup"
  target="s3://$BUCKET/$PREFIX/$REPOZO_FOLDER/"
  say "copying $REPOZO_DIR to $target"
  # Never --delete: a host whose backups volume is new and empty must not empty the bucket.
  s3 sync "$REPOZO_DIR/" "$target" --no-progress --only-show-errors --exclude '*.tmp' --exclude 'tmp.tmp' ||
    die "copying $REPOZO_DIR to $target failed"
  # Older repozo files: those before the last full backup made before the KEEP_DAYS window.
  cutoff=$(date -u -d "-$KEEP_DAYS days" +%Y-%m-%d-%H-%M-%S)
  listing=$(s3 ls "$target" 2>&1) || [ -z "$listing" ] || die "listing $target failed: $listing"
  keep_from=$(awk '{print $4}' <<<"$listing" | grep -E '^[0-9]{4}(-[0-9]{2}){5}\.fsz?$' | sort |
    awk -v cutoff="$cutoff" '{ root = substr($0, 1, 19); if (root <= cutoff) last = root } END { print last }')
  if [ -n "$keep_from" ]; then
    while read -r name; do
      [ "$\{name:0:19}" \< "$keep_from" ] || continue
      s3 rm "$target$name" --only-show-errors || die "removing the old backup file $target$name failed"
      say "removed $name from the bucket (older than $KEEP_DAYS days)"
    done < <(awk '{print $4}' <<<"$listing" | grep -E '^[0-9]{4}(-[0-9]{2}){5}\.' | sort)
  fi
fi

if [ -n "$BLOB_DIR" ]; then
  [ -d "$BLOB_DIR" ] || die "the blob directory $BLOB_DIR does not exist"
  target="s3://$BUCKET/$PREFIX/$BLOB_FOLDER/"
  say "copying the blobs in $BLOB_DIR to $target"
  s3 sync "$BLOB_DIR/" "$target" --no-progress --only-show-errors --exclude 'tmp/*' --exclude '*.lock' ||
    die "copying $BLOB_DIR to $target failed"
fi
say "off-site copy done: s3://$BUCKET/$PREFIX/"
`;

/** plone-restore: a backup of a date from S3 onto this ZEO server. */
export function renderRestoreScript(ctx: RenderContext): string {
    return hostScript(
        `plone-restore --from DATE [--source STACK] [--force] [--check]: restore the ZODB of a date from S3.
  DATE    YYYY-MM-DD (the last backup of that day, UTC), YYYY-MM-DD-HH-MM-SS (UTC), or latest.
  STACK   whose backups (this stack's, or one of offsiteBackups.restoreFrom); this stack by default.
  1. fetches the repozo files of that date from s3://BUCKET/STACK/filestorage/ and restores them
     with repozo -R into a new file; copies the blobs from s3://BUCKET/STACK/blobstorage/;
  2. stops this host's clients and workers (ops restore stops them on every host first) and the
     ZEO server, removes the ZEO client caches, puts the restored Data.fs in place (the old one is
     kept as Data.fs.before-restore), removes blobs the bucket does not have, starts the ZEO server.
  The clients stay stopped: plone-program start app (ops restore starts them on every host).
  --force  replace a filestorage that holds data (refused without it).
  --check  only say what would be restored; changes nothing.`,
        sh`# shellcheck source=operations.sh
source "$\{PLONE_AWS_TOOLKIT:-${PATHS.toolkitDir}}/operations.sh"
SETTINGS=$\{PLONE_BACKUP_ENV:-${backupEnvPath(ctx)}}
${RESTORE_LOGIC}`,
    );
}

const RESTORE_LOGIC = sh`export LC_ALL=C
WORK=""
ZEO_STOPPED=""
ASIDE=""
SWAPPED=""

# Exit hook: a restore that failed half-way puts the old Data.fs back and starts the ZEO server.
undo_restore() {
  if (($1 != 0)) && [[ -n $ZEO_STOPPED ]]; then
    if [[ -n $ASIDE && -z $SWAPPED && ! -e $FILESTORAGE ]]; then
      mv -f "$ASIDE" "$FILESTORAGE" && warn "put the old $FILESTORAGE back"
    fi
    sv_do start "$ZEO_PROGRAM" || warn "could not start $ZEO_PROGRAM again: start it with plone-program start zeoserver"
  fi
  if [[ -n $WORK && -d $WORK ]]; then rm -rf -- "$WORK"; fi
}

s3() { as_deploy "$AWS" --region "$REGION" s3 "$@"; }

# The date repozo restores to, as repozo names its files (UTC).
normalize_date() {
  if [[ $1 == latest ]]; then
    printf '9999-12-31-23-59-59\n'
  elif [[ $1 =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
    printf '%s-23-59-59\n' "$1"
  elif [[ $1 =~ ^[0-9]{4}(-[0-9]{2}){5}$ ]]; then
    printf '%s\n' "$1"
  else
    return 1
  fi
}

human_size() { numfmt --to=iec-i --suffix=B "$1" 2>/dev/null || printf '%s bytes' "$1"; }

main() {
  local from="" source="" force=false check=false when bucket="" i listing names=() full="" name selected=() size increments=0
  while (($# > 0)); do
    case $1 in
    --from) from=$\{2:-}; shift ;;
    --source) source=$\{2:-}; shift ;;
    --force) force=true ;;
    --check) check=true ;;
    *) other_argument "$1" ;;
    esac
    shift
  done
  [[ -n $from ]] || other_argument ""
  when=$(normalize_date "$from") || die "--from $from: give YYYY-MM-DD, YYYY-MM-DD-HH-MM-SS (UTC) or latest"
  begin
  [[ -r $SETTINGS ]] || die "cannot read $SETTINGS: this host keeps no backups (the ZEO server of a stack with offsiteBackups does)"
  # shellcheck source=/dev/null
  source "$SETTINGS"
  [[ -n $FILESTORAGE ]] || die "$HOST is not a ZEO server: there is no filestorage to restore here"
  need "$AWS" numfmt
  source=$\{source:-$STACK}
  for i in "$\{!SOURCE_STACKS[@]}"; do
    if [[ $\{SOURCE_STACKS[i]} == "$source" ]]; then bucket=$\{SOURCE_BUCKETS[i]}; fi
  done
  [[ -n $bucket ]] || die "this stack may read the backups of $\{SOURCE_STACKS[*]}, not of $source: add $source to plone-aws:offsiteBackups.restoreFrom"
  local prefix="s3://$bucket/$source"

  step "finding the backup of $source at $when in $prefix/$REPOZO_FOLDER/"
  listing=$(s3 ls "$prefix/$REPOZO_FOLDER/" 2>&1) || {
    [[ -z $listing ]] || die "listing $prefix/$REPOZO_FOLDER/ failed: $listing"
  }
  mapfile -t names < <(awk '{print $4}' <<<"$listing" | grep -E '^[0-9]{4}(-[0-9]{2}){5}\.(fsz?|deltafsz?|dat|index)$' | sort)
  (($\{#names[@]} > 0)) || die "$prefix/$REPOZO_FOLDER/ holds no repozo backup"
  # repozo's rule: the last full backup at or before the date, and the increments after it up to the date.
  for name in "$\{names[@]}"; do
    if [[ $name =~ \.fsz?$ && ! $\{name:0:19} > $when ]]; then full=$\{name:0:19}; fi
  done
  [[ -n $full ]] || die "no full backup of $source at or before $when in $prefix/$REPOZO_FOLDER/ (the oldest file is $\{names[0]})"
  for name in "$\{names[@]}"; do
    if [[ ! $\{name:0:19} < $full && ! $\{name:0:19} > $when ]]; then
      selected+=("$name")
      if [[ $name =~ \.deltafsz?$ ]]; then increments=$((increments + 1)); fi
    fi
  done
  log "the backup is the full backup of $full and $increments increment(s) after it ($\{#selected[@]} files with their .dat and .index)"

  if [[ -s $FILESTORAGE ]] && (($(stat -c %s "$FILESTORAGE") > 4)); then
    size=$(human_size "$(stat -c %s "$FILESTORAGE")")
    if [[ $force != true ]]; then
      die "$FILESTORAGE holds data ($size, last written $(date -u -r "$FILESTORAGE" +%Y-%m-%dT%H:%M:%SZ)): restoring would replace it. Run again with --force to replace it (it is kept as Data.fs.before-restore)"
    fi
    log "$FILESTORAGE holds data ($size): replacing it (--force)"
  fi
  if [[ $check == true ]]; then
    log "check only: would restore $FILESTORAGE from $\{#selected[@]} file(s) of $prefix/$REPOZO_FOLDER/ and the blobs from $prefix/$BLOB_FOLDER/"
    return 0
  fi

  at_exit undo_restore
  WORK=$RESTORE_WORK
  rm -rf -- "$WORK"
  install -d -m 0700 -o "$DEPLOY_USER" -g "$(deploy_group)" "$WORK" "$WORK/repository"
  step "fetching $\{#selected[@]} file(s) from $prefix/$REPOZO_FOLDER/"
  for name in "$\{selected[@]}"; do
    s3 cp "$prefix/$REPOZO_FOLDER/$name" "$WORK/repository/$name" --only-show-errors || die "fetching $name failed"
  done
  local restored
  restored="$(dirname "$FILESTORAGE")/Data.fs.restored"
  rm -f -- "$restored" "$restored.index"
  step "restoring with repozo: $REPOZO -R -r $WORK/repository -D $when -o $restored"
  (cd "$RELEASE" && as_deploy "$REPOZO" -R -r "$WORK/repository" -D "$when" -o "$restored") || die "repozo could not restore the backup"
  [[ -s $restored ]] || die "repozo wrote no $restored"

  if [[ -n $BLOB_DIR ]]; then
    step "copying the blobs from $prefix/$BLOB_FOLDER/ to $BLOB_DIR"
    install -d -m 0700 -o "$DEPLOY_USER" -g "$(deploy_group)" "$BLOB_DIR"
    # Adds what is missing while the old database still runs; extra blobs go once it is replaced.
    s3 sync "$prefix/$BLOB_FOLDER/" "$BLOB_DIR/" --no-progress --only-show-errors --exclude 'tmp/*' || die "copying the blobs failed"
  fi

  ensure_supervisord
  if (($\{#CLIENTS[@]} + $\{#WORKER_PROGRAMS[@]} > 0)); then
    select_programs app
    stop_selected
  fi
  clear_zeo_caches
  step "stopping $ZEO_PROGRAM"
  ZEO_STOPPED=1
  sv_do stop "$ZEO_PROGRAM" || die "supervisor could not stop $ZEO_PROGRAM"
  if [[ -e $FILESTORAGE ]]; then
    ASIDE="$FILESTORAGE.before-restore"
    rm -f -- "$ASIDE"
    mv -f "$FILESTORAGE" "$ASIDE"
    log "kept the old database as $ASIDE"
  fi
  rm -f -- "$FILESTORAGE.index" "$FILESTORAGE.lock" "$FILESTORAGE.tmp" "$FILESTORAGE.old"
  mv -f "$restored" "$FILESTORAGE"
  SWAPPED=1
  if [[ -e $restored.index ]]; then mv -f "$restored.index" "$FILESTORAGE.index"; fi
  chown "$DEPLOY_USER:$(deploy_group)" "$FILESTORAGE"
  if [[ -n $BLOB_DIR ]]; then
    step "removing blobs the backup does not have from $BLOB_DIR"
    s3 sync "$prefix/$BLOB_FOLDER/" "$BLOB_DIR/" --delete --no-progress --only-show-errors --exclude 'tmp/*' ||
      warn "removing the extra blobs failed: they are unused and harmless (the next pack with gc removes them)"
  fi
  step "starting $ZEO_PROGRAM"
  sv_do start "$ZEO_PROGRAM" || die "$ZEO_PROGRAM did not start on the restored database"
  wait_listening "$(server_port "$ZEO_PROGRAM")" "$START_TIMEOUT" || die "$ZEO_PROGRAM is not listening after $\{START_TIMEOUT}s"
  ZEO_STOPPED=""
  log "restored $source's backup of $when (the full backup of $full and $increments increment(s)) into $FILESTORAGE; the clients are stopped: plone-program start app"
}

main "$@"
`;
