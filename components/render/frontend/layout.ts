// What the front-end renderers (haproxy, Varnish, nginx, the haproxy agent) share: the ports and
// paths they use, the Zope clients haproxy balances over, and small helpers. Pure: no Pulumi, no I/O.
//
// Every port and path defaults to the topology's PORTS/PATHS or to where Debian's packages keep
// things. The layout is a parameter only so that the daemon tests can run the real programs as an
// unprivileged chain on free loopback ports in a temporary directory; a stack never overrides it.
import type { StackSpec } from "../../config/spec";
import type { HostPlan } from "../../topology";
import type { DiscoveredKind } from "../../topology/scaling";
import { PATHS, PORTS } from "../../topology";
import { addressOf, hostPlan, RenderContext } from "../context";

export interface FrontendLayout {
    ports: {
        /** nginx, plain HTTP (the ALB's target port, or the public port of an Elastic IP host). */
        http: number;
        /** nginx, TLS on the host (tls mode certbot). */
        https: number;
        /** varnishd, behind nginx; the Zope clients send PURGE here. */
        varnish: number;
        varnishAdmin: number;
        /** haproxy's frontend, varnish's only backend. */
        haproxy: number;
        haproxyStats: number;
        /** The agent on each app host and volto host (plone-haproxy-agent). */
        haproxyAgent: number;
        /** haproxy's frontend for Volto (loopback): nginx sends Volto's pages here. */
        haproxyVolto: number;
    };
    /** Address nginx listens on; "" is every address (the hosts). */
    nginxBind: string;
    /** Where haproxy resolves the scaled clients' SRV records; undefined: the VPC's resolver (topology.discovery). */
    dnsResolver?: { address: string; port: number };
    paths: {
        /** Runtime state of the app hosts; the rotation files live in <runtimeDir>/rotation. */
        runtimeDir: string;
        /** Static pages nginx serves when no backend answers. */
        errorPages: string;
        haproxyConfig: string;
        /** haproxy's admin socket (runtime API, level admin). */
        haproxySocket: string;
        /** Server states saved before a reload and read back by the new process. */
        haproxyStateFile: string;
        haproxyChroot: string;
        /** Where haproxy sends its log lines (a syslog datagram socket, seen from inside the chroot). */
        syslogSocket: string;
        varnishVcl: string;
        varnishSecret: string;
        /** The nginx configuration directory (nginx.conf, mime.types, sites-enabled, conf.d, modules-enabled). */
        nginxDir: string;
        nginxPidFile: string;
        nginxLogDir: string;
        /** certbot's webroot for HTTP-01 challenges. */
        acmeWebroot: string;
        /** certbot's live certificates, one directory per certificate name. */
        letsencryptLive: string;
        sbinDir: string;
    };
}

export const DEFAULT_FRONTEND_LAYOUT: FrontendLayout = {
    ports: {
        http: PORTS.http,
        https: PORTS.https,
        varnish: PORTS.varnish,
        varnishAdmin: PORTS.varnishAdmin,
        haproxy: PORTS.haproxy,
        haproxyStats: PORTS.haproxyStats,
        haproxyAgent: PORTS.haproxyAgent,
        haproxyVolto: PORTS.haproxyVolto,
    },
    nginxBind: "",
    paths: {
        runtimeDir: PATHS.runtimeDir,
        errorPages: PATHS.errorPages,
        haproxyConfig: "/etc/haproxy/haproxy.cfg",
        haproxySocket: "/run/haproxy/admin.sock",
        haproxyStateFile: "/var/lib/haproxy/server-state",
        haproxyChroot: "/var/lib/haproxy",
        syslogSocket: "/dev/log",
        varnishVcl: "/etc/varnish/default.vcl",
        varnishSecret: "/etc/varnish/secret",
        nginxDir: "/etc/nginx",
        nginxPidFile: "/run/nginx.pid",
        nginxLogDir: "/var/log/nginx",
        acmeWebroot: "/var/www/letsencrypt",
        letsencryptLive: "/etc/letsencrypt/live",
        sbinDir: PATHS.sbinDir,
    },
};

/** The directory of the rotation files the agent reads: <runtimeDir>/rotation/<clientName>. */
export function rotationDir(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${layout.paths.runtimeDir}/rotation`;
}

/** The haproxy backend and frontend name (also what `show stat` and the runtime API call them). */
export const HAPROXY_BACKEND = "plone";

/** haproxy's sticky-session cookie (plone.stickySessions): it names the server; varnish keeps it. */
export const STICKY_COOKIE = "SERVERID";

/** One Zope client as haproxy sees it. */
export interface BackendServer {
    /** Unique across hosts: <host>-<client>, e.g. app-1-client3. Also the sticky-session cookie value. */
    name: string;
    host: string;
    address: string;
    port: number;
    /** The client name the agent is asked about (ClientPlan.name). */
    client: string;
}

/** Every Zope client of every plone_instances host, in stack-file order. */
export function backendServers(ctx: RenderContext): BackendServer[] {
    return ctx.topology.roles.appHosts
        .map((name) => hostPlan(ctx.topology, name))
        .flatMap((h) =>
            h.clients.map((c) => ({
                name: `${h.name}-${c.name}`,
                host: h.name,
                address: addressOf(h.name, ctx.addresses),
                port: c.port,
                client: c.name,
            })),
        );
}

/** The haproxy backend and frontend of Volto's server-side rendering (stacks with volto hosts). */
export const HAPROXY_VOLTO = "volto";

/** One Volto SSR process as haproxy sees it. */
export interface VoltoServer {
    /** Unique across hosts: <host>-<process>, e.g. web-1-volto2. */
    name: string;
    host: string;
    address: string;
    port: number;
    /** The process name the agent is asked about (VoltoProcessPlan.name: volto1 .. voltoN). */
    process: string;
}

/** Every Volto process of every volto host, in stack-file order; none in a stack without volto hosts. */
export function voltoServers(ctx: RenderContext): VoltoServer[] {
    return ctx.topology.roles.voltoHosts
        .map((name) => hostPlan(ctx.topology, name))
        .flatMap((h) =>
            h.voltoProcesses.map((p) => ({
                name: `${h.name}-${p.name}`,
                host: h.name,
                address: addressOf(h.name, ctx.addresses),
                port: p.port,
                process: p.name,
            })),
        );
}

/** Private IPs of the plone_instances hosts (each once), in stack-file order. */
export function appHostAddresses(ctx: RenderContext): string[] {
    return unique(ctx.topology.roles.appHosts.map((name) => addressOf(name, ctx.addresses)));
}

/**
 * The subnets the scaled app hosts launch into (plone-aws:scaling): their addresses are unknown at
 * `pulumi up`, so what lists app hosts by address (the purge ACL, the NFS exports) admits these.
 */
export function scaledAppSubnets(ctx: Pick<RenderContext, "topology">): string[] {
    return unique(ctx.topology.scaledGroups.flatMap((g) => g.plan.subnets.map((s) => s.cidr)));
}

/**
 * One haproxy server-template of a scaled group: as many slots as the group's max, one per Zope
 * client index (the Zope backend) or Volto process index (the Volto backend).
 */
export interface ServerTemplate {
    kind: DiscoveredKind;
    /** Slot names are <prefix><n>: app-auto-client1-1 ..., app-auto-volto1-1 ... */
    prefix: string;
    slots: number;
    /** The SRV name the slots are filled from. */
    srvName: string;
    /** client1 .., volto1 ..: what the agent on the instance is asked about. */
    process: string;
}

/** The server-templates of the scaled groups' processes (of one kind, or all). */
export function serverTemplates(ctx: Pick<RenderContext, "topology">, kind?: DiscoveredKind): ServerTemplate[] {
    return ctx.topology.scaledGroups.flatMap((g) =>
        g.plan.discovery
            .filter((d) => kind === undefined || d.kind === kind)
            .map((d) => ({ kind: d.kind, prefix: `${g.plan.name}-${d.process}-`, slots: Math.max(1, g.plan.max), srvName: d.srvName, process: d.process })),
    );
}

export function assertFrontend(frontend: HostPlan): void {
    if (!frontend.layers.includes("frontend")) throw new Error(`host ${frontend.name} does not carry the frontend layer`);
}

export function unique<T>(values: T[]): T[] {
    return [...new Set(values)];
}

/** Milliseconds of a duration as the schema writes them: 100ms, 5s, 10m. */
export function durationMs(value: string): number {
    const m = /^(\d+)(ms|s|m)$/.exec(value);
    if (!m) throw new Error(`not a duration: ${value}`);
    const n = Number(m[1]);
    return m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

/** A duration in haproxy/varnish notation: whole seconds as "10s", the rest in ms. */
export function formatDuration(ms: number): string {
    return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * Longest time a request can take behind varnish: haproxy's queue, connect and server timeouts.
 * Varnish's first_byte_timeout must not be shorter, or it gives up while haproxy is still working.
 */
export function backendChainSeconds(spec: Pick<StackSpec, "frontend">): number {
    const h = spec.frontend.haproxy;
    return Math.ceil((durationMs(h.queueTimeout) + durationMs(h.connectTimeout) + durationMs(h.serverTimeout)) / 1000);
}

/** nginx waits this long for varnish: at least 900 s (long exports and uploads), and above varnish. */
export function nginxProxyTimeoutSeconds(spec: Pick<StackSpec, "frontend">): number {
    return Math.max(900, backendChainSeconds(spec) + 30);
}

/** The ALB waits longer than nginx, so a slow request ends with nginx's answer, not a bare 504. */
export function loadBalancerIdleTimeoutSeconds(spec: Pick<StackSpec, "frontend">): number {
    return nginxProxyTimeoutSeconds(spec) + 60;
}

/** The header every rendered file starts with, in the file's comment syntax. */
export function managedHeader(ctx: RenderContext, frontend: HostPlan, what: string, comment = "#"): string {
    return [
        `${comment} ${what}`,
        `${comment} Managed by plone-aws for stack ${ctx.spec.stackName}, host ${frontend.name}: local edits are`,
        `${comment} overwritten by the next \`pulumi up\`. Change the stack configuration instead.`,
    ].join("\n");
}

/** Indents every non-empty line of a block of text. */
export function indent(text: string, prefix: string): string {
    return text
        .split("\n")
        .map((l) => (l.trim() === "" ? "" : prefix + l))
        .join("\n");
}
