// The front end of a stack with Volto, as it runs: the rendered nginx, varnish and haproxy with the
// real daemons and the real plone-haproxy-agent, on free loopback ports under a temporary root.
//
// Neither Plone nor Volto can be installed here (no PyPI, no npm registry), so both are stand-ins:
// small Node HTTP servers. The Zope client answers /ok and every other path with the path and Host
// it received (with Cache-Control so that varnish caches it); each of the two Volto processes
// answers the stack's Volto health path, and every other path with its name, the path and the
// Host, X-Forwarded-Proto and X-Forwarded-For it received, a little later under /load (so that a
// process stopped under load has requests in flight).
import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { RenderContext } from "../../components/render/context";
import { renderFrontendFiles } from "../../components/render/frontend";
import { renderHaproxyConfig } from "../../components/render/frontend/haproxy";
import { FrontendLayout, rotationDir } from "../../components/render/frontend/layout";
import { frontendServiceScriptPath } from "../../components/render/frontend/service";
import { varnishdArgs } from "../../components/render/frontend/varnish";
import { haproxyAgentFile } from "../../components/render/app/haproxyAgent";
import { PATHS, type HostPlan } from "../../components/topology";
import { firstFrontend, frontendsOf } from "../helpers/frontend";
import { dumpChainLogs, haproxyCommand, prepareDebianFiles, Processes, rootedLayout, writeFiles } from "../helpers/frontendDaemons";
import { freePorts } from "../helpers/ports";
import { describeAsRoot } from "../helpers/privileges";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { voltoHostsContext, voltoOnFrontendContext } from "../helpers/voltoStack";

const DOMAIN = "volto.plone.example.org";
const HEALTH = "/_stand-in/ok";

const ZOPE_STAND_IN = `
const http = require("http");
const [name, port] = process.argv.slice(2);
http.createServer((req, res) => {
    const ok = req.url === "/ok";
    const body = ok ? "OK" : JSON.stringify({ servedBy: name, path: req.url, host: req.headers.host });
    res.writeHead(200, {
        "Content-Type": ok ? "text/plain" : "application/json",
        "Cache-Control": ok ? "max-age=0, private" : "max-age=0, s-maxage=60",
        "X-Client": name,
        "Content-Length": Buffer.byteLength(body),
    });
    res.end(body);
}).listen(Number(port), "127.0.0.1");
`;

const VOLTO_STAND_IN = `
const http = require("http");
const [name, port, health] = process.argv.slice(2);
http.createServer((req, res) => {
    if (req.url === health) {
        res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 2 });
        return res.end("ok");
    }
    const answer = () => {
        const body = JSON.stringify({
            servedBy: name,
            path: req.url,
            host: req.headers.host,
            proto: req.headers["x-forwarded-proto"],
            forwardedFor: req.headers["x-forwarded-for"],
        });
        res.writeHead(200, { "Content-Type": "application/json", "X-Volto": name, "Content-Length": Buffer.byteLength(body) });
        res.end(body);
    };
    if (req.url.startsWith("/load")) setTimeout(answer, 20);
    else answer();
}).listen(Number(port), "127.0.0.1");
`;

interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

function request(port: number, urlPath: string, headers: Record<string, string> = {}, host = "127.0.0.1"): Promise<Reply> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host, port, path: urlPath, headers, agent: false }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        });
        req.on("error", reject);
        req.end();
    });
}

interface Seen {
    servedBy: string;
    path: string;
    host: string;
    proto?: string;
    forwardedFor?: string;
}

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

/**
 * Visitors: `concurrency` loops of page requests until stopped, recording every answer (a failed
 * connection counts as status 0). The test decides when to stop from what it has seen, not from time.
 */
class Load {
    /** Each answer with the number of its request, counted when it was sent. */
    readonly answers: { status: number; servedBy?: string; request: number }[] = [];
    /** Requests sent so far. */
    sent = 0;
    private running = true;
    private readonly loops: Promise<void>[];

    constructor(
        private readonly get: (p: string) => Promise<Reply>,
        concurrency = 8,
    ) {
        this.loops = Array.from({ length: concurrency }, (_, i) => this.loop(i));
    }

    private async loop(i: number): Promise<void> {
        for (let n = 0; this.running; n++) {
            const request = ++this.sent;
            try {
                const r = await this.get(`/load-${i}-${n}`);
                this.answers.push({ status: r.status, servedBy: r.headers["x-volto"] as string | undefined, request });
            } catch {
                this.answers.push({ status: 0, request });
            }
        }
    }

    /** Waits until `count` more answers have come in. */
    async more(procs: Processes, count: number, what: string): Promise<void> {
        const target = this.answers.length + count;
        await procs.until(what, async () => (this.answers.length >= target ? true : undefined));
    }

    async stop(): Promise<void> {
        this.running = false;
        await Promise.all(this.loops);
    }

    failures(): { status: number; servedBy?: string }[] {
        return this.answers.filter((a) => a.status !== 200);
    }

    /** The processes that answered requests sent after the `after`th. */
    servedAfter(after: number): string[] {
        return this.answers.filter((a) => a.request > after).map((a) => a.servedBy ?? "");
    }
}

describeAsRoot(
    "front end with Volto: nginx -> haproxy -> two stand-in Volto processes, /++api++ and backendPaths -> varnish -> haproxy -> a stand-in Zope client",
    "nginx binds its ports and varnishd starts its jail as on a front end",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let procs: Processes;
        let layout: FrontendLayout;
        let ctx: RenderContext;
        let fe: HostPlan;
        let voltoPorts: number[];
        let files: Record<string, string>;
        const site = (p: string, headers: Record<string, string> = {}) => request(layout.ports.http, p, { Host: DOMAIN, ...headers });
        const startVolto = (n: number) =>
            procs.start(`volto${n}`, "node", [path.join(tmp.dir, "volto-stand-in.js"), `volto${n}`, String(voltoPorts[n - 1]), HEALTH]);

        /** haproxy's status column (UP, DOWN, DRAIN, MAINT, ...) of each Volto process. */
        async function voltoStatus(): Promise<Record<string, string>> {
            const csv = await haproxyCommand(layout.paths.haproxySocket, "show stat");
            const rows = csv.split("\n").map((l) => l.split(","));
            const status = rows[0].indexOf("status");
            return Object.fromEntries(rows.filter((r) => r[0] === "volto" && r[1].startsWith("dev-1-")).map((r) => [r[1].replace("dev-1-", ""), r[status]]));
        }
        const waitStatus = (process: string, prefix: string) =>
            procs.until(`${process} to be ${prefix} in haproxy`, async () => ((await voltoStatus())[process]?.startsWith(prefix) ? true : undefined));

        before(async function () {
            requireBinaries(this, "haproxy", "varnishd", "varnishadm", "nginx", "node", "python3");
            tmp = tempDir("frontend-volto");
            fs.chmodSync(tmp.dir, 0o755);
            procs = new Processes(tmp.dir);

            const [http, https, varnish, varnishAdmin, haproxy, haproxyStats, haproxyAgent, haproxyVolto, client1, v1, v2] = await freePorts(11);
            voltoPorts = [v1, v2];
            layout = rootedLayout(tmp.dir, { http, https, varnish, varnishAdmin, haproxy, haproxyStats, haproxyAgent, haproxyVolto }, "127.0.0.1");

            // One host with every layer and Volto: one Zope client, two Volto processes; checks every
            // second, down after two failures.
            const base = voltoOnFrontendContext({
                plone: { clientCount: 1 },
                frontend: { domain: DOMAIN, haproxy: { checkInterval: 1000, fall: 2, rise: 1, slowstart: "1s" }, varnish: { storage: "malloc,64m" } },
                volto: { healthPath: HEALTH },
            });
            // Loopback for the host's address, the stand-ins' free ports for the client and the
            // processes: the renderers take both from the context.
            ctx = {
                ...base,
                addresses: { "dev-1": "127.0.0.1" },
                topology: {
                    ...base.topology,
                    hosts: base.topology.hosts.map((h) => ({
                        ...h,
                        clients: h.clients.map((c) => ({ ...c, port: client1 })),
                        voltoProcesses: h.voltoProcesses.map((p, i) => ({ ...p, port: voltoPorts[i] })),
                    })),
                },
            };
            fe = firstFrontend(ctx);

            prepareDebianFiles(layout);
            fs.mkdirSync(path.dirname(layout.paths.nginxPidFile), { recursive: true });
            fs.mkdirSync(rotationDir(layout), { recursive: true });
            files = writeFiles(tmp.dir, [...renderFrontendFiles(ctx, fe, layout), haproxyAgentFile(layout)]);
            fs.writeFileSync(layout.paths.haproxyStateFile, "1\n");
            fs.writeFileSync(path.join(tmp.dir, "zope-stand-in.js"), ZOPE_STAND_IN);
            fs.writeFileSync(path.join(tmp.dir, "volto-stand-in.js"), VOLTO_STAND_IN);

            procs.start("client1", "node", [path.join(tmp.dir, "zope-stand-in.js"), "client1", String(client1)]);
            startVolto(1);
            startVolto(2);
            procs.start("agent", "python3", [`${layout.paths.sbinDir}/plone-haproxy-agent`, "--bind", "127.0.0.1"]);
            procs.start("haproxy", "haproxy", ["-db", "-f", layout.paths.haproxyConfig]);
            procs.start("varnishd", "varnishd", ["-F", "-n", path.join(tmp.dir, "varnish-n"), ...varnishdArgs(ctx, fe, layout)]);
            procs.start("nginx", "nginx", ["-c", `${layout.paths.nginxDir}/nginx.conf`, "-g", "daemon off;"]);

            try {
                await procs.until("the front-door health URL to answer 200", async () =>
                    (await site(PATHS.frontDoorHealth)).status === 200 ? true : undefined,
                );
                // haproxy counts a server as up until its first check: ask varnish itself too.
                await procs.until("the REST API through varnish", async () => ((await site("/++api++/ready")).status === 200 ? true : undefined));
                await procs.until("both Volto processes up", async () => {
                    const s = await voltoStatus();
                    return s.volto1 === "UP" && s.volto2 === "UP" ? true : undefined;
                });
            } catch (e) {
                dumpChainLogs(procs, layout, ["haproxy", "varnishd", "nginx", "agent", "client1", "volto1", "volto2"]);
                throw e;
            }
        });

        afterEach(function () {
            if (this.currentTest?.state === "failed") dumpChainLogs(procs, layout, ["haproxy", "varnishd", "nginx", "agent", "client1", "volto1", "volto2"]);
        });

        after(async () => {
            await procs?.stopAll();
            tmp?.cleanup();
        });

        it("sends a page to a Volto process through haproxy, with the visitor's Host, scheme and address", async () => {
            const r = await site("/news/a-page?x=1");
            expect(r.status, r.body).to.equal(200);
            const seen = JSON.parse(r.body) as Seen;
            expect(seen.servedBy).to.match(/^volto[12]$/);
            expect(seen.path).to.equal("/news/a-page?x=1");
            expect(seen.host).to.equal(DOMAIN);
            expect(seen.proto).to.equal("http");
            expect(seen.forwardedFor).to.equal("127.0.0.1");
            expect(r.headers["x-cache"], "Volto's pages do not go through varnish").to.equal(undefined);
        });

        it("balances the pages over both processes", async () => {
            const servedBy = new Set<string>();
            await procs.until("pages from both processes", async () => {
                servedBy.add(JSON.parse((await site("/balance")).body).servedBy);
                return servedBy.size === 2 ? true : undefined;
            });
        });

        it("gives Volto the site's name, not the one a request for another host name forged", async () => {
            const seen = JSON.parse((await request(layout.ports.http, "/a-page", { Host: "evil.example.net" })).body) as Seen;
            expect(seen.host).to.equal(DOMAIN);
        });

        it("sends /++api++ to the Zope client through varnish and haproxy, virtual-hosted below ++api++", async () => {
            const prefix = `/VirtualHostBase/http/${DOMAIN}:${layout.ports.http}/Plone/++api++/VirtualHostRoot`;
            const r = await site("/++api++/news/@search?portal_type=News%20Item");
            expect(r.status, r.body).to.equal(200);
            expect(r.headers["x-client"]).to.equal("client1");
            expect(r.headers["x-cache"], "through varnish").to.equal("MISS");
            expect(JSON.parse(r.body).path).to.equal(`${prefix}/news/@search?portal_type=News%20Item`);
            expect((await site("/++api++/news/@search?portal_type=News%20Item")).headers["x-cache"], "cached").to.equal("HIT");

            expect(JSON.parse((await site("/++api++")).body).path).to.equal(`${prefix}/`);
            expect(JSON.parse((await site("/++api++/")).body).path).to.equal(`${prefix}/`);
            // Not the API: a page whose name only starts like it.
            expect((await site("/++api++x")).headers["x-volto"]).to.match(/^volto[12]$/);
            // The refusals stay in front of it.
            expect((await site("/++api++/manage_main")).status).to.equal(403);
            expect((await site("/++api++/VirtualHostBase/http/evil:80/VirtualHostRoot/")).status).to.equal(403);
        });

        it("sends each volto.backendPaths prefix to the Zope client with the classic rewrite", async () => {
            const prefix = `/VirtualHostBase/http/${DOMAIN}:${layout.ports.http}/Plone/VirtualHostRoot`;
            for (const p of ["/@@overview-controlpanel", "/++resource++plone.app.event/event.js", "/folder/@@images/image/preview"]) {
                const r = await site(p);
                expect(r.headers["x-client"], p).to.equal("client1");
                expect(JSON.parse(r.body).path).to.equal(`${prefix}${p}`);
            }
            // A dot in a prefix is a dot, not any character.
            expect((await site("/++resource++ploneXapp.event")).headers["x-volto"]).to.match(/^volto[12]$/);
            expect((await site("/other/@@images/x")).headers["x-volto"]).to.match(/^volto[12]$/);
        });

        it("sends no new request to a process the agent reports as draining, and all again once ready", async () => {
            const rotation = path.join(rotationDir(layout), "volto1");
            fs.writeFileSync(rotation, "drain\n");
            try {
                await waitStatus("volto1", "DRAIN");
                const servedBy = await Promise.all(Array.from({ length: 12 }, (_, i) => site(`/drain-${i}`).then((r) => r.headers["x-volto"])));
                expect(servedBy).to.deep.equal(Array(12).fill("volto2"));
            } finally {
                fs.unlinkSync(rotation);
            }
            await waitStatus("volto1", "UP");
        });

        it("drops no request under load while a process is drained, restarted and put back (the rolling restart)", async () => {
            const load = new Load(site);
            const direct = new Load((p) => request(layout.ports.haproxyVolto, p, { Host: DOMAIN }));
            const rotation = path.join(rotationDir(layout), "volto1");
            try {
                await load.more(procs, 50, "requests before the drain");
                fs.writeFileSync(rotation, "drain\n");
                await waitStatus("volto1", "DRAIN");
                // Requests sent from here on; those sent before may still be finishing on volto1.
                const [drained, directDrained] = [load.sent, direct.sent];
                await procs.until("no request in flight on volto1", async () => (establishedOn(voltoPorts[0]) === 0 ? true : undefined));
                await procs.stop("volto1");
                startVolto(1);
                await load.more(procs, 50, "requests while volto1 restarts");
                expect(load.servedAfter(drained), "a drained process gets no new request").not.to.include("volto1");
                expect(direct.servedAfter(directDrained), "a drained process gets no new request").not.to.include("volto1");
                fs.unlinkSync(rotation);
                await waitStatus("volto1", "UP");
                const back = load.answers.length;
                await procs.until("volto1 serving again", async () => (load.answers.slice(back).some((a) => a.servedBy === "volto1") ? true : undefined));
            } finally {
                fs.rmSync(rotation, { force: true });
                await Promise.all([load.stop(), direct.stop()]);
            }
            expect(load.failures(), `through nginx: ${load.failures().length} of ${load.answers.length} failed`).to.deep.equal([]);
            expect(direct.failures(), `to haproxy: ${direct.failures().length} of ${direct.answers.length} failed`).to.deep.equal([]);
        });

        it("drops no request under load when a process stops without being drained", async () => {
            // Through nginx, and straight to haproxy's Volto frontend: nginx retries a request itself when
            // its kept-alive connection to haproxy fails, and that must not be what saves the requests here.
            const load = new Load(site);
            const direct = new Load((p) => request(layout.ports.haproxyVolto, p, { Host: DOMAIN }));
            try {
                await load.more(procs, 50, "requests before the stop");
                // Requests are in flight on volto1 (the stand-in answers /load after 20 ms): the stop cuts them off.
                await procs.until("a request in flight on volto1", async () => (establishedOn(voltoPorts[0]) > 0 ? true : undefined));
                await procs.stop("volto1");
                await waitStatus("volto1", "DOWN");
                await load.more(procs, 100, "requests with volto1 down");
                startVolto(1);
                await waitStatus("volto1", "UP");
                const back = load.answers.length;
                await procs.until("volto1 serving again", async () => (load.answers.slice(back).some((a) => a.servedBy === "volto1") ? true : undefined));
            } finally {
                await Promise.all([load.stop(), direct.stop()]);
            }
            expect(load.failures(), `through nginx: ${load.failures().length} of ${load.answers.length} failed`).to.deep.equal([]);
            expect(direct.failures(), `to haproxy: ${direct.failures().length} of ${direct.answers.length} failed`).to.deep.equal([]);
        });

        it("shows the Volto processes and the REST API check in haproxy's statistics", async () => {
            const csv = await haproxyCommand(layout.paths.haproxySocket, "show stat");
            const names = csv.split("\n").map((l) => l.split(",").slice(0, 2).join(","));
            expect(names).to.include.members(["volto,FRONTEND", "volto,dev-1-volto1", "volto,dev-1-volto2", "volto,BACKEND", "api_chain,varnish"]);
        });

        it("plone-frontend-service checks the configs", () => {
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
        });

        it("answers the front-door health URL with 503 when no Volto process is usable, and when no Zope client is", async () => {
            expect((await site(PATHS.frontDoorHealth)).status).to.equal(200);
            for (const n of [1, 2]) fs.writeFileSync(path.join(rotationDir(layout), `volto${n}`), "maint\n");
            try {
                await procs.until("the health URL to fail without Volto", async () => ((await site(PATHS.frontDoorHealth)).status === 503 ? true : undefined));
                const page = await site("/a-page");
                expect(page.status).to.equal(503);
                expect(page.body, "the error page").to.include(`${DOMAIN} is temporarily unavailable`);
                expect((await site("/++api++/still")).status, "the REST API still answers").to.equal(200);
            } finally {
                for (const n of [1, 2]) fs.unlinkSync(path.join(rotationDir(layout), `volto${n}`));
            }
            await procs.until("the health URL back", async () => ((await site(PATHS.frontDoorHealth)).status === 200 ? true : undefined));

            await procs.stop("client1");
            await procs.until("the health URL to fail without a Zope client", async () =>
                (await site(PATHS.frontDoorHealth)).status === 503 ? true : undefined,
            );
            expect((await site("/a-page")).status, "Volto's pages are still served (their API calls would fail)").to.equal(200);
        });
    },
);

describeAsRoot(
    "haproxy of a front end whose Volto hosts are elsewhere: the REST API on the private address",
    "haproxy binds a second loopback address as the private one",
    function () {
        let tmp: { dir: string; cleanup: () => void };
        let procs: Processes;
        let layout: FrontendLayout;

        before(async function () {
            requireBinaries(this, "haproxy");
            tmp = tempDir("frontend-volto-private");
            procs = new Processes(tmp.dir);
            const [haproxy, haproxyStats, haproxyVolto, varnish] = await freePorts(4);
            layout = rootedLayout(tmp.dir, { haproxy, haproxyStats, haproxyVolto, varnish }, "127.0.0.1");
            // web-2's private address is 127.0.0.2 here; the other hosts are somewhere else on loopback.
            const base = voltoHostsContext();
            const addresses = Object.fromEntries(base.topology.hosts.map((h, i) => [h.name, `127.0.0.${i + 1}`]));
            const ctx: RenderContext = { ...base, addresses };
            const fe = frontendsOf(ctx)[1];
            prepareDebianFiles(layout);
            fs.writeFileSync(layout.paths.haproxyStateFile, "1\n");
            fs.mkdirSync(path.dirname(layout.paths.haproxyConfig), { recursive: true });
            fs.writeFileSync(layout.paths.haproxyConfig, renderHaproxyConfig(ctx, fe, layout));
            procs.start("haproxy", "haproxy", ["-db", "-f", layout.paths.haproxyConfig]);
        });

        after(async () => {
            await procs?.stopAll();
            tmp?.cleanup();
        });

        it("answers on loopback and on the private address", async () => {
            for (const address of ["127.0.0.1", "127.0.0.2"]) {
                // The monitor URL answers (503: no Zope client is reachable here): haproxy listens there.
                const r = await procs.until(`haproxy on ${address}`, async () =>
                    request(layout.ports.haproxy, PATHS.frontDoorHealth, {}, address).catch(() => undefined),
                );
                expect(r.status, address).to.be.oneOf([200, 503]);
            }
        });
    },
);
