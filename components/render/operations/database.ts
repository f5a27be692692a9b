// The RelStorage database off-site, on the host that dumps it (the db_packing host, else the first
// app host): plone-pgdump (pg_dump -Fc, checked with pg_restore --list, copied to the off-site
// bucket under "<stack>/pgdump/", older dumps pruned as the repozo copies are) and, for RelStorage,
// plone-restore (a dump from the bucket into the stack's database or another one, refusing one that
// holds data without --force). pgdump.env holds their settings (no secret: the password is only in
// the 0600 pgpass file, PGPASSFILE); plone-postgresql-client installs the client of the engine's
// major version (Debian's, or PostgreSQL's own apt repository for the others).
import { DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import { databaseDumpHost, OFFSITE_FOLDERS, offsitePrefix } from "../../topology/offsite";
import type { StackSpec } from "../../config/spec";
import { appLayout } from "../app/layout";
import type { RenderContext, RenderedFile } from "../context";
import { libpqValue } from "../encode";
import { scriptHeader, sh, shellQuote } from "../scriptKit";
import { shellAssignments } from "../shell";

type View = Pick<RenderContext, "spec" | "topology">;

/** plone-postgresql-client: run by the setup step on the hosts that talk to the database with psql or pg_dump. */
export const POSTGRESQL_CLIENT_SCRIPT = `${PATHS.sbinDir}/plone-postgresql-client`;

/** The settings plone-pgdump and the RelStorage plone-restore read. */
export function pgdumpEnvPath(ctx: Pick<RenderContext, "spec">): string {
    return `${appLayout(ctx.spec).configDir}/pgdump.env`;
}

/** Whether `host` dumps the database to the off-site bucket (database.dump). */
export function dumpsDatabase(ctx: View, host: Pick<HostPlan, "name">): boolean {
    const { database, offsiteBackups } = ctx.spec;
    return !!database?.dump.enabled && offsiteBackups.enabled && databaseDumpHost(ctx) === host.name;
}

/** Whether `host` restores dumps (ops restore): the dump host of a RelStorage stack that has dumps it may read. */
export function restoresDumps(ctx: View, host: Pick<HostPlan, "name">): boolean {
    const { offsiteBackups } = ctx.spec;
    return databaseDumpHost(ctx) === host.name && (offsiteBackups.enabled || offsiteBackups.restoreFrom.length > 0);
}

/** Whether `host` runs psql or pg_dump: the dump host, and the packing host that clears the ref tables. */
export function needsPostgresqlClient(ctx: View, host: Pick<HostPlan, "name">): boolean {
    const { plone } = ctx.spec;
    const truncates = plone.storage === "relstorage" && plone.pack.enabled && plone.pack.truncateRefs && ctx.topology.endpoints.packingHost === host.name;
    return truncates || dumpsDatabase(ctx, host) || restoresDumps(ctx, host);
}

/**
 * The major version of the client the host needs: the engine's (database.engineVersion). pg_dump
 * refuses a server newer than itself, and a dump restores best with the same major version.
 */
export function postgresqlMajor(spec: Pick<StackSpec, "database">): string {
    if (!spec.database) throw new Error("a PostgreSQL client without plone-aws:database");
    const [major, minor] = spec.database.engineVersion.split(".");
    // Before 10 the major version had two parts (9.6).
    return Number(major) >= 10 || minor === undefined ? major : `${major}.${minor}`;
}

function databaseOf(ctx: RenderContext): { host: string; port: number; name: string; user: string; password: string } {
    const { database, secrets, spec } = ctx;
    if (!database || !spec.database) throw new Error("the database dump needs the database endpoint in the render context");
    if (secrets.dbPassword === undefined) throw new Error("the database dump needs secrets.dbPassword");
    return { host: database.address, port: database.port, name: spec.database.name, user: spec.database.user, password: secrets.dbPassword };
}

/**
 * ~/.pgpass line of the stack's database user on its server, for any database there (ops restore
 * may create a new one), with ':' and '\' escaped as libpq reads them.
 */
export function renderPgpass(ctx: RenderContext): string {
    const db = databaseOf(ctx);
    const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
    return `${[esc(db.host), esc(String(db.port)), "*", esc(db.user), esc(db.password)].join(":")}\n`;
}

/** The pgpass file (0600, the deploy user's, the only place the password is) of a host that needs one. */
export function pgpassFile(ctx: RenderContext, host: HostPlan): RenderedFile | undefined {
    if (!needsPostgresqlClient(ctx, host)) return undefined;
    return { path: appLayout(ctx.spec).pgpass, content: renderPgpass(ctx), mode: "0600", owner: DEPLOY_USER, group: DEPLOY_USER, secret: true };
}

/** pgdump.env of the dump host: where the database is (as a libpq connection string), where dumps go, where they come from. */
export function renderPgdumpEnv(ctx: RenderContext, host: HostPlan): string {
    const { spec } = ctx;
    const db = databaseOf(ctx);
    const layout = appLayout(spec);
    const dumps = dumpsDatabase(ctx, host);
    if (!ctx.offsite) throw new Error("the render context has no offsite target (the backup buckets): the program fills it from the account id");
    const sources = Object.entries(ctx.offsite.sourceBuckets);
    const vars = {
        STACK: spec.stackName,
        HOST: host.name,
        DEPLOY_USER,
        PG_MAJOR: postgresqlMajor(spec),
        PG_BIN: `/usr/lib/postgresql/${postgresqlMajor(spec)}/bin`,
        // Everything but the database and the password (PGPASSFILE), quoted as libpq reads it.
        CONNINFO: [`host=${libpqValue(db.host)}`, `port=${libpqValue(String(db.port))}`, `user=${libpqValue(db.user)}`, "connect_timeout='30'"].join(" "),
        DB_SERVER: `${db.host}:${db.port}`,
        DATABASE: db.name,
        // The database every PostgreSQL server has (RDS too): where a new database is created from.
        MAINTENANCE_DATABASE: "postgres",
        PGPASSFILE: layout.pgpass,
        DUMPS: dumps,
        WORK_DIR: `${layout.sharedVar}/pgdump`,
        AWS: "aws",
        REGION: spec.region,
        BUCKET: dumps ? ctx.offsite.bucket : "",
        PREFIX: offsitePrefix(spec),
        DUMP_FOLDER: OFFSITE_FOLDERS.pgdump,
        KEEP_DAYS: spec.database?.dump.keepDays ?? 0,
        // Stacks whose dumps plone-restore may read (offsiteBackups.restoreFrom and this one), and their buckets.
        SOURCE_STACKS: sources.map(([stack]) => stack),
        SOURCE_BUCKETS: sources.map(([, bucket]) => bucket),
    };
    return [
        `# Database dump settings of ${spec.app.name} on ${host.name} (stack ${spec.stackName}), read by plone-pgdump and`,
        "# plone-restore. No password here: it is in PGPASSFILE (0600). Written by plone-aws on every `pulumi up`.",
        "# shellcheck shell=bash disable=SC2034",
        shellAssignments(vars),
        "",
    ].join("\n");
}

/** Shell functions both scripts share: libpq quoting of a value known only when they run. */
const LIBPQ_QUOTE = sh`# A libpq connection-string value: single-quoted, with \ and ' escaped (as libpqValue in render/encode.ts).
libpq_quote() {
  local v=$\{1//\\/\\\\}
  v=$\{v//\'/\\\'}
  printf "'%s'" "$v"
}
`;

const SETTINGS_AND_USER = sh`[ -r "$SETTINGS" ] || die "cannot read $SETTINGS (pulumi up writes it on the host that dumps the database)"
# shellcheck source=/dev/null
source "$SETTINGS"
export LC_ALL=C
if [ "$(id -u)" -eq 0 ] && [ "$DEPLOY_USER" != root ]; then
  # The password file and the work directory belong to the deploy user.
  exec runuser -u "$DEPLOY_USER" -- "$0" "$@"
fi
[ "$(id -un)" = "$DEPLOY_USER" ] || die "run as root or as $DEPLOY_USER, not $(id -un)"
[ -r "$PGPASSFILE" ] || die "cannot read $PGPASSFILE (the configure step writes it)"
export PGPASSFILE
for tool in pg_dump pg_restore psql; do
  [ -x "$PG_BIN/$tool" ] || die "$PG_BIN/$tool is missing: the setup step installs postgresql-client-$PG_MAJOR (${POSTGRESQL_CLIENT_SCRIPT} install)"
done
command -v "$AWS" >/dev/null 2>&1 || die "$AWS is not installed (the setup step installs awscli)"
s3() { "$AWS" --region "$REGION" s3 "$@"; }
# shellcheck disable=SC2153 # WORK_DIR comes from the settings
mkdir -p "$WORK_DIR"
chmod 0700 "$WORK_DIR"
`;

/** plone-pgdump: pg_dump -Fc of the stack's database, copied to the bucket, older dumps pruned. */
export function renderPgdumpScript(ctx: RenderContext): string {
    return `${scriptHeader(
        "plone-pgdump",
        [
            "dump the RelStorage database now, as the scheduled job does (database.dump).",
            "1. pg_dump -Fc of the stack's database into WORK_DIR, checked with pg_restore --list;",
            "2. copied to s3://BUCKET/STACK/pgdump/<UTC time>.dump and removed from the host;",
            "3. dumps older than KEEP_DAYS removed from the bucket, except the newest one before them.",
            "Run as root or as the deploy user; one run at a time. The password comes from PGPASSFILE.",
        ],
        [],
    )}
SETTINGS=$\{PLONE_PGDUMP_ENV:-${pgdumpEnvPath(ctx)}}
LOCK_DIR=$\{PLONE_LOCK_DIR:-/run/lock}
${PGDUMP_ARGUMENTS}${LIBPQ_QUOTE}${SETTINGS_AND_USER}${PGDUMP_LOGIC}`;
}

const PGDUMP_ARGUMENTS = sh`case $\{1:-} in
  "") ;;
  -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
  *) echo "usage: $SCRIPT_NAME" >&2; exit 2 ;;
esac
`;

const PGDUMP_LOGIC = sh`[ "$DUMPS" = true ] || die "database dumps are off on $HOST (plone-aws:database.dump.enabled, offsiteBackups.enabled)"
# cron's plone-cron-job holds plone-aws-pgdump.lock: this lock is the script's own.
exec 8>"$LOCK_DIR/plone-aws-pgdump-run.lock"
if ! flock -n 8; then
  say "waiting for the dump that is running to finish"
  flock -w 7200 8 || die "another dump has been running for two hours ($LOCK_DIR/plone-aws-pgdump-run.lock)"
fi

# One dump per second at most: the name is its UTC time.
stamp=$(date -u +%Y-%m-%d-%H-%M-%S)
while [ "$stamp" = "$(cat "$WORK_DIR/.last" 2>/dev/null || true)" ]; do
  sleep 0.2
  stamp=$(date -u +%Y-%m-%d-%H-%M-%S)
done
name=$stamp.dump
file=$WORK_DIR/$name
trap 'rm -f -- "$file" "$file.part"' EXIT
say "dumping $DATABASE on $DB_SERVER (pg_dump -Fc)"
"$PG_BIN/pg_dump" --format=custom --no-password --file="$file.part" --dbname="$CONNINFO dbname=$(libpq_quote "$DATABASE")" ||
  die "pg_dump of $DATABASE on $DB_SERVER failed: no dump was copied"
entries=$("$PG_BIN/pg_restore" --list "$file.part" | grep -c -v '^;') || die "pg_restore cannot read the dump: it was not copied"
mv -f "$file.part" "$file"
printf '%s\n' "$stamp" >"$WORK_DIR/.last"
size=$(stat -c %s "$file")
target="s3://$BUCKET/$PREFIX/$DUMP_FOLDER/"
s3 cp "$file" "$target$name" --only-show-errors || die "copying the dump to $target$name failed"
rm -f -- "$file"
say "copied $name ($size bytes, $entries entries) to $target"

# Older dumps: those before the newest dump made before the KEEP_DAYS window.
cutoff=$(date -u -d "-$KEEP_DAYS days" +%Y-%m-%d-%H-%M-%S)
listing=$(s3 ls "$target" 2>&1) || [ -z "$listing" ] || die "listing $target failed: $listing"
mapfile -t names < <(awk '{print $4}' <<<"$listing" | grep -E '^[0-9]{4}(-[0-9]{2}){5}\.dump$' | sort)
keep_from=""
for old in "$\{names[@]}"; do
  if [[ ! $\{old:0:19} > $cutoff ]]; then keep_from=$\{old:0:19}; fi
done
for old in "$\{names[@]}"; do
  if [[ -n $keep_from && $\{old:0:19} < $keep_from ]]; then
    s3 rm "$target$old" --only-show-errors || die "removing the old dump $target$old failed"
    say "removed $old from the bucket (older than $KEEP_DAYS days)"
  fi
done
say "dump done: $target$name"
`;

/** plone-restore of a RelStorage stack: a dump from the bucket into a database on the stack's server. */
export function renderDumpRestoreScript(ctx: RenderContext): string {
    return `${scriptHeader(
        "plone-restore",
        [
            "--from WHEN [--source STACK] [--database NAME] [--force] [--check]:",
            "restore a dump of the RelStorage database from S3 (ops restore runs it).",
            "  WHEN      latest, YYYY-MM-DD (the last dump of that day, UTC), YYYY-MM-DD-HH-MM-SS (the last at or",
            "            before it, UTC), or the name of a dump (2025-01-31-20-00-05.dump).",
            "  STACK     whose dumps (this stack's, or one of offsiteBackups.restoreFrom); this stack by default.",
            "  NAME      the database to restore into, on this stack's server: created when it does not exist;",
            "            the stack's own database by default (stop the clients first: ops restore does).",
            "  --force   replace the tables of a database that holds data (refused without it).",
            "  --check   only say what would be restored; changes nothing.",
            "The restore is one transaction: a failure changes nothing (a database it created is dropped).",
        ],
        [],
    )}
SETTINGS=$\{PLONE_PGDUMP_ENV:-${pgdumpEnvPath(ctx)}}
${LIBPQ_QUOTE}${RESTORE_ARGUMENTS}${SETTINGS_AND_USER}${RESTORE_LOGIC}`;
}

const RESTORE_ARGUMENTS = sh`usage() { echo "usage: $SCRIPT_NAME --from WHEN [--source STACK] [--database NAME] [--force] [--check]" >&2; exit 2; }
from=""
source_stack=""
database=""
force=false
check=false
# In a function: its shifts leave the script's own arguments for the re-run as the deploy user.
parse_arguments() {
  while [ $# -gt 0 ]; do
    case $1 in
      --from) [ $# -ge 2 ] || usage; from=$2; shift ;;
      --source) [ $# -ge 2 ] || usage; source_stack=$2; shift ;;
      --database) [ $# -ge 2 ] || usage; database=$2; shift ;;
      --force) force=true ;;
      --check) check=true ;;
      -h | --help) sed -n '2,/^set /s/^# \{0,1\}//p' "$0" | sed '$d'; exit 0 ;;
      *) usage ;;
    esac
    shift
  done
}
parse_arguments "$@"
[ -n "$from" ] || usage
`;

const RESTORE_LOGIC = sh`database=$\{database:-$DATABASE}
source_stack=$\{source_stack:-$STACK}
# PostgreSQL names: at most 63 bytes, one line.
if [ "$(printf '%s' "$database" | wc -c)" -gt 63 ] || [[ $database =~ [[:cntrl:]] ]]; then
  die "--database: a PostgreSQL database name is one line of at most 63 bytes"
fi
if [[ $from == latest ]]; then
  when=9999-12-31-23-59-59
elif [[ $from =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]]; then
  when=$from-23-59-59
elif [[ $from =~ ^[0-9]{4}(-[0-9]{2}){5}$ ]]; then
  when=$from
elif [[ $from =~ ^[0-9]{4}(-[0-9]{2}){5}\.dump$ ]]; then
  when=""
else
  die "--from $from: give latest, YYYY-MM-DD, YYYY-MM-DD-HH-MM-SS (UTC) or the name of a dump"
fi
bucket=""
for i in "$\{!SOURCE_STACKS[@]}"; do
  if [[ $\{SOURCE_STACKS[i]} == "$source_stack" ]]; then bucket=$\{SOURCE_BUCKETS[i]}; fi
done
[ -n "$bucket" ] || die "this stack may read the dumps of $\{SOURCE_STACKS[*]:-no stack}, not of $source_stack: add $source_stack to plone-aws:offsiteBackups.restoreFrom"
prefix="s3://$bucket/$source_stack/$DUMP_FOLDER/"

listing=$(s3 ls "$prefix" 2>&1) || [ -z "$listing" ] || die "listing $prefix failed: $listing"
mapfile -t names < <(awk '{print $4}' <<<"$listing" | grep -E '^[0-9]{4}(-[0-9]{2}){5}\.dump$' | sort)
[ "$\{#names[@]}" -gt 0 ] || die "$prefix holds no dump"
dump=""
for name in "$\{names[@]}"; do
  if [[ -z $when && $name == "$from" ]] || [[ -n $when && ! $\{name:0:19} > $when ]]; then dump=$name; fi
done
if [ -z "$dump" ]; then
  if [ -z "$when" ]; then die "$prefix has no dump $from (the newest is $\{names[-1]})"; fi
  die "no dump of $source_stack at or before $when in $prefix (the oldest is $\{names[0]})"
fi

on_server() { # on_server DATABASE psql-arguments... < SQL: psql on this stack's server, as the stack's user
  local db=$1
  shift
  "$PG_BIN/psql" -X -q -w -A -t -v ON_ERROR_STOP=1 --dbname="$CONNINFO dbname=$(libpq_quote "$db")" "$@"
}
exists=$(on_server "$MAINTENANCE_DATABASE" -v db="$database" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
) || die "cannot reach $DB_SERVER as the stack's database user"
tables=0
rows=none
if [ "$exists" = 1 ]; then
  tables=$(on_server "$database" <<'SQL'
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%';
SQL
  ) || die "cannot read the tables of $database on $DB_SERVER"
  if [ "$(on_server "$database" <<<"SELECT to_regclass('object_state') IS NOT NULL;")" = t ]; then
    rows=$(on_server "$database" <<<"SELECT count(*) FROM object_state;") || die "cannot count the rows of object_state in $database"
  fi
fi
say "the dump is $dump of $source_stack ($prefix)"
if [ "$tables" -gt 0 ]; then
  if [ "$force" != true ]; then
    die "database \"$database\" on $DB_SERVER holds data ($tables tables; object_state: $rows rows): restoring would replace it, so nothing was changed. Run again with --force to replace its tables with the dump's, or restore into a new database with --database NEW_NAME"
  fi
  say "database \"$database\" holds data ($tables tables; object_state: $rows rows): its tables are replaced (--force)"
elif [ "$exists" = 1 ]; then
  say "database \"$database\" on $DB_SERVER exists and holds no table"
else
  say "database \"$database\" does not exist on $DB_SERVER: it is created"
fi
if [ "$check" = true ]; then
  say "check only: would restore $dump into \"$database\" on $DB_SERVER"
  exit 0
fi

file=$WORK_DIR/restore-$dump
created=""
done_ok=""
cleanup() {
  rm -f -- "$file"
  if [ -n "$created" ] && [ -z "$done_ok" ]; then
    on_server "$MAINTENANCE_DATABASE" -v db="$database" <<<'DROP DATABASE IF EXISTS :"db";' && say "dropped the database \"$database\" this restore had created"
  fi
}
trap cleanup EXIT
say "fetching $prefix$dump"
s3 cp "$prefix$dump" "$file" --only-show-errors || die "fetching $prefix$dump failed"
"$PG_BIN/pg_restore" --list "$file" >/dev/null || die "pg_restore cannot read $dump"
if [ "$exists" != 1 ]; then
  on_server "$MAINTENANCE_DATABASE" -v db="$database" <<<'CREATE DATABASE :"db";' || die "creating the database \"$database\" failed"
  created=1
fi
restore_args=(--no-owner --no-privileges --exit-on-error --single-transaction)
if [ "$tables" -gt 0 ]; then restore_args+=(--clean --if-exists); fi
say "restoring $dump into \"$database\" (pg_restore $\{restore_args[*]})"
# A client still connected holds locks: give up after a minute instead of waiting (nothing changes).
PGOPTIONS="-c lock_timeout=60000" "$PG_BIN/pg_restore" "$\{restore_args[@]}" --dbname="$CONNINFO dbname=$(libpq_quote "$database")" "$file" ||
  die "pg_restore failed: the transaction was rolled back, \"$database\" is as it was"
done_ok=1
restored_rows="no object_state table"
if [ "$(on_server "$database" <<<"SELECT to_regclass('object_state') IS NOT NULL;")" = t ]; then
  restored_rows="object_state: $(on_server "$database" <<<"SELECT count(*) FROM object_state;") rows"
fi
say "restored $dump of $source_stack into \"$database\" on $DB_SERVER ($restored_rows)"
`;

/** plone-postgresql-client install: postgresql-client-<major> of the engine, from Debian or from PostgreSQL's apt repository. */
export function renderPostgresqlClientScript(ctx: Pick<RenderContext, "spec">): string {
    return `${scriptHeader(
        "plone-postgresql-client",
        [
            `install: postgresql-client-${postgresqlMajor(ctx.spec)}, the client of the database's major version (database.engineVersion):`,
            "pg_dump refuses a server newer than itself. Debian's release when it has that version (bookworm: 15),",
            "else PostgreSQL's own apt repository (apt.postgresql.org), set up by Debian's postgresql-common",
            "with the key it ships (/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh).",
        ],
        [],
    )}
PACKAGE=${shellQuote(`postgresql-client-${postgresqlMajor(ctx.spec)}`)}
${CLIENT_LOGIC}`;
}

const CLIENT_LOGIC = sh`[ "$(id -u)" -eq 0 ] || die "run as root"
[ "$\{1:-}" = install ] || { echo "usage: $SCRIPT_NAME install" >&2; exit 2; }
if dpkg-query -W -f='$\{db:Status-Abbrev}' "$PACKAGE" 2>/dev/null | grep -q '^ii'; then
  finish
  exit 0
fi
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 --no-install-recommends "$@"; }
candidate() { apt-cache policy "$PACKAGE" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }'; }
apt_get update >/dev/null || die "apt-get update failed"
if [ -z "$(candidate)" ] || [ "$(candidate)" = "(none)" ]; then
  say "$PACKAGE is not in this Debian release: adding PostgreSQL's apt repository (apt.postgresql.org)"
  apt_get install postgresql-common >/dev/null || die "installing postgresql-common failed"
  /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y >/dev/null || die "adding apt.postgresql.org failed"
  apt_get update >/dev/null || die "apt-get update failed"
  note_change "added PostgreSQL's apt repository"
fi
apt_get install "$PACKAGE" >/dev/null || die "installing $PACKAGE failed"
note_change "installed $PACKAGE"
finish
`;
