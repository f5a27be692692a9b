// npm run ops: which host scripts each command runs, on which hosts, in which order (the plan),
// and the runner over a stand-in ssh (it records the calls and exits as each test tells it for
// each address; see test/helpers/sshStandin.ts): through the bastion or directly, the remote
// command as root, the first failing host named, status reporting every host, a failed restore
// putting the clients back.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { buildTopology } from "../../components/topology";
import { OpsError, OpsOptions, planOps } from "../../scripts/lib/ops/commands";
import { remoteCommand } from "../../scripts/lib/ops/run";
import { opsCommand } from "../../scripts/ops";
import { variantSpec, VARIANTS } from "../helpers/appStacks";
import { installSshStandin } from "../helpers/sshStandin";
import { runCommand } from "../helpers/stackTools";
import { loadRepoStack, REPO } from "../helpers/stacks";
import { run, RunResult, tempDir } from "../helpers/system";

const NO_OPTIONS: OpsOptions = { hosts: [], layers: [], args: [], servers: false, force: false };

function view(stack: "dev" | "prod") {
    const spec = loadRepoStack(stack).spec;
    return { spec, topology: buildTopology(spec) };
}

function steps(v: ReturnType<typeof view>, command: Parameters<typeof planOps>[1], options: Partial<OpsOptions> = {}): string[] {
    return planOps(v, command, { ...NO_OPTIONS, ...options }).steps.map((s) => `${s.host}: ${s.command.join(" ")}`);
}

describe("ops: the plan of each command", () => {
    const prod = view("prod");
    const dev = view("dev");

    it("status visits every host and keeps going when one has problems", () => {
        const plan = planOps(prod, "status", NO_OPTIONS);
        expect(plan.steps.map((s) => s.host)).to.deep.equal(["web-1", "web-2", "app-1", "app-2", "cache-1", "blobs-1", "blobs-2"]);
        expect(plan.continueOnFailure).to.equal(true);
    });

    it("restart, rebuild and rollback go through the buildout hosts in restart waves, servers first", () => {
        const celery = VARIANTS.celery();
        const v = { spec: celery, topology: buildTopology(celery) };
        const waves = (on: typeof prod, command: Parameters<typeof planOps>[1], options: Partial<OpsOptions> = {}) =>
            planOps(on, command, { ...NO_OPTIONS, ...options }).steps.map((s) => `${s.wave} ${s.host}`);
        // The ZEO server alone, then both app hosts side by side (one client per app host), each
        // told how many of its clients may be out at once.
        expect(steps(v, "restart", { servers: true })).to.deep.equal([
            "zeo-1: /usr/local/sbin/plone-restart --servers",
            "app-1: /usr/local/sbin/plone-restart --servers --concurrency 1",
            "app-2: /usr/local/sbin/plone-restart --servers --concurrency 1",
        ]);
        expect(waves(v, "restart")).to.deep.equal(["1 zeo-1", "2 app-1", "2 app-2"]);
        expect(planOps(prod, "restart", NO_OPTIONS).maxUnavailable).to.equal(2);
        expect(waves(prod, "rebuild")).to.deep.equal(["1 app-1", "1 app-2"]);
        expect(steps(prod, "rebuild")).to.deep.equal(["app-1: /usr/local/sbin/plone-deploy rebuild", "app-2: /usr/local/sbin/plone-deploy rebuild"]);
        expect(steps(prod, "develop-up", { hosts: ["app-2"] })).to.deep.equal(["app-2: /usr/local/sbin/plone-deploy develop-up"]);
        expect(steps(prod, "rollback")).to.deep.equal(["app-1: /usr/local/sbin/plone-rollback", "app-2: /usr/local/sbin/plone-rollback"]);
        expect(waves(prod, "rollback")).to.deep.equal(["1 app-1", "1 app-2"]);
        expect(waves(dev, "restart")).to.deep.equal(["1 dev-1"]);
    });

    it("a pip stack (Plone 6): rebuild and rollback as a buildout's, develop-up refused with what to do instead", () => {
        const pip = VARIANTS.pipZeo();
        const v = { spec: pip, topology: buildTopology(pip) };
        expect(steps(v, "rebuild")).to.deep.equal(["zeo-1: /usr/local/sbin/plone-deploy rebuild", "app-1: /usr/local/sbin/plone-deploy rebuild"]);
        expect(steps(v, "rollback")).to.deep.equal(["zeo-1: /usr/local/sbin/plone-rollback", "app-1: /usr/local/sbin/plone-rollback"]);
        expect(() => steps(v, "develop-up")).to.throw(OpsError, /the pip builder checks mx.ini's sources out in every build: ops rebuild/);
    });

    it("Volto: status, restart and rollback reach the volto hosts; restart and rollback take a part (backend or volto); start and stop take volto and voltoN", () => {
        const spec = variantSpec(
            [
                { name: "web-1", layers: ["frontend", "volto"] },
                { name: "zeo-1", layers: ["zeoserver"] },
                { name: "app-1", layers: ["plone_instances", "volto"] },
                { name: "volto-1", layers: ["volto"] },
            ],
            { plone: { storage: "zeo", blobs: "zeo", clientCount: 2 }, volto: { processCount: 2 } },
        );
        const v = { spec, topology: buildTopology(spec) };
        expect(planOps(v, "status", NO_OPTIONS).steps.map((s) => s.host)).to.deep.equal(["web-1", "zeo-1", "app-1", "volto-1"]);
        // Every release host: the build hosts in their order, then the volto hosts that build nothing else.
        expect(steps(v, "restart")).to.deep.equal([
            "zeo-1: /usr/local/sbin/plone-restart",
            "app-1: /usr/local/sbin/plone-restart --concurrency 1 --volto-concurrency 1",
            "web-1: /usr/local/sbin/plone-restart --volto-concurrency 1",
            "volto-1: /usr/local/sbin/plone-restart --volto-concurrency 1",
        ]);
        expect(steps(v, "restart", { args: ["volto"] })).to.deep.equal([
            "app-1: /usr/local/sbin/plone-restart --frontend --volto-concurrency 1",
            "web-1: /usr/local/sbin/plone-restart --frontend --volto-concurrency 1",
            "volto-1: /usr/local/sbin/plone-restart --frontend --volto-concurrency 1",
        ]);
        // --max-unavailable gives the Volto processes their share of it too, as the clients get theirs.
        const wideSpec = variantSpec(
            [
                { name: "web-1", layers: ["frontend"] },
                { name: "app-1", layers: ["plone_instances", "zeoserver"] },
                { name: "volto-1", layers: ["volto"] },
            ],
            { plone: { clientCount: 2 }, volto: { processCount: 4 } },
        );
        const wide = { spec: wideSpec, topology: buildTopology(wideSpec) };
        expect(steps(wide, "restart", { args: ["volto"] })).to.deep.equal(["volto-1: /usr/local/sbin/plone-restart --frontend --volto-concurrency 1"]);
        expect(steps(wide, "restart", { args: ["volto"], maxUnavailable: "75%" })).to.deep.equal([
            "volto-1: /usr/local/sbin/plone-restart --frontend --volto-concurrency 2",
        ]);
        expect(steps(v, "restart", { args: ["backend"] })).to.deep.equal([
            "zeo-1: /usr/local/sbin/plone-restart --backend",
            "app-1: /usr/local/sbin/plone-restart --backend --concurrency 1",
        ]);
        expect(steps(v, "rollback")).to.deep.equal([
            "zeo-1: /usr/local/sbin/plone-rollback",
            "app-1: /usr/local/sbin/plone-rollback",
            "web-1: /usr/local/sbin/plone-rollback",
            "volto-1: /usr/local/sbin/plone-rollback",
        ]);
        expect(steps(v, "rollback", { args: ["volto"], hosts: ["volto-1"] })).to.deep.equal(["volto-1: /usr/local/sbin/plone-rollback --frontend"]);
        expect(steps(v, "rebuild").map((s) => s.split(":")[0])).to.deep.equal(["zeo-1", "app-1", "web-1", "volto-1"]);
        expect(() => planOps(v, "restart", { ...NO_OPTIONS, args: ["frontend"] })).to.throw(
            OpsError,
            "restart takes one of backend, volto, or nothing for both (not frontend)",
        );
        expect(() => planOps(v, "restart", { ...NO_OPTIONS, args: ["volto"], servers: true })).to.throw(OpsError, "--servers restarts the ZEO server and Solr");
        expect(() => planOps(v, "restart", { ...NO_OPTIONS, args: ["volto"], hosts: ["zeo-1"] })).to.throw(
            OpsError,
            "restart volto: no selected host runs it (it runs on app-1, web-1, volto-1)",
        );
        expect(steps(v, "stop", { args: ["volto"] })).to.deep.equal([
            "volto-1: /usr/local/sbin/plone-program stop volto",
            "web-1: /usr/local/sbin/plone-program stop volto",
            "app-1: /usr/local/sbin/plone-program stop volto",
        ]);
        expect(steps(v, "start", { args: ["volto2"], hosts: ["web-1"] })).to.deep.equal(["web-1: /usr/local/sbin/plone-program start volto2"]);
        expect(steps(v, "start", { args: ["plone-volto1"] }).map((s) => s.split(":")[0])).to.deep.equal(["app-1", "web-1", "volto-1"]);
        expect(() => planOps(v, "start", { ...NO_OPTIONS, args: ["volto3"] })).to.throw(
            OpsError,
            "start volto3: no host runs a service or program of that name",
        );
        // Without volto hosts, the part volto is nowhere.
        expect(() => planOps(prod, "restart", { ...NO_OPTIONS, args: ["volto"] })).to.throw(
            OpsError,
            "restart volto: no selected host runs it (no host of the stack runs it)",
        );
    });

    it("restart --max-unavailable: waves for that limit instead of plone.maxUnavailable, checked as the schema checks it", () => {
        const waves = (options: Partial<OpsOptions>) => {
            const p = planOps(prod, "restart", { ...NO_OPTIONS, ...options });
            return { max: p.maxUnavailable, steps: p.steps.map((s) => `${s.wave} ${s.host} ${s.command.slice(1).join(" ")}`) };
        };
        expect(waves({ maxUnavailable: "1" })).to.deep.equal({ max: 1, steps: ["1 app-1 --concurrency 1", "2 app-2 --concurrency 1"] });
        expect(waves({ maxUnavailable: "25%" })).to.deep.equal({ max: 4, steps: ["1 app-1 --concurrency 2", "1 app-2 --concurrency 2"] });
        expect(waves({ maxUnavailable: "3 per host" })).to.deep.equal({ max: 6, steps: ["1 app-1 --concurrency 3", "1 app-2 --concurrency 3"] });
        // --host narrows the waves; the limit still holds.
        expect(waves({ maxUnavailable: "25%", hosts: ["app-2"] })).to.deep.equal({ max: 4, steps: ["1 app-2 --concurrency 2"] });
        expect(() => planOps(prod, "restart", { ...NO_OPTIONS, maxUnavailable: "0" })).to.throw(
            OpsError,
            "--max-unavailable 0: must be a count of clients of at least 1",
        );
        expect(() => planOps(prod, "restart", { ...NO_OPTIONS, maxUnavailable: "150%" })).to.throw(
            OpsError,
            '--max-unavailable 150%: must be a count of clients of at least 1 (2), a share of them from 1% to 100% ("25%"), or a count per app host ("1 per host")',
        );
        expect(() => planOps(prod, "rollback", { ...NO_OPTIONS, maxUnavailable: "2" })).to.throw(OpsError, "--max-unavailable applies to restart only");
    });

    it("start and stop a system service where it runs, or the app's programs (stop in reverse order)", () => {
        expect(steps(prod, "stop", { args: ["varnish"] })).to.deep.equal([
            "web-1: /usr/local/sbin/plone-service stop varnish",
            "web-2: /usr/local/sbin/plone-service stop varnish",
        ]);
        expect(steps(prod, "start", { args: ["memcached"] })).to.deep.equal(["cache-1: /usr/local/sbin/plone-service start memcached"]);
        expect(steps(prod, "stop", { args: ["clients"] })).to.deep.equal([
            "app-2: /usr/local/sbin/plone-program stop clients",
            "app-1: /usr/local/sbin/plone-program stop clients",
        ]);
        expect(steps(dev, "start", { args: ["zeoserver"] })).to.deep.equal(["dev-1: /usr/local/sbin/plone-program start zeoserver"]);
        expect(steps(dev, "stop", { args: ["client2"] })).to.deep.equal(["dev-1: /usr/local/sbin/plone-program stop client2"]);
        expect(() => planOps(dev, "stop", { ...NO_OPTIONS, args: ["client9"] })).to.throw(
            OpsError,
            "stop client9: no host runs a service or program of that name",
        );
        expect(() => planOps(prod, "stop", { ...NO_OPTIONS, args: [] })).to.throw(OpsError, "stop needs one service or program");
    });

    it("purges Varnish on every front end, with the given regexes or the configured ones", () => {
        expect(steps(prod, "varnish-purge", { args: ["^/news", "\\.css$"] })).to.deep.equal([
            "web-1: /usr/local/sbin/plone-varnish-purge ^/news \\.css$",
            "web-2: /usr/local/sbin/plone-varnish-purge ^/news \\.css$",
        ]);
        expect(planOps(prod, "varnish-purge", NO_OPTIONS).steps[0].what).to.equal("ban .*");
    });

    it("packs and backs up where the data is: the ZEO server, or the RelStorage packing host (the database dump, then the blobs)", () => {
        expect(steps(dev, "pack")).to.deep.equal(["dev-1: /usr/local/sbin/plone-pack"]);
        expect(steps(prod, "pack")).to.deep.equal(["app-1: /usr/local/sbin/plone-pack"]);
        expect(steps(dev, "backup")).to.deep.equal(["dev-1: /usr/local/sbin/plone-backup"]);
        expect(steps(prod, "backup")).to.deep.equal(["app-1: /usr/local/sbin/plone-pgdump", "app-1: /usr/local/sbin/plone-backup"]);
        const inDatabase = VARIANTS.databaseBlobs();
        expect(steps({ spec: inDatabase, topology: buildTopology(inDatabase) }, "backup")).to.deep.equal(["app-1: /usr/local/sbin/plone-pgdump"]);
        const noDump = { ...inDatabase, database: { ...inDatabase.database!, dump: { ...inDatabase.database!.dump, enabled: false } } };
        expect(() => planOps({ spec: noDump, topology: buildTopology(noDump) }, "backup", NO_OPTIONS)).to.throw(OpsError, "RDS's automated backups");
    });

    it("restores a RelStorage dump on the dump host: into the stack's database with the clients and memcached stopped, into another one with nothing stopped", () => {
        const staging = { ...prod, spec: { ...prod.spec, stackName: "staging", offsiteBackups: { ...prod.spec.offsiteBackups, restoreFrom: ["prod"] } } };
        const plan = planOps(staging, "restore", { ...NO_OPTIONS, from: "latest", source: "prod", force: true });
        expect(plan.steps.map((s) => `${s.host}: ${s.command.join(" ")}`)).to.deep.equal([
            "app-1: /usr/local/sbin/plone-restore --from latest --source prod --force --check",
            "app-2: /usr/local/sbin/plone-program stop app",
            "app-1: /usr/local/sbin/plone-program stop app",
            "cache-1: /usr/local/sbin/plone-service stop memcached",
            "app-1: /usr/local/sbin/plone-restore --from latest --source prod --force",
            "cache-1: /usr/local/sbin/plone-service start memcached",
            "app-1: /usr/local/sbin/plone-program start app",
            "app-2: /usr/local/sbin/plone-program start app",
        ]);
        expect(plan.recover.map((s) => s.host)).to.deep.equal(["cache-1", "app-1", "app-2"]);
        const copy = planOps(staging, "restore", { ...NO_OPTIONS, from: "2025-01-31", source: "prod", database: 'check "copy"' });
        expect(copy.steps.map((s) => s.command)).to.deep.equal([
            ["/usr/local/sbin/plone-restore", "--from", "2025-01-31", "--source", "prod", "--database", 'check "copy"', "--check"],
            ["/usr/local/sbin/plone-restore", "--from", "2025-01-31", "--source", "prod", "--database", 'check "copy"'],
        ]);
        expect(copy.recover).to.deep.equal([]);
        expect(() => planOps(staging, "restore", { ...NO_OPTIONS, from: "latest", source: "qa" })).to.throw(
            OpsError,
            "add qa to plone-aws:offsiteBackups.restoreFrom",
        );
        expect(() => planOps(prod, "status", { ...NO_OPTIONS, database: "x" })).to.throw(OpsError, "--database applies to restore only");
        const closed = { ...prod, spec: { ...prod.spec, offsiteBackups: { ...prod.spec.offsiteBackups, enabled: false } } };
        expect(() => planOps(closed, "restore", { ...NO_OPTIONS, from: "latest" })).to.throw(OpsError, "prod reads no off-site database dumps");
    });

    it("restores onto a ZEO stack: check, stop the clients everywhere, restore, start them; a failure starts them again", () => {
        const nfs = VARIANTS.nfs();
        const staging = { spec: { ...nfs, offsiteBackups: { ...nfs.offsiteBackups, restoreFrom: ["prod"] } }, topology: buildTopology(nfs) };
        const plan = planOps(staging, "restore", { ...NO_OPTIONS, from: "2025-01-31", source: "prod" });
        expect(plan.steps.map((s) => `${s.host}: ${s.command.join(" ")}`)).to.deep.equal([
            "zeo-1: /usr/local/sbin/plone-restore --from 2025-01-31 --source prod --check",
            "app-2: /usr/local/sbin/plone-program stop app --clear-cache",
            "app-1: /usr/local/sbin/plone-program stop app --clear-cache",
            "zeo-1: /usr/local/sbin/plone-restore --from 2025-01-31 --source prod",
            "app-1: /usr/local/sbin/plone-program start app",
            "app-2: /usr/local/sbin/plone-program start app",
        ]);
        expect(plan.recover.map((s) => s.host)).to.deep.equal(["app-1", "app-2"]);
        expect(() => planOps(staging, "restore", { ...NO_OPTIONS, from: "latest", source: "qa" })).to.throw(
            OpsError,
            "add qa to plone-aws:offsiteBackups.restoreFrom",
        );
        expect(() => planOps(staging, "restore", { ...NO_OPTIONS, source: "prod" })).to.throw(OpsError, "restore needs --from DATE");
        expect(() => planOps(staging, "restore", { ...NO_OPTIONS, from: "latest", source: "prod", database: "x" })).to.throw(
            OpsError,
            "--database applies to RelStorage stacks",
        );
    });

    it("hostile arguments for Volto's parts and programs are refused before anything runs, the value never reaching a host script", () => {
        const spec = variantSpec([{ name: "one", layers: ["frontend", "plone_instances", "zeoserver", "volto"] }], {
            plone: { storage: "zeo", blobs: "local" },
        });
        const v = { spec, topology: buildTopology(spec) };
        for (const hostile of ["volto; touch /tmp/x", "$(touch /tmp/x)", "`id`", "--frontend", "volto\nbackend", "", "x".repeat(100000)]) {
            for (const command of ["restart", "rollback"] as const) {
                expect(() => planOps(v, command, { ...NO_OPTIONS, args: [hostile] }), `${command} ${hostile.slice(0, 20)}`).to.throw(
                    OpsError,
                    `${command} takes one of backend, volto, or nothing for both`,
                );
            }
            for (const command of ["start", "stop"] as const) {
                expect(() => planOps(v, command, { ...NO_OPTIONS, args: [hostile] }), `${command} ${hostile.slice(0, 20)}`).to.throw(
                    OpsError,
                    "no host runs a service or program of that name",
                );
            }
        }
        expect(() => planOps(v, "restart", { ...NO_OPTIONS, args: ["volto", "backend"] })).to.throw(OpsError, "restart takes one of backend, volto");
    });

    it("narrows to --host and --layer, and names what does not exist", () => {
        expect(steps(prod, "status", { layers: ["frontend"] })).to.deep.equal(["web-1: /usr/local/sbin/plone-status", "web-2: /usr/local/sbin/plone-status"]);
        expect(() => planOps(prod, "status", { ...NO_OPTIONS, hosts: ["web-9"] })).to.throw(OpsError, "--host web-9: the stack has no such host");
        expect(() => planOps(prod, "status", { ...NO_OPTIONS, layers: ["zeoserver"] })).to.throw(
            OpsError,
            "--layer zeoserver: no host of the stack carries it",
        );
        expect(() => planOps(prod, "restart", { ...NO_OPTIONS, hosts: ["web-1"] })).to.throw(
            OpsError,
            "restart: no selected host runs it (it runs on app-1, app-2)",
        );
    });

    it("runs every host script as root, each word quoted for the remote shell", () => {
        expect(remoteCommand(["/usr/local/sbin/plone-varnish-purge", "^/a b$", "it's"])).to.equal(
            `if [ "$(id -u)" -eq 0 ]; then /usr/local/sbin/plone-varnish-purge '^/a b$' 'it'\\''s'; else sudo -n /usr/local/sbin/plone-varnish-purge '^/a b$' 'it'\\''s'; fi`,
        );
    });
});

describe("ops: the runner over a stand-in ssh", function () {
    const tmp = tempDir("ops");
    const ssh = installSshStandin(path.join(tmp.dir, "ssh"));
    after(() => tmp.cleanup());

    /** The environment of a call: the stand-in ssh, and the exit status it gives each address. Clears the stand-in's log, so ssh.calls() lists this call's connections only. */
    const standinEnv = (exits: Record<string, number> = {}, failOn?: string, extraEnv: Record<string, string> = {}): NodeJS.ProcessEnv => {
        fs.rmSync(ssh.log, { force: true });
        const env: NodeJS.ProcessEnv = { ...process.env, PLONE_AWS_SSH: ssh.program, SSH_STANDIN_LOG: ssh.log, ...extraEnv };
        if (failOn) env.SSH_STANDIN_FAIL_ON = failOn;
        for (const [address, code] of Object.entries(exits)) env[`SSH_STANDIN_EXIT_${address.replace(/[.-]/g, "_")}`] = String(code);
        return env;
    };
    /** npm run ops, called in this process (its output captured). */
    const ops = (args: string[], exits: Record<string, number> = {}, failOn?: string, extraEnv: Record<string, string> = {}): Promise<RunResult> =>
        runCommand(opsCommand, args, { env: standinEnv(exits, failOn, extraEnv) });
    /** npm run ops as its own process: the host's output goes straight to the process's stdout. */
    const opsProcess = (args: string[]): RunResult =>
        run(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/ops.ts", ...args], { cwd: REPO, env: standinEnv() });
    const outputs = path.join(tmp.dir, "prod-outputs.json");
    fs.writeFileSync(
        outputs,
        JSON.stringify({
            bastionAddress: "198.51.100.113",
            sshAddresses: {
                "web-1": "10.40.128.10",
                "web-2": "10.40.144.10",
                "app-1": "10.40.128.11",
                "app-2": "10.40.144.11",
                "cache-1": "10.40.128.12",
                "blobs-1": "10.40.128.13",
                "blobs-2": "10.40.144.12",
            },
        }),
    );
    const key = path.join(tmp.dir, "id_ed25519");
    fs.writeFileSync(key, "not a real key\n", { mode: 0o600 });

    it("connects through the bastion (ProxyJump, or a hop with the key given by --identity), as the stack's login user", async () => {
        const r = await ops(["prod", "varnish-purge", "--outputs", outputs]);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.include("== web-1 (frontend): ban .*");
        // Called in-process, a single host's output comes through the command's io.
        expect(r.stdout).to.include("stand-in ssh: ran on 10.40.128.10\n");
        const calls = ssh.calls();
        expect(calls.map((c) => c.destination)).to.deep.equal(["admin@10.40.128.10", "admin@10.40.144.10"]);
        expect(calls[0].args).to.include.members(["-J", "admin@198.51.100.113", "-o", "BatchMode=yes"]);
        expect(calls[0].remote).to.equal(remoteCommand(["/usr/local/sbin/plone-varnish-purge"]));

        const withKey = await ops(["prod", "pack", "--outputs", outputs, "--identity", key]);
        expect(withKey.status, withKey.stderr).to.equal(0);
        const [call] = ssh.calls();
        expect(call.destination).to.equal("admin@10.40.128.11");
        expect(call.args).to.include.members(["-i", key]);
        expect(call.args.find((a) => a.startsWith("ProxyCommand="))).to.equal(
            `ProxyCommand=${ssh.program} -o BatchMode=yes -o ConnectTimeout=20 -o StrictHostKeyChecking=accept-new -o ServerAliveInterval=30 -i ${key} -o IdentitiesOnly=yes -W %h:%p admin@198.51.100.113`,
        );
    });

    it("stops at the first host that fails, names it and the hosts it did not touch, and exits 1", async () => {
        const r = await ops(["prod", "restart", "--outputs", outputs, "--max-unavailable", "1"], { "10.40.128.11": 1 });
        expect(r.status).to.equal(1);
        expect(ssh.calls().map((c) => c.destination)).to.deep.equal(["admin@10.40.128.11"]);
        expect(r.stdout).to.include("!! rolling restart of the app's programs failed on app-1 (exit 1); not run on: app-2");
        expect(r.stderr).to.include("ops: rolling restart of the app's programs failed on app-1 (exit 1)");
        const unreachable = await ops(["prod", "stop", "haproxy", "--outputs", outputs], { "10.40.144.10": 255 });
        expect(unreachable.status).to.equal(1);
        expect(unreachable.stderr).to.include("ops: could not reach web-2 (10.40.144.10) over SSH (exit 255)");
    });

    it("runs a restart wave's hosts at the same time, each line of their output named; a failure in it ends the command after the wave", async () => {
        const r = await ops(["prod", "restart", "--outputs", outputs], {}, undefined, { SSH_STANDIN_SLEEP: "1" });
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.include("at most 2 client(s) of the stack out of rotation at once");
        expect(r.stdout).to.include("== at the same time (restart wave 1): app-1, app-2");
        expect(r.stdout).to.include("[app-1] stand-in ssh: ran on 10.40.128.11");
        expect(r.stdout).to.include("[app-2] stand-in ssh: ran on 10.40.144.11");
        const calls = ssh.calls();
        expect(calls.map((c) => c.destination).sort()).to.deep.equal(["admin@10.40.128.11", "admin@10.40.144.11"]);
        // Each call lasted a second; each began before the other ended.
        expect(calls[0].started).to.be.lessThan(calls[1].ended);
        expect(calls[1].started).to.be.lessThan(calls[0].ended);
        for (const c of calls) expect(c.remote).to.include("/usr/local/sbin/plone-restart --concurrency 1;");

        const failing = await ops(["prod", "restart", "--outputs", outputs], { "10.40.144.11": 1 });
        expect(failing.status).to.equal(1);
        expect(ssh.calls()).to.have.length(2);
        expect(failing.stdout).to.include("!! rolling restart of the app's programs failed on app-2 (exit 1); it was the last host");
    });

    it("status reports every host, then exits 1 naming the hosts with problems", async () => {
        const r = await ops(["prod", "status", "--outputs", outputs], { "10.40.128.11": 3, "10.40.128.13": 255 });
        expect(r.status).to.equal(1);
        expect(ssh.calls()).to.have.length(7);
        expect(r.stdout).to.include("!! app-1 has problems (listed above)");
        expect(r.stdout).to.include("!! could not reach blobs-1 (10.40.128.13) over SSH (exit 255)");
        expect(r.stderr).to.include("ops: problems on app-1, blobs-1");
    });

    it("takes addresses from --address on a stack reached directly, and says which host has none", async () => {
        // A process of its own: a single host's output streams straight through.
        const r = opsProcess(["dev", "status", "--address", "dev-1=203.0.113.20"]);
        expect(r.stdout).to.include("stand-in ssh: ran on 203.0.113.20");
        expect(r.status, r.stderr).to.equal(0);
        const [call] = ssh.calls();
        expect(call.destination).to.equal("admin@203.0.113.20");
        expect(call.args).to.not.include("-J");
        const none = await ops(["dev", "status", "--outputs", path.join(tmp.dir, "missing.json")]);
        expect(none.status).to.equal(1);
        expect(none.stderr).to.include("--outputs");
        fs.writeFileSync(path.join(tmp.dir, "empty.json"), "{}");
        const noAddress = await ops(["dev", "status", "--outputs", path.join(tmp.dir, "empty.json")]);
        expect(noAddress.status).to.equal(1);
        expect(noAddress.stderr).to.include("error: no address for dev-1: give --address HOST=ADDRESS, or --outputs FILE (pulumi stack output --json)");
    });

    it("restore stops the clients, restores, starts them; when the restore fails on the ZEO server it starts them again, exit 1", async () => {
        const stagingFile = path.join(tmp.dir, "Pulumi.staging.yaml");
        fs.writeFileSync(
            stagingFile,
            fs
                .readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8")
                .replace("plone-aws:tier: development", "plone-aws:tier: staging\n  plone-aws:offsiteBackups:\n    restoreFrom: [prod]"),
        );
        const args = ["prod", "restore", "--from", "2025-01-31", "--target-stack-file", stagingFile, "--address", "dev-1=203.0.113.20"];
        const script = (remote: string) => remote.split(" ").slice(8, 11).join(" ").replace(/;$/, "");
        const r = await ops(args);
        expect(r.status, r.stderr).to.equal(0);
        expect(r.stdout).to.include("ops restore on stack staging onto staging");
        expect(ssh.calls().map((c) => script(c.remote))).to.deep.equal([
            "/usr/local/sbin/plone-restore --from 2025-01-31",
            "/usr/local/sbin/plone-program stop app",
            "/usr/local/sbin/plone-restore --from 2025-01-31",
            "/usr/local/sbin/plone-program start app",
        ]);
        expect(ssh.calls()[0].remote).to.include("--source prod --check;");

        const failing = await ops(args, {}, "--source prod; ");
        expect(failing.status).to.equal(1);
        expect(failing.stderr).to.include("ops: restore prod's backup of 2025-01-31 failed on dev-1 (exit 1)");
        expect(failing.stdout).to.include("== putting the clients back into service");
        expect(ssh.calls().map((c) => script(c.remote))).to.deep.equal([
            "/usr/local/sbin/plone-restore --from 2025-01-31",
            "/usr/local/sbin/plone-program stop app",
            "/usr/local/sbin/plone-restore --from 2025-01-31",
            "/usr/local/sbin/plone-program start app",
        ]);
        const wrongSource = await ops(["dev", "restore", "--from", "latest", "--target-stack-file", stagingFile, "--address", "dev-1=203.0.113.20"]);
        expect(wrongSource.status).to.equal(1);
        expect(wrongSource.stderr).to.include("error: staging may not read dev's backups: add dev to plone-aws:offsiteBackups.restoreFrom of staging");
    });

    it("prints its usage, and refuses an unknown command (exit 2)", async () => {
        const help = await ops(["--help"]);
        expect(help.status).to.equal(0);
        expect(help.stdout).to.include("usage: npm run ops -- <stack> <command>");
        const unknown = await ops(["dev", "reboot"]);
        expect(unknown.status).to.equal(2);
        expect(unknown.stderr).to.include("unknown command reboot");
    });
});

describe("ops: variant stacks", () => {
    it("a stack of one host restores onto itself with --target-stack", () => {
        const spec = variantSpec([{ name: "one", layers: ["frontend", "plone_instances", "zeoserver"] }], { plone: { storage: "zeo", blobs: "local" } });
        const plan = planOps({ spec, topology: buildTopology(spec) }, "restore", { ...NO_OPTIONS, from: "latest", force: true });
        expect(plan.steps.map((s) => s.command.slice(1).join(" "))).to.deep.equal([
            "--from latest --source variant --force --check",
            "stop app --clear-cache",
            "--from latest --source variant --force",
            "start app",
        ]);
    });
});
