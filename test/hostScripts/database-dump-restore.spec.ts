// plone-pgdump and the RelStorage plone-restore, run for real against PostgreSQL: the files plone-aws
// renders for the dump host of a RelStorage stack (pgdump.env, the 0600 pgpass, the scripts; paths
// moved under a temp dir), a PostgreSQL server of the test's own (Debian's postgresql, a cluster in
// a temp dir on a free port, password logins as RDS has them) standing for the stack's database,
// holding RelStorage's tables (object_state, current_object, transaction, blob_chunk, object_ref,
// the zoid sequence) with rows.
//
// Stand-in, said plainly: S3 is not reachable, so pgdump.env's AWS points at the aws stand-in of the
// repozo tests (test/helpers/backupStandins.ts) over a local directory of buckets, which refuses
// writes outside the stack's prefix as the host role's IAM policy does. Everything else (pg_dump,
// pg_restore, psql, the server, the scripts) is the real thing. The database password and the
// restore target's name are hostile (quotes, spaces, a backslash, ':' and '$').
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import type { RenderedFile } from "../../components/render/context";
import { renderOperationsFiles } from "../../components/render/operations";
import { offsitePrefix } from "../../components/topology/offsite";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { awsCalls, installAwsStandin } from "../helpers/backupStandins";
import { freePorts } from "../helpers/ports";
import { installedPostgresMajors, TempPostgres } from "../helpers/postgres";
import { describeAsRoot } from "../helpers/privileges";
import { installRelocated } from "../helpers/standin";
import { requireBinaries, run, RunResult, tempDir } from "../helpers/system";

/** RelStorage's history-preserving schema, cut down to what a dump and a restore must carry. */
const RELSTORAGE_SCHEMA = `
CREATE SEQUENCE zoid_seq;
CREATE TABLE transaction (tid BIGINT NOT NULL PRIMARY KEY, packed BOOLEAN NOT NULL DEFAULT FALSE, is_empty BOOLEAN NOT NULL DEFAULT FALSE,
  username BYTEA NOT NULL, description BYTEA NOT NULL, extension BYTEA);
CREATE TABLE object_state (zoid BIGINT NOT NULL, tid BIGINT NOT NULL REFERENCES transaction, prev_tid BIGINT NOT NULL,
  md5 CHAR(32), state_size BIGINT NOT NULL, state BYTEA, PRIMARY KEY (zoid, tid));
CREATE INDEX object_state_tid ON object_state (tid);
CREATE TABLE current_object (zoid BIGINT NOT NULL PRIMARY KEY, tid BIGINT NOT NULL, FOREIGN KEY (zoid, tid) REFERENCES object_state);
CREATE TABLE blob_chunk (zoid BIGINT NOT NULL, tid BIGINT NOT NULL, chunk_num BIGINT NOT NULL, chunk BYTEA NOT NULL,
  PRIMARY KEY (zoid, tid, chunk_num), FOREIGN KEY (zoid, tid) REFERENCES object_state ON DELETE CASCADE);
CREATE TABLE object_ref (zoid BIGINT NOT NULL, tid BIGINT NOT NULL, to_zoid BIGINT NOT NULL, PRIMARY KEY (tid, zoid, to_zoid));
`;

/** Transactions from `firstTid`, each writing a few objects (with pickles of random bytes), a blob and references. */
function transactionsSql(firstTid: number, count: number): string {
    return `
INSERT INTO transaction (tid, username, description, extension)
  SELECT t, convert_to('admin ' || t, 'UTF8'), convert_to('edit "page" ' || t || E' \\\\ done', 'UTF8'), decode(md5(t::text), 'hex')
  FROM generate_series(${firstTid}, ${firstTid + count - 1}) t;
INSERT INTO object_state (zoid, tid, prev_tid, md5, state_size, state)
  SELECT nextval('zoid_seq'), t, 0, md5(t::text || z), 600, decode(repeat(md5(random()::text), 20), 'hex')
  FROM generate_series(${firstTid}, ${firstTid + count - 1}) t, generate_series(1, 5) z;
INSERT INTO current_object (zoid, tid) SELECT zoid, max(tid) FROM object_state GROUP BY zoid
  ON CONFLICT (zoid) DO UPDATE SET tid = EXCLUDED.tid;
INSERT INTO blob_chunk (zoid, tid, chunk_num, chunk)
  SELECT zoid, tid, 0, decode(repeat(md5(zoid::text), 64), 'hex') FROM object_state WHERE tid >= ${firstTid} AND zoid % 7 = 0;
INSERT INTO object_ref (zoid, tid, to_zoid) SELECT zoid, tid, zoid + 1 FROM object_state WHERE tid >= ${firstTid};
`;
}

describeAsRoot(
    "plone-pgdump and plone-restore of a RelStorage stack (for real: PostgreSQL, the aws stand-in over a local bucket)",
    "initdb and the server run as the postgres user (runuser), and the scripts run as root with DEPLOY_USER=root",
    function () {
        const PASSWORD = String.raw`it's a "pass" \ word:$HOME`;
        const USER = "plone";
        const DATABASE = "plone";
        const HOSTILE_NAME = String.raw`restored "copy" it's \ x`;
        let tmp: { dir: string; cleanup: () => void };
        // The cluster's own directory: the postgres user must reach it (a temp dir is 0700, root's).
        let pgTmp: { dir: string; cleanup: () => void };
        let pg: TempPostgres;
        let root: string;
        let buckets: string;
        let bucket: string;
        let prefix: string;
        let env: NodeJS.ProcessEnv;
        let rendered: RenderedFile[];
        const dumpsDir = () => path.join(buckets, bucket, prefix, "pgdump");
        const dumps = () => (fs.existsSync(dumpsDir()) ? fs.readdirSync(dumpsDir()).sort() : []);

        const script = (name: string, ...args: string[]): RunResult => {
            const r = run(`${root}/usr/local/sbin/${name}`, args, { env });
            if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${r.status}\n${r.stdout}${r.stderr}`);
            return r;
        };
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const stamp = (daysAgo: number) =>
            new Date(Date.now() - daysAgo * 86_400_000)
                .toISOString()
                .replace(/\.\d+Z$/, "")
                .replace(/[T:]/g, "-");

        before(async function () {
            requireBinaries(this, "runuser", "python3", "flock", "psql");
            const majors = installedPostgresMajors();
            if (majors.length === 0) {
                if (process.env.CI) throw new Error("no PostgreSQL server under /usr/lib/postgresql (scripts/ensure-test-packages.sh installs postgresql)");
                console.log("      (skipped: Debian's postgresql is not installed; npm test installs it when run as root)");
                this.skip();
            }
            tmp = tempDir("pgdump");
            const [port] = await freePorts(1);
            pgTmp = tempDir("postgres");
            pg = new TempPostgres(pgTmp.dir, majors[0], port);
            pg.start();
            pg.query("postgres", `CREATE ROLE ${USER} LOGIN CREATEDB PASSWORD :'pw';`, { pw: PASSWORD });
            pg.query("postgres", `CREATE DATABASE ${DATABASE} OWNER ${USER};`);
            pg.query(DATABASE, `SET ROLE ${USER};\n${RELSTORAGE_SCHEMA}\n${transactionsSql(1000, 200)}`);

            // The dump host of a RelStorage stack whose database is this server (database.host: an external one),
            // the client of the server's major version (database.engineVersion).
            const hosts = [{ name: "app-1", layers: ["frontend", "plone_instances", "db_packing"] }];
            const spec = variantSpec(hosts, {
                plone: { storage: "relstorage", blobs: "database", clientCount: 1 },
                database: { host: "127.0.0.1", port, name: DATABASE, user: USER, engineVersion: majors[0] },
            });
            const { ctx, host } = contextOf(spec);
            ctx.secrets.dbPassword = PASSWORD;
            bucket = ctx.offsite!.bucket;
            prefix = offsitePrefix(spec);
            root = path.join(tmp.dir, "host");
            buckets = path.join(tmp.dir, "buckets");
            const aws = installAwsStandin(path.join(tmp.dir, "bin", "aws"), buckets, [`${bucket}/${prefix}/`]);
            rendered = renderOperationsFiles(ctx, host("app-1"));
            // The test runs as root and this machine has no plone user: the settings say so.
            installRelocated(rendered, root, (file, content) =>
                file.path.endsWith("/pgdump.env") ? `${content}# Test overrides\nAWS='${aws}'\nDEPLOY_USER=root\n` : content,
            );
            fs.mkdirSync(`${tmp.dir}/lock`, { recursive: true });
            env = { ...process.env, PLONE_LOCK_DIR: `${tmp.dir}/lock` };
        });

        after(function () {
            pg?.stop();
            pgTmp?.cleanup();
            tmp?.cleanup();
        });

        it("renders the password only into the 0600 pgpass file, escaped for libpq, never into a script or the settings", function () {
            const pgpass = rendered.find((f) => f.path.endsWith("/pgpass"))!;
            expect(pgpass.mode).to.equal("0600");
            expect(pgpass.content).to.equal(`127.0.0.1:${pg.port}:*:${USER}:${String.raw`it's a "pass" \\ word\:$HOME`}\n`);
            for (const f of rendered.filter((f) => f !== pgpass)) expect(f.content, f.path).not.to.include(PASSWORD).and.not.to.include('"pass"');
            const settings = rendered.find((f) => f.path.endsWith("/pgdump.env"))!.content;
            expect(settings).to.include(`PG_BIN=/usr/lib/postgresql/${pg.major}/bin`);
            // The connection string as the scripts read it: libpq-quoted values, no password.
            const read = run("bash", ["-c", 'source "$1" && printf %s "$CONNINFO"', "-", `${root}/etc/plone-aws/plone/pgdump.env`]);
            expect(read.stdout).to.equal(`host='127.0.0.1' port='${pg.port}' user='plone' connect_timeout='30'`);
        });

        it("plone-pgdump dumps the database (pg_dump -Fc) under the stack's prefix of the bucket and keeps nothing on the host", function () {
            const r = script("plone-pgdump");
            expectOk(r);
            expect(dumps()).to.have.length(1);
            const [name] = dumps();
            expect(name).to.match(/^\d{4}(-\d{2}){5}\.dump$/);
            expect(r.stdout).to.include(`copied ${name}`).and.include(`to s3://${bucket}/${prefix}/pgdump/`);
            // A custom-format archive that pg_restore reads, holding RelStorage's tables.
            const list = run(`${pg.bin}/pg_restore`, ["--list", path.join(dumpsDir(), name)]);
            expect(list.status, list.stderr).to.equal(0);
            for (const table of ["object_state", "current_object", "transaction", "blob_chunk", "object_ref", "zoid_seq"])
                expect(list.stdout).to.include(table);
            expect(fs.readdirSync(`${root}/srv/www/plone/shared/var/pgdump`).filter((f) => f.endsWith(".dump"))).to.deep.equal([]);
            expect(awsCalls(buckets).join("\n")).not.to.include("pass");
        });

        it("restores the newest dump into a new database with a name that needs quoting: every table and sequence identical", function () {
            const r = script("plone-restore", "--from", "latest", "--database", HOSTILE_NAME);
            expectOk(r);
            expect(r.stdout).to.include(`database "${HOSTILE_NAME}" does not exist`).and.include("object_state: 1000 rows");
            expect(pg.databases()).to.include(HOSTILE_NAME);
            const original = pg.contents(DATABASE);
            expect(Object.keys(original)).to.include.members(["public.object_state", "public.blob_chunk", "public.zoid_seq"]);
            expect(original["public.object_state"]).to.match(/^1000 rows, md5 [0-9a-f]{32}$/);
            expect(pg.contents(HOSTILE_NAME)).to.deep.equal(original);
            // The restoring user owns what it restored (--no-owner), as RDS's master user would.
            expect(pg.query(HOSTILE_NAME, "SELECT tableowner FROM pg_tables WHERE tablename = 'object_state';")).to.equal(USER);
        });

        it("refuses to restore into a database that holds data without --force, naming it and what to do, and changes nothing", function () {
            // Newer transactions than the dump holds: the refusal must leave them.
            pg.query(DATABASE, `SET ROLE ${USER};\n${transactionsSql(2000, 10)}`);
            const before = pg.contents(DATABASE);
            const databasesBefore = pg.databases();
            for (const args of [["--check"], []]) {
                const r = script("plone-restore", "--from", "latest", ...args);
                expect(r.status, r.stdout).to.equal(1);
                expect(r.stderr).to.include(`database "${DATABASE}" on 127.0.0.1:${pg.port} holds data`);
                expect(r.stderr).to.include("object_state: 1050 rows").and.include("nothing was changed");
                expect(r.stderr).to.include("--force").and.include("--database NEW_NAME");
            }
            expect(pg.contents(DATABASE)).to.deep.equal(before);
            expect(pg.databases()).to.deep.equal(databasesBefore);
        });

        it("with --force replaces the tables of the database with the dump's", function () {
            const dumped = pg.contents(HOSTILE_NAME);
            expect(pg.contents(DATABASE)).not.to.deep.equal(dumped);
            const r = script("plone-restore", "--from", "latest", "--force");
            expectOk(r);
            expect(r.stdout).to.include("its tables are replaced (--force)");
            expect(pg.contents(DATABASE)).to.deep.equal(dumped);
        });

        it("--check names the dump and the database and creates nothing", function () {
            const r = script("plone-restore", "--from", dumps()[0], "--database", "never_created", "--check");
            expectOk(r);
            expect(r.stdout).to.include(`check only: would restore ${dumps()[0]} into "never_created"`);
            expect(pg.databases()).not.to.include("never_created");
        });

        it("leaves no database behind when the dump cannot be read, and says which dump", function () {
            // A newer object that is not an archive (a broken upload): latest picks it.
            const broken = "2099-01-01-00-00-00.dump";
            fs.writeFileSync(path.join(dumpsDir(), broken), "not a dump");
            try {
                const r = script("plone-restore", "--from", "latest", "--database", "from_broken");
                expect(r.status).to.equal(1);
                expect(r.stderr).to.include(`pg_restore cannot read ${broken}`);
                expect(pg.databases()).not.to.include("from_broken");
            } finally {
                fs.rmSync(path.join(dumpsDir(), broken));
            }
        });

        it("prunes dumps older than keepDays, keeping the newest one before them, as the repozo copies are pruned", function () {
            const old = [100, 60, 40].map((d) => `${stamp(d)}.dump`);
            for (const name of old) fs.writeFileSync(path.join(dumpsDir(), name), "an old dump");
            const recent = dumps().filter((n) => !old.includes(n));
            const r = script("plone-pgdump");
            expectOk(r);
            expect(r.stdout).to.include(`removed ${old[0]}`).and.include(`removed ${old[1]}`);
            const after = dumps();
            expect(after).not.to.include(old[0]);
            expect(after).not.to.include(old[1]);
            // 40 days is the newest dump before the 35-day window: it covers the window's start.
            expect(after).to.include.members([old[2], ...recent]);
            expect(after).to.have.length(recent.length + 2);
        });

        it("run as root, re-runs itself as the deploy user with every argument it was given", function () {
            // The hosts' deploy user is plone; here a user that may read neither the password file
            // nor the buckets: what it stops at shows the arguments reached the second run.
            const settings = path.join(tmp.dir, "pgdump-as-nobody.env");
            fs.writeFileSync(settings, `${fs.readFileSync(`${root}/etc/plone-aws/plone/pgdump.env`, "utf8")}DEPLOY_USER=nobody\n`, { mode: 0o644 });
            const mode = fs.statSync(tmp.dir).mode & 0o777;
            fs.chmodSync(tmp.dir, 0o755);
            try {
                const r = run(`${root}/usr/local/sbin/plone-restore`, ["--from", "latest", "--database", "as_nobody", "--check"], {
                    env: { ...env, PLONE_PGDUMP_ENV: settings },
                });
                expect(r.stderr).not.to.include("usage:");
                expect(r.status, r.stderr).to.equal(1);
                expect(r.stderr).to.match(/cannot read \S+pgpass \(the configure step writes it\)/);
            } finally {
                fs.chmodSync(tmp.dir, mode);
            }
        });

        it("refuses a source stack it may not read and a --from it cannot parse", function () {
            const other = script("plone-restore", "--from", "latest", "--source", "prod");
            expect(other.status).to.equal(1);
            expect(other.stderr).to.include("not of prod: add prod to plone-aws:offsiteBackups.restoreFrom");
            const bad = script("plone-restore", "--from", "yesterday");
            expect(bad.status).to.equal(1);
            expect(bad.stderr).to.include("--from yesterday: give latest, YYYY-MM-DD");
        });
    },
);
