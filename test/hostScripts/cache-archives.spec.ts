// plone-deploy build unpacks app.cacheArchives (eggs, downloads) before the first build: from a
// local HTTP server with basic auth, the password read from its 0600 file and handed to curl on
// stdin. A curl wrapper earlier on PATH records every command line curl gets, to show the password
// is never on one.
import { expect } from "chai";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { freePorts } from "../helpers/ports";
import { FixtureRepo, installTestHost, runHostScript, STANDIN_COMMANDS } from "../helpers/standin";
import { requireBinaries, run, sleepMs, tempDir } from "../helpers/system";

const SERVER = `
import base64, http.server, sys
port, user, password, root, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        with open(log, "a") as f:
            f.write(f"{self.path} {'ok' if auth == expected else 'bad' if auth else 'none'}\\n")
        if self.path == "/eggs.tgz" and auth != expected:
            self.send_response(401); self.end_headers(); return
        data = open(root + self.path, "rb").read()
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
`;
import { describeAsRoot } from "../helpers/privileges";

describeAsRoot("plone-deploy build: cache archives", "plone-deploy runs as root", function () {
    const password = `pa"ss\\word:x$(id)`;
    let tmp: { dir: string; cleanup: () => void };
    let server: ChildProcess | undefined;
    let root: string;
    let repo: FixtureRepo;
    let requestLog: string;
    let argvLog: string;
    let installed: Record<string, string>;

    const build = () => {
        const r = runHostScript(root, "plone-deploy", "build");
        return r;
    };
    const requests = () => (fs.existsSync(requestLog) ? fs.readFileSync(requestLog, "utf8").trim().split("\n") : []);

    before(async function () {
        requireBinaries(this, "git", "python3", "curl", "tar", "supervisorctl", "ss", "flock");
        tmp = tempDir("archives");
        root = path.join(tmp.dir, "host");
        repo = new FixtureRepo(path.join(tmp.dir, "repo"));
        const files = path.join(tmp.dir, "files");
        fs.mkdirSync(path.join(files, "eggs", "zope.interface-6.0-py3.11.egg"), { recursive: true });
        fs.writeFileSync(path.join(files, "eggs", "zope.interface-6.0-py3.11.egg", "PKG-INFO"), "Name: zope.interface\n");
        fs.mkdirSync(path.join(files, "downloads", "dist"), { recursive: true });
        fs.writeFileSync(path.join(files, "downloads", "dist", "Plone-6.0.tar.gz"), "not really\n");
        const serve = path.join(tmp.dir, "serve");
        fs.mkdirSync(serve);
        run("tar", ["-czf", path.join(serve, "eggs.tgz"), "-C", path.join(files, "eggs"), "."]);
        run("tar", ["-czf", path.join(serve, "downloads.tgz"), "-C", path.join(files, "downloads"), "."]);
        requestLog = path.join(tmp.dir, "requests.log");
        const [port] = await freePorts(1);
        server = spawn("python3", ["-c", SERVER, String(port), "bot", password, serve, requestLog], { stdio: "ignore" });

        // curl, but recording its arguments first.
        const bin = path.join(tmp.dir, "bin");
        fs.mkdirSync(bin);
        argvLog = path.join(tmp.dir, "curl-argv.log");
        const curl = run("bash", ["-c", "command -v curl"]).stdout.trim();
        fs.writeFileSync(path.join(bin, "curl"), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${argvLog}\nexec ${curl} "$@"\n`, { mode: 0o755 });
        process.env.PATH = `${bin}:${process.env.PATH}`;

        const spec = variantSpec([{ name: "app-1", layers: ["frontend", "plone_instances", "zeoserver"] }], {
            app: {
                repository: repo.url,
                ...STANDIN_COMMANDS,
                cacheArchives: [
                    { url: `http://127.0.0.1:${port}/eggs.tgz`, path: "shared/eggs", user: "bot" },
                    { url: `http://127.0.0.1:${port}/downloads.tgz`, path: "shared/downloads" },
                ],
            },
            plone: { clientCount: 1 },
        });
        const { ctx, host } = contextOf(spec);
        installed = installTestHost({ ...ctx, secrets: { ...ctx.secrets, cacheArchivePassword: password } }, host("app-1"), root, {}, {});
        for (let i = 0; i < 50 && run("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:${port}/downloads.tgz`]).status !== 0; i++) sleepMs(100);
        fs.rmSync(requestLog, { force: true });
        fs.rmSync(argvLog, { force: true });
    });

    after(function () {
        process.env.PATH = process.env.PATH!.split(":").slice(1).join(":");
        if (server?.exitCode === null) server.kill();
        tmp?.cleanup();
    });

    it("unpacks each archive where it says, with the password from its file and never on a command line", function () {
        expect(fs.readFileSync(installed["/etc/plone-aws/plone/cache_archive_password"], "utf8")).to.equal(password);
        const r = build();
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        const shared = `${root}/srv/www/plone/shared`;
        expect(fs.readFileSync(`${shared}/eggs/zope.interface-6.0-py3.11.egg/PKG-INFO`, "utf8")).to.equal("Name: zope.interface\n");
        expect(fs.existsSync(`${shared}/downloads/dist/Plone-6.0.tar.gz`)).to.equal(true);
        expect(requests()).to.deep.equal(["/eggs.tgz ok", "/downloads.tgz none"]);
        const argv = fs.readFileSync(argvLog, "utf8");
        expect(argv).to.include("-K -");
        expect(argv).to.not.include('pa"ss');
        expect(r.stdout + r.stderr).to.not.include('pa"ss');
    });

    it("does not download them again once unpacked", function () {
        repo.commit("another commit", (dir) => fs.writeFileSync(path.join(dir, "x.txt"), "x\n"));
        const r = build();
        expect(r.status, r.stdout + r.stderr).to.equal(0);
        expect(r.stdout).to.include("(new commit)");
        expect(requests()).to.have.length(2);
    });

    it("fails naming the archive when the server refuses the password, and builds nothing", function () {
        fs.writeFileSync(installed["/etc/plone-aws/plone/cache_archive_password"], "wrong");
        fs.rmSync(`${root}/srv/www/plone/shared/eggs`, { recursive: true });
        const before = fs.readdirSync(`${root}/srv/www/plone/releases`);
        repo.commit("yet another commit", (dir) => fs.writeFileSync(path.join(dir, "y.txt"), "y\n"));
        const r = build();
        expect(r.status).to.equal(1);
        expect(r.stderr).to.match(/error: downloading http:\/\/127\.0\.0\.1:\d+\/eggs\.tgz failed/);
        expect(requests().at(-1)).to.equal("/eggs.tgz bad");
        expect(fs.readdirSync(`${root}/srv/www/plone/releases`)).to.deep.equal(before);
    });
});
