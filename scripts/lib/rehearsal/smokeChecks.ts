// Smoke checks: what the rehearsal asserts once every provisioning command has run. Each check
// gets the stack, the captured program run and the live test hosts; it throws (or rejects) to
// fail, and may return a one-line detail for the summary. Every request goes from the run's VPC
// namespace to a test host: each front end in turn, and, where the stack has an application load
// balancer, its stand-in (awsStandins.ts) as visitors reach the site.
import * as crypto from "crypto";
import type { StackSpec } from "../../../components/config/spec";
import { blobStorageDir } from "../../../components/topology";
import { DEFAULT_FRONTEND_LAYOUT, HAPROXY_BACKEND, HAPROXY_VOLTO, backendServers, voltoServers } from "../../../components/render/frontend/layout";
import { VOLUME_MOUNT_OPTIONS } from "../../../components/render/storage/volumes";
import { buildTopology, DEPLOY_USER, PATHS, Topology } from "../../../components/topology";
import type { OfflineRun } from "../offline/run";
import type { RehearsalStep } from "./runner";
import { ebsByIdName, TestHostRun } from "./testHosts";
import { ALB_STANDIN_BACKEND, ALB_STANDIN_SOCKET, AlbStandin, albTargetName, parseSmtpSpool, SMTP_STANDIN_SPOOL, SmtpRelayStandin } from "./awsStandins";
import { blobSharingProblems, expectedServices, mailDeliveryProblems, parseWiringReport, WiringReport, wiringProblems } from "./wiring";

export interface SmokeContext {
    spec: StackSpec;
    run: OfflineRun;
    hosts: TestHostRun;
    /** Planned private IP by host name (and "bastion"). */
    addresses: Record<string, string>;
    steps: RehearsalStep[];
    /** The names of what AWS stand-ins play (an RDS endpoint), with what to call them in a failure. */
    standins?: Record<string, string>;
    /** The application load balancer's stand-in (none when the front end has an Elastic IP). */
    alb?: AlbStandin;
    /** The SMTP relay's stand-in for SES (none without plone-aws:mail). */
    smtp?: SmtpRelayStandin;
}

export interface SmokeCheck {
    name: string;
    run(ctx: SmokeContext): Promise<string | void>;
}

export interface SmokeResult {
    name: string;
    ok: boolean;
    detail?: string;
    seconds: number;
}

export class SmokeFailure extends Error {}

/** Every test host answers over SSH at its planned address and reaches every other host. */
export const hostsAnswerAtTheirAddresses: SmokeCheck = {
    name: "every host answers at its planned address and reaches the others",
    async run({ hosts, addresses }) {
        const all = Object.values(addresses);
        const failures: string[] = [];
        await Promise.all(
            Object.entries(addresses).map(async ([name, address]) => {
                const script =
                    `ip -4 -o addr show ens5 | grep -qw '${address}' || { echo "ens5 lacks ${address}"; exit 1; }\n` +
                    all
                        .filter((a) => a !== address)
                        .map((a) => `ping -c1 -W2 ${a} >/dev/null || { echo "cannot reach ${a}"; exit 1; }`)
                        .join("\n");
                const r = await hosts.ssh(name, "bash -s", { input: script, timeoutMs: 30_000 });
                if (r.status !== 0) failures.push(`${name}: ${(r.stdout + r.stderr).trim()}`);
            }),
        );
        if (failures.length) throw new SmokeFailure(failures.join("; "));
        return `${all.length} hosts`;
    },
};

/** An HTTP answer: status, headers (lower-case names), body. */
export interface HttpAnswer {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** A cookie that makes varnish pass a request to the Zope clients (Plone's login cookie). */
export const PASS_COOKIE = "__ac=plone-aws-rehearsal";

/** Parses `curl -sS -i` output (the last header block, after any 100 Continue). */
export function parseCurlOutput(text: string): HttpAnswer {
    const blocks = text.split(/\r?\n\r?\n/);
    let i = 0;
    while (i + 1 < blocks.length && /^HTTP\/[\d.]+ 1\d\d/.test(blocks[i])) i++;
    const [statusLine, ...headerLines] = blocks[i].split(/\r?\n/);
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
        const c = line.indexOf(":");
        if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    return { status, headers, body: blocks.slice(i + 1).join("\n\n") };
}

/** A GET from the VPC namespace to a test host's port 80 (the front door), with the site's Host. */
export async function frontDoorGet(
    hosts: TestHostRun,
    address: string,
    spec: StackSpec,
    urlPath: string,
    options: { cookie?: string; port?: number; https?: boolean } = {},
): Promise<HttpAnswer> {
    const port = options.port ?? DEFAULT_FRONTEND_LAYOUT.ports.http;
    // HTTPS (the ALB stand-in's listener): the site's name resolved to the address, so that SNI and
    // Host are the site's; its certificate is the stand-in's own, self-signed.
    const url = options.https ? `https://${spec.frontend.domain}:${port}${urlPath}` : `http://${address}:${port}${urlPath}`;
    const target = options.https ? ["-k", "--resolve", `${spec.frontend.domain}:${port}:${address}`] : ["-H", `Host: ${spec.frontend.domain}`];
    const r = await hosts.inVpc(["curl", "-sS", "-i", "-m", "20", ...target, ...(options.cookie ? ["-H", `Cookie: ${options.cookie}`] : []), url], {
        timeoutMs: 30_000,
    });
    if (r.status !== 0) throw new SmokeFailure(`GET ${url}: curl exit ${r.status}: ${r.stderr.trim()}`);
    return parseCurlOutput(r.stdout);
}

/** The stand-in's X-Standin header: host name, client name, release. */
function standinOf(answer: HttpAnswer): { hostname: string; client: string; release: string } | undefined {
    const m = /^(\S+) (\S+) (\S+)$/.exec(answer.headers["x-standin"] ?? "");
    return m ? { hostname: m[1], client: m[2], release: m[3] } : undefined;
}

/** The stand-in Volto server's X-Volto header: host name, port, version. */
function voltoOf(answer: HttpAnswer): { hostname: string; port: string; version: string } | undefined {
    const m = /^(\S+) (\S+) (\S+)$/.exec(answer.headers["x-volto"] ?? "");
    return m ? { hostname: m[1], port: m[2], version: m[3] } : undefined;
}

function frontends(spec: StackSpec): string[] {
    return buildTopology(spec).roles.frontends;
}

/** Whether the stack's pages are Volto's (volto hosts): the backend is then reached below /++api++. */
export function servesVolto(spec: StackSpec): boolean {
    return buildTopology(spec).roles.voltoHosts.length > 0;
}

/**
 * A path of the site as the front door sends it to a Zope client: itself on a Classic UI stack,
 * below /++api++ on a Volto stack (every other path is Volto's).
 */
export function backendPath(spec: StackSpec, sitePath: string): string {
    return servesVolto(spec) ? `/++api++${sitePath}` : sitePath;
}

/** The virtual-hosting URL prefix nginx asks a Zope client for (below ++api++ on a Volto stack). */
function virtualHostPrefix(spec: StackSpec, scheme: string, port: number): string {
    return `/VirtualHostBase/${scheme}/${spec.frontend.domain}:${port}/${spec.plone.siteId}${servesVolto(spec) ? "/++api++" : ""}/VirtualHostRoot/`;
}

function topologyOf(ctx: SmokeContext): Topology {
    return buildTopology(ctx.spec);
}

/** The host name (plone-aws's) of a test host's hostname (ip-10-...). */
function hostOfHostname(hosts: TestHostRun, hostname: string): string | undefined {
    return [...hosts.hosts.values()].find((h) => h.hostname === hostname)?.name;
}

const unique = () => `/smoke-${crypto.randomBytes(4).toString("hex")}`;

/** The rows of a haproxy's `show stat` (its runtime API on a test host) for one backend's servers: name -> fields. */
async function haproxyServerStats(hosts: TestHostRun, host: string, socket: string, backend: string): Promise<Record<string, string[]>> {
    const stat = await hosts.ssh(host, `echo "show stat" | socat -t 5 stdio unix-connect:${socket}`, { user: "root", timeoutMs: 20_000 });
    if (stat.status !== 0) throw new SmokeFailure(`${host}: haproxy's runtime API: ${stat.stderr.trim()}`);
    return Object.fromEntries(
        stat.stdout
            .split("\n")
            .filter((l) => l.startsWith(`${backend},`) && !/^[^,]*,(BACKEND|FRONTEND),/.test(l))
            .map((l) => l.split(","))
            .map((f) => [f[1], f]),
    );
}

/** The state haproxy gives each server of a backend on a front end (show stat): the Zope clients' by default, or the Volto processes'. */
export async function haproxyServerStates(hosts: TestHostRun, frontend: string, backend: string = HAPROXY_BACKEND): Promise<Record<string, string>> {
    const stats = await haproxyServerStats(hosts, frontend, DEFAULT_FRONTEND_LAYOUT.paths.haproxySocket, backend);
    return Object.fromEntries(Object.entries(stats).map(([name, f]) => [name, f[17]]));
}

/** Each target of the ALB stand-in's target group: its health (UP: healthy) and the requests it was sent (show stat's status and stot). */
async function albTargetStats(ctx: SmokeContext, alb: AlbStandin): Promise<Record<string, { host: string; status: string; requests: number }>> {
    const stats = await haproxyServerStats(ctx.hosts, alb.host, ALB_STANDIN_SOCKET, ALB_STANDIN_BACKEND);
    return Object.fromEntries(
        alb.targetGroup.targets.map((t) => {
            const f = stats[albTargetName(t)];
            return [t.host, { host: t.host, status: f?.[17] ?? "missing", requests: Number(f?.[7] ?? 0) }];
        }),
    );
}

/**
 * Waits until the ALB stand-in has every target healthy: after a first deploy, its health check
 * needs healthyThreshold good answers in a row, one every interval, once the front end answers.
 * Returns the seconds it took; throws naming the unhealthy targets after the longest that takes.
 */
export async function albTargetsHealthy(ctx: SmokeContext, alb: AlbStandin): Promise<number> {
    const hc = alb.targetGroup.healthCheck;
    const bound = SETTLE_SECONDS + hc.intervalSeconds * (hc.healthyThreshold + 1) + hc.timeoutSeconds;
    const started = Date.now();
    for (;;) {
        const unhealthy = Object.values(await albTargetStats(ctx, alb)).filter((t) => t.status !== "UP");
        if (!unhealthy.length) return (Date.now() - started) / 1000;
        if (Date.now() - started > bound * 1000) {
            throw new SmokeFailure(`after ${bound}s the application load balancer (stand-in) has ${unhealthy.map((t) => `${t.host} ${t.status}`).join(", ")}`);
        }
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/** Seconds the front ends may take to see the clients started by the activate step (see frontDoorSettles). */
export const SETTLE_SECONDS = 30;

/**
 * Every front end answers its health URL (PATHS.frontDoorHealth, what the ALB asks) through nginx
 * and varnish with 200, and its haproxy has every Zope client UP. On a first deploy haproxy and
 * varnish start (configure) before the clients exist (activate): haproxy has them DOWN until its
 * next check after the activation (every downinter), and varnish's probe of haproxy needs a few
 * good answers in a row before it sends requests again. The check waits for both, up to
 * SETTLE_SECONDS, and says how long it took.
 */
export const frontDoorSettles: SmokeCheck = {
    name: "each front end is healthy and its haproxy has every Zope client (and Volto process) UP",
    async run(ctx) {
        const topology = topologyOf(ctx);
        const renderCtx = { spec: ctx.spec, topology, addresses: ctx.addresses, secrets: { haproxyStatsPassword: "", appSecrets: {} } };
        const servers = backendServers(renderCtx).map((s) => s.name);
        const volto = voltoServers(renderCtx).map((s) => s.name);
        const started = Date.now();
        let problems: string[] = [];
        for (;;) {
            problems = [];
            for (const fe of frontends(ctx.spec)) {
                const states = await haproxyServerStates(ctx.hosts, fe);
                problems.push(...servers.filter((s) => states[s] !== "UP").map((s) => `${fe}: haproxy has ${s} ${states[s] ?? "missing"}`));
                if (volto.length) {
                    const voltoStates = await haproxyServerStates(ctx.hosts, fe, HAPROXY_VOLTO);
                    problems.push(...volto.filter((s) => voltoStates[s] !== "UP").map((s) => `${fe}: haproxy has Volto's ${s} ${voltoStates[s] ?? "missing"}`));
                }
                const health = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, PATHS.frontDoorHealth);
                if (health.status !== 200) problems.push(`${fe}: ${PATHS.frontDoorHealth} answers ${health.status}`);
            }
            if (!problems.length || Date.now() - started > SETTLE_SECONDS * 1000) break;
            await new Promise((r) => setTimeout(r, 500));
        }
        if (problems.length) throw new SmokeFailure(`after ${SETTLE_SECONDS}s: ${problems.join(", ")}`);
        const voltoUp = volto.length ? ` and ${volto.length} Volto processes` : "";
        return `${servers.length} servers${voltoUp} UP on ${frontends(ctx.spec).join(", ")}, ${PATHS.frontDoorHealth} 200, ${((Date.now() - started) / 1000).toFixed(1)}s after the provisioning ended`;
    },
};

/**
 * Each front end serves a page of the site through nginx -> varnish -> haproxy -> a Zope client; on
 * a Volto stack, the REST API (/++api++) takes that way, virtual-hosted below ++api++.
 */
export const pageThroughFrontDoor: SmokeCheck = {
    name: "each front end serves a page (the REST API with Volto) through nginx, varnish and haproxy from a Zope client",
    async run(ctx) {
        const answers: string[] = [];
        for (const fe of frontends(ctx.spec)) {
            const a = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, backendPath(ctx.spec, `${unique()}/front-page`));
            const standin = standinOf(a);
            if (a.status !== 200 || !standin) throw new SmokeFailure(`${fe}: ${a.status} without X-Standin: ${a.body.slice(0, 200)}`);
            if (voltoOf(a)) throw new SmokeFailure(`${fe}: a request for the backend was answered by Volto (${a.headers["x-volto"]})`);
            // nginx rewrites to Zope's virtual hosting URL for the site.
            if (!a.body.includes(virtualHostPrefix(ctx.spec, "http", 80))) {
                throw new SmokeFailure(`${fe}: the client was not asked for the virtual-hosting URL of the site: ${a.body.trim()}`);
            }
            answers.push(`${fe} -> ${hostOfHostname(ctx.hosts, standin.hostname) ?? standin.hostname}/${standin.client}`);
        }
        return `${servesVolto(ctx.spec) ? "/++api++ " : ""}${answers.join(", ")}`;
    },
};

/**
 * Volto stacks: each front end serves a page rendered by a Volto process of a volto host (haproxy's
 * volto backend) from content it fetched through its internal API path (RAZZLE_INTERNAL_API_PATH:
 * a front end's haproxy, the site's /++api++, a Zope client); every Volto process serves pages.
 */
export const voltoRendersFromTheApi: SmokeCheck = {
    name: "each front end serves pages that Volto rendered from the REST API, from every Volto process",
    async run(ctx) {
        const topology = topologyOf(ctx);
        if (!topology.roles.voltoHosts.length) return "no volto hosts: Classic UI";
        const processes = topology.hosts.flatMap((h) => h.voltoProcesses.map((p) => `${h.name}:${p.port}`));
        const seen = new Set<string>();
        const clients = new Set<string>();
        for (const fe of frontends(ctx.spec)) {
            for (let i = 0; i < 8 * processes.length && (i < 2 || seen.size < processes.length); i++) {
                const page = `${unique()}/front-page`;
                const a = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, page);
                const volto = voltoOf(a);
                if (a.status !== 200 || !volto) throw new SmokeFailure(`${fe} ${page}: ${a.status} without X-Volto: ${a.body.slice(0, 200)}`);
                // The stand-in client's title: its host, name, release, and the path it was asked for.
                const title = /<h1>(\S+) (\S+) (\S+) (\S+)<\/h1>/.exec(a.body);
                const asked = `/${ctx.spec.plone.siteId}/++api++${page}`;
                if (!title || title[4] !== asked)
                    throw new SmokeFailure(`${fe} ${page}: Volto's page does not show a Zope client's answer for ${asked}: ${a.body.slice(0, 300)}`);
                seen.add(`${hostOfHostname(ctx.hosts, volto.hostname) ?? volto.hostname}:${volto.port}`);
                clients.add(`${hostOfHostname(ctx.hosts, title[1]) ?? title[1]}/${title[2]}`);
            }
        }
        const missing = processes.filter((p) => !seen.has(p));
        if (missing.length) throw new SmokeFailure(`no page from the Volto processes ${missing.join(", ")} (served: ${[...seen].join(", ")})`);
        return `${processes.length} Volto processes (${processes.join(", ")}) rendered pages from ${clients.size} Zope clients' REST API through ${frontends(ctx.spec).join(", ")}`;
    },
};

/** The second anonymous GET of a page is a varnish cache hit on each front end. */
export const secondGetIsCacheHit: SmokeCheck = {
    name: "the second anonymous GET of a page is a cache hit",
    async run(ctx) {
        for (const fe of frontends(ctx.spec)) {
            // Volto's pages are not cached by varnish (Volto renders them for each visitor): the REST API is.
            const url = backendPath(ctx.spec, unique());
            const first = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, url);
            const second = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, url);
            if (first.status !== 200 || second.status !== 200) throw new SmokeFailure(`${fe}: ${first.status} then ${second.status}`);
            if (first.headers["x-cache"] !== "MISS" || second.headers["x-cache"] !== "HIT") {
                throw new SmokeFailure(`${fe}: X-Cache ${first.headers["x-cache"]} then ${second.headers["x-cache"]}, not MISS then HIT`);
            }
            // A logged-in visitor's request is never answered from the cache.
            const personal = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, url, { cookie: PASS_COOKIE });
            if (personal.headers["x-cache"] !== "MISS")
                throw new SmokeFailure(`${fe}: a request with the login cookie was a cache ${personal.headers["x-cache"]}`);
        }
        return `${servesVolto(ctx.spec) ? "/++api++: " : ""}MISS then HIT on ${frontends(ctx.spec).join(", ")}; a logged-in GET passes`;
    },
};

/** Every Zope client of every app host answers requests varnish passes, through each front end. */
export const everyClientThroughHaproxy: SmokeCheck = {
    name: "every Zope client answers through haproxy on each front end",
    async run(ctx) {
        const topology = topologyOf(ctx);
        const servers = backendServers({ spec: ctx.spec, topology, addresses: ctx.addresses, secrets: { haproxyStatsPassword: "", appSecrets: {} } });
        const expected = new Set(servers.map((s) => `${s.host}/${s.client}`));
        for (const fe of frontends(ctx.spec)) {
            // Requests varnish passes (the login cookie), until every client has answered one.
            const seen = new Set<string>();
            for (let i = 0; i < 8 * servers.length && seen.size < expected.size; i++) {
                const a = await frontDoorGet(ctx.hosts, ctx.addresses[fe], ctx.spec, backendPath(ctx.spec, `/smoke-clients?${i}`), { cookie: PASS_COOKIE });
                const standin = standinOf(a);
                if (a.status !== 200 || !standin) throw new SmokeFailure(`${fe}: ${a.status}: ${a.body.slice(0, 200)}`);
                seen.add(`${hostOfHostname(ctx.hosts, standin.hostname) ?? standin.hostname}/${standin.client}`);
            }
            const missing = [...expected].filter((c) => !seen.has(c));
            if (missing.length) throw new SmokeFailure(`${fe}: no answer from ${missing.join(", ")} (answered: ${[...seen].join(", ")})`);
        }
        return `${expected.size} clients (${[...expected].join(", ")}) through ${frontends(ctx.spec).join(", ")}`;
    },
};

/**
 * The application load balancer (its stand-in) has every front end healthy by the target group's
 * own health check, and serves the site through each: a listener that redirects answers with its
 * redirect, the forwarding listener passes a page to a front end with X-Forwarded-Proto (nginx
 * then asks Zope for the site under that scheme), and every target gets requests.
 */
export const loadBalancerServesTheSite: SmokeCheck = {
    name: "the application load balancer has every front end healthy and serves the site through each",
    async run(ctx) {
        const alb = ctx.alb;
        if (!alb) return "no load balancer: the front end has an Elastic IP";
        const waited = await albTargetsHealthy(ctx, alb);
        const forward = alb.listeners.find((l) => l.action.kind === "forward")!;
        const https = forward.protocol === "HTTPS";
        const said: string[] = [];
        for (const l of alb.listeners) {
            if (l.action.kind !== "redirect") continue;
            const path = `${unique()}/page?x=1`;
            const a = await frontDoorGet(ctx.hosts, alb.address, ctx.spec, path, { port: l.port, https: l.protocol === "HTTPS" });
            const port = l.action.port === (l.action.protocol === "HTTPS" ? 443 : 80) ? "" : `:${l.action.port}`;
            const location = `${l.action.protocol.toLowerCase()}://${ctx.spec.frontend.domain}${port}${path}`;
            if (a.status !== l.action.statusCode || a.headers.location !== location) {
                throw new SmokeFailure(`${l.protocol} ${l.port}: ${a.status} to ${a.headers.location ?? "nowhere"}, not ${l.action.statusCode} to ${location}`);
            }
            said.push(`${l.protocol} ${l.port} redirects (${a.status})`);
        }
        const before = await albTargetStats(ctx, alb);
        const targets = alb.targetGroup.targets;
        const scheme = https ? "https" : "http";
        for (let i = 0; i < 4 * targets.length; i++) {
            const a = await frontDoorGet(ctx.hosts, alb.address, ctx.spec, backendPath(ctx.spec, `${unique()}/front-page`), {
                port: forward.port,
                https,
                cookie: PASS_COOKIE,
            });
            if (a.status !== 200 || !standinOf(a))
                throw new SmokeFailure(`${forward.protocol} ${forward.port}: ${a.status} without X-Standin: ${a.body.slice(0, 200)}`);
            const vhost = virtualHostPrefix(ctx.spec, scheme, forward.port);
            if (!a.body.includes(vhost)) throw new SmokeFailure(`through the load balancer, the client was not asked for ${vhost}: ${a.body.trim()}`);
        }
        const after = await albTargetStats(ctx, alb);
        const idle = targets.filter((t) => after[t.host].requests <= before[t.host].requests).map((t) => t.host);
        if (idle.length) throw new SmokeFailure(`the load balancer sent no request to ${idle.join(", ")}`);
        const hc = alb.targetGroup.healthCheck;
        said.push(`${forward.protocol} ${forward.port} serves the site (${scheme}) through ${targets.map((t) => t.host).join(", ")}`);
        return (
            `${alb.host} ${alb.address} (stand-in): ${targets.map((t) => t.host).join(", ")} healthy by GET ${hc.path} every ${hc.intervalSeconds}s ` +
            `(${hc.healthyThreshold} to enter, ${hc.unhealthyThreshold} to leave, ${hc.matcher}) ${waited.toFixed(1)}s after the front ends; ${said.join("; ")}`
        );
    },
};

/** With shared blobs (GlusterFS, NFS, EFS): a file written on one blob client is there on every other. */
export const sharedBlobsAreShared: SmokeCheck = {
    name: "a blob file written on one host is visible on the others",
    async run(ctx) {
        const topology = topologyOf(ctx);
        const blobs = topology.endpoints.blobs;
        if (blobs.mode !== "gluster" && blobs.mode !== "nfs" && blobs.mode !== "efs") return `blobs are ${blobs.mode}: nothing shared`;
        const clients = topology.roles.blobUsers;
        const dir = blobStorageDir(blobs)!;
        const file = `${dir}/rehearsal-smoke-${crypto.randomBytes(4).toString("hex")}`;
        const text = `written on ${clients[0]} at ${new Date().toISOString()}`;
        const w = await ctx.hosts.ssh(
            clients[0],
            `runuser -u ${DEPLOY_USER} -- bash -c 'printf "%s\\n" "$1" > "$2"' _ '${text}' '${file}' && findmnt -n -o FSTYPE --target '${dir}'`,
            { user: "root", timeoutMs: 30_000 },
        );
        if (w.status !== 0) throw new SmokeFailure(`${clients[0]}: writing ${file} as ${DEPLOY_USER}: ${w.stderr.trim()}`);
        const fstype = w.stdout.trim();
        for (const other of clients.slice(1)) {
            const r = await ctx.hosts.ssh(other, `cat '${file}'`, { user: "root", timeoutMs: 30_000 });
            if (r.stdout.trim() !== text)
                throw new SmokeFailure(`${other}: ${file} ${r.status === 0 ? `holds "${r.stdout.trim()}"` : `cannot be read: ${r.stderr.trim()}`}`);
        }
        await ctx.hosts.ssh(clients[0], `rm -f '${file}'`, { user: "root" });
        return `${blobs.mode} (${fstype}): written on ${clients[0]}, read on ${clients.slice(1).join(", ") || "no other host"}`;
    },
};

/** Every EBS volume (a loop device here) holds a file system, is mounted on its mount point and in fstab by UUID. */
export const volumesMountedByUuid: SmokeCheck = {
    name: "every EBS volume is formatted, mounted, and in fstab by UUID",
    async run(ctx) {
        const topology = topologyOf(ctx);
        const found: string[] = [];
        for (const plan of topology.hosts) {
            const host = ctx.hosts.hosts.get(plan.name);
            if (!host || !plan.volumes.length) continue;
            for (const [i, v] of plan.volumes.entries()) {
                const attached = host.volumes[i];
                if (!attached) throw new SmokeFailure(`${plan.name}: no volume attached for ${v.mountPoint}`);
                const script = [
                    `dev=$(readlink -f /dev/disk/by-id/${ebsByIdName(attached.volumeId)})`,
                    `uuid=$(blkid -p -o value -s UUID "$dev")`,
                    `echo "$dev $(findmnt -n -o SOURCE,FSTYPE --mountpoint ${v.mountPoint}) $uuid"`,
                    `grep -E "^UUID=$uuid ${v.mountPoint} " /etc/fstab`,
                ].join("\n");
                const r = await ctx.hosts.ssh(plan.name, "bash -s", { user: "root", input: script, timeoutMs: 20_000 });
                const [dev, source, fstype, uuid] = r.stdout.split("\n")[0]?.split(" ") ?? [];
                const fstab = r.stdout.split("\n")[1] ?? "";
                if (
                    r.status !== 0 ||
                    dev !== `/dev/${attached.device}` ||
                    source !== dev ||
                    !uuid ||
                    fstab !== `UUID=${uuid} ${v.mountPoint} ${fstype} ${VOLUME_MOUNT_OPTIONS} 0 2`
                ) {
                    throw new SmokeFailure(`${plan.name} ${v.mountPoint} (${attached.volumeId}): ${(r.stdout + r.stderr).trim() || `exit ${r.status}`}`);
                }
                found.push(`${plan.name}:${v.mountPoint} ${fstype}`);
            }
        }
        return found.length ? found.join(", ") : "no volumes";
    },
};

/** One client's /wiring page, asked on its host (the clients' ports are for the front ends only). */
async function askClient(ctx: SmokeContext, host: string, port: number, token: string): Promise<WiringReport> {
    const r = await ctx.hosts.ssh(host, `curl -sS -m 60 'http://127.0.0.1:${port}/wiring?token=${token}'`, { user: "root", timeoutMs: 90_000 });
    if (r.status !== 0) throw new SmokeFailure(`curl exit ${r.status}: ${r.stderr.trim()}`);
    return parseWiringReport(r.stdout);
}

/** How long a mail relay may keep mail in its queue before the check calls it hung: not a budget (postfix hands a mail on in well under a second). */
const MAIL_QUEUE_HANG_GUARD_MS = 5 * 60_000;

/**
 * Waits until postfix on `host` holds no mail it is still handing on (maildrop, incoming, active);
 * returns why each mail it deferred was deferred ("host[ip] said: ..."), none when all left.
 */
async function settledMailQueue(ctx: SmokeContext, host: string): Promise<string[]> {
    const until = Date.now() + MAIL_QUEUE_HANG_GUARD_MS;
    for (;;) {
        const r = await ctx.hosts.ssh(host, "postqueue -j", { user: "root", timeoutMs: 60_000 });
        if (r.status !== 0) throw new SmokeFailure(`${host}: postqueue -j: ${(r.stdout + r.stderr).trim()}`);
        const queued = r.stdout
            .split("\n")
            .filter((l) => l.trim())
            .map((l) => JSON.parse(l) as { queue_name: string; recipients?: { address: string; delay_reason?: string }[] });
        if (!queued.some((m) => ["maildrop", "incoming", "active"].includes(m.queue_name))) {
            return queued.flatMap((m) =>
                (m.recipients ?? []).map((x) => `${host} ${m.queue_name} mail to ${x.address}: ${x.delay_reason ?? "no reason given"}`),
            );
        }
        if (Date.now() > until) throw new SmokeFailure(`${host}: postfix still hands on mail after ${MAIL_QUEUE_HANG_GUARD_MS / 60_000} min`);
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

/**
 * The mail check's second half: every mail a client handed to the relay on its host (localhost:25)
 * left that host and reached the SMTP stand-in for SES, over TLS, as the stack's SMTP user.
 */
async function mailDeliveries(ctx: SmokeContext, smtp: SmtpRelayStandin, reports: { host: string; report: WiringReport }[], token: string): Promise<string[]> {
    const sent = reports
        .filter(({ report }) => report.checks.some((c) => c.service === "mail" && c.ok))
        .map(({ host, report }) => ({ host, hostname: ctx.hosts.hosts.get(host)?.hostname ?? host, client: report.client }));
    const relays = [...new Set(sent.map((s) => s.host))];
    const deferred = (await Promise.all(relays.map((h) => settledMailQueue(ctx, h)))).flat();
    const r = await ctx.hosts.ssh(smtp.host, `cat ${SMTP_STANDIN_SPOOL}`, { user: "root", timeoutMs: 60_000 });
    if (r.status !== 0) throw new SmokeFailure(`${smtp.host}: the SMTP stand-in's spool: ${r.stderr.trim()}`);
    const problems = mailDeliveryProblems(sent, token, parseSmtpSpool(r.stdout), smtp.user);
    return problems.length ? [...problems, ...deferred] : [];
}

/** Every Zope client uses every service its configuration (deploy.cfg, or zope.conf with pip) names, and shared blobs are shared. */
export const everyClientUsesItsServices: SmokeCheck = {
    name: "every Zope client uses every service its configuration names",
    async run(ctx) {
        const topology = topologyOf(ctx);
        const expected = expectedServices(topology, ctx.spec);
        const hostByAddress = { ...Object.fromEntries(Object.entries(ctx.addresses).map(([name, address]) => [address, name])), ...ctx.standins };
        const token = crypto.randomBytes(6).toString("hex");
        const clients = topology.hosts.flatMap((h) => h.clients.map((c) => ({ host: h.name, client: c.name, port: c.port })));
        const round = () =>
            Promise.all(
                clients.map(async (c) => {
                    try {
                        return { host: c.host, report: await askClient(ctx, c.host, c.port, token) };
                    } catch (e) {
                        return { host: c.host, report: { host: c.host, client: c.client, checks: [], error: `status page: ${(e as Error).message}` } };
                    }
                }),
            );
        await round(); // every client writes its blob file
        const reports = await round(); // and now sees the others'
        const problems = reports.flatMap(({ host, report }) => wiringProblems(host, report, expected, hostByAddress));
        if (topology.endpoints.blobs.mode === "gluster" || topology.endpoints.blobs.mode === "nfs" || topology.endpoints.blobs.mode === "efs") {
            problems.push(...blobSharingProblems(reports, (host) => ctx.hosts.hosts.get(host)?.hostname ?? host));
        }
        if (ctx.smtp && expected.includes("mail")) problems.push(...(await mailDeliveries(ctx, ctx.smtp, reports, token)));
        if (problems.length) throw new SmokeFailure(problems.join("; "));
        const used = [...new Set(reports.flatMap((r) => r.report.checks.map((c) => `${c.service} ${c.target}`)))];
        const mail =
            ctx.smtp && expected.includes("mail") ? `; every mail reached ${ctx.smtp.plays} (played by ${ctx.smtp.host}) over TLS as ${ctx.smtp.user}` : "";
        return `${clients.length} clients used ${used.join(", ")}${mail}`;
    },
};

export const SMOKE_CHECKS: SmokeCheck[] = [
    hostsAnswerAtTheirAddresses,
    volumesMountedByUuid,
    frontDoorSettles,
    loadBalancerServesTheSite,
    pageThroughFrontDoor,
    voltoRendersFromTheApi,
    secondGetIsCacheHit,
    everyClientThroughHaproxy,
    sharedBlobsAreShared,
    everyClientUsesItsServices,
];

/**
 * Runs the checks one after the other (they share the hosts); all of them, even after a failure,
 * but none after an interruption (a check cut short by it is reported as interrupted, not failed).
 */
export async function runSmokeChecks(
    checks: SmokeCheck[],
    ctx: SmokeContext,
    print: (line: string) => void = console.log,
    signal?: AbortSignal,
): Promise<SmokeResult[]> {
    const results: SmokeResult[] = [];
    for (const check of checks) {
        if (signal?.aborted) break;
        const started = Date.now();
        let result: SmokeResult;
        try {
            const detail = (await check.run(ctx)) ?? undefined;
            result = { name: check.name, ok: true, detail, seconds: (Date.now() - started) / 1000 };
        } catch (e) {
            result = { name: check.name, ok: false, detail: signal?.aborted ? "interrupted" : (e as Error).message, seconds: (Date.now() - started) / 1000 };
        }
        results.push(result);
        const outcome = result.ok ? "ok" : signal?.aborted ? "interrupted" : "FAILED";
        print(`[smoke] ${result.name} ... ${outcome} ${result.seconds.toFixed(1)}s${result.detail && outcome !== "interrupted" ? ` (${result.detail})` : ""}`);
    }
    return results;
}
