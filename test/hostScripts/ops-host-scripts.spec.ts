// The host scripts `npm run ops` runs, for real in a temporary directory: on a release deployed by
// plone-deploy from the fixture repository (the layout of test/hostScripts/deploy.spec.ts: the stand-in
// Zope clients and ZEO server under a supervisord of the test's own), plone-program, plone-status,
// plone-pack, plone-deploy rebuild and develop-up; plone-varnish-purge against a real varnishd with
// the rendered VCL; plone-service against a stand-in `service` command (stopping this machine's
// own services is not a test); plone-cloudwatch-agent off EC2.
//
// Stand-ins, said plainly: Plone (no PyPI) as in the deploy tests; the buildout's bin/zeopack and
// bin/develop record their arguments; the backend behind Varnish is a small HTTP server.
import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { renderOperationsFiles } from "../../components/render/operations";
import { renderServiceScript } from "../../components/render/operations/services";
import { renderVarnishPurgeScript } from "../../components/render/operations/varnishPurge";
import { renderCloudwatchAgentScript } from "../../components/render/monitoring/cloudwatchAgent";
import { renderVarnishVcl, varnishdArgs } from "../../components/render/frontend/varnish";
import { PATHS } from "../../components/topology";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { firstFrontend, variantContext } from "../helpers/frontend";
import { prepareDebianFiles, Processes, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { FixtureRepo, httpGet, installRelocated, installTestHost, STANDIN_COMMANDS } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, run, RunResult, sleepMs, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);

describeAsRoot(
    "plone-program, plone-status, plone-pack, plone-deploy rebuild and develop-up (for real, in a temp dir)",
    "the ops scripts run as root with DEPLOY_USER=root",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let supervisord: TempSupervisord | undefined;
        let ports: Record<number, number>;
        let env: NodeJS.ProcessEnv;
        let calls: string;
        const deployTo = () => `${root}/srv/www/plone`;
        const current = () => path.basename(fs.readlinkSync(`${deployTo()}/current`));
        const rotation = (client: string) => `${root}/run/plone-aws/rotation/${client}`;
        const script = (name: string, ...args: string[]): RunResult => {
            const r = run(`${root}/usr/local/sbin/${name}`, args, { env });
            if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${r.status}\n${r.stdout}${r.stderr}`);
            return r;
        };
        const states = () => supervisord!.states();
        const waitState = (program: string, state: string) => expect(supervisord!.settled(program)[program], program).to.equal(state);

        before(async function () {
            requireBinaries(this, "git", "supervisord", "supervisorctl", "python3", "curl", "ss", "flock", "runuser");
            tmp = tempDir("ops-scripts");
            root = path.join(tmp.dir, "host");
            calls = path.join(tmp.dir, "calls.log");
            const repo = new FixtureRepo(path.join(tmp.dir, "repo"));
            repo.commit("stand-ins for bin/zeopack and bin/develop", (dir) => {
                for (const name of ["zeopack", "develop"]) {
                    fs.writeFileSync(
                        path.join(dir, "standin", name),
                        `#!/bin/sh\n# stand-in for buildout's bin/${name}: records its arguments\necho "${name} $*" >>${calls}\necho "${name}: done"\n`,
                        { mode: 0o755 },
                    );
                }
            });
            const base = await freePortRange(3);
            const [zeoPort] = await freePorts(1);
            ports = { 8080: base, 8081: base + 1, 8082: base + 2, 8001: zeoPort };
            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();
            const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
                app: {
                    repository: repo.url,
                    revision: "main",
                    bootstrapCommand: STANDIN_COMMANDS.bootstrapCommand,
                    buildCommand: `${STANDIN_COMMANDS.buildCommand} && cp standin/zeopack standin/develop bin/`,
                },
                plone: { clientCount: 2, startTimeout: 8, drainTimeout: 5, warmupPaths: ["/"], pack: { days: 5 } },
            });
            const { ctx, host } = contextOf(spec);
            installTestHost(ctx, host("app-1"), root, ports, { SUPERVISOR_CONF: supervisord.conf });
            installRelocated(renderOperationsFiles(ctx, host("app-1")), root);
            fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
            fs.mkdirSync(`${tmp.dir}/lock`, { recursive: true });
            fs.mkdirSync(`${tmp.dir}/log`, { recursive: true });
            fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\n# stand-in for the haproxy agent\nexec sleep 3600\n", { mode: 0o755 });
            env = {
                ...process.env,
                PLONE_SUPERVISOR_CONF: supervisord.conf,
                PLONE_DEPLOY_USER: "root",
                PLONE_LOCK_DIR: `${tmp.dir}/lock`,
                PLONE_LOG_DIR: `${tmp.dir}/log`,
            };
            delete env.PLONE_DEPLOY_ENV;
            expectOk(script("plone-deploy"));
            for (const p of ["plone-client1", "plone-client2", "plone-zeoserver"]) waitState(p, "RUNNING");
        });

        after(function () {
            supervisord?.stop();
            tmp?.cleanup();
        });

        it("plone-program stop drains a client out of rotation and stops it; start brings it back into rotation", function () {
            const stop = script("plone-program", "stop", "client2");
            expectOk(stop);
            expect(stop.stdout).to.match(
                /client2: draining it in haproxy[\s\S]*client2: stopping plone-client2[\s\S]*client2: stopped; out of rotation until it is started/,
            );
            expect(states()["plone-client2"]).to.equal("STOPPED");
            expect(fs.readFileSync(rotation("client2"), "utf8")).to.equal("maint\n");
            expect(httpGet(ports[8082], "/ok").status).to.equal(0);
            expect(states()["plone-client1"]).to.equal("RUNNING");

            const again = script("plone-program", "stop", "client2");
            expectOk(again);
            expect(again.stdout).to.include("client2: already stopped");

            const start = script("plone-program", "start", "client2");
            expectOk(start);
            expect(start.stdout).to.include("client2: back in rotation");
            expect(fs.existsSync(rotation("client2"))).to.equal(false);
            expect(httpGet(ports[8082], "/ok").status).to.equal(200);
        });

        it("plone-program stop app --clear-cache stops every client and removes the ZEO client caches; start app starts them", function () {
            const cache = `${deployTo()}/shared/var/zeoclient-1-1.zec`;
            fs.writeFileSync(cache, "persistent cache\n");
            const zeo = supervisord!.pidOf("plone-zeoserver");
            const stop = script("plone-program", "stop", "app", "--clear-cache");
            expectOk(stop);
            expect(states()).to.deep.include({ "plone-client1": "STOPPED", "plone-client2": "STOPPED", "plone-zeoserver": "RUNNING" });
            expect(fs.existsSync(cache)).to.equal(false);
            expect(stop.stdout).to.include("removed the ZEO client cache shared/var/zeoclient-1-1.zec");
            expect(supervisord!.pidOf("plone-zeoserver")).to.equal(zeo);

            const status = script("plone-status");
            expect(status.status).to.equal(3);
            expect(status.stdout).to.match(/plone-client1\s+STOPPED/);
            expect(status.stdout).to.include("client1: out of haproxy's rotation (maint)");
            expect(status.stdout).to.include("problems on app-1:");
            expect(status.stdout).to.include("- plone-client1 is STOPPED");

            expectOk(script("plone-program", "start", "app"));
            expect(states()).to.deep.include({ "plone-client1": "RUNNING", "plone-client2": "RUNNING" });
        });

        it("plone-program names what a host does not run, and refuses --clear-cache except with stop", function () {
            const r = script("plone-program", "stop", "celery");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.include("error: app-1 runs no program 'celery': its programs are client1 client2 zeoserver");
            const usage = script("plone-program", "start", "clients", "--clear-cache");
            expect(usage.status).to.equal(2);
        });

        it("plone-status reports the programs, the release in use and the disks", function () {
            const r = script("plone-status");
            expect(r.stdout).to.match(/^host app-1 \(frontend, plone_instances, zeoserver\)/);
            expect(r.stdout).to.match(/plone-client1\s+RUNNING/);
            expect(r.stdout).to.match(/plone-zeoserver\s+RUNNING/);
            expect(r.stdout).to.match(
                new RegExp(`current -> releases/${current()} \\(commit [0-9a-f]{12}, built \\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\); 1 release\\(s\\) on the host`),
            );
            expect(r.stdout).to.match(/\n {2}\/: \d+% of \S+ used/);
            // This machine runs none of the host's services, and the data volumes are not mounted here.
            expect(r.stdout).to.include("nginx: NOT RUNNING");
            expect(r.stdout).to.include("cloudwatch-agent: not installed (installed on EC2 hosts only)");
            expect(r.stdout).to.include(`${root}/srv/data/filestorage: not mounted`);
            expect(r.status).to.equal(3);
        });

        it("plone-pack runs the ZEO pack now as the scheduled job would, and not while that job runs", function () {
            const r = script("plone-pack");
            expectOk(r);
            expect(r.stdout).to.include("zeopack: done");
            expect(fs.readFileSync(calls, "utf8")).to.include("zeopack -D 5\n");
            expect(fs.readFileSync(`${tmp.dir}/log/zeopack.log`, "utf8")).to.match(/zeopack: start \(plone-pack\): bin\/zeopack -D 5[\s\S]*zeopack: done/);
            const holder = spawn("flock", [`${tmp.dir}/lock/plone-aws-zeopack.lock`, "sleep", "3"], { stdio: "ignore" });
            try {
                sleepMs(500);
                const busy = script("plone-pack");
                expect(busy.status).to.equal(1);
                expect(busy.stderr).to.include("the scheduled zeopack is running now");
            } finally {
                if (holder.exitCode === null) holder.kill();
            }
        });

        it("plone-deploy develop-up runs bin/develop up in the current release and restarts nothing", function () {
            const pids = [supervisord!.pidOf("plone-client1"), supervisord!.pidOf("plone-zeoserver")];
            const r = script("plone-deploy", "develop-up");
            expectOk(r);
            expect(fs.readFileSync(calls, "utf8")).to.include("develop up\n");
            expect(r.stdout).to.include("checkouts updated; they take effect at the next restart");
            expect([supervisord!.pidOf("plone-client1"), supervisord!.pidOf("plone-zeoserver")]).to.deep.equal(pids);
        });

        it("plone-deploy rebuild builds a new release of the same commit, even with nothing changed, and rolls the clients onto it", function () {
            const before = current();
            const commit = fs.readFileSync(`${deployTo()}/releases/${before}/.plone-aws-release`, "utf8").match(/^commit=(\w+)/m)![1];
            const r = script("plone-deploy", "rebuild");
            expectOk(r);
            expect(r.stdout).to.include(`(rebuild of releases/${before})`);
            const after = current();
            expect(after).to.not.equal(before);
            expect(fs.readFileSync(`${deployTo()}/releases/${after}/.plone-aws-release`, "utf8")).to.include(`commit=${commit}\n`);
            expect(httpGet(ports[8081], "/ok").body).to.include(`client1 ${after}`);
            expect(httpGet(ports[8082], "/ok").body).to.include(`client2 ${after}`);
        });
    },
);

describeAsRoot("plone-service (a stand-in for the init system's service command)", "plone-service runs as root", function () {
    const tmp = tempDir("service");
    after(() => tmp.cleanup());

    it("starts, stops and reports the host's services, validates front-end daemons first, and refuses others", function () {
        const ctx = variantContext();
        const host = firstFrontend(ctx);
        const bin = path.join(tmp.dir, "bin");
        fs.mkdirSync(bin);
        const state = path.join(tmp.dir, "running");
        fs.mkdirSync(state);
        // service NAME ACTION, as Debian's, against state files instead of daemons.
        fs.writeFileSync(
            path.join(bin, "service"),
            `#!/bin/sh\n# stand-in for service(8)\necho "service $*" >>${tmp.dir}/calls\ncase $2 in\n  start|restart) touch ${state}/$1 ;;\n  stop) rm -f ${state}/$1 ;;\n  status) [ -e ${state}/$1 ] ;;\nesac\n`,
            { mode: 0o755 },
        );
        const frontendService = path.join(tmp.dir, "plone-frontend-service");
        fs.writeFileSync(
            frontendService,
            `#!/bin/sh\n# stand-in for plone-frontend-service (validates, then acts)\necho "plone-frontend-service $*" >>${tmp.dir}/calls\ntouch ${state}/$2\n`,
            { mode: 0o755 },
        );
        const scriptPath = path.join(tmp.dir, "plone-service");
        fs.writeFileSync(
            scriptPath,
            renderServiceScript(ctx, host).replace(`FRONTEND_SERVICE=${PATHS.sbinDir}/plone-frontend-service`, `FRONTEND_SERVICE=${frontendService}`),
            { mode: 0o755 },
        );
        const svc = (...args: string[]) => run(scriptPath, args, { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

        expectOk(svc("start", "cron"));
        expect(svc("status", "cron").stdout).to.include("cron (cron) is running");
        const stop = svc("stop", "cron");
        expectOk(stop);
        expect(stop.stdout).to.include("plone-service: cron: stopped");
        expect(svc("status", "cron").status).to.equal(3);
        expectOk(svc("restart", "varnish"));
        expect(fs.readFileSync(`${tmp.dir}/calls`, "utf8").split("\n")).to.include("plone-frontend-service restart varnish");
        expectOk(svc("stop", "varnish"));
        expect(fs.readFileSync(`${tmp.dir}/calls`, "utf8").split("\n")).to.include("service varnish stop");
        const unknown = svc("stop", "postgresql");
        expect(unknown.status).to.equal(1);
        expect(unknown.stderr).to.match(/runs no service 'postgresql': its services are cron nginx varnish haproxy rsyslog supervisor cloudwatch-agent/);
        expect(svc("reload", "cron").status).to.equal(2);
    });
});

describeAsRoot("plone-varnish-purge against a real varnishd with the rendered VCL", "varnishd starts its jail", function () {
    let tmp: { dir: string; cleanup: () => void };
    let procs: Processes;
    let backend: http.Server;
    let varnishPort: number;
    let purge: string;
    const get = (urlPath: string) =>
        new Promise<{ status: number; cache: string }>((resolve, reject) => {
            http.get({ host: "127.0.0.1", port: varnishPort, path: urlPath, agent: false }, (res) => {
                res.resume();
                res.on("end", () => resolve({ status: res.statusCode ?? 0, cache: String(res.headers["x-cache"]) }));
            }).on("error", reject);
        });

    before(async function () {
        requireBinaries(this, "varnishd", "curl");
        tmp = tempDir("varnish-purge");
        fs.chmodSync(tmp.dir, 0o755);
        procs = new Processes(tmp.dir);
        const [varnish, varnishAdmin, haproxy] = await freePorts(3);
        varnishPort = varnish;
        // The backend haproxy would be: answers everything, cacheable for anonymous visitors.
        backend = http.createServer((req, res) => {
            res.writeHead(200, { "Content-Type": "text/plain", "Cache-Control": "public, max-age=300" });
            res.end(`page ${req.url}\n`);
        });
        await new Promise<void>((resolve) => backend.listen(haproxy, "127.0.0.1", resolve));
        const layout = rootedLayout(tmp.dir, { varnish, varnishAdmin, haproxy }, "127.0.0.1");
        const base = variantContext({ frontend: { varnish: { purgeUrls: ["^/news"] } } });
        const ctx = { ...base, addresses: { "dev-1": "127.0.0.1" } };
        const fe = firstFrontend(ctx);
        prepareDebianFiles(layout);
        writeFiles(tmp.dir, [{ path: layout.paths.varnishVcl, content: renderVarnishVcl(ctx, fe, layout), mode: "0644", owner: "root", group: "root" }]);
        purge = path.join(tmp.dir, "plone-varnish-purge");
        fs.writeFileSync(purge, renderVarnishPurgeScript(ctx), { mode: 0o755 });
        procs.start("varnishd", "varnishd", ["-F", "-n", path.join(tmp.dir, "varnish-n"), ...varnishdArgs(ctx, fe, layout)]);
        for (let i = 0; i < 50; i++) {
            try {
                if ((await get("/ready")).status === 200) return;
            } catch {
                // not listening yet
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        throw new Error(`varnishd did not answer: ${procs.log("varnishd")}`);
    });

    after(async function () {
        await procs?.stopAll();
        backend?.close();
        tmp?.cleanup();
    });

    it("bans the configured regexes by default, and given ones, so the next request is a miss", async function () {
        for (const p of ["/news/a", "/news/b", "/about", "/style.css"]) {
            await get(p);
            expect((await get(p)).cache, p).to.equal("HIT");
        }
        const env = { ...process.env, PLONE_VARNISH_PORT: String(varnishPort) };
        const byDefault = run(purge, [], { env });
        expectOk(byDefault);
        expect(byDefault.stdout).to.include("plone-varnish-purge: banned ^/news");
        expect((await get("/news/a")).cache).to.equal("MISS");
        expect((await get("/news/b")).cache).to.equal("MISS");
        expect((await get("/about")).cache, "other pages stay cached").to.equal("HIT");

        const given = run(purge, ["\\.css$", "^/about$"], { env });
        expectOk(given);
        expect((await get("/style.css")).cache).to.equal("MISS");
        expect((await get("/about")).cache).to.equal("MISS");
    });

    it("fails, saying so, on a regex Varnish refuses and when Varnish does not answer", function () {
        const env = { ...process.env, PLONE_VARNISH_PORT: String(varnishPort) };
        const bad = run(purge, ["("], { env });
        expect(bad.status).to.equal(1);
        expect(bad.stderr).to.match(/Varnish did not ban \( \(HTTP 400\)/);
        const down = run(purge, [".*"], { env: { ...process.env, PLONE_VARNISH_PORT: "1" } });
        expect(down.status).to.equal(1);
        expect(down.stderr).to.include("Varnish did not ban .* (HTTP 000)");
    });
});

describeAsRoot("plone-cloudwatch-agent off EC2", "plone-cloudwatch-agent runs as root", function () {
    it("installs nothing where there is no instance metadata, and has nothing to reload without the agent", function () {
        requireBinaries(this, "curl");
        const tmp = tempDir("cwagent");
        try {
            const file = path.join(tmp.dir, "plone-cloudwatch-agent");
            fs.writeFileSync(file, renderCloudwatchAgentScript(variantContext()), { mode: 0o755 });
            const install = run(file, ["install"]);
            expectOk(install);
            expect(install.stdout).to.include("not an EC2 instance (no instance metadata): the CloudWatch agent is not installed");
            const reload = run(file, ["reload"]);
            expectOk(reload);
            expect(reload.stdout).to.include("the CloudWatch agent is not installed here");
        } finally {
            tmp.cleanup();
        }
    });
});
