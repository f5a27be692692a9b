// Load through the front door of a rehearsed stack while something happens to it (a restart, a
// deploy, a rollback): wrk from the run's VPC namespace, its threads spread over the front ends
// or the load balancer, every request one varnish passes to the Zope clients (Plone's
// login cookie), bounded in time. wrk sends it where visitors go: through the application load
// balancer's stand-in when the stack has one, else to each front end (its Elastic IP). bench:deploy (scripts/bench-deploy.ts) compares the rolling
// restart of every client in the stack's restart waves (plone.maxUnavailable) with the same
// restart one client at a time, and with the naive restart of all of them at once; the rehearsal
// tests use the same load to prove that deploys and rollbacks drop no request.
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DEFAULT_FRONTEND_LAYOUT } from "../../../components/render/frontend/layout";
import type { Rehearsal } from ".";
import { albTargetsHealthy, frontDoorSettles, PASS_COOKIE } from "./smokeChecks";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology } from "../../../components/topology";
import { planOps, type OpsOptions } from "../ops/commands";
import { stepGroups } from "../ops/run";

/** What wrk saw. Latencies in milliseconds. */
export interface LoadResult {
    /** Responses received. */
    requests: number;
    /** Responses that were not 2xx/3xx, plus requests that got no response (socket errors). */
    failed: number;
    /** Non-2xx/3xx responses. */
    statusErrors: number;
    socketErrors: { connect: number; read: number; write: number; timeout: number };
    /** Responses by HTTP status. */
    statuses: Record<string, number>;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    durationSeconds: number;
}

export interface LoadOptions {
    /** wrk connections (spread over the threads). */
    connections?: number;
    /** The longest the load may last, whatever happens (wrk -d). */
    maxSeconds?: number;
    /** Load before the action starts (a baseline). */
    leadSeconds?: number;
    /** Load after the action ends (what it left behind counts too). */
    tailSeconds?: number;
    /** The path requested (below the site's virtual host). */
    path?: string;
}

const MARKER = "BENCH-JSON ";

/**
 * The wrk script: thread i sends to front end i mod n (setup() sets thread.addr), counts the
 * responses by status, and prints one JSON line with the totals and the latency percentiles.
 */
export function wrkScript(frontendAddresses: string[], port: number): string {
    return `-- plone-aws bench: the front ends in turn per thread, responses counted by status.
local targets = { ${frontendAddresses.map((a) => `"${a}"`).join(", ")} }
local threads = {}
function setup(thread)
  local target = targets[(#threads % #targets) + 1]
  thread.addr = wrk.lookup(target, "${port}")[1]
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
end
function response(status, headers, body)
  local k = tostring(status)
  statuses[k] = (statuses[k] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  io.write(string.format('${MARKER}{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"statuses":{%s}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")))
end
`;
}

interface WrkJson {
    requests: number;
    duration_us: number;
    connect: number;
    read: number;
    write: number;
    status: number;
    timeout: number;
    p50_us: number;
    p99_us: number;
    max_us: number;
    statuses: Record<string, number>;
}

export class BenchError extends Error {}

/** The result line the wrk script prints. */
export function parseWrkOutput(stdout: string): LoadResult {
    const line = stdout.split("\n").find((l) => l.startsWith(MARKER));
    if (!line) throw new BenchError(`wrk printed no result line:\n${stdout.trim()}`);
    const j = JSON.parse(line.slice(MARKER.length)) as WrkJson;
    const socketErrors = { connect: j.connect, read: j.read, write: j.write, timeout: j.timeout };
    return {
        requests: j.requests,
        failed: j.status + j.connect + j.read + j.write + j.timeout,
        statusErrors: j.status,
        socketErrors,
        statuses: j.statuses,
        p50Ms: j.p50_us / 1000,
        p99Ms: j.p99_us / 1000,
        maxMs: j.max_us / 1000,
        durationSeconds: j.duration_us / 1e6,
    };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `action` under constant load through every front end and returns what wrk saw, from
 * leadSeconds before the action until tailSeconds after it (and never longer than maxSeconds).
 */
export async function underLoad<T>(
    rehearsal: Rehearsal,
    action: () => Promise<T>,
    options: LoadOptions = {},
): Promise<{ load: LoadResult; actionSeconds: number; value: T }> {
    const alb = rehearsal.alb;
    const forward = alb?.listeners.find((l) => l.action.kind === "forward");
    // Through the load balancer (its forwarding listener) when there is one, else to each front end.
    const targets = alb ? [alb.address] : rehearsal.frontendHosts.map((h) => rehearsal.addresses[h]);
    if (!targets.length) throw new BenchError("the stack has no front end to send load to");
    const port = forward?.port ?? DEFAULT_FRONTEND_LAYOUT.ports.http;
    const scheme = forward?.protocol === "HTTPS" ? "https" : "http";
    const scriptFile = path.join(rehearsal.hosts.runDir, "logs", "bench.lua");
    fs.writeFileSync(scriptFile, wrkScript(targets, port));
    // One thread per target (at least two): thread i loads target i mod n.
    const threads = Math.max(2, targets.length);
    const connections = Math.max(threads, options.connections ?? 16);
    const maxSeconds = options.maxSeconds ?? 600;
    const argv = [
        "ip",
        "netns",
        "exec",
        rehearsal.hosts.vpcNetns,
        "wrk",
        `-t${threads}`,
        `-c${connections}`,
        `-d${maxSeconds}s`,
        "--timeout",
        "30s",
        "-s",
        scriptFile,
        "-H",
        `Host: ${rehearsal.spec.frontend.domain}`,
        "-H",
        `Cookie: ${PASS_COOKIE}`,
        `${scheme}://${targets[0]}:${port}${options.path ?? "/bench"}`,
    ];
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    let actionSeconds = 0;
    let value: T;
    try {
        await sleep((options.leadSeconds ?? 5) * 1000);
        const started = Date.now();
        value = await action();
        actionSeconds = (Date.now() - started) / 1000;
        await sleep((options.tailSeconds ?? 10) * 1000);
    } finally {
        // wrk prints its results (and runs done()) when interrupted.
        child.kill("SIGINT");
    }
    const code = await exited;
    if (code !== 0) throw new BenchError(`wrk exited ${code}: ${stderr.trim() || stdout.trim()}`);
    return { load: parseWrkOutput(stdout), actionSeconds, value };
}

/** Waits until every front end is healthy with every client UP, and healthy in the load balancer (between two measurements). */
export async function settle(rehearsal: Rehearsal): Promise<void> {
    await frontDoorSettles.run(rehearsal.smokeContext());
    if (rehearsal.alb) await albTargetsHealthy(rehearsal.smokeContext(), rehearsal.alb);
}

export interface BenchRow {
    name: string;
    load: LoadResult;
    actionSeconds: number;
}

const ms = (v: number) => `${v.toFixed(1)}ms`;

/** The comparison table bench:deploy (and bench:scale, its actions named by `actionLabel`) prints. */
export function formatBenchTable(rows: BenchRow[], actionLabel = "restart took"): string {
    const header = ["", "requests", "failed", "non-2xx/3xx", "socket errors", "p50", "p99", "duration", actionLabel];
    const body = rows.map((r) => {
        const s = r.load.socketErrors;
        const socket = s.connect + s.read + s.write + s.timeout;
        return [
            r.name,
            String(r.load.requests),
            String(r.load.failed),
            String(r.load.statusErrors),
            socket ? `${socket} (connect ${s.connect}, read ${s.read}, write ${s.write}, timeout ${s.timeout})` : "0",
            ms(r.load.p50Ms),
            ms(r.load.p99Ms),
            `${r.load.durationSeconds.toFixed(1)}s`,
            `${r.actionSeconds.toFixed(1)}s`,
        ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const fmt = (cells: string[]) =>
        cells
            .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
            .join("  ")
            .trimEnd();
    const statuses = rows.map(
        (r) =>
            `  ${r.name}: ${Object.entries(r.load.statuses)
                .sort()
                .map(([k, v]) => `${k} x${v}`)
                .join(", ")}`,
    );
    return [fmt(header), ...body.map(fmt), "responses by status:", ...statuses].join("\n");
}

/** A host script run on one host; a wave's restarts run at the same time. */
export interface RestartCommand {
    host: string;
    command: string;
}

/** How the rolling restart is ordered: its waves and the most clients of the stack out of rotation at once. */
export interface RestartOrder {
    maxUnavailable: number;
    waves: RestartCommand[][];
}

/**
 * The rolling restart as `npm run ops -- <stack> restart` runs it (the same plan): in the stack's
 * restart waves (plone.maxUnavailable), or one client of the stack at a time (--max-unavailable 1:
 * host after host, each one client at a time), the order before maxUnavailable existed.
 */
export function restartOrder(spec: StackSpec, maxUnavailable?: string): RestartOrder {
    const options: OpsOptions = { hosts: [], layers: [], args: [], servers: false, force: false, maxUnavailable };
    const plan = planOps({ spec, topology: buildTopology(spec) }, "restart", options);
    return {
        maxUnavailable: plan.maxUnavailable!,
        waves: stepGroups(plan.steps).map((group) => group.map((s) => ({ host: s.host, command: s.command.join(" ") }))),
    };
}

/** Runs the waves one after the other, the commands of a wave at the same time; fails with the first failure of a wave. */
export async function runWaves(waves: RestartCommand[][], run: (host: string, command: string) => Promise<unknown>): Promise<void> {
    for (const wave of waves) {
        const results = await Promise.allSettled(wave.map((c) => run(c.host, c.command)));
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
    }
}

/** The line that compares the restart in waves with the one at a time (the issue's target: at most 60 %, 0 failed). */
export function formatRatio(oneAtATime: BenchRow, inWaves: BenchRow, target = 0.6): string {
    const ratio = inWaves.actionSeconds / oneAtATime.actionSeconds;
    const met = ratio <= target && inWaves.load.failed === 0;
    return (
        `${inWaves.name} took ${inWaves.actionSeconds.toFixed(1)}s, ${(ratio * 100).toFixed(0)}% of ${oneAtATime.name} (${oneAtATime.actionSeconds.toFixed(1)}s), ` +
        `with ${inWaves.load.failed} failed request(s): ${met ? "within" : "NOT within"} the target of ${(target * 100).toFixed(0)}% and 0 failed`
    );
}

/**
 * What bench:deploy measures: the rolling restart of every client in the stack's restart waves,
 * with `oneAtATime` the same one client of the stack at a time before it, then all clients at once.
 */
export async function benchRestarts(
    rehearsal: Rehearsal,
    options: LoadOptions & { print?: (line: string) => void; oneAtATime?: boolean } = {},
): Promise<{ rolling: BenchRow; naive: BenchRow; oneAtATime?: BenchRow }> {
    const print = options.print ?? ((line: string) => console.log(line));
    const apps = rehearsal.appHosts;
    const root = (host: string, command: string) => rehearsal.root(host, command, 600_000);
    const describe = (order: RestartOrder) => order.waves.map((w) => w.map((c) => c.host).join(" + ")).join(", then ");
    const measure = async (name: string, order: RestartOrder): Promise<BenchRow> => {
        await settle(rehearsal);
        print(`${name}: ${describe(order)}; at most ${order.maxUnavailable} client(s) out of rotation at once`);
        const r = await underLoad(rehearsal, () => runWaves(order.waves, root), options);
        print(`    ${r.load.requests} requests, ${r.load.failed} failed, restart took ${r.actionSeconds.toFixed(1)}s`);
        return { name, load: r.load, actionSeconds: r.actionSeconds };
    };
    const oneAtATime = options.oneAtATime ? await measure("one at a time", restartOrder(rehearsal.spec, "1")) : undefined;
    const rolling = await measure(`in waves (maxUnavailable ${rehearsal.spec.plone.maxUnavailable})`, restartOrder(rehearsal.spec));
    await settle(rehearsal);
    print(`all at once: plone-restart --all-at-once on ${apps.join(" and ")} at the same time`);
    const naive = await underLoad(rehearsal, () => Promise.all(apps.map((host) => root(host, "plone-restart --all-at-once"))), options);
    print(`    ${naive.load.requests} requests, ${naive.load.failed} failed, restart took ${naive.actionSeconds.toFixed(1)}s`);
    await settle(rehearsal);
    return { rolling, oneAtATime, naive: { name: "all at once", load: naive.load, actionSeconds: naive.actionSeconds } };
}
