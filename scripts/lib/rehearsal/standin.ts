// The stand-in Plone: PyPI is unreachable here, so no real buildout can run. A fixture buildout
// repository carries a stand-in build command that reads the deploy.cfg plone-aws wrote and makes
// bin/client1..N (and bin/zeoserver) running a small python3 HTTP app on the address deploy.cfg
// gives. Everything around it (git, releases, supervisor, haproxy, varnish, nginx, the mounts) is
// real. The host script tests (test/hostScripts) and the rehearsal (scripts/lib/rehearsal) share it.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/**
 * The stand-in Zope client (and ZEO server): answers every path with its name and release, and
 * in the X-Standin header its host, name and release. /ok (the health URL) is never cached; pages
 * carry the cache headers plone.app.caching's moderate caching sends, so varnish stores them.
 * Settings from the environment (app.environment): STANDIN_STARTUP_SECONDS (a Zope start takes a
 * while: the port opens only after it), STANDIN_RESPONSE_MS (rendering time of a page),
 * STANDIN_EVENTS / STANDIN_ROTATION_DIR / STANDIN_CONTROL (the script tests' event log and hooks).
 */
export const STANDIN_APP = `# Stand-in for a Zope client or ZEO server (Plone cannot be built here: no PyPI).
# Answers every path with its name and release (/slow?s=N after N seconds) and records its
# start and stop, with the client's rotation file, in $STANDIN_EVENTS.
import http.server, os, signal, socket, sys, time
from urllib.parse import urlparse, parse_qs

port, name, release = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = os.environ.get("STANDIN_EVENTS", "")
rotation_dir = os.environ.get("STANDIN_ROTATION_DIR", "")
control = os.environ.get("STANDIN_CONTROL", "")
startup = float(os.environ.get("STANDIN_STARTUP_SECONDS", "0") or 0)
response_ms = float(os.environ.get("STANDIN_RESPONSE_MS", "0") or 0)
host = socket.gethostname()

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
        elif response_ms and url.path != "/ok":
            time.sleep(response_ms / 1000)
        body = f"{name} {os.path.basename(release)} {self.path} {os.environ.get('PLONE_ENV', '')}\\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Standin", f"{host} {name} {os.path.basename(release)}")
        if url.path == "/ok":
            self.send_header("Cache-Control", "no-store")
        else:
            self.send_header("Cache-Control", "max-age=0, s-maxage=3600, must-revalidate")
        self.end_headers()
        self.wfile.write(body)
        if events and url.path != "/ok":
            with open(events, "a") as f:
                f.write(f"{time.time():.3f} {name} GET {self.path}\\n")

    def log_message(self, *args):
        pass

def stop(signum, frame):
    record("stop")
    os._exit(0)  # like a killed Zope: requests still in flight are cut off

signal.signal(signal.SIGTERM, stop)
if startup:
    time.sleep(startup)  # a Zope client loads its code and opens the database before it listens
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
server.daemon_threads = True
record("start")
server.serve_forever()
`;

/**
 * The stand-in for bin/buildout: reads deploy.cfg and makes the scripts the supervisor programs
 * run (bin/client<N>, bin/zeoserver), baking in the release's path as buildout does. It fails when
 * the release holds FAIL_BUILD, or FAIL_BUILD_ON naming this host's hostname (a build that breaks
 * on one host only, as a network hiccup or a full disk would).
 */
export const STANDIN_BUILD = `# Stand-in for bin/buildout (PyPI is unreachable): reads the deploy.cfg plone-aws wrote and makes
# the scripts the supervisor programs run, baking in this release's path as buildout does.
import os, re, socket, sys

args = sys.argv[1:]
cfg = args[args.index("-c") + 1]
release = os.getcwd()
failing_hosts = open("FAIL_BUILD_ON").read().split() if os.path.exists("FAIL_BUILD_ON") else []
if os.path.exists("FAIL_BUILD") or socket.gethostname() in failing_hosts:
    os.makedirs("bin", exist_ok=True)
    open("bin/half-built", "w").write("")
    print(f"stand-in build: {'FAIL_BUILD is present' if os.path.exists('FAIL_BUILD') else 'FAIL_BUILD_ON names ' + socket.gethostname()}, failing", file=sys.stderr)
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

/** Bootstrap and build commands for the stand-in buildout, as app.bootstrapCommand / app.buildCommand. */
export const STANDIN_COMMANDS = {
    bootstrapCommand: `mkdir -p bin && "$VENV/bin/python" -c 'import sys; print("stand-in bootstrap with", sys.prefix)'`,
    buildCommand: `"$VENV/bin/python" standin/build.py -c deploy.cfg`,
};

export class StandinRepoError extends Error {}

/**
 * The fixture buildout repository: a git working tree holding the stand-in (standin/app.py,
 * standin/build.py), one commit on `main` to start with.
 */
export class StandinRepo {
    constructor(readonly dir: string) {
        fs.mkdirSync(path.join(dir, "standin"), { recursive: true });
        this.git("init", "--quiet", "--initial-branch=main");
        this.git("config", "user.email", "tests@plone-aws.invalid");
        this.git("config", "user.name", "plone-aws tests");
        fs.writeFileSync(path.join(dir, "standin", "app.py"), STANDIN_APP);
        fs.writeFileSync(path.join(dir, "standin", "build.py"), STANDIN_BUILD);
        fs.writeFileSync(path.join(dir, "README.txt"), "fixture buildout for plone-aws: a stand-in for the Plone buildout (no PyPI here)\n");
        this.commit("stand-in buildout");
    }

    git(...args: string[]): string {
        const r = spawnSync("git", ["-C", this.dir, ...args], { encoding: "utf8", timeout: 60_000 });
        if (r.error) throw new StandinRepoError(`git ${args.join(" ")}: ${r.error.message}`);
        if (r.status !== 0) throw new StandinRepoError(`git ${args.join(" ")}: ${r.stderr}`);
        return r.stdout.trim();
    }

    /** Commits the working tree (after `change`), returning the commit id. */
    commit(message: string, change?: (dir: string) => void): string {
        change?.(this.dir);
        this.git("add", "-A");
        this.git("commit", "--quiet", "--allow-empty", "-m", message);
        return this.git("rev-parse", "HEAD");
    }

    /** Tags the current commit (moving the tag if it exists). */
    tag(name: string): string {
        this.git("tag", "-f", name);
        return this.git("rev-parse", "HEAD");
    }
}
