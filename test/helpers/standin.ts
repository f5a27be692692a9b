// The stand-in Plone: PyPI is unreachable here, so no real buildout can run. A fixture buildout
// repository carries a stand-in build command that reads the deploy.cfg plone-aws wrote and
// makes bin/client1..N (and bin/zeoserver) running a small python3 HTTP app on the address
// deploy.cfg gives. Everything around it (git, releases, supervisord, the scripts) is real.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import type { RenderContext, RenderedFile } from "../../components/render/context";
import type { HostPlan } from "../../components/topology";
import { run, RunResult } from "./system";

export const STANDIN_APP = `# Stand-in for a Zope client or ZEO server (Plone cannot be built here: no PyPI).
# Answers every path with its name and release (/slow?s=N after N seconds) and records its
# start and stop, with the client's rotation file, in $STANDIN_EVENTS.
import http.server, os, signal, sys, time
from urllib.parse import urlparse, parse_qs

port, name, release = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = os.environ.get("STANDIN_EVENTS", "")
rotation_dir = os.environ.get("STANDIN_ROTATION_DIR", "")
control = os.environ.get("STANDIN_CONTROL", "")

def record(what):
    if not events:
        return
    try:
        with open(os.path.join(rotation_dir, name)) as f:
            rotation = f.read().strip()
    except OSError:
        rotation = "none"
    with open(events, "a") as f:
        f.write(f"{time.time():.3f} {name} {what} rotation={rotation} release={os.path.basename(release)}\\n")

if name.startswith("client") and os.path.exists(os.path.join(release, "BROKEN_CLIENTS")):
    record("crash")
    sys.exit(3)
if control and os.path.exists(os.path.join(control, "hang-" + name)):
    record("hang")
    time.sleep(3600)
    sys.exit(1)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/slow":
            time.sleep(float(parse_qs(url.query).get("s", ["3"])[0]))
        body = f"{name} {os.path.basename(release)} {self.path} {os.environ.get('PLONE_ENV', '')}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if events and url.path != "/ok":
            with open(events, "a") as f:
                f.write(f"{time.time():.3f} {name} GET {self.path}\\n")

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
server.daemon_threads = True

def stop(signum, frame):
    record("stop")
    os._exit(0)  # like a killed Zope: requests still in flight are cut off

signal.signal(signal.SIGTERM, stop)
record("start")
server.serve_forever()
`;

export const STANDIN_BUILD = `# Stand-in for bin/buildout (PyPI is unreachable): reads the deploy.cfg plone-aws wrote and makes
# the scripts the supervisor programs run, baking in this release's path as buildout does.
import os, re, sys

args = sys.argv[1:]
cfg = args[args.index("-c") + 1]
release = os.getcwd()
if os.path.exists("FAIL_BUILD"):
    os.makedirs("bin", exist_ok=True)
    open("bin/half-built", "w").write("")
    print("stand-in build: FAIL_BUILD is present, failing", file=sys.stderr)
    sys.exit(1)

sections, current = {}, None
for line in open(cfg):
    m = re.match(r"^\\[([^\\]]+)\\]", line)
    if m:
        current = sections.setdefault(m.group(1), {})
        continue
    m = re.match(r"^([^\\s=]+?)\\s*=\\s*(.*)$", line)
    if m and current is not None:
        current[m.group(1)] = m.group(2).strip()

def script(name, port):
    path = os.path.join("bin", name)
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\\n# stand-in for buildout's bin/{name}\\nexec {sys.executable} {release}/standin/app.py {port} {name} {release}\\n")
    os.chmod(path, 0o755)

os.makedirs("bin", exist_ok=True)
for name, options in sections.items():
    if re.fullmatch(r"client\\d+", name):
        script(name, options["http-address"].rsplit(":", 1)[-1])
        os.makedirs(f"parts/{name}/etc", exist_ok=True)
        open(f"parts/{name}/etc/wsgi.ini", "w").write(repr(sorted(options.items())))
server = sections.get("zeoserver", {})
if "zeo-address" in server:
    script("zeoserver", server["zeo-address"].rsplit(":", 1)[-1])
    os.makedirs("parts/zeoserver/etc", exist_ok=True)
    # From the server's own options only: a client-side change leaves the server's build as it is.
    open("parts/zeoserver/etc/zeo.conf", "w").write("\\n".join(f"{k} {v}" for k, v in sorted(server.items())) + "\\n")
open("build-args.txt", "w").write(" ".join(args) + "\\nVENV=" + os.environ.get("VENV", "") + "\\n")
print("stand-in build: made", " ".join(sorted(os.listdir("bin"))))
`;

/** The fixture buildout repository: git on a local path, reached through a file:// URL. */
export class FixtureRepo {
    readonly url: string;

    constructor(readonly dir: string) {
        fs.mkdirSync(path.join(dir, "standin"), { recursive: true });
        this.git("init", "--quiet", "--initial-branch=main");
        this.git("config", "user.email", "tests@plone-aws.invalid");
        this.git("config", "user.name", "plone-aws tests");
        fs.writeFileSync(path.join(dir, "standin", "app.py"), STANDIN_APP);
        fs.writeFileSync(path.join(dir, "standin", "build.py"), STANDIN_BUILD);
        fs.writeFileSync(path.join(dir, "README.txt"), "fixture buildout for the plone-aws deploy tests\n");
        this.commit("stand-in buildout");
        this.url = `file://${dir}`;
    }

    git(...args: string[]): string {
        const r = run("git", ["-C", this.dir, ...args]);
        if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    }

    /** Commits the working tree (after `change`), returning the commit id. */
    commit(message: string, change?: (dir: string) => void): string {
        change?.(this.dir);
        this.git("add", "-A");
        this.git("commit", "--quiet", "--allow-empty", "-m", message);
        return this.git("rev-parse", "HEAD");
    }
}

/** Bootstrap and build commands for the stand-in buildout, as app.bootstrapCommand / app.buildCommand. */
export const STANDIN_COMMANDS = {
    bootstrapCommand: `mkdir -p bin && "$VENV/bin/python" -c 'import sys; print("stand-in bootstrap with", sys.prefix)'`,
    buildCommand: `"$VENV/bin/python" standin/build.py -c deploy.cfg`,
};

/** Absolute roots of the host layout the rendered files name; tests move them under a temp dir. */
const HOST_ROOTS = [
    "/srv/www",
    "/srv/data",
    "/srv/shared-blobs",
    "/etc/plone-aws",
    "/etc/supervisor",
    "/run/plone-aws",
    "/var/log/supervisor",
    "/usr/local/sbin",
    "/usr/local/lib/plone-aws",
];
const ROOTS = new RegExp(`(?<![\\w.])(${HOST_ROOTS.map((r) => r.replace(/[/.-]/g, "\\$&")).join("|")})(?=[/'"\\s:},)]|$)`, "gm");

/** The same text with the host's absolute paths moved under `root` (so a test writes nothing outside its temp dir). */
export function relocate(text: string, root: string): string {
    return text.replace(ROOTS, (p) => `${root}${p}`);
}

/** Writes rendered files under `root` with their modes, content relocated and `edit` applied. */
export function installRelocated(files: RenderedFile[], root: string, edit: (file: RenderedFile, content: string) => string = (_, c) => c): Record<string, string> {
    const paths: Record<string, string> = {};
    for (const f of files) {
        const target = `${root}${f.path}`;
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, edit(f, relocate(f.content, root)));
        fs.chmodSync(target, parseInt(f.mode, 8));
        paths[f.path] = target;
    }
    return paths;
}

/** Free TCP ports on 127.0.0.1 (briefly bound, then released). */
export async function freePorts(n: number): Promise<number[]> {
    const servers = await Promise.all(
        Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
            const s = net.createServer();
            s.listen(0, "127.0.0.1", () => resolve(s));
        })),
    );
    const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    return ports;
}

/** A free TCP port base such that base+1 .. base+n are free too (clientN listens on base + N). */
export async function freePortRange(n: number): Promise<number> {
    const free = (port: number) =>
        new Promise<boolean>((resolve) => {
            const s = net.createServer();
            s.once("error", () => resolve(false));
            s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
        });
    for (let attempt = 0; attempt < 200; attempt++) {
        const base = 20000 + Math.floor(Math.random() * 40000);
        const checks = await Promise.all(Array.from({ length: n + 1 }, (_, i) => free(base + i)));
        if (checks.every(Boolean)) return base;
    }
    throw new Error(`no ${n + 1} consecutive free ports found`);
}

/** Replaces whole-number occurrences of rendered ports (8081 ...) with the test's free ports. */
export function remapPorts(text: string, ports: Record<number, number>): string {
    return text.replace(/\b\d{4,5}\b/g, (p) => String(ports[Number(p)] ?? p));
}

/** GET on 127.0.0.1: status and body, or status 0 when nothing answers. */
export function httpGet(port: number, urlPath: string, timeoutSeconds = 5): { status: number; body: string } {
    const r = run("curl", ["-sS", "-m", String(timeoutSeconds), "-o", "-", "-w", "\n%{http_code}", `http://127.0.0.1:${port}${urlPath}`]);
    const lines = r.stdout.split("\n");
    const status = Number(lines.pop() ?? 0);
    return { status: r.status === 0 ? status : 0, body: lines.join("\n") };
}

/**
 * Installs the app files of a host under `root` as a test host: paths relocated, rendered ports
 * swapped for the test's, and test-only settings appended to deploy.env (the test's supervisord,
 * DEPLOY_USER root since this machine has no plone user, a short drain grace). supervisor's
 * user=plone becomes user=root for the same reason. Returns rendered path -> installed path.
 */
export function installTestHost(
    ctx: RenderContext,
    host: HostPlan,
    root: string,
    ports: Record<number, number>,
    settings: Record<string, string | number>,
): Record<string, string> {
    const overrides = Object.entries({ DEPLOY_USER: "root", DRAIN_GRACE: 1, ...settings })
        .map(([k, v]) => `${k}='${String(v)}'`)
        .join("\n");
    return installRelocated(renderAppFiles(ctx, host), root, (file, content) => {
        if (file.path.endsWith("/deploy.cfg")) return remapPorts(content, ports);
        if (file.path.endsWith("/deploy.env")) return `${remapPorts(content, ports)}# Test overrides\n${overrides}\n`;
        if (file.path.endsWith(".conf")) return content.replace(/^user=plone$/gm, "user=root");
        return content;
    });
}

/** Runs one of the host scripts installed under `root` (set PLONE_AWS_TEST_VERBOSE=1 to see its output). */
export function runHostScript(root: string, name: string, ...args: string[]): RunResult {
    const env = { ...process.env };
    delete env.PLONE_DEPLOY_ENV;
    const r = run(`${root}/usr/local/sbin/${name}`, args, { env, timeout: 110_000 });
    if (process.env.PLONE_AWS_TEST_VERBOSE) console.log(`--- ${name} ${args.join(" ")} -> ${r.status}\n${r.stdout}${r.stderr}`);
    return r;
}
