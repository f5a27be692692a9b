// The test hosts' way to the Debian mirror: a small caching HTTP proxy, like apt-cacher-ng.
// The hosts have no route out of the run's namespaces (nothing is routed or NATed through the
// machine), so apt inside them is configured with `Acquire::http::Proxy` pointing at their
// gateway, where a socat in the run's VPC namespace relays to this proxy's Unix socket.
// Only the allowed mirror hosts are reached; immutable files (pool/ and by-hash/) are cached on
// disk and shared by every host and every later run; index files (InRelease) always go upstream.
//
//   node -r ts-node/register/transpile-only aptProxy.ts --socket S --cache DIR [--allow HOST,...]
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

export const DEFAULT_MIRROR_HOSTS = ["deb.debian.org"];

export interface AptProxyOptions {
    /** Unix socket, or TCP port (0: any free one) on `host`. */
    listen: string | number;
    /** For a TCP port: the address to listen on (loopback only, never the machine's network). */
    host?: "127.0.0.1";
    cacheDir: string;
    allowedHosts: string[];
    log?: (line: string) => void;
}

/** URLs whose content never changes under the same path: packages and by-hash indexes. */
export function isImmutable(pathname: string): boolean {
    return /\/pool\/.+\.(deb|udeb|dsc|tar\.\w+|diff\.gz)$/.test(pathname) || /\/by-hash\/[A-Za-z0-9]+\/[0-9a-f]{32,}$/.test(pathname);
}

/** The cache file of a URL; undefined for paths that could leave the cache dir. */
export function cachePath(cacheDir: string, url: URL): string | undefined {
    const rel = path.posix.normalize(`${url.hostname}${url.pathname}`);
    if (rel.startsWith("..") || rel.includes("/../") || decodeURIComponent(url.pathname).includes("..")) return undefined;
    return path.join(cacheDir, rel);
}

const HOP_BY_HOP = new Set(["connection", "proxy-connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]);

function forwardHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
    return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

export function startAptProxy(options: AptProxyOptions): Promise<http.Server> {
    const log = options.log ?? (() => undefined);
    const allowed = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
    const upstream = new http.Agent({ keepAlive: true, maxSockets: 8 });
    /** Downloads in flight by cache file: a second host asking for the same package waits for the first. */
    const inFlight = new Map<string, Promise<boolean>>();

    const refuse = (res: http.ServerResponse, status: number, message: string) => {
        res.writeHead(status, { "content-type": "text/plain" });
        res.end(`plone-aws rehearsal apt proxy: ${message}\n`);
    };

    const serveFile = (req: http.IncomingMessage, res: http.ServerResponse, file: string, started: number) => {
        const size = fs.statSync(file).size;
        res.writeHead(200, { "content-length": size, "content-type": "application/octet-stream" });
        if (req.method === "HEAD") res.end();
        else fs.createReadStream(file).pipe(res);
        log(`HIT  200 ${req.url} ${size}B ${Date.now() - started}ms`);
    };

    /** Fetches url upstream, streams it to res, and stores it at `file` when given and complete. */
    const fetch = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, file: string | undefined, started: number): Promise<boolean> =>
        new Promise((resolve) => {
            const up = http.request(url, { method: req.method, headers: { ...forwardHeaders(req.headers), host: url.host }, agent: upstream }, (upRes) => {
                const status = upRes.statusCode ?? 502;
                const store = file !== undefined && status === 200 && req.method === "GET";
                const expected = Number(upRes.headers["content-length"] ?? -1);
                const tmp = store ? `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.part` : undefined;
                let out: fs.WriteStream | undefined;
                if (tmp) {
                    fs.mkdirSync(path.dirname(tmp), { recursive: true });
                    out = fs.createWriteStream(tmp);
                }
                let received = 0;
                let broken = false;
                // A cache write that fails (disk full, destroyed after a broken download) only loses the copy.
                out?.on("error", () => (broken = true));
                // Removes the partial copy once its stream has closed: the file may only be opened
                // after destroy() is called, and a remove before that would leave it behind.
                const drop = () =>
                    new Promise<void>((done) => {
                        if (!out || !tmp) return done();
                        out.once("close", () => {
                            fs.rmSync(tmp, { force: true });
                            done();
                        });
                        out.destroy();
                    });
                res.writeHead(status, forwardHeaders(upRes.headers));
                upRes.on("data", (chunk: Buffer) => {
                    if (broken) return;
                    received += chunk.length;
                    out?.write(chunk);
                    if (!res.destroyed) res.write(chunk);
                });
                // An upstream that dies mid-body: the host's apt sees a broken download and retries.
                upRes.on("aborted", () => (broken = true));
                upRes.on("error", () => (broken = true));
                upRes.on("close", () => {
                    // HEAD and 304 answers carry a length but no body.
                    const lengthOk = req.method !== "GET" || status !== 200 || expected < 0 || received === expected;
                    const whole = !broken && upRes.complete && lengthOk;
                    log(`${store ? "MISS" : "PASS"} ${status} ${url.href} ${received}B ${Date.now() - started}ms${whole ? "" : " (incomplete)"}`);
                    if (!whole) {
                        void drop().then(() => {
                            res.destroy();
                            resolve(false);
                        });
                        return;
                    }
                    res.end();
                    if (!out || !tmp || !file) return resolve(false);
                    // Keep only whole files: apt would reject a truncated one forever.
                    out.end(() => {
                        fs.renameSync(tmp, file);
                        resolve(true);
                    });
                });
            });
            up.on("error", (e) => {
                log(`ERR  502 ${url.href} ${e.message}`);
                if (!res.headersSent) refuse(res, 502, `${url.host}: ${e.message}`);
                else res.destroy();
                resolve(false);
            });
            up.end();
        });

    const server = http.createServer((req, res) => {
        const started = Date.now();
        let url: URL;
        try {
            url = new URL(req.url ?? "");
        } catch {
            return refuse(res, 400, `not a proxy request: ${req.url}`);
        }
        if (url.protocol !== "http:") return refuse(res, 400, `only http:// is relayed (${url.protocol})`);
        if (!allowed.has(url.hostname.toLowerCase())) {
            log(`DENY 403 ${url.href}`);
            return refuse(res, 403, `${url.hostname} is not a Debian mirror this rehearsal may reach (allowed: ${[...allowed].join(", ")})`);
        }
        if (req.method !== "GET" && req.method !== "HEAD") return refuse(res, 405, `${req.method} is not relayed`);
        const file = isImmutable(url.pathname) && !req.headers.range ? cachePath(options.cacheDir, url) : undefined;
        if (!file) return void fetch(req, res, url, undefined, started);
        if (fs.existsSync(file)) return serveFile(req, res, file, started);
        const pending = inFlight.get(file);
        if (pending) {
            return void pending.then((stored) => {
                if (stored && fs.existsSync(file)) serveFile(req, res, file, started);
                else void fetch(req, res, url, undefined, started);
            });
        }
        const download = fetch(req, res, url, file, started).finally(() => inFlight.delete(file));
        inFlight.set(file, download);
    });
    // apt keeps connections open between requests; a quiet host must not keep sockets forever.
    server.keepAliveTimeout = 30_000;
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        if (typeof options.listen === "number") server.listen(options.listen, options.host ?? "127.0.0.1", () => resolve(server));
        else server.listen(options.listen, () => resolve(server));
    });
}

function argValue(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
}

if (require.main === module) {
    const argv = process.argv.slice(2);
    const socket = argValue(argv, "--socket");
    const cacheDir = argValue(argv, "--cache");
    if (!socket || !cacheDir) {
        console.error("usage: aptProxy.ts --socket PATH --cache DIR [--allow HOST,...]");
        process.exit(2);
    }
    fs.rmSync(socket, { force: true });
    fs.mkdirSync(cacheDir, { recursive: true });
    const allowedHosts = (argValue(argv, "--allow") ?? DEFAULT_MIRROR_HOSTS.join(",")).split(",").filter(Boolean);
    startAptProxy({ listen: socket, cacheDir, allowedHosts, log: (line) => console.log(`${new Date().toISOString()} ${line}`) }).then(
        () => console.log(`apt proxy on ${socket}, cache ${cacheDir}, mirrors ${allowedHosts.join(", ")}`),
        (e: Error) => {
            console.error(`apt proxy: ${e.message}`);
            process.exit(1);
        },
    );
}
