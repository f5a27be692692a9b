// The front end as it runs: the rendered nginx -> varnish -> haproxy chain with the real daemons
// and the real plone-haproxy-agent, on free loopback ports under a temporary root.
//
// Plone cannot be installed here (no PyPI), so the two Zope clients are replaced by a small
// stand-in HTTP app (python3): it answers /ok like Plone's ok view, and every other path with
// the path and cookies it received, which client it is, and Cache-Control headers chosen by the
// path (as plone.app.caching would set them).
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { RenderContext } from "../../components/render/context";
import { renderFrontendFiles } from "../../components/render/frontend";
import { rotationDir, FrontendLayout } from "../../components/render/frontend/layout";
import { frontendServiceScriptPath } from "../../components/render/frontend/service";
import { haproxyAgentFile } from "../../components/render/app/haproxyAgent";
import { varnishBanCommand, varnishdArgs } from "../../components/render/frontend/varnish";
import type { HostPlan } from "../../components/topology";
import { PATHS } from "../../components/topology";
import { firstFrontend, variantContext } from "../helpers/frontend";
import { freePorts } from "../helpers/ports";
import { dumpChainLogs, haproxyCommand, prepareDebianFiles, Processes, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { requireBinaries, run, tempDir } from "../helpers/system";

const DOMAIN = "chain.plone.example.org";
const STATS_PASSWORD = `s3cret'"$ #x`;

const STAND_IN = `
import http.server, os, sys, time
name, port = sys.argv[1], int(sys.argv[2])
# A slow request is answered once the test creates this file (it holds the request open until then).
release = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "release-slow")

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/ok":
            body, cc = b"OK", "max-age=0, must-revalidate, private"
        else:
            if "slow" in self.path:
                while not os.path.exists(release):
                    time.sleep(0.05)
            body = ("served-by=%s path=%s cookie=%s" % (name, self.path, self.headers.get("Cookie", ""))).encode()
            if "nocache" in self.path or "slow" in self.path:
                cc = "private"
            elif "graced" in self.path:
                cc = "max-age=0, s-maxage=1"
            else:
                cc = "max-age=0, s-maxage=60, must-revalidate, proxy-revalidate"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Cache-Control", cc)
        self.send_header("X-Client", name)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # haproxy's health checks hang up without reading everything

Server(("127.0.0.1", port), Handler).serve_forever()
`;
import { describeAsRoot } from "../helpers/privileges";

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function request(port: number, urlPath: string, opts: { method?: string; headers?: Record<string, string>; localAddress?: string } = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request(
            {
                host: "127.0.0.1",
                port,
                path: urlPath,
                method: opts.method ?? "GET",
                headers: opts.headers,
                localAddress: opts.localAddress,
                agent: false,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            },
        );
        req.on("error", reject);
        req.end();
    });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Established TCP connections whose local port is `port` (IPv4), from /proc/net/tcp. */
function establishedOn(port: number): number {
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    return fs
        .readFileSync("/proc/net/tcp", "utf8")
        .split("\n")
        .slice(1)
        .filter((l) => {
            const f = l.trim().split(/\s+/);
            return f.length > 3 && f[1].endsWith(`:${hex}`) && f[3] === "01";
        }).length;
}

describeAsRoot(
    "front-end chain: nginx -> varnish -> haproxy -> two stand-in Zope clients",
    "nginx binds port 80 and varnishd starts its jail as on a front end",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let procs: Processes;
        let layout: FrontendLayout;
        let ctx: RenderContext;
        let fe: HostPlan;
        let clientPorts: number[];
        let files: Record<string, string>;
        const site = (p: string, o: Parameters<typeof request>[2] = {}) => request(layout.ports.http, p, { ...o, headers: { Host: DOMAIN, ...o.headers } });

        /** haproxy's status column (UP, DOWN, DRAIN, MAINT, ...) of each client. */
        async function serverStatus(): Promise<Record<string, string>> {
            const csv = await haproxyCommand(layout.paths.haproxySocket, "show stat");
            const rows = csv.split("\n").map((l) => l.split(","));
            const status = rows[0].indexOf("status");
            return Object.fromEntries(
                rows.filter((r) => r[0] === "plone" && r[1].startsWith("chain-1-")).map((r) => [r[1].replace("chain-1-", ""), r[status]]),
            );
        }

        before(async function () {
            requireBinaries(this, "haproxy", "varnishd", "varnishadm", "nginx", "python3");
            tmp = tempDir("frontend-chain");
            fs.chmodSync(tmp.dir, 0o755);
            procs = new Processes(tmp.dir);

            const [http, https, varnish, varnishAdmin, haproxy, haproxyStats, haproxyAgent, c1, c2] = await freePorts(9);
            clientPorts = [c1, c2];
            layout = rootedLayout(tmp.dir, { http, https, varnish, varnishAdmin, haproxy, haproxyStats, haproxyAgent }, "127.0.0.1");

            // One host with every layer and two clients; checks every second, down after two failures;
            // no grace while healthy, so that serving a stale page shows grace-while-sick at work.
            const base = variantContext({
                hosts: [{ name: "chain-1", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
                plone: { clientCount: 2 },
                frontend: {
                    domain: DOMAIN,
                    haproxy: { checkInterval: 1000, fall: 2, rise: 1, slowstart: "1s" },
                    varnish: { grace: 0, graceSick: 600, storage: "malloc,64m" },
                },
            });
            // Loopback addresses for the host, and the stand-ins' free ports for the clients: the
            // renderers take both from the context.
            ctx = {
                ...base,
                addresses: { "chain-1": "127.0.0.1" },
                topology: {
                    ...base.topology,
                    hosts: base.topology.hosts.map((h) => ({ ...h, clients: h.clients.map((c, i) => ({ ...c, port: clientPorts[i] })) })),
                },
                secrets: { ...base.secrets, haproxyStatsPassword: STATS_PASSWORD },
            };
            fe = firstFrontend(ctx);

            prepareDebianFiles(layout);
            fs.mkdirSync(path.dirname(layout.paths.nginxPidFile), { recursive: true });
            fs.mkdirSync(rotationDir(layout), { recursive: true });
            files = writeFiles(tmp.dir, [...renderFrontendFiles(ctx, fe, layout), haproxyAgentFile(layout)]);
            fs.writeFileSync(layout.paths.haproxyStateFile, "1\n");
            fs.writeFileSync(path.join(tmp.dir, "stand-in.py"), STAND_IN);

            procs.start("client1", "python3", [path.join(tmp.dir, "stand-in.py"), "client1", String(c1)]);
            procs.start("client2", "python3", [path.join(tmp.dir, "stand-in.py"), "client2", String(c2)]);
            procs.start("agent", "python3", [`${layout.paths.sbinDir}/plone-haproxy-agent`, "--bind", "127.0.0.1"]);
            procs.start("haproxy", "haproxy", ["-db", "-f", layout.paths.haproxyConfig]);
            procs.start("varnishd", "varnishd", ["-F", "-n", path.join(tmp.dir, "varnish-n"), ...varnishdArgs(ctx, fe, layout)]);
            procs.start("nginx", "nginx", ["-c", `${layout.paths.nginxDir}/nginx.conf`, "-g", "daemon off;"]);

            try {
                await procs.until("the front-door health URL to answer 200", async () =>
                    (await site(PATHS.frontDoorHealth)).status === 200 ? true : undefined,
                );
            } catch (e) {
                dumpChainLogs(procs, layout, ["haproxy", "varnishd", "nginx", "agent", "client1", "client2"]);
                throw e;
            }
        });

        afterEach(function () {
            if (this.currentTest?.state === "failed") dumpChainLogs(procs, layout, ["haproxy", "varnishd", "nginx", "agent", "client1", "client2"]);
        });

        after(async () => {
            await procs?.stopAll();
            tmp?.cleanup();
        });

        it("serves a page from a client under the Zope virtual host of the site", async () => {
            const r = await site("/front-page");
            expect(r.status).to.equal(200);
            expect(r.body).to.match(/^served-by=client[12] /);
            expect(r.body).to.include(`path=/VirtualHostBase/http/${DOMAIN}:${layout.ports.http}/Plone/VirtualHostRoot/front-page `);
            expect(r.headers["x-cache"]).to.equal("MISS");
            // s-maxage and proxy-revalidate are for varnish only.
            expect(r.headers["cache-control"]).to.equal("max-age=0, must-revalidate");
        });

        it("answers the second anonymous GET from the cache", async () => {
            const first = await site("/front-page");
            expect(first.headers["x-cache"]).to.equal("HIT");
            const again = await site("/front-page", { headers: { Cookie: "_ga=GA1.2.3; _gid=x" } });
            expect(again.headers["x-cache"], "analytics cookies are dropped, the page still comes from the cache").to.equal("HIT");
            expect(again.body).to.equal(first.body);
        });

        it("never answers a request with an __ac cookie from the cache, and passes only Plone's cookies", async () => {
            for (let i = 0; i < 3; i++) {
                const r = await site("/front-page", { headers: { Cookie: "_ga=GA1.2.3; __ac=abc123" } });
                expect(r.status).to.equal(200);
                expect(r.headers["x-cache"]).to.equal("MISS");
                expect(r.body, r.body).to.match(/ cookie=__ac=abc123$/);
            }
            const bearer = await site("/front-page", { headers: { Authorization: "Bearer token" } });
            expect(bearer.headers["x-cache"]).to.equal("MISS");
        });

        it("serves unknown host names as the site's domain", async () => {
            const r = await request(layout.ports.http, "/nocache-host", { headers: { Host: "evil.example.net" } });
            expect(r.body).to.include(`path=/VirtualHostBase/http/${DOMAIN}:${layout.ports.http}/Plone/VirtualHostRoot/nocache-host `);
        });

        it("refuses the ZMI and Basic auth on the public side", async () => {
            expect((await site("/manage_main")).status).to.equal(403);
            expect((await site("/folder/manage")).status).to.equal(403);
            expect((await site("/front-page", { headers: { Authorization: "Basic YWRtaW46YWRtaW4=" } })).status).to.equal(403);
        });

        it("sends no new request to a client the agent reports as draining, and all again once ready", async () => {
            const rotation = path.join(rotationDir(layout), "client1");
            fs.writeFileSync(rotation, "drain\n");
            try {
                // "DRAIN (agent)": the agent set it.
                await procs.until("client1 to drain", async () => ((await serverStatus()).client1?.startsWith("DRAIN") ? true : undefined));
                const servedBy = await Promise.all(Array.from({ length: 12 }, (_, i) => site(`/nocache-drain-${i}`).then((r) => r.headers["x-client"])));
                expect(servedBy).to.deep.equal(Array(12).fill("client2"));
            } finally {
                fs.unlinkSync(rotation);
            }
            await procs.until("client1 back in rotation", async () => ((await serverStatus()).client1 === "UP" ? true : undefined));
            fs.writeFileSync(rotation, "maint\n");
            try {
                await procs.until("client1 in maintenance", async () => ((await serverStatus()).client1?.startsWith("MAINT") ? true : undefined));
            } finally {
                fs.unlinkSync(rotation);
            }
            await procs.until("client1 back from maintenance", async () => ((await serverStatus()).client1 === "UP" ? true : undefined));
        });

        it("leaves no connection open to a client after its response (what the rolling restart counts)", async () => {
            // The client holds the slow request until the release file exists.
            const release = path.join(tmp.dir, "release-slow");
            const slow = site("/slow-1");
            try {
                const during = await procs.until("the slow request to reach a client", async () => {
                    const n = clientPorts.reduce((sum, p) => sum + establishedOn(p), 0);
                    return n >= 1 ? n : undefined;
                });
                expect(during).to.be.at.least(1);
            } finally {
                fs.writeFileSync(release, "");
            }
            expect((await slow).status).to.equal(200);
            fs.unlinkSync(release);
            await procs.until("no established connection on the client ports", async () =>
                clientPorts.every((p) => establishedOn(p) === 0) ? true : undefined,
            );
        });

        it("refuses PURGE from outside the ACL and through nginx, and purges for the app hosts", async () => {
            await site("/purge-me");
            expect((await site("/purge-me")).headers["x-cache"]).to.equal("HIT");
            const url = `/VirtualHostBase/http/${DOMAIN}:${layout.ports.http}/Plone/VirtualHostRoot/purge-me`;

            expect((await site(url, { method: "PURGE" })).status, "PURGE through nginx").to.equal(405);
            const outside = await request(layout.ports.varnish, url, { method: "PURGE", localAddress: "127.0.0.3" });
            expect(outside.status, "PURGE from 127.0.0.3, not in the ACL").to.equal(405);
            const viaProxy = await request(layout.ports.varnish, url, { method: "PURGE", headers: { "X-Real-IP": "203.0.113.9" } });
            expect(viaProxy.status, "PURGE relayed by a proxy").to.equal(405);
            expect((await site("/purge-me")).headers["x-cache"], "still cached").to.equal("HIT");

            // As plone.app.caching sends it: its own Host header, the virtual-hosted path.
            const purge = await request(layout.ports.varnish, url, { method: "PURGE", headers: { Host: `127.0.0.1:${layout.ports.varnish}` } });
            expect(purge.status).to.equal(200);
            expect((await site("/purge-me")).headers["x-cache"]).to.equal("MISS");
        });

        it("bans by URL pattern for the app hosts (ops varnish-purge)", async () => {
            await site("/ban-me");
            expect((await site("/ban-me")).headers["x-cache"]).to.equal("HIT");
            expect(
                (await request(layout.ports.varnish, "/", { method: "BAN", headers: { "X-Ban-Url": "/ban-me$" }, localAddress: "127.0.0.3" })).status,
            ).to.equal(405);
            expect((await request(layout.ports.varnish, "/", { method: "BAN", headers: { "X-Ban-Url": "/ban-me$" } })).status).to.equal(200);
            expect((await site("/ban-me")).headers["x-cache"]).to.equal("MISS");
            expect((await site("/front-page")).headers["x-cache"], "other pages stay").to.equal("HIT");

            // The command ops varnish-purge runs, with a regex that needs quoting.
            await site("/ban-me-too");
            expect((await site("/ban-me-too")).headers["x-cache"]).to.equal("HIT");
            const ban = run("bash", ["-c", varnishBanCommand("VirtualRoot/ban-me-(too|'x')$|VirtualHostRoot/ban-me-too$", "127.0.0.1", layout)]);
            expect(ban.status, ban.stderr).to.equal(0);
            expect((await site("/ban-me-too")).headers["x-cache"]).to.equal("MISS");
        });

        it("shows haproxy's statistics only with the password", async () => {
            const auth = "Basic " + Buffer.from(`stats:${STATS_PASSWORD}`).toString("base64");
            const ok = await request(layout.ports.haproxyStats, "/;csv", { headers: { Authorization: auth } });
            expect(ok.status).to.equal(200);
            expect(ok.body).to.include("chain-1-client1");
            expect((await request(layout.ports.haproxyStats, "/;csv")).status).to.equal(401);
            const wrong = "Basic " + Buffer.from("stats:s3cret").toString("base64");
            expect((await request(layout.ports.haproxyStats, "/;csv", { headers: { Authorization: wrong } })).status).to.equal(401);
        });

        it("plone-frontend-service checks the configs and reloads varnish without losing the cache", async () => {
            const script = files[frontendServiceScriptPath(layout)];
            const env = {
                ...process.env,
                PLONE_HAPROXY_CFG: layout.paths.haproxyConfig,
                PLONE_HAPROXY_STATE: layout.paths.haproxyStateFile,
                PLONE_NGINX_CONF: `${layout.paths.nginxDir}/nginx.conf`,
                PLONE_VARNISH_VCL: layout.paths.varnishVcl,
                PLONE_VARNISH_NAME: path.join(tmp.dir, "varnish-n"),
            };
            for (const service of ["haproxy", "varnish", "nginx"]) {
                const r = run("bash", [script, "check", service], { env });
                expect(r.status, `${service}: ${r.stderr}`).to.equal(0);
            }
            const broken = path.join(tmp.dir, "broken.vcl");
            fs.writeFileSync(broken, "vcl 4.1;\nsub vcl_recv { set req.http.x = nosuch; }\n");
            const bad = run("bash", [script, "reload", "varnish"], { env: { ...env, PLONE_VARNISH_VCL: broken } });
            expect(bad.status).to.equal(1);
            expect(bad.stderr).to.include("is invalid");

            expect((await site("/front-page")).headers["x-cache"]).to.equal("HIT");
            const reload = run("bash", [script, "reload", "varnish"], { env });
            expect(reload.status, reload.stdout + reload.stderr).to.equal(0);
            const list = run("varnishadm", ["-n", env.PLONE_VARNISH_NAME, "vcl.list"]);
            expect(list.stdout.split("\n").filter((l) => /^active/.test(l))[0]).to.match(/reload_/);
            const after = await site("/front-page");
            expect(after.status, "no 503 right after the reload").to.equal(200);
            expect(after.headers["x-cache"], "the cache survives a VCL reload").to.equal("HIT");
        });

        it("with every client down: stale pages while sick, the error page (503) for the rest", async () => {
            await site("/graced-page");
            await sleep(1_500); // past its s-maxage of 1 s; no grace while healthy
            const fresh = await site("/graced-page");
            expect(fresh.headers["x-cache"], "expired and healthy: fetched again").to.equal("MISS");

            await Promise.all([procs.stop("client1"), procs.stop("client2")]);
            await procs.until("haproxy to mark both clients down", async () => {
                const s = await serverStatus();
                return s.client1?.startsWith("DOWN") && s.client2?.startsWith("DOWN") ? true : undefined;
            });
            expect((await site(PATHS.frontDoorHealth)).status, "the ALB's health check fails").to.equal(503);

            const error = await site("/nocache-nobody-home");
            expect(error.status).to.equal(503);
            expect(error.body).to.include(`${DOMAIN} is temporarily unavailable`);
            expect(error.headers["cache-control"]).to.equal("no-store");

            const stale = await procs.until("varnish to serve the stale page (backend sick)", async () => {
                const r = await site("/graced-page");
                return r.status === 200 ? r : undefined;
            });
            expect(stale.headers["x-cache"]).to.equal("HIT");
            expect(stale.body).to.include("path=/VirtualHostBase/");
        });
    },
);
