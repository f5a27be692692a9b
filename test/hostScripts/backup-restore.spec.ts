// plone-backup and plone-restore, run for real on a ZEO server's layout in a temporary directory:
// the files plone-aws renders for a one-host ZEO stack (paths moved under the temp dir, ports
// swapped for free ones), a release whose programs run under a supervisord of the test's own.
//
// Stand-ins, said plainly: repozo needs ZODB, which cannot be installed here (no PyPI), so the
// release's bin/repozo is a stand-in with repozo's options, file names and selection rules, and
// bin/backup (collective.recipe.backup) runs it as bin/backup -q would. S3 is not reachable, so
// backup.env's AWS points at a stand-in for the aws command over a local directory of buckets,
// which refuses writes outside the stack's prefix as the host role's IAM policy does. The ZEO
// server and the client are the stand-in HTTP app of the deploy tests. Everything else (the
// scripts, supervisord, the file layout, the checks) is real.
import { expect } from "chai";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderOperationsFiles } from "../../components/render/operations";
import { offsitePrefix } from "../../components/topology/offsite";
import YAML from "yaml";
import { contextOf, variantConfig, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { installSshStandin } from "../helpers/sshStandin";
import { REPO } from "../helpers/stacks";
import { awsCalls, installAwsStandin, REPOZO_STANDIN, treeOf } from "../helpers/backupStandins";
import { installRelocated, installTestHost, runHostScript, STANDIN_APP } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, run, RunResult, sleepMs, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

describeAsRoot(
    "plone-backup and plone-restore (for real: repozo and aws stand-ins, a local bucket)",
    "the scripts run as root with DEPLOY_USER=root and switch users with runuser",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let buckets: string;
        let supervisord: TempSupervisord | undefined;
        let bucket: string;
        let prefix: string;
        let env: NodeJS.ProcessEnv;
        let stackFile: string;
        const datafs = () => `${root}/srv/data/filestorage/Data.fs`;
        const blobDir = () => `${root}/srv/data/blobstorage`;
        const repozoDir = () => `${root}/srv/data/backups/filestorage`;
        const s3 = (...key: string[]) => path.join(buckets, bucket, prefix, ...key);
        const copies: Record<string, { datafs: Buffer; blobs: Record<string, string> }> = {};
        const stamps: string[] = [];

        const script = (name: string, ...args: string[]): RunResult => {
            const r = run(`${root}/usr/local/sbin/${name}`, args, { env });
            if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${r.status}\n${r.stdout}${r.stderr}`);
            return r;
        };
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const writeBlob = (rel: string) => {
            const p = path.join(blobDir(), rel);
            fs.mkdirSync(path.dirname(p), { recursive: true });
            fs.writeFileSync(p, crypto.randomBytes(2048 + Math.floor(Math.random() * 4096)));
        };
        const appendTransactions = (bytes: number) => fs.appendFileSync(datafs(), crypto.randomBytes(bytes));
        const keep = (label: string) => (copies[label] = { datafs: fs.readFileSync(datafs()), blobs: treeOf(blobDir()) });
        const waitRunning = (program: string) => expect(supervisord!.settled(program)[program], program).to.equal("RUNNING");

        before(async function () {
            requireBinaries(this, "supervisord", "supervisorctl", "python3", "curl", "ss", "flock", "numfmt", "runuser");
            tmp = tempDir("backup");
            root = path.join(tmp.dir, "host");
            buckets = path.join(tmp.dir, "buckets");
            const base = await freePortRange(2);
            const [zeoPort] = await freePorts(1);
            const ports = { 8080: base, 8081: base + 1, 8001: zeoPort };

            const hosts = [{ name: "zeo-1", layers: ["frontend", "plone_instances", "zeoserver"] }];
            const sections = { plone: { storage: "zeo", blobs: "local", clientCount: 1, startTimeout: 10, drainTimeout: 5, warmupPaths: ["/"] } };
            const spec = variantSpec(hosts, sections);
            // The same stack as a stack file, for npm run ops.
            stackFile = path.join(tmp.dir, "Pulumi.variant.yaml");
            fs.writeFileSync(stackFile, YAML.stringify({ config: variantConfig(hosts, sections) }));
            const { ctx, host } = contextOf(spec);
            bucket = ctx.offsite!.bucket;
            prefix = offsitePrefix(spec);
            const aws = installAwsStandin(path.join(tmp.dir, "bin", "aws"), buckets, [`${bucket}/${prefix}/`]);

            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();
            installTestHost(ctx, host("zeo-1"), root, ports, { SUPERVISOR_CONF: supervisord.conf });
            // The test runs as root and this machine has no plone user: the backup settings say so too.
            installRelocated(renderOperationsFiles(ctx, host("zeo-1")), root, (file, content) =>
                file.path.endsWith("/backup.env")
                    ? `${content}# Test overrides\nAWS='${aws}'\nDEPLOY_USER=root\nLOG_DIR='${root}/var/log/plone-aws'\n`
                    : content,
            );

            // The release a deploy would have built: the stand-in ZEO server and client, repozo, bin/backup.
            const release = `${root}/srv/www/plone/releases/20250101000000`;
            fs.mkdirSync(`${release}/bin`, { recursive: true });
            fs.mkdirSync(`${root}/srv/www/plone/shared/var`, { recursive: true });
            fs.symlinkSync(`${root}/srv/www/plone/shared/var`, `${release}/var`);
            fs.writeFileSync(`${release}/standin-app.py`, STANDIN_APP);
            const program = (name: string, port: number) =>
                `#!/bin/sh\n# stand-in for buildout's bin/${name}\nexec python3 ${release}/standin-app.py ${port} ${name} ${release}\n`;
            fs.writeFileSync(`${release}/bin/zeoserver`, program("zeoserver", zeoPort), { mode: 0o755 });
            fs.writeFileSync(`${release}/bin/client1`, program("client1", base + 1), { mode: 0o755 });
            fs.writeFileSync(`${release}/bin/repozo`, REPOZO_STANDIN, { mode: 0o755 });
            fs.writeFileSync(
                `${release}/bin/backup`,
                `#!/bin/sh\n# stand-in for collective.recipe.backup's bin/backup -q: repozo with the locations of deploy.cfg's [backup]\nexec "$(dirname "$0")/repozo" -B -z -Q -r ${repozoDir()} -f ${datafs()}\n`,
                { mode: 0o755 },
            );
            fs.writeFileSync(`${release}/.plone-aws-release`, "commit=0123456789abcdef\nrevision=main\n");
            fs.symlinkSync(release, `${root}/srv/www/plone/current`);
            fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\n# stand-in for the haproxy agent\nexec sleep 3600\n", { mode: 0o755 });
            for (const d of [path.dirname(datafs()), repozoDir(), blobDir(), `${root}/var/log/plone-aws`, `${root}/var/log/supervisor`, `${tmp.dir}/lock`])
                fs.mkdirSync(d, { recursive: true });
            env = { ...process.env, PLONE_LOCK_DIR: `${tmp.dir}/lock` };
            delete env.PLONE_DEPLOY_ENV;

            // The site's data: a FileStorage that only grows (the stand-in ZEO server does not write it) and its blobs.
            fs.writeFileSync(datafs(), Buffer.concat([Buffer.from("FS21"), crypto.randomBytes(50_000)]));
            fs.writeFileSync(path.join(blobDir(), ".layout"), "bushy\n");
            for (const b of ["0x00/0x00/0x01/0x03cd.blob", "0x00/0x00/0x02/0x03ce.blob"]) writeBlob(b);
            expect(supervisord.ctl("update").status).to.equal(0);
            for (const p of ["plone-zeoserver", "plone-client1"]) waitRunning(p);
        });

        after(function () {
            supervisord?.stop();
            tmp?.cleanup();
        });

        it("plone-backup makes a full repozo backup and copies it and the blobs under the stack's prefix of the bucket", function () {
            const r = script("plone-backup");
            expectOk(r);
            expect(r.stdout).to.include("repozo stand-in: full backup");
            expect(r.stdout).to.include(`copying ${repozoDir()} to s3://${bucket}/${prefix}/filestorage/`);
            expect(r.stdout).to.include(`off-site copy done: s3://${bucket}/${prefix}/`);
            const local = fs.readdirSync(repozoDir()).sort();
            expect(local.map((n) => n.slice(19))).to.deep.equal([".dat", ".fsz", ".index"]);
            stamps.push(local[0].slice(0, 19));
            expect(treeOf(s3("filestorage"))).to.deep.equal(treeOf(repozoDir()));
            expect(treeOf(s3("blobstorage"))).to.deep.equal(treeOf(blobDir()));
            // Everything went under <bucket>/<stack>/ (the stand-in refuses any other write).
            expect(fs.readdirSync(path.join(buckets, bucket))).to.deep.equal([prefix]);
            keep("first");
        });

        it("a second run makes an increment and copies only what is new; blobs gone from the host stay in the bucket", function () {
            appendTransactions(20_000);
            writeBlob("0x00/0x00/0x03/0x0400.blob");
            const calls = awsCalls(buckets).length;
            sleepMs(1100);
            const r = script("plone-backup");
            expectOk(r);
            expect(r.stdout).to.include("repozo stand-in: incremental backup");
            const names = fs.readdirSync(repozoDir()).sort();
            expect(names.filter((n) => n.endsWith(".deltafsz"))).to.have.length(1);
            stamps.push(names.find((n) => n.endsWith(".deltafsz"))!.slice(0, 19));
            expect(treeOf(s3("filestorage"))).to.deep.equal(treeOf(repozoDir()));
            expect(
                awsCalls(buckets)
                    .slice(calls)
                    .map((c) => c.split(" ").slice(0, 2).join(" ")),
            ).to.deep.equal(["s3 sync", "s3 ls", "s3 sync"]);
            keep("second");
            expect(treeOf(s3("blobstorage"))).to.deep.equal(copies.second.blobs);
        });

        it("removes repozo files older than KEEP_DAYS from the bucket, keeping the last full backup before them", function () {
            const old = [
                "2020-01-01-00-00-00.fsz",
                "2020-01-01-00-00-00.dat",
                "2020-01-05-00-00-00.deltafsz",
                "2020-02-01-00-00-00.fsz",
                "2020-02-01-00-00-00.dat",
                "2020-02-03-00-00-00.deltafsz",
            ];
            for (const n of old) fs.writeFileSync(s3("filestorage", n), "old backup\n");
            const r = script("plone-backup", "--no-offsite");
            expectOk(r);
            expect(fs.readdirSync(s3("filestorage")).filter((n) => n.startsWith("2020"))).to.have.length(6);
            sleepMs(1100);
            const again = script("plone-backup");
            expectOk(again);
            expect(again.stdout).to.include("removed 2020-01-01-00-00-00.fsz from the bucket (older than 35 days)");
            expect(
                fs
                    .readdirSync(s3("filestorage"))
                    .filter((n) => n.startsWith("2020"))
                    .sort(),
            ).to.deep.equal(old.slice(3).sort());
            // The runs above made increments the bucket now has too; what was restorable stays so.
            for (const n of fs.readdirSync(repozoDir())) expect(fs.existsSync(s3("filestorage", n)), n).to.equal(true);
            for (const n of old.slice(3)) fs.rmSync(s3("filestorage", n));
            // A state to restore to later: the host's Data.fs after these runs.
            keep("latest");
        });

        it("restores the latest backup onto an empty filestorage (a new host): Data.fs and the blobs identical to the originals", function () {
            // The host loses its data, as a new staging host has none; a ZEO client cache of the old database is left.
            fs.rmSync(datafs());
            fs.rmSync(blobDir(), { recursive: true });
            fs.writeFileSync(`${root}/srv/www/plone/shared/var/zeoclient-1-1.zec`, "cache of a database that is gone\n");
            const zeoBefore = supervisord!.pidOf("plone-zeoserver");
            const r = script("plone-restore", "--from", "latest");
            expectOk(r);
            expect(fs.readFileSync(datafs()).equals(copies.latest.datafs), "Data.fs is byte for byte the original").to.equal(true);
            expect(treeOf(blobDir())).to.deep.equal(copies.latest.blobs);
            expect(r.stdout).to.include("client1: draining it in haproxy");
            expect(r.stdout).to.include("removed the ZEO client cache shared/var/zeoclient-1-1.zec");
            expect(fs.existsSync(`${root}/srv/www/plone/shared/var/zeoclient-1-1.zec`)).to.equal(false);
            expect(r.stdout).to.match(
                /restored variant's backup of 9999-12-31-23-59-59 \(the full backup of \d{4}(-\d\d){5} and \d+ increment\(s\)\) into .*Data.fs; the clients are stopped: plone-program start app/,
            );
            expect(supervisord!.states()).to.deep.include({ "plone-client1": "STOPPED", "plone-zeoserver": "RUNNING" });
            expect(supervisord!.pidOf("plone-zeoserver")).to.not.equal(zeoBefore);
            expect(fs.existsSync(`${root}/srv/data/backups/restore`), "the work directory is removed").to.equal(false);
            const start = script("plone-program", "start", "app");
            expectOk(start);
            expect(start.stdout).to.include("client1: back in rotation");
            waitRunning("plone-client1");
        });

        it("refuses to restore onto a filestorage that holds data without --force, and changes nothing (nor with --check)", function () {
            const before = fs.readFileSync(datafs());
            const pids = [supervisord!.pidOf("plone-zeoserver"), supervisord!.pidOf("plone-client1")];
            const r = script("plone-restore", "--from", stamps[0]);
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(
                /error: .*Data\.fs holds data \([\d.]+KiB, last written .*\): restoring would replace it\. Run again with --force to replace it \(it is kept as Data\.fs\.before-restore\)/,
            );
            const check = script("plone-restore", "--from", stamps[0], "--force", "--check");
            expectOk(check);
            expect(check.stdout).to.include("check only: would restore");
            expect(fs.readFileSync(datafs()).equals(before)).to.equal(true);
            expect(fs.existsSync(`${datafs()}.before-restore`)).to.equal(false);
            expect([supervisord!.pidOf("plone-zeoserver"), supervisord!.pidOf("plone-client1")]).to.deep.equal(pids);
        });

        it("with --force restores the state of an earlier date (the full backup alone), keeping the replaced database aside", function () {
            const replaced = fs.readFileSync(datafs());
            const r = script("plone-restore", "--from", stamps[0], "--force");
            expectOk(r);
            expect(r.stdout).to.include(`the backup is the full backup of ${stamps[0]} and 0 increment(s) after it (3 files with their .dat and .index)`);
            expect(fs.readFileSync(datafs()).equals(copies.first.datafs), "Data.fs as it was at the first backup").to.equal(true);
            expect(fs.readFileSync(`${datafs()}.before-restore`).equals(replaced)).to.equal(true);
            // Blobs are never deleted from the bucket: the restored directory has every blob the first backup had, unchanged.
            const blobs = treeOf(blobDir());
            for (const [rel, content] of Object.entries(copies.first.blobs)) expect(blobs[rel], rel).to.equal(content);
            expectOk(script("plone-program", "start", "app"));
        });

        it("restores a date between backups to the last backup at or before it, and refuses a date before the first", function () {
            const r = script("plone-restore", "--from", stamps[1], "--force");
            expectOk(r);
            expect(fs.readFileSync(datafs()).equals(copies.second.datafs), "Data.fs as it was at the second backup").to.equal(true);
            const early = script("plone-restore", "--from", "2019-12-31", "--force");
            expect(early.status).to.equal(1);
            expect(early.stderr).to.match(
                /error: no full backup of variant at or before 2019-12-31-23-59-59 in s3:\/\/.*\/variant\/filestorage\/ \(the oldest file is \d{4}(-\d\d){5}\./,
            );
            expect(fs.readFileSync(datafs()).equals(copies.second.datafs)).to.equal(true);
            expectOk(script("plone-program", "start", "app"));
        });

        it("reads only the stacks it may: another stack's backups need offsiteBackups.restoreFrom", function () {
            const r = script("plone-restore", "--from", "latest", "--source", "prod", "--force");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.include("this stack may read the backups of variant, not of prod: add prod to plone-aws:offsiteBackups.restoreFrom");
            const usage = script("plone-restore", "--from", "yesterday");
            expect(usage.status).to.equal(1);
            expect(usage.stderr).to.include("--from yesterday: give YYYY-MM-DD, YYYY-MM-DD-HH-MM-SS (UTC) or latest");
        });

        it("fails, naming the failure, when the copy to the bucket is refused (a prefix the host role may not write)", function () {
            const settings = `${root}/etc/plone-aws/plone/backup.env`;
            const original = fs.readFileSync(settings, "utf8");
            try {
                fs.writeFileSync(settings, `${original}PREFIX=prod\n`);
                const r = script("plone-backup");
                expect(r.status).to.equal(1);
                expect(r.stderr).to.include("AccessDenied");
                expect(r.stderr).to.include(`plone-backup: ERROR: copying ${repozoDir()} to s3://${bucket}/prod/filestorage/ failed`);
            } finally {
                fs.writeFileSync(settings, original);
            }
        });

        it("npm run ops -- variant restore runs the same scripts over SSH (a stand-in ssh that runs them on this layout)", function () {
            const ssh = installSshStandin(path.join(tmp.dir, "ssh"));
            const before = fs.readFileSync(datafs());
            const r = run(
                process.execPath,
                [
                    "-r",
                    "ts-node/register/transpile-only",
                    "scripts/ops.ts",
                    "--stack-file",
                    stackFile,
                    "restore",
                    "--from",
                    stamps[0],
                    "--target-stack-file",
                    stackFile,
                    "--force",
                    "--address",
                    "zeo-1=127.0.0.1",
                ],
                {
                    cwd: REPO,
                    env: { ...env, PLONE_AWS_SSH: ssh.program, SSH_STANDIN_LOG: ssh.log, SSH_STANDIN_ROOT: root },
                },
            );
            expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
            expect(ssh.calls().map((c) => c.destination)).to.deep.equal(["admin@127.0.0.1", "admin@127.0.0.1", "admin@127.0.0.1", "admin@127.0.0.1"]);
            expect(r.stdout).to.include("== zeo-1 (frontend, plone_instances, zeoserver): stop the clients (drained) and workers, remove their ZEO caches");
            expect(r.stdout).to.include("client1: back in rotation");
            expect(fs.readFileSync(datafs()).equals(copies.first.datafs)).to.equal(true);
            expect(fs.readFileSync(`${datafs()}.before-restore`).equals(before)).to.equal(true);
            expect(supervisord!.states()).to.deep.include({ "plone-client1": "RUNNING", "plone-zeoserver": "RUNNING" });
        });

        it("plone-backup and plone-restore print their usage on --help", function () {
            for (const name of ["plone-backup", "plone-restore"]) {
                const r = runHostScript(root, name, "--help");
                expectOk(r);
                expect(r.stdout).to.include(name);
            }
        });
    },
);
