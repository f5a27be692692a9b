// A host with Zope clients and Volto processes (plone_instances, zeoserver and volto), for real in a
// temporary directory as in volto-deploy.spec.ts: the backend's releases (the stand-in buildout of
// deploySuite.ts) and the frontend's (the stand-in Volto project of scripts/lib/rehearsal/voltoStandin.ts, in a repository
// of its own: volto.repository) deploy, restart and roll back independently, each only when it
// changed. The haproxy agent is a stand-in here (volto-deploy.spec.ts runs the real one with haproxy).
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { describeAsRoot } from "../helpers/privileges";
import { FixtureRepo, httpGet, installRelocated, installTestHost, remapPorts, runHostScript, STANDIN_COMMANDS } from "../helpers/standin";
import { renderOperationsFiles } from "../../components/render/operations";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, RunResult, tempDir } from "../helpers/system";
import { NODE_ROOT } from "../../components/render/app/layout";
import {
    STANDIN_NODE_VERSION,
    standinNodeMirror,
    standinNodeReleaseKey,
    standinNpmRegistry,
    StandinServer,
    StandinVoltoRepo,
} from "../../scripts/lib/rehearsal/voltoStandin";

describeAsRoot(
    "a host with Zope clients and Volto processes: each part deploys, restarts and rolls back on its own (for real, in a temp dir)",
    "plone-deploy runs as root",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let backendRepo: FixtureRepo;
        let voltoRepo: StandinVoltoRepo;
        let files: StandinServer;
        let api: StandinServer;
        let supervisord: TempSupervisord | undefined;
        let ports: Record<number, number>;

        const script = (name: string, ...args: string[]) => runHostScript(root, name, ...args);
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const pid = (program: string) => supervisord!.pidOf(program);
        const clientPids = () => [pid("plone-client1"), pid("plone-client2")];
        const voltoPids = () => [pid("plone-volto1"), pid("plone-volto2")];
        const releasesOf = (dir: string) => fs.readdirSync(path.join(dir, "releases")).sort();
        const backendDir = () => `${root}/srv/www/plone`;
        const frontendDir = () => `${root}/srv/www/plone/frontend`;
        const current = (dir: string) => path.basename(fs.readlinkSync(path.join(dir, "current")));

        before(async function () {
            requireBinaries(this, "git", "supervisord", "supervisorctl", "python3", "curl", "ss", "flock", "xz", "npm");
            tmp = tempDir("volto-combined");
            root = path.join(tmp.dir, "host");
            const [filesPort, apiPort, zeoPort] = await freePorts(3);
            files = StandinServer.files(tmp.dir, filesPort, { "/dist": standinNodeMirror(), "/registry": standinNpmRegistry() });
            await files.start();
            api = StandinServer.api(tmp.dir, apiPort, "Plone", "Front page");
            await api.start();
            backendRepo = new FixtureRepo(path.join(tmp.dir, "backend"));
            voltoRepo = new StandinVoltoRepo(path.join(tmp.dir, "volto"), "frontend");
            const clients = await freePortRange(2);
            const volto = await freePortRange(2);
            // 8080 (the front end's haproxy, Volto's internal API path) is the stand-in API here.
            ports = { 8080: apiPort, 8081: clients + 1, 8082: clients + 2, 8001: zeoPort, 3000: volto, 3001: volto + 1, 3002: volto + 2 };

            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();
            const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver", "volto"] }], {
                app: { repository: backendRepo.url, revision: "main", keepReleases: 3, buildoutFlags: "-N", ...STANDIN_COMMANDS },
                plone: { clientCount: 2, startTimeout: 30, drainTimeout: 10, warmupPaths: ["/"], backups: { enabled: false } },
                volto: {
                    repository: voltoRepo.url,
                    revision: "main",
                    processCount: 2,
                    node: { version: STANDIN_NODE_VERSION, mirror: files.url("/dist"), releaseKeys: standinNodeReleaseKey() },
                    npmRegistry: files.url("/registry"),
                },
            });
            const { ctx, host } = contextOf(spec);
            const installed = installTestHost(ctx, host("app-1"), root, ports, { SUPERVISOR_CONF: supervisord.conf, NODE_ROOT: `${root}${NODE_ROOT}` });
            installRelocated(renderOperationsFiles(ctx, host("app-1")), root);
            const conf = installed["/etc/supervisor/conf.d/plone.conf"];
            fs.writeFileSync(conf, remapPorts(fs.readFileSync(conf, "utf8"), ports));
            fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\n# stand-in for the haproxy agent\nexec sleep 3600\n", { mode: 0o755 });
        });

        after(function () {
            supervisord?.stop();
            files?.stop();
            api?.stop();
            tmp?.cleanup();
        });

        it("a first deploy builds both parts, each in its own releases, and starts the clients and the Volto processes", function () {
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/building releases\/\d{14} from main at [0-9a-f]{12} \(first release\)/);
            expect(r.stdout).to.match(/building frontend\/releases\/\d{14} from main at [0-9a-f]{12} \(first release\)/);
            expect(releasesOf(backendDir())).to.have.length(1);
            expect(releasesOf(frontendDir())).to.have.length(1);
            expect(supervisord!.settled()).to.deep.equal({
                "plone-client1": "RUNNING",
                "plone-client2": "RUNNING",
                "plone-haproxy-agent": "RUNNING",
                "plone-volto1": "RUNNING",
                "plone-volto2": "RUNNING",
                "plone-zeoserver": "RUNNING",
            });
            expect(httpGet(ports[3001], "/").body).to.equal(`<h1>Front page</h1><p>volto v1 on port ${ports[3001]}</p>\n`);
            expect(httpGet(ports[8081], "/ok").body).to.match(/^client1 /);
            // plone-status shows both release trees.
            const status = script("plone-status");
            expect(status.stdout).to.match(/release \(\S*\/srv\/www\/plone\):\n  current -> releases\/\d{14} \(commit [0-9a-f]{12}/);
            expect(status.stdout).to.match(/release \(\S*\/srv\/www\/plone\/frontend\):\n  current -> releases\/\d{14} \(commit [0-9a-f]{12}/);
        });

        it("a new frontend commit builds and restarts only Volto: the clients keep running", function () {
            const clients = clientPids();
            const before = voltoPids();
            voltoRepo.release("v2");
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/nothing to deploy: releases\/\d{14} \(commit [0-9a-f]{12}\) already has main/);
            expect(r.stdout).to.match(/volto1: draining it in haproxy[\s\S]*volto1: back in rotation[\s\S]*volto2: draining it in haproxy/);
            expect(r.stdout).not.to.include("client1: draining");
            expect(clientPids()).to.deep.equal(clients);
            expect(voltoPids()[0]).not.to.equal(before[0]);
            expect(voltoPids()[1]).not.to.equal(before[1]);
            expect(httpGet(ports[3002], "/").body).to.include("volto v2");
        });

        it("a new backend commit builds and restarts only the clients: the Volto processes keep running", function () {
            const volto = voltoPids();
            const clients = clientPids();
            backendRepo.commit("a backend change", (dir) => fs.appendFileSync(path.join(dir, "README.txt"), "changed\n"));
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("nothing to build for Volto");
            expect(r.stdout).to.match(/client1: draining it in haproxy[\s\S]*client2: back in rotation/);
            expect(r.stdout).not.to.include("volto1: draining");
            expect(voltoPids()).to.deep.equal(volto);
            expect(clientPids()[0]).not.to.equal(clients[0]);
        });

        it("plone-restart rolls both: the clients, then the Volto processes", function () {
            const r = script("plone-restart");
            expectOk(r);
            expect(r.stdout).to.match(/client1: draining[\s\S]*client2: back in rotation[\s\S]*volto1: draining[\s\S]*volto2: back in rotation/);
        });

        it("plone-restart --frontend rolls only the Volto processes, --backend only the clients", function () {
            const clients = clientPids();
            const volto = voltoPids();
            const frontend = script("plone-restart", "--frontend");
            expectOk(frontend);
            expect(frontend.stdout).to.match(/volto1: draining[\s\S]*volto2: back in rotation/);
            expect(frontend.stdout).not.to.include("client1: draining");
            expect(clientPids()).to.deep.equal(clients);
            expect(voltoPids()[0]).not.to.equal(volto[0]);
            const restartedVolto = voltoPids();
            const backend = script("plone-restart", "--backend");
            expectOk(backend);
            expect(backend.stdout).to.match(/client1: draining[\s\S]*client2: back in rotation/);
            expect(backend.stdout).not.to.include("volto1: draining");
            expect(voltoPids()).to.deep.equal(restartedVolto);
            expect(clientPids()[0]).not.to.equal(clients[0]);
        });

        it("plone-rollback --frontend takes only the frontend back; plain plone-rollback takes back what can go back", function () {
            const [firstFrontend, secondFrontend] = releasesOf(frontendDir());
            const backend = current(backendDir());
            const clients = clientPids();
            const r = script("plone-rollback", "--frontend");
            expectOk(r);
            expect(r.stdout).to.match(
                new RegExp(`rolled back to frontend/releases/${firstFrontend} \\(commit [0-9a-f]{12}\\); removed frontend/releases/${secondFrontend}`),
            );
            expect(current(frontendDir())).to.equal(firstFrontend);
            expect(current(backendDir())).to.equal(backend);
            expect(clientPids()).to.deep.equal(clients);
            expect(httpGet(ports[3001], "/").body).to.include("volto v1");

            // Now the frontend has no earlier release: the backend goes back alone, and says so.
            const [firstBackend] = releasesOf(backendDir());
            const all = script("plone-rollback");
            expectOk(all);
            expect(all.stdout).to.match(
                /frontend\/releases\/\d{14} \(commit [0-9a-f]{12}\) is the oldest release on this host: there is none to roll back to; it stays as it is/,
            );
            expect(current(backendDir())).to.equal(firstBackend);
            expect(current(frontendDir())).to.equal(firstFrontend);
        });
    },
);
