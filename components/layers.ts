// The layer catalogue: one record per OpsWorks layer with what the rest of the code must not
// re-derive. The configuration rules, the topology, the renderers, the operations plans, the policy
// pack and the OpsWorks importer read it.
//
// Adding a layer: its name in LAYERS (config/schema.ts), its record here, its renderer. The compiler
// then points at every place that must decide something for it, each a Record<Layer, ...>: this
// catalogue, config/layerRules.ts (what it needs from plone-aws:plone), the staging clone
// (scripts/lib/stacks/clone.ts: WITHOUT_ON_ONE_HOST) and the importer (scripts/lib/opsworks/hosts.ts:
// UNUSED_LAYER). docs/architecture.md walks through it. Pure: no Pulumi, no I/O.
import { LAYERS, type BlobMode, type Layer, type VolumeKind } from "./config/schema";
import type { StackSpec } from "./config/spec";
import { clientPort, PORTS, voltoPort } from "./topology/ports";

/** Security groups by role: one per listening layer, plus the infrastructure around the hosts. */
export type SecurityGroupRole = Layer | "host" | "alb" | "bastion" | "database" | "efs";

/** Who may reach a port: the hosts of a security group, or an address range. */
export type RuleSource = { role: SecurityGroupRole } | { cidr: string };

/** One permission of a layer's security group (the group itself is the layer's). */
export interface LayerIngress {
    protocol: "tcp" | "udp";
    fromPort: number;
    toPort: number;
    source: RuleSource;
    description: string;
}

/** What a layer's ingress rules depend on besides the spec. */
export interface IngressContext {
    spec: Pick<StackSpec, "frontend" | "plone">;
    /** alb: the load balancer's group reaches the front ends; eip: the internet does. */
    frontDoor: "alb" | "eip";
    /** SSH and the statistics come from these: the bastion's group, or network.adminCidrs. */
    adminSources: RuleSource[];
    /** The most clients any app host runs: the width of the client port range. */
    maxClientsPerHost: number;
    /** The most Volto SSR processes any volto host runs: the width of the Volto port range. */
    maxVoltoPerHost: number;
    /** The layers some host of the stack carries. */
    present: ReadonlySet<Layer>;
    /** The groups of the hosts that keep blobs (the app hosts, and the ZEO server when there is one). */
    blobClients: SecurityGroupRole[];
}

/** A system service of a host (what plone-status reports and plone-service starts and stops). */
export interface SystemService {
    /** The name operators use (ops start varnish). */
    name: string;
    /** systemd unit on EC2. */
    unit: string;
    /** /etc/init.d script where there is no systemd; "" when the package has none. */
    init: string;
    /** Validated and reloaded by plone-frontend-service (nginx, varnish, haproxy). */
    frontend?: boolean;
    /** May be missing without it being a problem, and why (the CloudWatch agent off EC2). */
    optional?: string;
}

/** What the volume rules of a layer read: the storage settings, and whether this host keeps the local blobs. */
export interface VolumeContext {
    plone: Pick<StackSpec["plone"], "storage" | "blobs" | "backups">;
    /** This host keeps the blobs on a local volume (blobs local: the app host; zeo: the ZEO server). */
    blobHost: boolean;
}

export interface LayerInfo {
    /** What the layer runs, in a few words (messages, documentation). */
    runs: string;
    /**
     * How many hosts may carry it. "one": its clients take "the" server of the layer, so a second
     * one would silently split the site (as the cookbook's "first online instance" did); `when`
     * limits that to NFS blobs (GlusterFS peers are replicas). `why` is what an operator is told.
     */
    instances: { count: "any" } | { count: "one"; when?: "nfs-blobs"; why: string };
    /**
     * It keeps data an instance of an Auto Scaling group would lose when the group stops it (a
     * database, files, an index, a queue): what an operator is told when a scaled group lists it.
     */
    holdsState?: string;
    /** A stack needs at least one host carrying it: the error when none does. */
    required?: string;
    /** It runs from the buildout of a plone_instances host, so it only rides on one. */
    ridesOnAppHost: boolean;
    /** Its hosts run the app's build: a release tree, deploy.cfg, supervisor programs, the build packages. */
    runsBuild: boolean;
    /** apt packages its hosts install (the build's own come with runsBuild). */
    packages(spec: Pick<StackSpec, "frontend" | "plone" | "mail">): string[];
    /** The system services it runs (services under supervisor are the app's programs, not these). */
    services(spec: Pick<StackSpec, "plone" | "mail">): SystemService[];
    /** Its security group: what it listens on and who may reach it. Undefined: it listens on nothing of its own. */
    securityGroup?: {
        description(spec: Pick<StackSpec, "plone">): string;
        ingress(ctx: IngressContext): LayerIngress[];
    };
    /** The EBS data volumes a host carrying it gets. */
    volumes(ctx: VolumeContext): VolumeKind[];
    /** The names an OpsWorks instances file may give it besides its own (the importer reads them). */
    opsworksNames: string[];
}

const tcp = (fromPort: number, toPort: number, source: RuleSource, description: string): LayerIngress => ({
    protocol: "tcp",
    fromPort,
    toPort,
    source,
    description,
});
const udp = (fromPort: number, toPort: number, source: RuleSource, description: string): LayerIngress => ({
    protocol: "udp",
    fromPort,
    toPort,
    source,
    description,
});
const service = (name: string, unit = name, init = unit): SystemService => ({ name, unit, init });
const none = (): never[] => [];

/**
 * The mail relay's packages: postfix as a null client (render/mail/postfix.ts says why postfix),
 * and the Cyrus SASL modules its SMTP client needs for AUTH PLAIN/LOGIN.
 */
export const MAIL_RELAY_PACKAGES = ["postfix", "libsasl2-modules"] as const;

export const LAYER_CATALOGUE = {
    frontend: {
        runs: "nginx -> varnish -> haproxy, the error page, TLS when there is no load balancer",
        instances: { count: "any" },
        required: "no host carries the frontend layer: a stack needs at least one front end (nginx, varnish, haproxy)",
        ridesOnAppHost: false,
        runsBuild: false,
        // rsyslog: haproxy logs to /dev/log; Debian's haproxy package ships the rsyslog rule that
        // writes /var/log/haproxy.log (journald alone keeps them only in the journal).
        packages: (spec) => ["nginx", "varnish", "haproxy", "socat", "rsyslog", ...(spec.frontend.tls.mode === "certbot" ? ["certbot"] : [])],
        services: () => ["nginx", "varnish", "haproxy"].map((name) => ({ ...service(name), frontend: true })),
        securityGroup: {
            description: () => "nginx, varnish and haproxy",
            ingress: ({ spec, frontDoor, adminSources, present }) => [
                ...(frontDoor === "alb"
                    ? [tcp(PORTS.http, PORTS.http, { role: "alb" }, "HTTP from the load balancer")]
                    : [
                          tcp(PORTS.http, PORTS.http, { cidr: "0.0.0.0/0" }, "HTTP from anywhere"),
                          ...(spec.frontend.tls.mode === "certbot" ? [tcp(PORTS.https, PORTS.https, { cidr: "0.0.0.0/0" }, "HTTPS from anywhere")] : []),
                      ]),
                ...adminSources.map((source) => tcp(PORTS.haproxyStats, PORTS.haproxyStats, source, "haproxy statistics from the admin sources")),
                tcp(PORTS.varnish, PORTS.varnish, { role: "plone_instances" }, "PURGE from the Zope clients"),
                // Volto renders pages from the backend's REST API through haproxy (its internal API path).
                ...(present.has("volto") ? [tcp(PORTS.haproxy, PORTS.haproxy, { role: "volto" }, "the REST API for the server-side rendering of Volto")] : []),
            ],
        },
        volumes: none,
        opsworksNames: ["lb"],
    },
    plone_instances: {
        runs: "the buildout's Zope clients (client1..N) under supervisor, and the haproxy agent",
        instances: { count: "any" },
        required: "no host carries the plone_instances layer: a stack needs at least one host running Zope clients",
        ridesOnAppHost: false,
        runsBuild: true,
        // The mail relay (plone-aws:mail) on localhost:25, where Plone's MailHost sends; the celery
        // workers and the db_packing and celerybeat programs ride on these hosts too.
        packages: (spec) => (spec.mail ? [...MAIL_RELAY_PACKAGES] : []),
        services: (spec) => (spec.mail ? [service("postfix")] : []),
        securityGroup: {
            description: () => "the Zope clients",
            ingress: ({ maxClientsPerHost }) => [
                tcp(clientPort(1), clientPort(maxClientsPerHost), { role: "frontend" }, "Zope clients from haproxy"),
                tcp(PORTS.haproxyAgent, PORTS.haproxyAgent, { role: "frontend" }, "haproxy agent checks"),
            ],
        },
        // Local blobs live on the one app host.
        volumes: ({ plone, blobHost }) => (plone.blobs === "local" && blobHost ? ["blobs"] : []),
        opsworksNames: [],
    },
    zeoserver: {
        runs: "the ZEO server from the buildout, and the repozo backups",
        instances: { count: "one", why: "the Zope clients connect to one ZEO server; a second one holds a diverging copy of the site's database" },
        holdsState: "the ZEO server keeps the site's database (Data.fs) on its volume",
        ridesOnAppHost: false,
        runsBuild: true,
        packages: none,
        services: none,
        securityGroup: {
            description: () => "the ZEO server",
            ingress: () => [tcp(PORTS.zeo, PORTS.zeo, { role: "plone_instances" }, "ZEO from the Zope clients")],
        },
        volumes: ({ plone, blobHost }) => [
            "filestorage",
            ...(plone.backups.enabled && plone.storage === "zeo" ? ["backups" as const] : []),
            // zeo blobs are kept by the ZEO server.
            ...(plone.blobs === "zeo" && blobHost ? ["blobs" as const] : []),
        ],
        opsworksNames: [],
    },
    shared_blobs: {
        runs: "the blob storage: the NFS server, or a GlusterFS peer",
        instances: {
            count: "one",
            when: "nfs-blobs",
            why: "the clients mount one NFS server; a second one holds blobs no client reads (GlusterFS allows replicas)",
        },
        holdsState: "the blob server keeps the blob files on its volume",
        ridesOnAppHost: false,
        runsBuild: false,
        packages: (spec) => (spec.plone.blobs === "gluster" ? ["glusterfs-server", "attr"] : ["nfs-kernel-server"]),
        services: (spec) => [spec.plone.blobs === "gluster" ? service("glusterd") : service("nfs", "nfs-server", "nfs-kernel-server")],
        securityGroup: {
            description: (spec) => `${spec.plone.blobs} blob storage`,
            ingress: ({ spec, blobClients }) =>
                spec.plone.blobs === "gluster"
                    ? [...blobClients, "shared_blobs" as const].flatMap((role) => [
                          tcp(PORTS.glusterdFirst, PORTS.glusterdLast, { role }, "glusterd"),
                          tcp(PORTS.glusterBricksFirst, PORTS.glusterBricksLast, { role }, "GlusterFS bricks"),
                      ])
                    : blobClients.flatMap((role) =>
                          (
                              [
                                  [PORTS.nfs, PORTS.nfs, "NFS"],
                                  [PORTS.rpcbind, PORTS.rpcbind, "rpcbind"],
                                  [PORTS.statd, PORTS.lockd, "statd, mountd and lockd (pinned)"],
                              ] as const
                          ).flatMap(([port, last, what]) => [tcp(port, last, { role }, what), udp(port, last, { role }, what)]),
                      ),
        },
        volumes: ({ plone }) => [plone.blobs === "gluster" ? "bricks" : "exports"],
        opsworksNames: [],
    },
    memcached: {
        runs: "memcached, RelStorage's shared cache",
        instances: { count: "any" },
        holdsState: "the Zope clients list each memcached server by address in deploy.cfg, and its cache goes with the instance",
        ridesOnAppHost: false,
        runsBuild: false,
        packages: () => ["memcached"],
        services: () => [service("memcached")],
        securityGroup: {
            description: () => "RelStorage cache",
            ingress: () => [tcp(PORTS.memcached, PORTS.memcached, { role: "plone_instances" }, "memcached from the Zope clients")],
        },
        volumes: none,
        opsworksNames: [],
    },
    solr: {
        runs: "Solr from the buildout",
        instances: { count: "one", why: "the clients index into and search one Solr core; a second one serves a stale index" },
        holdsState: "Solr keeps the search index on its volume",
        ridesOnAppHost: false,
        runsBuild: true,
        packages: () => ["default-jre-headless"],
        services: none,
        securityGroup: {
            description: () => "Solr",
            ingress: ({ spec }) => [tcp(spec.plone.solr.port, spec.plone.solr.port, { role: "plone_instances" }, "Solr from the Zope clients")],
        },
        volumes: () => ["solr"],
        opsworksNames: [],
    },
    redis: {
        runs: "Redis, the celery broker",
        instances: { count: "one", why: "the celery workers share one broker; a second one splits the task queue" },
        holdsState: "Redis keeps the celery task queue",
        ridesOnAppHost: false,
        runsBuild: false,
        packages: () => ["redis-server"],
        services: () => [service("redis", "redis-server")],
        securityGroup: {
            description: () => "the celery broker",
            ingress: () => [tcp(PORTS.redis, PORTS.redis, { role: "plone_instances" }, "Redis from the celery workers")],
        },
        volumes: () => ["redis"],
        opsworksNames: ["celery_broker"],
    },
    celerybeat: {
        runs: "the celery scheduler, from the app host's buildout",
        instances: { count: "one", why: "a second scheduler runs every periodic task twice" },
        ridesOnAppHost: true,
        runsBuild: false,
        packages: none,
        services: none,
        volumes: none,
        opsworksNames: [],
    },
    db_packing: {
        runs: "zodbpack for RelStorage, from the app host's buildout",
        instances: { count: "one", why: "two packers would pack the same RelStorage database at the same time" },
        ridesOnAppHost: true,
        runsBuild: false,
        packages: none,
        services: none,
        volumes: none,
        opsworksNames: [],
    },
    volto: {
        runs: "Volto's server-side rendering: Node processes (volto1..N) under supervisor, behind haproxy",
        instances: { count: "any" },
        ridesOnAppHost: false,
        runsBuild: false,
        // Node comes from volto.node.mirror as a tarball (xz) checked against its SHASUMS256.txt,
        // whose signature gpgv checks (git and curl are every host's); supervisor runs the processes
        // and the haproxy agent; native modules of the project build with the compiler.
        packages: () => ["xz-utils", "gpgv", "supervisor", "build-essential"],
        services: none,
        securityGroup: {
            // EC2 refuses an apostrophe in a group's or a rule's description.
            description: () => "server-side rendering of Volto",
            ingress: ({ maxVoltoPerHost }) => [
                tcp(voltoPort(1), voltoPort(maxVoltoPerHost), { role: "frontend" }, "Volto processes from haproxy"),
                tcp(PORTS.haproxyAgent, PORTS.haproxyAgent, { role: "frontend" }, "haproxy agent checks"),
            ],
        },
        volumes: none,
        // OpsWorks stacks predate Volto.
        opsworksNames: [],
    },
} satisfies Record<Layer, LayerInfo>;

/** The record of a layer, typed as the catalogue's interface. */
export function layerInfo(layer: Layer): LayerInfo {
    return LAYER_CATALOGUE[layer];
}

/** Layers that may only ride on a plone_instances host. */
export const APP_HOST_LAYERS: readonly Layer[] = layersWhere((l) => l.ridesOnAppHost);

/** Layers whose hosts run the app's build. */
export const BUILD_LAYERS: readonly Layer[] = layersWhere((l) => l.runsBuild);

/** Whether a host with these layers runs the app's build (release tree, deploy.cfg, supervisor). */
export function runsBuild(host: { layers: readonly Layer[] }): boolean {
    return host.layers.some((l) => LAYER_CATALOGUE[l].runsBuild);
}

/** Whether at most one host may carry `layer`, given how the blobs are kept (unknown: only the layers that are always single). */
export function isSingleInstance(layer: Layer, blobs: BlobMode | undefined): boolean {
    const { instances } = layerInfo(layer);
    return instances.count === "one" && (instances.when !== "nfs-blobs" || blobs === "nfs");
}

/** The layers at most one host carries, given how the blobs are kept. */
export function singleInstanceLayers(blobs: BlobMode | undefined): Layer[] {
    return layersWhere((_, layer) => isSingleInstance(layer, blobs));
}

/** The layers with a security group of their own, in catalogue order. */
export const LISTENING_LAYERS: readonly Layer[] = layersWhere((l) => l.securityGroup !== undefined);

function layersWhere(test: (info: LayerInfo, layer: Layer) => boolean): Layer[] {
    return LAYERS.filter((layer) => test(layerInfo(layer), layer));
}

/**
 * Why a scaled group (plone-aws:scaling) may not carry `layer`, or undefined when it may: an
 * instance the group stops takes its state with it, and a single-instance layer would run once per
 * instance. Front ends are fixed hosts: the load balancer or the Elastic IP names them.
 */
export function whyNotScaled(layer: Layer): string | undefined {
    const info = layerInfo(layer);
    if (info.holdsState) return `it holds state (${info.holdsState}), which goes when the group stops an instance`;
    if (info.instances.count === "one") return `it runs on one host only (${info.instances.why}), and a group runs it on every instance`;
    if (layer === "frontend") return "front ends are fixed hosts: the load balancer or the Elastic IP points at them, and they find the scaled clients";
    return undefined;
}
