// plone-deploy with app.builder pip, run for real in a temporary directory: the files renderAppFiles
// makes for a one-host stack (clients + ZEO server), relocated as in deploy.spec.ts; a fixture
// Plone 6 project laid out as cookieplone does (backend/ with requirements.txt, constraints.txt,
// instance.yaml; later an mx.ini); a supervisord of the test's own.
//
// Real: python3 -m venv (Debian's python3-venv) creating each release's environment, pip installing
// the build tools and the project's requirements with its constraints, git, the releases, the rolling
// restart behind the haproxy agent's rotation files, supervisor. Stand-ins (PyPI is unreachable, so
// Plone cannot be installed): the packages pip installs come from a local package index this test
// serves over HTTP, with wheels built here of stand-in distributions (scripts/lib/rehearsal/standin/
// pipIndex.py) that provide the console scripts the hosts run: runwsgi and runzeo serving the
// stand-in Zope app, mxdev, and cookiecutter writing a cookiecutter-zope-instance-like instance.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePortRange, freePorts } from "../helpers/ports";
import { httpGet, installTestHost, runHostScript } from "../helpers/standin";
import { TempSupervisord } from "../helpers/supervisord";
import { requireBinaries, run, RunResult, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";
import { buildStandinIndex, STANDIN_PIP_TOOLS, StandinIndexServer, StandinInstanceTemplate, StandinPipProject } from "../../scripts/lib/rehearsal/pipStandin";

describeAsRoot(
    "plone-deploy with the pip builder (real venv and pip, stand-in wheels from a local index)",
    "plone-deploy runs as root with DEPLOY_USER=root",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let root: string;
        let project: StandinPipProject;
        let template: StandinInstanceTemplate;
        let index: StandinIndexServer;
        let supervisord: TempSupervisord | undefined;
        let ports: Record<number, number>;
        let deployTo: string;
        let install: (plone?: { zserverThreads?: number }) => void;

        const client = (n: number) => ports[8080 + n];
        const releases = () => fs.readdirSync(path.join(deployTo, "releases")).sort();
        const current = () => path.basename(fs.readlinkSync(path.join(deployTo, "current")));
        const marker = (release: string) => fs.readFileSync(path.join(deployTo, "releases", release, ".plone-aws-release"), "utf8");
        const backend = (release: string) => path.join(deployTo, "releases", release, "backend");
        const instanceContext = (release: string, name: string) =>
            JSON.parse(fs.readFileSync(path.join(backend(release), "instances", name, "context.json"), "utf8")) as Record<string, unknown>;
        const pid = (program: string) => supervisord!.pidOf(program);
        const script = (name: string, ...args: string[]) => runHostScript(root, name, ...args);
        const expectOk = (r: RunResult) => expect(r.status, `${r.stdout}\n${r.stderr}`).to.equal(0);
        const answer = (n: 1 | 2) => httpGet(client(n), "/ok").body.split(" ").slice(0, 2).join(" ");

        before(async function () {
            requireBinaries(this, "git", "supervisord", "supervisorctl", "python3", "curl", "ss", "flock");
            if (run("python3", ["-c", "import ensurepip, venv, yaml"]).status !== 0) {
                this.skip(); // needs Debian's python3-venv and python3-yaml
            }
            tmp = tempDir("pip-deploy");
            root = path.join(tmp.dir, "host");
            project = new StandinPipProject(path.join(tmp.dir, "project"));
            template = new StandinInstanceTemplate(path.join(tmp.dir, "template"));
            buildStandinIndex(path.join(tmp.dir, "index"));
            const [indexPort] = await freePorts(1);
            index = new StandinIndexServer(path.join(tmp.dir, "index"), indexPort);
            await index.start();

            const base = await freePortRange(4);
            const [zeoPort] = await freePorts(1);
            ports = { 8080: base, 8081: base + 1, 8082: base + 2, 8083: base + 3, 8084: base + 4, 8001: zeoPort };
            deployTo = `${root}/srv/www/plone`;
            fs.mkdirSync(`${root}/etc/supervisor/conf.d`, { recursive: true });
            supervisord = new TempSupervisord(path.join(root, "supervisord"), `${root}/etc/supervisor/conf.d/*.conf`);
            supervisord.start();

            install = ({ zserverThreads = 2 } = {}) => {
                const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
                    app: {
                        builder: "pip",
                        backendPath: "backend",
                        repository: project.url,
                        revision: "main",
                        keepReleases: 3,
                        pip: { instanceTemplate: template.url, instanceTemplateRevision: "main", tools: STANDIN_PIP_TOOLS },
                        // Only the test's index: no pip configuration of this machine (its find-links, extra indexes).
                        environment: {
                            PIP_INDEX_URL: index.url,
                            // pip caches what a plain-HTTP index serves only from a trusted host (PyPI is HTTPS).
                            PIP_TRUSTED_HOST: "127.0.0.1",
                            PIP_DISABLE_PIP_VERSION_CHECK: "1",
                            PIP_CONFIG_FILE: "/dev/null",
                        },
                    },
                    plone: { clientCount: 2, zserverThreads, startTimeout: 30, drainTimeout: 10, warmupPaths: ["/"], backups: { enabled: false } },
                });
                const { ctx, host } = contextOf(spec);
                installTestHost(ctx, host("app-1"), root, ports, { SUPERVISOR_CONF: supervisord!.conf });
            };
            install();
            fs.mkdirSync(`${root}/var/log/supervisor`, { recursive: true });
            fs.writeFileSync(`${root}/usr/local/sbin/plone-haproxy-agent`, "#!/bin/sh\n# stand-in for the haproxy agent\nexec sleep 3600\n", { mode: 0o755 });
        });

        after(function () {
            supervisord?.stop();
            index?.stop();
            tmp?.cleanup();
        });

        it("a first deploy makes a fresh venv in the release's backend folder, installs from the index, generates each client's instance and starts them", function () {
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(/building releases\/\d{14} from main at [0-9a-f]{12} \(first release\)/);
            expect(r.stdout).to.include("creating the virtual environment backend/.venv");
            expect(r.stdout).to.include("installing the build tools: standin-mxdev standin-cookiecutter");
            expect(r.stdout).to.include("pip install -r requirements.txt -c constraints.txt");
            const [release] = releases();
            expect(current()).to.equal(release);
            expect(marker(release)).to.match(/^commit=[0-9a-f]{40}\nrevision=main\nstack_config_sha256=[0-9a-f]{64}\nbuilt=/);

            // The release's own environment, with what pip installed from the stand-in index.
            const freeze = run(path.join(backend(release), ".venv/bin/pip"), ["freeze"]).stdout;
            expect(freeze).to.include("standin-zope==1.0").and.include("standin-mxdev==1.0").and.include("standin-cookiecutter==1.0");
            // pip's cache is the app's, in shared/ (what the build cache of a scaled group publishes): the downloads are there.
            const pipCache = path.join(deployTo, "shared/pip-cache");
            const cached = run("find", [pipCache, "-type", "f"]).stdout.trim().split("\n").filter(Boolean);
            expect(cached.length, `files in ${pipCache}`).to.be.greaterThan(0);

            // Each client's instance: the stack's keys over the project's instance.yaml.
            const c1 = instanceContext(release, "client1");
            expect(c1).to.include({
                target: "client1",
                wsgi_listen: `0.0.0.0:${client(1)}`,
                wsgi_threads: "2",
                db_storage: "zeo",
                db_zeo_client: "zeoclient-1",
                debug_mode: false,
                // The project's own keys stay.
                initial_user_name: "admin",
                zcml_package_includes: "project.site",
            });
            expect(String(c1.db_zeo_server)).to.match(new RegExp(`:${ports[8001]}$`));
            expect(c1.location_clienthome).to.equal(`${deployTo}/shared/var/client1`);
            expect(instanceContext(release, "client2").wsgi_listen).to.equal(`0.0.0.0:${client(2)}`);
            expect(fs.readFileSync(path.join(backend(release), "instances/client1/etc/zope.conf"), "utf8")).to.include("debug-mode off");
            expect(fs.readFileSync(path.join(backend(release), "instances/zeoserver/zeo.conf"), "utf8")).to.include(`:${ports[8001]}`);
            // The merged configuration may hold the database password.
            expect(fs.statSync(path.join(backend(release), "instances/client1.yaml")).mode & 0o777).to.equal(0o600);
            expect(fs.existsSync(path.join(deployTo, "releases", release, ".instance-template"))).to.equal(false);

            // runwsgi of each client's own instance, runzeo from the same environment.
            expect(answer(1)).to.equal(`client1 ${release}`);
            expect(answer(2)).to.equal(`client2 ${release}`);
            expect(httpGet(ports[8001], "/ok").body).to.match(/^zeoserver /);
            expect(supervisord!.settled()).to.deep.equal({
                "plone-client1": "RUNNING",
                "plone-client2": "RUNNING",
                "plone-haproxy-agent": "RUNNING",
                "plone-zeoserver": "RUNNING",
            });
        });

        it("running it again with nothing changed builds nothing and restarts nothing", function () {
            const before = [pid("plone-client1"), pid("plone-client2"), pid("plone-zeoserver")];
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.match(
                /nothing to deploy: releases\/\d{14} \(commit [0-9a-f]{12}\) already has main at [0-9a-f]{12} and this stack configuration/,
            );
            expect(releases()).to.have.length(1);
            expect([pid("plone-client1"), pid("plone-client2"), pid("plone-zeoserver")]).to.deep.equal(before);
        });

        it("a requirement the index does not have fails the build: the release is removed, current and the clients stay", function () {
            const [release] = releases();
            const before = [pid("plone-client1"), pid("plone-client2")];
            project.commit("a requirement nobody serves", (dir) => fs.appendFileSync(path.join(dir, "backend/requirements.txt"), "no-such-distribution\n"));
            const r = script("plone-deploy");
            expect(r.status).to.equal(1);
            expect(r.stderr).to.match(/error: installing the requirements failed \(exit 1\) in releases\/\d{14}\/backend/);
            expect(r.stdout).to.match(/removed the unfinished release releases\/\d{14}; current and the running programs are untouched/);
            expect(releases()).to.deep.equal([release]);
            expect([pid("plone-client1"), pid("plone-client2")]).to.deep.equal(before);
        });

        it("with an mx.ini, mxdev writes the requirements pip installs; the clients roll one at a time, the ZEO server keeps running", function () {
            const [first] = releases();
            const zeo = pid("plone-zeoserver");
            project.commit("drop the bad requirement", (dir) => fs.writeFileSync(path.join(dir, "backend/requirements.txt"), "standin-zope\n"));
            project.addMxIni();
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("(new commit)");
            expect(r.stdout).to.include("mxdev -c mx.ini in releases/");
            expect(r.stdout).to.include("pip install -r requirements-mxdev.txt");
            const second = releases().find((x) => x !== first)!;
            expect(current()).to.equal(second);
            expect(fs.readFileSync(path.join(backend(second), "requirements-mxdev.txt"), "utf8")).to.include("-c constraints-mxdev.txt");
            expect(r.stdout).to.match(/client1: draining it in haproxy[\s\S]*client1: back in rotation[\s\S]*client2: draining it in haproxy/);
            expect(r.stdout).to.include("plone-zeoserver: its build did not change, not restarted");
            expect(pid("plone-zeoserver")).to.equal(zeo);
            expect(answer(1)).to.equal(`client1 ${second}`);
            expect(answer(2)).to.equal(`client2 ${second}`);
        });

        it("a change of the stack's instance configuration alone makes a new release with the new settings", function () {
            install({ zserverThreads: 3 });
            const r = script("plone-deploy");
            expectOk(r);
            expect(r.stdout).to.include("(the stack's instance configuration changed)");
            expect(releases()).to.have.length(3);
            expect(instanceContext(current(), "client1").wsgi_threads).to.equal("3");
        });

        it("plone-rollback returns to the previous release and its environment", function () {
            const [, second, third] = releases();
            const r = script("plone-rollback");
            expectOk(r);
            expect(r.stdout).to.match(new RegExp(`rolled back to releases/${second} \\(commit [0-9a-f]{12}\\); removed releases/${third}`));
            expect(current()).to.equal(second);
            expect(answer(1)).to.equal(`client1 ${second}`);
            expect(instanceContext(current(), "client1").wsgi_threads).to.equal("2");
        });
    },
);
