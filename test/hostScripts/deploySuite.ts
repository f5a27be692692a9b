// plone-deploy, plone-rollback and plone-restart, run for real in a temporary directory, in two
// spec files that run side by side (test/hostScripts/deploy.spec.ts: deploys, rollbacks and
// releases; restart.spec.ts: restarts, drains and failures, from a first deploy of their own). The
// files renderAppFiles makes for a one-host stack (clients + ZEO server), with the host's
// absolute paths moved under the temp dir and the rendered ports swapped for free ones; a local
// git repository (file://) as the buildout; a supervisord of the test's own.
//
// Plone cannot be built here (no PyPI): the repository's build command is a stand-in that reads
// deploy.cfg and makes bin/client1..2 and bin/zeoserver running a small python3 HTTP app on the
// ports deploy.cfg gives (test/helpers/standin.ts). Test-only overrides, appended to the rendered
// deploy.env: the test's supervisord, DEPLOY_USER root (no plone user here), DRAIN_GRACE 1.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { FixtureRepo, httpGet, installTestHost, runHostScript, STANDIN_COMMANDS, startHostScript } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, RunResult, sleepMs, tempDir } from "../helpers/system";

interface StandinEvent {
    time: number;
    name: string;
    what: string;
    rotation?: string;
    release?: string;
}

/** Which half of the suite a spec file runs: each half gets a host of its own. */
export type DeploySuitePart = "deploys" | "restarts";

type Register = (title: string, fn: Mocha.Func | Mocha.AsyncFunc) => void;
const skipped: Register = () => undefined;

/** The body of one half, for describeAsRoot in its spec file (the @root suites are found by that call). */
export function deployHostSuite(part: DeploySuitePart): (this: Mocha.Suite) => void {
    const deployIt: Register = part === "deploys" ? it : skipped;
    const restartIt: Register = part === "restarts" ? it : skipped;
    return function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let repo: FixtureRepo;
        let supervisord: TempSupervisord | undefined;
        let ports: Record<number, number>;
        let deployTo: string;
        let rotationDir: string;
        let eventsFile: string;
        let controlDir: string;
        let deployCfgPath: string;
        let lockFile: string;
        /** Renders the app files for this plone config and installs them under root (what `pulumi up` writes). */
        let install: (plone?: { packDays?: number; clientCount?: number; maxUnavailable?: string; startTimeout?: number }) => void;

        const client = (n: number) => ports[8080 + n];
        const releases = () => fs.readdirSync(path.join(deployTo, "releases")).sort();
        const current = () => path.basename(fs.readlinkSync(path.join(deployTo, "current")));
        const marker = (release: string) => fs.readFileSync(path.join(deployTo, "releases", release, ".plone-aws-release"), "utf8");
        const pid = (program: string) => supervisord!.pidOf(program);
        const events = (): StandinEvent[] =>
            fs.existsSync(eventsFile)
                ? fs
                      .readFileSync(eventsFile, "utf8")
                      .trim()
                      .split("\n")
                      .filter(Boolean)
                      .map((line) => {
                          const [time, name, what, ...rest] = line.split(" ");
                          const kv = Object.fromEntries(rest.filter((r) => r.includes("=")).map((r) => r.split("=")));
                          return { time: Number(time), name, what: what === "GET" ? `GET ${rest[0]}` : what, rotation: kv.rotation, release: kv.release };
                      })
                : [];
        const clearEvents = () => fs.rmSync(eventsFile, { force: true });
        const lifecycle = (evs: StandinEvent[]) => evs.filter((e) => e.what === "start" || e.what === "stop").map((e) => `${e.name} ${e.what}`);

        const script = (name: string, ...args: string[]) => runHostScript(root, name, ...args);
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const answer = (n: 1 | 2) => httpGet(client(n), "/ok").body.split(" ").slice(0, 2).join(" ");
        /** A GET that takes `seconds`, started now; resolves with curl's exit code and the body. */
        const slowRequest = (port: number, seconds: number) =>
            new Promise<{ code: number | null; out: string }>((resolve) => {
                const curl = spawn("curl", ["-sS", "-m", "30", `http://127.0.0.1:${port}/slow?s=${seconds}`]);
                let out = "";
                curl.stdout.on("data", (d) => (out += d));
                curl.on("close", (code) => resolve({ code, out }));
            });

        before(async function () {
            requireBinaries(this, "git", "supervisord", "supervisorctl", "python3", "curl", "ss", "flock");
            tmp = tempDir("deploy");
            root = path.join(tmp.dir, "host");
            repo = new FixtureRepo(path.join(tmp.dir, "repo"));
            // clientN listens on base + N, as on a host (plone-deploy drains a removed client by that rule).
            const base = await freePortRange(4);
            const [zeoPort] = await freePorts(1);
            ports = { 8080: base, 8081: base + 1, 8082: base + 2, 8083: base + 3, 8084: base + 4, 8001: zeoPort };
            rotationDir = `${root}/run/plone-aws/rotation`;
            eventsFile = path.join(tmp.dir, "events.log");
            controlDir = path.join(tmp.dir, "control");
            fs.mkdirSync(controlDir);
            deployTo = `${root}/srv/www/plone`;
            lockFile = `${root}/run/plone-aws/plone.lock`;

            // A running supervisord that has not seen the app's programs yet, as on a fresh host.
            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();

            install = ({ packDays = 7, clientCount = 2, maxUnavailable = "1 per host", startTimeout = 8 } = {}) => {
                const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
                    app: {
                        repository: repo.url,
                        revision: "main",
                        keepReleases: 3,
                        buildoutFlags: "-N",
                        ...STANDIN_COMMANDS,
                        environment: { PLONE_ENV: "test", STANDIN_EVENTS: eventsFile, STANDIN_ROTATION_DIR: rotationDir, STANDIN_CONTROL: controlDir },
                    },
                    plone: { clientCount, maxUnavailable, startTimeout, drainTimeout: 10, warmupPaths: ["/", "/news"], pack: { days: packDays } },
                });
                const { ctx, host } = contextOf(spec);
                const installed = installTestHost(ctx, host("app-1"), root, ports, { SUPERVISOR_CONF: supervisord!.conf });
                deployCfgPath = installed["/etc/plone-aws/plone/deploy.cfg"];
            };
            install();
            fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
            fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\n# stand-in for the haproxy agent\nexec sleep 3600\n", {
                mode: 0o755,
            });
            // The restarts start from a deployed host (the deploys' half shows the first deploy itself).
            if (part === "restarts") expectOk(script("plone-deploy"));
        });

        after(function () {
            supervisord?.stop();
            tmp?.cleanup();
        });

        deployIt("a first deploy builds releases/<timestamp>, points current at it and starts the clients", function () {
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/building releases\/\d{14} from main at [0-9a-f]{12} \(first release\)/);
            const [release] = releases();
            expect(releases()).to.deep.equal([release]);
            expect(current()).to.equal(release);
            expect(marker(release)).to.include(`commit=${repo.git("rev-parse", "HEAD")}\nrevision=main\n`);
            const dir = path.join(deployTo, "releases", release);
            expect(fs.statSync(path.join(dir, "deploy.cfg")).mode & 0o777).to.equal(0o600);
            expect(fs.readFileSync(path.join(dir, "deploy.cfg"), "utf8")).to.equal(fs.readFileSync(deployCfgPath, "utf8"));
            for (const d of ["eggs", "downloads", "extends", "var"]) expect(fs.readlinkSync(path.join(dir, d))).to.equal(`${deployTo}/shared/${d}`);
            // parts/ belongs to the release: a later failing build cannot rewrite it.
            expect(fs.existsSync(path.join(dir, "parts")) && fs.lstatSync(path.join(dir, "parts")).isSymbolicLink()).to.equal(false);
            expect(fs.readFileSync(path.join(dir, "build-args.txt"), "utf8")).to.equal(`-c deploy.cfg -N\nVENV=${deployTo}/shared/env\n`);
            expect(fs.statSync(`${root}/srv/data/blobstorage`).mode & 0o777).to.equal(0o700);

            expect(answer(1)).to.equal(`client1 ${release}`);
            expect(answer(2)).to.equal(`client2 ${release}`);
            expect(httpGet(client(1), "/").body.trim()).to.equal(`client1 ${release} / test`);
            // supervisor calls a program RUNNING once it has lived startsecs (3 s).
            expect(supervisord!.settled()).to.deep.equal({
                "plone-client1": "RUNNING",
                "plone-client2": "RUNNING",
                "plone-haproxy-agent": "RUNNING",
                "plone-zeoserver": "RUNNING",
            });
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
        });

        deployIt("running it again with nothing changed builds nothing and restarts nothing, and says so", function () {
            const before = [pid("plone-client1"), pid("plone-client2"), pid("plone-zeoserver")];
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/nothing to deploy: releases\/\d{14} \(commit [0-9a-f]{12}\) already has main at [0-9a-f]{12} and this deploy.cfg/);
            expect(r.stdout).to.match(/is already active/);
            expect(releases()).to.have.length(1);
            expect([pid("plone-client1"), pid("plone-client2"), pid("plone-zeoserver")]).to.deep.equal(before);
        });

        deployIt("a failing build removes the half-built release and leaves current and the running clients alone", function () {
            const [release] = releases();
            const before = [pid("plone-client1"), pid("plone-client2")];
            repo.commit("a build that fails", (dir) => fs.writeFileSync(path.join(dir, "FAIL_BUILD"), "stand-in build: fail\n"));
            const r = script("plone-deploy");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/error: the build failed \(exit 1\) in releases\/\d{14}: "\$VENV\/bin\/python" standin\/build.py -c deploy.cfg -N/);
            expect(r.stdout).to.match(/removed the unfinished release releases\/\d{14}; current and the running programs are untouched/);
            expect(releases()).to.deep.equal([release]);
            expect(current()).to.equal(release);
            expect([pid("plone-client1"), pid("plone-client2")]).to.deep.equal(before);
            expect(answer(1)).to.equal(`client1 ${release}`);
        });

        deployIt("a new commit builds and activates: clients restart one at a time, drained; the ZEO server keeps running", function () {
            const [first] = releases();
            const zeo = pid("plone-zeoserver");
            const commit = repo.commit("fix the build", (dir) => fs.rmSync(path.join(dir, "FAIL_BUILD")));
            clearEvents();
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("(new commit)");
            const second = releases().find((x) => x !== first)!;
            expect(releases()).to.deep.equal([first, second]);
            expect(current()).to.equal(second);
            expect(marker(second)).to.include(`commit=${commit}\n`);
            expect(answer(1)).to.equal(`client1 ${second}`);
            expect(answer(2)).to.equal(`client2 ${second}`);
            expect(pid("plone-zeoserver")).to.equal(zeo);
            expect(r.stdout).to.include("plone-zeoserver: its build did not change, not restarted");

            const evs = events();
            expect(lifecycle(evs)).to.deep.equal(["client1 stop", "client1 start", "client2 stop", "client2 start"]);
            for (const e of evs.filter((x) => x.what === "stop" || x.what === "start")) expect(e.rotation, `${e.name} ${e.what}`).to.equal("drain");
            // Warmed up on its own port (below the Plone site) before it went back into rotation.
            expect(evs.filter((e) => e.what.startsWith("GET")).map((e) => `${e.name} ${e.what}`)).to.deep.equal([
                "client1 GET /Plone/",
                "client1 GET /Plone/news",
                "client2 GET /Plone/",
                "client2 GET /Plone/news",
            ]);
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
        });

        deployIt("a deploy.cfg change alone makes a new release, and restarts the ZEO server when its build changed", function () {
            const zeo = pid("plone-zeoserver");
            install({ packDays: 3 });
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("(deploy.cfg changed)");
            expect(r.stdout).to.include("restarting plone-zeoserver (its build changed)");
            expect(pid("plone-zeoserver")).to.not.equal(zeo);
            expect(releases()).to.have.length(3);
            expect(marker(current())).to.include(`commit=${repo.git("rev-parse", "HEAD")}`);
        });

        deployIt("plone-rollback returns to the previous release, restarts the clients on it and removes the newer one", function () {
            const [, second, third] = releases();
            clearEvents();
            const r = script("plone-rollback");
            expectOk(r);
            // Each release has its own parts/: going back to the release before the pack-days change
            // brings back its ZEO server configuration, so the ZEO server restarts on it too.
            expect(r.stdout).to.include("restarting plone-zeoserver (its build changed)");
            expect(r.stdout).to.match(new RegExp(`rolled back to releases/${second} \\(commit [0-9a-f]{12}\\); removed releases/${third}`));
            expect(current()).to.equal(second);
            expect(releases()).to.not.include(third);
            expect(answer(1)).to.equal(`client1 ${second}`);
            expect(answer(2)).to.equal(`client2 ${second}`);
            expect(lifecycle(events())).to.deep.equal(["zeoserver stop", "zeoserver start", "client1 stop", "client1 start", "client2 stop", "client2 start"]);
        });

        deployIt("plone-rollback refuses, with a clear message, when there is no earlier release", function () {
            const [first] = releases();
            expectOk(script("plone-rollback")); // to the first release
            expect(current()).to.equal(first);
            const r = script("plone-rollback");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(
                new RegExp(`error: releases/${first} \\(commit [0-9a-f]{12}\\) is the oldest release on this host: there is none to roll back to`),
            );
            expect(current()).to.equal(first);
        });

        deployIt("keeps only KEEP_RELEASES (3) releases", function () {
            install();
            for (let i = 1; i <= 3; i++) {
                repo.commit(`change ${i}`, (dir) => fs.writeFileSync(path.join(dir, `change-${i}.txt`), `${i}\n`));
                expectOk(script("plone-deploy", "build"));
            }
            const built = releases();
            expect(built).to.have.length(4);
            const r = script("plone-deploy", "activate");
            expectOk(r);
            expect(r.stdout).to.include(`removing old release releases/${built[0]} (keeping 3)`);
            expect(releases()).to.deep.equal(built.slice(1));
            expect(current()).to.equal(built[3]);
            expect(answer(1)).to.equal(`client1 ${built[3]}`);
        });

        restartIt("plone-restart drains each client in turn and waits for its open requests before restarting it", async function () {
            clearEvents();
            // A request that takes 4 s, in flight on client1 when the restart begins.
            const slow = slowRequest(client(1), 4);
            sleepMs(500);
            const r = script("plone-restart");
            expectOk(r);
            const { code, out } = await slow;
            expect(code, "the slow request was cut off").to.equal(0);
            expect(out).to.match(/^client1 \d{14} \/slow\?s=4/);

            const evs = events();
            expect(lifecycle(evs)).to.deep.equal(["client1 stop", "client1 start", "client2 stop", "client2 start"]);
            const slowDone = evs.find((e) => e.what === "GET /slow?s=4")!;
            const stop1 = evs.find((e) => e.name === "client1" && e.what === "stop")!;
            expect(slowDone.time).to.be.lessThan(stop1.time);
            // client2 went down only after client1 was back: one client at a time.
            const start1 = evs.find((e) => e.name === "client1" && e.what === "start")!;
            const stop2 = evs.find((e) => e.name === "client2" && e.what === "stop")!;
            expect(start1.time).to.be.lessThan(stop2.time);
            // ...and client2 was drained only once the front ends had taken client1 back (READY_GRACE,
            // 1 s here, after its last warm-up request), then stopped DRAIN_GRACE (1 s) later: with both
            // out of rotation at once, haproxy would answer 503.
            const warmedUp1 = Math.max(...evs.filter((e) => e.name === "client1" && e.what.startsWith("GET")).map((e) => e.time));
            expect(stop2.time - warmedUp1).to.be.at.least(2);
            expect(r.stdout).to.match(
                /client1: back in rotation\n.*client1: waiting 1s for every front end to take it back\n.*client2: draining it in haproxy/,
            );
            expect(evs.filter((e) => e.what === "stop" || e.what === "start").every((e) => e.rotation === "drain")).to.equal(true);
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
        });

        restartIt("a client that never comes back makes plone-restart fail naming it, and it stays drained; --servers restarts ZEO too", function () {
            fs.writeFileSync(path.join(controlDir, "hang-client2"), "");
            try {
                const r = script("plone-restart");
                expect(r.status).to.equal(1);
                expect(r.stderr).to.include(`error: client2 did not answer /ok on port ${client(2)} within 8s; it stays out of rotation (drain)`);
                expect(fs.readFileSync(path.join(rotationDir, "client2"), "utf8")).to.equal("drain\n");
                expect(fs.existsSync(path.join(rotationDir, "client1"))).to.equal(false);
                expect(httpGet(client(1), "/ok").status).to.equal(200);
            } finally {
                fs.rmSync(path.join(controlDir, "hang-client2"));
            }
            const zeo = pid("plone-zeoserver");
            const again = script("plone-restart", "--servers");
            expectOk(again);
            expect(again.stdout).to.include("restarting plone-zeoserver (asked for)");
            expect(pid("plone-zeoserver")).to.not.equal(zeo);
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
            expect(httpGet(client(2), "/ok").status).to.equal(200);
        });

        restartIt("a deploy whose clients do not start goes back to the previous release", function () {
            const before = current();
            repo.commit("clients that crash", (dir) => fs.writeFileSync(path.join(dir, "BROKEN_CLIENTS"), ""));
            const r = script("plone-deploy");
            expect(r.status).to.equal(1);
            const broken = r.stdout.match(/built releases\/(\d{14})/)![1];
            expect(r.stderr).to.include("error: client1 (plone-client1) did not start; it stays out of rotation (drain)");
            expect(r.stdout).to.include(`rolling back to releases/${before}: releases/${broken} does not run`);
            expect(r.stderr).to.match(
                new RegExp(
                    `the deploy of releases/${broken} failed \\(see above\\); rolled back to releases/${before} \\(commit [0-9a-f]{12}\\), which is running; releases/${broken} was removed`,
                ),
            );
            expect(current()).to.equal(before);
            expect(releases()).to.not.include(broken);
            expect(answer(1)).to.equal(`client1 ${before}`);
            expect(answer(2)).to.equal(`client2 ${before}`);
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
            repo.commit("clients that start again", (dir) => fs.rmSync(path.join(dir, "BROKEN_CLIENTS")));
        });

        restartIt("plone-restart --all-at-once restarts every client together, without draining", function () {
            clearEvents();
            expectOk(script("plone-restart", "--all-at-once"));
            const evs = events().filter((e) => e.what === "stop" || e.what === "start");
            expect(evs.filter((e) => e.what === "stop").map((e) => e.rotation)).to.deep.equal(["none", "none"]);
            // Both were down before either came back.
            const lastStop = Math.max(...evs.filter((e) => e.what === "stop").map((e) => e.time));
            const firstStart = Math.min(...evs.filter((e) => e.what === "start").map((e) => e.time));
            expect(lastStop).to.be.lessThan(firstStart);
        });

        restartIt("fewer clients: the one removed is drained and idle before supervisor stops it; more: it is added and started", async function () {
            install({ clientCount: 1 });
            clearEvents();
            const slow = slowRequest(client(2), 3);
            sleepMs(500);
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/building releases\/\d{14} from main at [0-9a-f]{12} \((new commit|deploy.cfg changed)\)/);
            expect(r.stdout).to.match(/client2: draining it in haproxy[\s\S]*stopping and removing plone-client2 \(no longer configured\)/);
            const { code } = await slow;
            expect(code, "the request in flight on client2 was cut off").to.equal(0);
            const evs = events();
            const slowDone = evs.find((e) => e.what === "GET /slow?s=3")!;
            const stop2 = evs.find((e) => e.name === "client2" && e.what === "stop")!;
            expect(stop2.rotation).to.equal("drain");
            expect(slowDone.time).to.be.lessThan(stop2.time);
            expect(Object.keys(supervisord!.states())).to.not.include("plone-client2");
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
            expect(httpGet(client(2), "/ok").status).to.equal(0);
            expect(answer(1)).to.equal(`client1 ${current()}`);

            install({ clientCount: 2 });
            const up = script("plone-deploy");
            expectOk(up);
            expect(up.stdout).to.include("adding and starting plone-client2");
            expect(answer(2)).to.equal(`client2 ${current()}`);
        });

        restartIt("maxUnavailable '2 per host': plone-restart has two clients out of rotation at a time, never three", function () {
            install({ clientCount: 4, maxUnavailable: "2 per host" });
            expect(fs.readFileSync(`${root}/etc/plone-aws/plone/deploy.env`, "utf8")).to.match(/^RESTART_CONCURRENCY=2$/m);
            expectOk(script("plone-deploy"));
            clearEvents();
            const r = script("plone-restart");
            expectOk(r);
            expect(r.stdout).to.include("restarting up to 2 clients of app-1 at once");
            const evs = events();
            expect(lifecycle(evs).sort()).to.deep.equal([1, 2, 3, 4].flatMap((n) => [`client${n} start`, `client${n} stop`]).sort());
            for (const e of evs.filter((x) => x.what === "stop" || x.what === "start")) expect(e.rotation, `${e.name} ${e.what}`).to.equal("drain");
            // Each client is out of rotation from before its stop until after its last warm-up request.
            const out = [1, 2, 3, 4].map((n) => ({
                name: `client${n}`,
                from: evs.find((e) => e.name === `client${n}` && e.what === "stop")!.time,
                to: Math.max(...evs.filter((e) => e.name === `client${n}` && e.what.startsWith("GET")).map((e) => e.time)),
            }));
            const outAt = (t: number) => out.filter((o) => o.from <= t && t <= o.to).map((o) => o.name);
            const most = Math.max(...out.map((o) => outAt(o.from).length));
            expect(most, JSON.stringify(out)).to.equal(2);
            // A slot frees only once the front ends have taken its client back (READY_GRACE 1 s after
            // its warm-up, then DRAIN_GRACE 1 s before the next stop): the third client stops 2 s or
            // more after one of the first two was back.
            const [, , third] = [...out].sort((a, b) => a.from - b.from);
            const backBefore = out.filter((o) => o.to < third.from).map((o) => o.to);
            expect(third.from - Math.max(...backBefore)).to.be.at.least(2);
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
        });

        restartIt("a client that fails among two at once: the other finishes, no further client goes out, the restart fails naming it", async function () {
            // client2 never answers; client1 comes back and client3 takes its slot. client3 is held in
            // its warm-up until client2's failure is printed, so it is still out when client2 fails:
            // what is asserted is the order of events, not how long each step takes. (A start timeout
            // of 20 s leaves client1, about 6 s of work, ample time to be back before client2 fails.)
            install({ clientCount: 4, maxUnavailable: "2 per host", startTimeout: 20 });
            fs.writeFileSync(path.join(controlDir, "hang-client2"), "");
            fs.writeFileSync(path.join(controlDir, "hold-client3"), "");
            clearEvents();
            try {
                const restart = startHostScript(root, "plone-restart");
                const failure = `error: client2 did not answer /ok on port ${client(2)} within 20s; it stays out of rotation (drain)`;
                await restart.printed(failure);
                fs.rmSync(path.join(controlDir, "hold-client3"));
                const r = await restart.exited;
                expect(r.status).to.equal(1);
                expect(r.stderr).to.include(failure);
                expect(r.stderr).to.include("error: the rolling restart stopped: client2 did not come back (see above)");
                expect(fs.readdirSync(rotationDir)).to.deep.equal(["client2"]);
                const evs = events();
                const stopped = lifecycle(evs)
                    .filter((l) => l.endsWith(" stop"))
                    .map((l) => l.split(" ")[0]);
                // client1 and client2 together; client3 in client1's slot; client4 never went out of rotation.
                expect(stopped.sort()).to.deep.equal(["client1", "client2", "client3"]);
                // client3 finished its job: warmed up (after the hold) and back in rotation.
                expect(evs.some((e) => e.name === "client3" && e.what.startsWith("GET"))).to.equal(true);
                expect(answer(1)).to.match(/^client1 /);
            } finally {
                fs.rmSync(path.join(controlDir, "hang-client2"));
                fs.rmSync(path.join(controlDir, "hold-client3"), { force: true });
            }
            expectOk(script("plone-restart", "--concurrency", "1"));
            expect(fs.readdirSync(rotationDir)).to.deep.equal([]);
            install({ clientCount: 2 });
            expectOk(script("plone-deploy"));
            expect(Object.keys(supervisord!.states())).to.not.include("plone-client3");
        });

        restartIt("waits for another deploy or restart of the app instead of overlapping it", function () {
            fs.mkdirSync(path.dirname(lockFile), { recursive: true });
            const holder = spawn("flock", [lockFile, "sleep", "3"], { stdio: "ignore" });
            try {
                sleepMs(500);
                const started = Date.now();
                const r = script("plone-deploy");
                expectOk(r);
                expect(r.stdout).to.include("waiting for another deploy or restart of plone to finish");
                expect(Date.now() - started).to.be.greaterThan(2000);
            } finally {
                if (holder.exitCode === null) holder.kill();
            }
        });
    };
}
