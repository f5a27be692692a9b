// memcached and Redis with the files plone-aws renders, as the real daemons: each listens on the
// host's private address (a loopback address other than 127.0.0.1 stands in for it) and on
// 127.0.0.1, nowhere else; a client connecting from the private address sets and gets (memcached)
// or pushes and pops (Redis: protected mode would refuse such a peer); the limits are what the
// keys say; and plone-daemon-check, the configure step's validator, accepts the files and refuses
// a broken one. Ports come from test/helpers/ports.ts: the files' own (11211, 6379) are overridden
// on the daemons' command lines, the only options that differ from a host's.
import { expect } from "chai";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderDaemonFiles } from "../../components/render/daemons";
import { MEMCACHED_CONF } from "../../components/render/daemons/memcached";
import { REDIS_CONF } from "../../components/render/daemons/redis";
import { deployCfgFile } from "../../components/render/app/deployCfg";
import type { RenderContext } from "../../components/render/context";
import { PORTS } from "../../components/topology";
import { contextOf, VARIANTS } from "../helpers/appStacks";
import { loadRepoStack } from "../helpers/stacks";
import { Processes } from "../helpers/frontendDaemons";
import { freePorts } from "../helpers/ports";
import { requireBinaries, run, tempDir } from "../helpers/system";

/** Stands in for the cache and broker hosts' private address. */
const PRIVATE = "127.42.14.2";
/** A loopback address the daemons must not answer on (they would on 0.0.0.0). */
const ELSEWHERE = "127.42.14.3";

/** The context with `hostName` at PRIVATE. */
function at(ctx: RenderContext, hostName: string): RenderContext {
    return { ...ctx, addresses: { ...ctx.addresses, [hostName]: PRIVATE } };
}

function fileOf(ctx: RenderContext, hostName: string, filePath: string): string {
    const host = ctx.topology.hosts.find((h) => h.name === hostName)!;
    const file = renderDaemonFiles(ctx, host).find((f) => f.path === filePath);
    if (!file) throw new Error(`${hostName} gets no ${filePath}`);
    return file.content;
}

/** One request/response exchange over TCP from `localAddress`: resolves with what arrived once `done` says so. */
function exchange(port: number, host: string, request: string, done: (text: string) => boolean, localAddress = PRIVATE): Promise<string> {
    return new Promise((resolve, reject) => {
        let text = "";
        const socket = net.connect({ port, host, localAddress }, () => socket.write(request));
        socket.on("data", (d) => {
            text += d.toString("utf8");
            if (done(text)) {
                socket.end();
                resolve(text);
            }
        });
        socket.on("error", reject);
        socket.on("close", () => (done(text) ? resolve(text) : reject(new Error(`connection closed after ${JSON.stringify(text)}`))));
    });
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(port: number, host: string): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ port, host }, () => {
            socket.destroy();
            resolve(true);
        });
        socket.on("error", () => resolve(false));
    });
}

/** A Redis command in RESP. */
function resp(...words: string[]): string {
    return `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`;
}

/** Debian's wrapper: the option lines of memcached.conf, without -d (foreground here) and -P (the live pidfile). */
function memcachedOptions(conf: string): string[] {
    return conf
        .split("\n")
        .filter((l) => l.startsWith("-"))
        .map((l) => l.split(/\s+/))
        .filter(([flag]) => flag !== "-d" && flag !== "-P")
        .flat();
}

describe("daemons: memcached and Redis behind the front door", function () {
    let dir: string;
    let cleanup: () => void;
    let procs: Processes;

    before(function () {
        requireBinaries(this, "memcached", "redis-server", "redis-cli");
        ({ dir, cleanup } = tempDir("cache-broker"));
        procs = new Processes(dir);
    });
    after(async function () {
        await procs?.stopAll();
        cleanup?.();
    });

    it("memcached (prod's cache-1) listens on the private address and loopback only, with plone.memcached's limits", async function () {
        const prod = contextOf(loadRepoStack("prod").spec).ctx;
        const ctx = at(prod, "cache-1");
        const conf = fileOf(ctx, "cache-1", MEMCACHED_CONF);
        // The clients are told the address the daemon listens on.
        const appHost = ctx.topology.hosts.find((h) => h.name === "app-1")!;
        expect(deployCfgFile(ctx, appHost).content).to.match(new RegExp(`^servers = ${PRIVATE.replace(/\./g, "\\.")}:${PORTS.memcached}$`, "m"));
        expect(conf).to.match(new RegExp(`^-p ${PORTS.memcached}$`, "m"));

        const [port] = await freePorts(1);
        const options = memcachedOptions(conf);
        procs.start("memcached", "memcached", [...options, "-p", String(port)]);
        await procs.until("memcached on the private address", async () => ((await accepts(port, PRIVATE)) ? true : undefined));

        const stored = await exchange(port, PRIVATE, "set plone-aws 0 0 5\r\nhello\r\n", (t) => t.endsWith("\r\n"));
        expect(stored).to.equal("STORED\r\n");
        const got = await exchange(port, PRIVATE, "get plone-aws\r\n", (t) => t.endsWith("END\r\n"));
        expect(got).to.equal("VALUE plone-aws 0 5\r\nhello\r\nEND\r\n");

        const settings = await exchange(port, "127.0.0.1", "stats settings\r\n", (t) => t.endsWith("END\r\n"), "127.0.0.1");
        const stat = (name: string) => new RegExp(`^STAT ${name} (\\S+)\r$`, "m").exec(settings)?.[1];
        expect(Number(stat("maxbytes"))).to.equal(ctx.spec.plone.memcached.memoryMb * 1024 * 1024);
        expect(Number(stat("maxconns"))).to.equal(ctx.spec.plone.memcached.maxConnections);
        expect(stat("udpport")).to.equal("0");
        expect(await accepts(port, ELSEWHERE), "memcached answers on another address: it listens on every interface").to.equal(false);
        await procs.stop("memcached");
    });

    it("memcached's limits follow the keys", async function () {
        const spec = loadRepoStack("prod").spec;
        const ctx = at(contextOf({ ...spec, plone: { ...spec.plone, memcached: { memoryMb: 96, maxConnections: 321 } } }).ctx, "cache-1");
        const [port] = await freePorts(1);
        procs.start("memcached-limits", "memcached", [...memcachedOptions(fileOf(ctx, "cache-1", MEMCACHED_CONF)), "-p", String(port)]);
        await procs.until("memcached", async () => ((await accepts(port, "127.0.0.1")) ? true : undefined));
        const settings = await exchange(port, "127.0.0.1", "stats settings\r\n", (t) => t.endsWith("END\r\n"), "127.0.0.1");
        expect(settings).to.match(/^STAT maxbytes 100663296\r$/m);
        expect(settings).to.match(/^STAT maxconns 321\r$/m);
        await procs.stop("memcached-limits");
    });

    it("Redis (the celery variant's broker) takes a task from a worker at the private address and keeps plone.redis's limits", async function () {
        const spec = VARIANTS.celery();
        const ctx = at(contextOf({ ...spec, plone: { ...spec.plone, redis: { maxMemoryMb: 200, maxClients: 555 } } }).ctx, "zeo-1");
        const conf = fileOf(ctx, "zeo-1", REDIS_CONF);
        const appHost = ctx.topology.hosts.find((h) => h.name === "app-1")!;
        const deployCfg = deployCfgFile(ctx, appHost).content;
        expect(deployCfg).to.include(`[celery-broker]\nhost = ${PRIVATE}\nport = ${PORTS.redis}\n`);
        expect(conf).to.match(new RegExp(`^port ${PORTS.redis}$`, "m"));

        const confPath = path.join(dir, "redis.conf");
        fs.writeFileSync(confPath, conf);
        const data = path.join(dir, "redis-data");
        fs.mkdirSync(data);
        const [port] = await freePorts(1);
        // The host's paths (the redis volume, /run/redis, /var/log/redis) and port are the only overrides.
        procs.start("redis", "redis-server", [
            confPath,
            ...["--port", String(port), "--dir", data, "--pidfile", path.join(dir, "redis.pid"), "--logfile", "", "--daemonize", "no"],
        ]);
        await procs.until("redis on the private address", async () => ((await accepts(port, PRIVATE)) ? true : undefined));

        // From the private address, as a worker on another host: protected mode would refuse it.
        const pushed = await exchange(port, PRIVATE, resp("LPUSH", "celery", "task-1"), (t) => t.endsWith("\r\n"));
        expect(pushed).to.equal(":1\r\n");
        const popped = await exchange(port, PRIVATE, resp("RPOP", "celery"), (t) => /\r\n.*\r\n$/.test(t));
        expect(popped).to.equal("$6\r\ntask-1\r\n");

        const config = (name: string) => exchange(port, "127.0.0.1", resp("CONFIG", "GET", name), (t) => t.split("\r\n").length >= 6, "127.0.0.1");
        expect(await config("maxmemory")).to.include(`$9\r\n${200 * 1024 * 1024}\r\n`);
        expect(await config("maxmemory-policy")).to.include("noeviction");
        expect(await config("maxclients")).to.include("$3\r\n555\r\n");
        expect(await config("appendonly")).to.include("yes");
        expect(await accepts(port, ELSEWHERE), "Redis answers on another address: it listens on every interface").to.equal(false);
        await procs.stop("redis");
    });

    it("plone-daemon-check (the configure step's validator) accepts the rendered files and refuses what the daemons refuse", function () {
        const prod = at(contextOf(loadRepoStack("prod").spec).ctx, "cache-1");
        const celery = at(contextOf(VARIANTS.celery()).ctx, "zeo-1");
        const files = [
            ...renderDaemonFiles(
                prod,
                prod.topology.hosts.find((h) => h.name === "cache-1")!,
            ),
            ...renderDaemonFiles(
                celery,
                celery.topology.hosts.find((h) => h.name === "zeo-1")!,
            ),
        ];
        const check = path.join(dir, "plone-daemon-check");
        fs.writeFileSync(check, files.find((f) => f.path.endsWith("/plone-daemon-check"))!.content, { mode: 0o755 });
        const write = (name: string, content: string) => {
            fs.writeFileSync(path.join(dir, name), content);
            return path.join(dir, name);
        };
        const memcached = files.find((f) => f.path === MEMCACHED_CONF)!.content;
        const redis = files.find((f) => f.path === REDIS_CONF)!.content;
        for (const [daemon, file] of [
            ["memcached", write("ok-memcached.conf", memcached)],
            ["redis", write("ok-redis.conf", redis)],
        ]) {
            const r = run(check, [daemon, file]);
            expect(r.status, `${daemon}: ${r.stdout}${r.stderr}`).to.equal(0);
        }
        const badMemcached = run(check, ["memcached", write("bad-memcached.conf", memcached.replace(/^-m \d+$/m, "-m 1\n-I 64m"))]);
        expect(badMemcached.status).to.not.equal(0);
        expect(badMemcached.stderr).to.include("memcached refused");
        const badRedis = run(check, ["redis", write("bad-redis.conf", redis.replace("maxmemory-policy noeviction", "maxmemory-policy sometimes"))]);
        expect(badRedis.status).to.not.equal(0);
        expect(badRedis.stderr).to.include("maxmemory-policy sometimes");
    });

    it("the check script passes shellcheck", function () {
        requireBinaries(this, "shellcheck");
        const ctx = at(contextOf(loadRepoStack("prod").spec).ctx, "cache-1");
        const script = renderDaemonFiles(
            ctx,
            ctx.topology.hosts.find((h) => h.name === "cache-1")!,
        ).find((f) => f.path.endsWith("/plone-daemon-check"))!;
        const file = path.join(dir, "shellcheck-plone-daemon-check");
        fs.writeFileSync(file, script.content);
        const r = run("shellcheck", ["-s", "bash", file]);
        expect(r.status, r.stdout + r.stderr).to.equal(0);
    });
});
