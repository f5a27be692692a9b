// Topology: StackSpec -> hosts with their layers, clients, volumes, packages and security groups,
// and the endpoints the layers find each other by. Pure: no Pulumi, no I/O.
import type { HostConfig, Layer, VolumeKind } from "../config/schema";
import type { StackSpec } from "../config/spec";
import { layerInfo, LISTENING_LAYERS, runsBuild, type IngressContext, type LayerIngress, type RuleSource, type SecurityGroupRole } from "../layers";
import { planSubnet, SubnetPlan, SubnetTier } from "./addressing";
import { frontDoorKind } from "./frontDoor";
import { architectureOfInstanceType, Architecture, instanceTypeInfo, supportsRecovery } from "./instanceTypes";
import { clientPort, MAX_VOLTO_PER_HOST, PATHS, PORTS, voltoPort } from "./ports";
import { restartPlan, type RestartPlan } from "./restarts";
import { planDiscovery, planScaledGroup, type DiscoveryPlan, type ScaledGroupPlan } from "./scaling";

export { DEPLOY_USER, PATHS, PORTS } from "./ports";
export type { ScaledGroupPlan } from "./scaling";

export interface ClientPlan {
    /** client1 .. clientN, the buildout part and supervisor program suffix. */
    name: string;
    index: number;
    port: number;
}

/** A Volto SSR process of a volto host: volto1 .. voltoN, each a supervisor program on its port. */
export interface VoltoProcessPlan {
    name: string;
    index: number;
    port: number;
}

export interface VolumePlan {
    kind: VolumeKind;
    /** The layer that needs it (its plone-aws:layer tag). */
    layer: Layer;
    mountPoint: string;
    sizeGiB: number;
    /** The attachment name; on Nitro instances the kernel names it /dev/nvme*, found by volume id. */
    deviceName: string;
}

export type { RuleSource, SecurityGroupRole };

export interface IngressRule extends LayerIngress {
    /** The group the rule belongs to. */
    role: SecurityGroupRole;
}

export interface SecurityGroupPlan {
    role: SecurityGroupRole;
    description: string;
    /** The layer it guards, for the plone-aws:layer tag. */
    layer?: Layer;
    /** Outbound: anywhere (hosts fetch packages and code) or only what its rules imply. */
    egress: "all" | "none" | { role: SecurityGroupRole; port: number };
}

export interface HostPlan {
    name: string;
    instanceType: string;
    architecture: Architecture;
    vcpus: number;
    az: number;
    layers: Layer[];
    subnet: SubnetTier;
    /** A public address assigned at launch (access via public IPs). */
    publicIp: boolean;
    /** The Elastic IP of a single front end. */
    elasticIp: boolean;
    rootVolumeSize: number;
    clients: ClientPlan[];
    /** Volto SSR processes (volto layer), none elsewhere. */
    voltoProcesses: VoltoProcessPlan[];
    volumes: VolumePlan[];
    securityGroups: SecurityGroupRole[];
    /** apt packages the host's layers need (before the app's own os packages). */
    packages: string[];
    /** EC2 recovers it onto healthy hardware when its system status check fails (its instance type supports it). */
    autoRecovery: boolean;
}

/** A service endpoint: on one of the stack's hosts, or at an external address. */
export type Endpoint = { host: string; port: number } | { address: string; port: number };

export interface Endpoints {
    zeo?: Endpoint;
    /** Where the blob files live and how clients reach them. */
    blobs: BlobEndpoint;
    memcached: Endpoint[];
    broker?: Endpoint;
    solr?: Endpoint;
    database?: { kind: "rds"; port: number } | { kind: "external"; address: string; port: number };
    celerybeatHost?: string;
    packingHost?: string;
}

export type BlobEndpoint =
    | { mode: "local"; host: string; path: string }
    | { mode: "zeo"; host: string; path: string }
    | { mode: "nfs"; server: string; exportPath: string; mountPoint: string }
    | { mode: "gluster"; primary: string; replicas: string[]; volume: string; brickPath: string; mountPoint: string }
    | { mode: "efs"; mountPoint: string }
    | { mode: "database" };

export interface FrontDoorPlan {
    kind: "alb" | "eip";
    hosts: string[];
    https: boolean;
}

export interface BastionPlan {
    /** Created by the stack, or an existing host. */
    kind: "created" | "external";
    instanceType: string;
    address?: string;
    user: string;
}

/**
 * The hosts by what they do, in stack-file order, from their layers through the layer catalogue:
 * renderers, operations plans and the rehearsal read these instead of re-deriving them.
 */
export interface HostRoles {
    /** Front ends: nginx, varnish, haproxy. */
    frontends: string[];
    /** App hosts: the Zope clients (plone_instances). */
    appHosts: string[];
    /** Hosts that run the app's build: the servers (ZEO, Solr) first, then the app hosts, the order activations and restarts take. */
    buildHosts: string[];
    /** Hosts that keep blobs: the app hosts and the ZEO server. */
    blobUsers: string[];
    /**
     * Hosts that run the mail relay on localhost:25 (plone-aws:mail): the app hosts, where the Zope
     * clients, the celery workers and the db_packing and celerybeat programs run. None without mail.
     */
    mailRelays: string[];
    /** Hosts that run Volto's server-side rendering (the volto layer). */
    voltoHosts: string[];
    /**
     * Hosts that deploy a release (plone-deploy): the build hosts in their order, then the volto
     * hosts that build nothing else. The order of the activations and of the rolling restarts.
     */
    releaseHosts: string[];
}

export interface Topology {
    vpcCidr: string;
    azCount: number;
    subnets: { public: SubnetPlan[]; private: SubnetPlan[] };
    natGateways: number;
    hosts: HostPlan[];
    roles: HostRoles;
    /** Rolling restarts: waves of release hosts, clients and Volto processes per host at once, within plone.maxUnavailable. */
    restarts: RestartPlan;
    endpoints: Endpoints;
    securityGroups: SecurityGroupPlan[];
    ingressRules: IngressRule[];
    frontDoor: FrontDoorPlan;
    bastion?: BastionPlan;
    efs: boolean;
    /** Highest client count on any app host, for the client port range. */
    maxClientsPerHost: number;
    /**
     * Auto Scaling groups of app hosts (plone-aws:scaling), each with the host its instances are
     * (same layers, clients, packages and security groups as a fixed host: they run the same files).
     */
    scaledGroups: { plan: ScaledGroupPlan; host: HostPlan }[];
    /** The private DNS namespace and resolver the front ends find the scaled clients by; only with scaled groups. */
    discovery?: DiscoveryPlan;
}

/**
 * Whether a host deploys releases with plone-deploy: it runs the app's build (the backend), or
 * Volto (the frontend's own releases), or both.
 */
export function deploysRelease(host: { layers: readonly Layer[] }): boolean {
    return runsBuild(host) || host.layers.includes("volto");
}

/** Hosts carrying a layer, in the order of the stack file. */
export function hostsWithLayer(spec: Pick<StackSpec, "hosts">, layer: Layer): string[] {
    return spec.hosts.filter((h) => h.layers.includes(layer)).map((h) => h.name);
}

/** vCPUs of a host: its override, or the instance type table. */
export function vcpusOf(host: { instanceType: string; vcpus?: number }): number | undefined {
    return host.vcpus ?? instanceTypeInfo(host.instanceType)?.vcpus;
}

/** Volto SSR processes on a volto host: the fixed count, or processesPerCpu x vCPUs (at least 1). */
export function voltoProcessesPerHost(spec: Pick<StackSpec, "volto">, vcpus: number): number {
    return spec.volto.processCount ?? Math.min(MAX_VOLTO_PER_HOST, Math.max(1, Math.ceil(vcpus * spec.volto.processesPerCpu)));
}

/** Clients on a plone_instances host: the fixed count, or clientsPerCpu x vCPUs (at least 1). */
export function clientsPerHost(spec: Pick<StackSpec, "plone">, vcpus: number): number {
    return spec.plone.clientCount ?? Math.max(1, Math.ceil(vcpus * spec.plone.clientsPerCpu));
}

const VOLUME_MOUNTS: Record<VolumeKind, string> = {
    filestorage: PATHS.filestorage,
    blobs: PATHS.localBlobs,
    backups: PATHS.backups,
    exports: PATHS.nfsExport,
    bricks: PATHS.glusterExport,
    solr: PATHS.solrData,
    redis: PATHS.redisData,
};

/**
 * The order of a host's data volumes, which gives each its attachment name (/dev/sdf, /dev/sdg...):
 * a kind keeps its place whatever other volumes the host has.
 */
const VOLUME_ORDER: Record<VolumeKind, number> = { filestorage: 0, backups: 1, blobs: 2, exports: 3, bricks: 4, solr: 5, redis: 6 };

/** The data volumes the layers of one host need, each with the layer it belongs to (the stack tools size a new host's volumes with it). */
export function volumeKindsFor(spec: Pick<StackSpec, "plone">, layers: Layer[], blobHost: string | undefined, hostName: string): [VolumeKind, Layer][] {
    const ctx = { plone: spec.plone, blobHost: blobHost === hostName };
    const kinds = layers.flatMap((layer) =>
        layerInfo(layer)
            .volumes(ctx)
            .map((kind): [VolumeKind, Layer] => [kind, layer]),
    );
    return kinds.sort(([a], [b]) => VOLUME_ORDER[a] - VOLUME_ORDER[b]);
}

/** /dev/sdf, /dev/sdg, ... : the attachment names AWS recommends for data volumes. */
function deviceName(index: number): string {
    return `/dev/sd${String.fromCharCode("f".charCodeAt(0) + index)}`;
}

const BASE_PACKAGES = ["ca-certificates", "curl", "git", "rsync", "logrotate", "unattended-upgrades", "python3", "xfsprogs"];
const BUILD_PACKAGES = [
    "build-essential",
    "python3-dev",
    "python3-venv",
    "supervisor",
    "socat",
    "libjpeg-dev",
    "libpng-dev",
    "libxml2-dev",
    "libxslt1-dev",
    "zlib1g-dev",
    "libffi-dev",
    "libssl-dev",
];

function packagesFor(spec: StackSpec, layers: Layer[]): string[] {
    const packages = new Set(BASE_PACKAGES);
    const add = (...names: string[]) => names.forEach((n) => packages.add(n));
    if (runsBuild({ layers })) {
        add(...BUILD_PACKAGES, ...spec.app.osPackages);
        // The pip builder merges the project's instance.yaml with the stack's settings using the system python.
        if (spec.app.builder === "pip") add("python3-yaml");
        if (spec.plone.storage === "relstorage") add("libpq-dev");
        // deploy.cfg adds pylibmc (RelStorage's memcached client), which builds against libmemcached.
        const memcached = hostsWithLayer(spec, "memcached").length > 0 || spec.plone.relstorage.cacheServers.length > 0;
        if (spec.plone.storage === "relstorage" && memcached) add("libmemcached-dev");
        if (spec.plone.blobs === "nfs" || spec.plone.blobs === "efs") add("nfs-common");
        if (spec.plone.blobs === "gluster") add("glusterfs-client");
    }
    for (const layer of layers) add(...layerInfo(layer).packages(spec));
    // The app hosts of a stack with scaled groups: the first publishes the build cache to S3, the scaled ones fetch theirs.
    if (spec.scaling.groups.length > 0 && layers.includes("plone_instances")) add("awscli");
    return [...packages].sort();
}

function securityGroupsOf(layers: Layer[]): SecurityGroupRole[] {
    return ["host", ...LISTENING_LAYERS.filter((l) => layers.includes(l))];
}

export function buildTopology(spec: StackSpec): Topology {
    const { network, plone, access } = spec;
    const frontDoor = frontDoorKind(spec);
    const frontends = hostsWithLayer(spec, "frontend");
    const appHosts = hostsWithLayer(spec, "plone_instances");
    const build = spec.hosts.filter((h) => runsBuild(h));
    const buildHosts = [...build.filter((h) => !h.layers.includes("plone_instances")), ...build.filter((h) => h.layers.includes("plone_instances"))].map(
        (h) => h.name,
    );
    const voltoHosts = hostsWithLayer(spec, "volto");
    const roles: HostRoles = {
        frontends,
        appHosts,
        buildHosts,
        blobUsers: spec.hosts.filter((h) => h.layers.includes("plone_instances") || h.layers.includes("zeoserver")).map((h) => h.name),
        mailRelays: spec.mail ? appHosts : [],
        voltoHosts,
        releaseHosts: [...buildHosts, ...voltoHosts.filter((h) => !buildHosts.includes(h))],
    };
    const bastion: BastionPlan | undefined =
        access.via === "bastion"
            ? {
                  kind: access.bastion.host ? "external" : "created",
                  instanceType: access.bastion.instanceType,
                  address: access.bastion.host,
                  user: access.bastion.user ?? access.sshUser,
              }
            : undefined;

    // The host that keeps local blobs: the one app host (local), or the ZEO server (zeo).
    const blobHost = plone.blobs === "local" ? appHosts[0] : plone.blobs === "zeo" ? hostsWithLayer(spec, "zeoserver")[0] : undefined;

    const planHost = (h: Pick<HostConfig, "name" | "instanceType" | "az" | "layers" | "vcpus" | "volumes" | "rootVolumeSize">): HostPlan => {
        const vcpus = vcpusOf(h) ?? 1;
        const clientCount = h.layers.includes("plone_instances") ? clientsPerHost(spec, vcpus) : 0;
        const voltoCount = h.layers.includes("volto") ? voltoProcessesPerHost(spec, vcpus) : 0;
        const singleFrontend = frontDoor === "eip" && h.layers.includes("frontend");
        const publicSubnet = access.via === "publicIp" || singleFrontend;
        const volumes = volumeKindsFor(spec, h.layers, blobHost, h.name).map(([kind, layer], i) => ({
            kind,
            layer,
            mountPoint: VOLUME_MOUNTS[kind],
            sizeGiB: h.volumes[kind] ?? spec.volumes.sizes[kind],
            deviceName: deviceName(i),
        }));
        return {
            name: h.name,
            instanceType: h.instanceType,
            architecture: architectureOfInstanceType(h.instanceType),
            vcpus,
            az: h.az,
            layers: [...h.layers],
            subnet: publicSubnet ? "public" : "private",
            publicIp: access.via === "publicIp" && !singleFrontend,
            elasticIp: singleFrontend,
            rootVolumeSize: h.rootVolumeSize,
            clients: Array.from({ length: clientCount }, (_, i) => ({ name: `client${i + 1}`, index: i + 1, port: clientPort(i + 1) })),
            voltoProcesses: Array.from({ length: voltoCount }, (_, i) => ({ name: `volto${i + 1}`, index: i + 1, port: voltoPort(i + 1) })),
            volumes,
            securityGroups: securityGroupsOf(h.layers),
            packages: packagesFor(spec, h.layers),
            autoRecovery: supportsRecovery(h.instanceType),
        };
    };
    const hosts: HostPlan[] = spec.hosts.map(planHost);
    // A group's instances are one host: no fixed AZ (the group spans them), no data volume (its layers keep no state).
    const scaledGroups = spec.scaling.groups.map((g) => {
        const host = planHost({ ...g, instanceType: g.instanceTypes[0], az: 0, volumes: {} });
        return { plan: planScaledGroup(spec, g, host), host: { ...host, autoRecovery: false } };
    });

    const first = (layer: Layer) => hostsWithLayer(spec, layer)[0];
    const zeoHost = first("zeoserver");
    const blobs = blobEndpoint(spec, blobHost);
    const redisHost = first("redis");
    const solrHost = first("solr");
    const endpoints: Endpoints = {
        zeo: plone.storage === "zeo" && zeoHost ? { host: zeoHost, port: PORTS.zeo } : undefined,
        blobs,
        memcached: [
            ...hostsWithLayer(spec, "memcached").map((host) => ({ host, port: PORTS.memcached })),
            ...plone.relstorage.cacheServers.map((s) => {
                const [address, port] = s.split(":");
                return { address, port: Number(port) };
            }),
        ],
        broker: !plone.celery.enabled
            ? undefined
            : plone.celery.brokerHost
              ? { address: plone.celery.brokerHost, port: plone.celery.brokerPort }
              : redisHost
                ? { host: redisHost, port: PORTS.redis }
                : undefined,
        solr: !plone.solr.enabled
            ? undefined
            : plone.solr.host
              ? { address: plone.solr.host, port: plone.solr.port }
              : solrHost
                ? { host: solrHost, port: plone.solr.port }
                : undefined,
        database:
            plone.storage !== "relstorage" || !spec.database
                ? undefined
                : spec.database.host
                  ? { kind: "external", address: spec.database.host, port: spec.database.port }
                  : { kind: "rds", port: spec.database.port },
        celerybeatHost: first("celerybeat"),
        packingHost: first("db_packing"),
    };

    const maxClientsPerHost = Math.max(1, ...[...hosts, ...scaledGroups.map((g) => g.host)].map((h) => h.clients.length));
    const maxVoltoPerHost = Math.max(1, ...[...hosts, ...scaledGroups.map((g) => g.host)].map((h) => h.voltoProcesses.length));
    const { groups, rules } = planSecurityGroups(spec, hosts, endpoints, frontDoor, bastion, { maxClientsPerHost, maxVoltoPerHost });
    const natGateways = network.natGateways === "none" ? 0 : network.natGateways === "single" ? 1 : network.azCount;

    return {
        vpcCidr: network.cidr,
        azCount: network.azCount,
        subnets: {
            public: Array.from({ length: network.azCount }, (_, az) => planSubnet(network.cidr, "public", az)),
            private: Array.from({ length: network.azCount }, (_, az) => planSubnet(network.cidr, "private", az)),
        },
        natGateways,
        hosts,
        roles,
        restarts: restartPlan(
            spec,
            roles.releaseHosts.map((name) => {
                const h = hosts.find((x) => x.name === name)!;
                return { name, clients: h.clients.length, volto: h.voltoProcesses.length };
            }),
        ),
        endpoints,
        securityGroups: groups,
        ingressRules: rules,
        frontDoor: { kind: frontDoor, hosts: frontends, https: spec.frontend.tls.mode !== "none" },
        bastion,
        efs: plone.blobs === "efs",
        maxClientsPerHost,
        scaledGroups,
        discovery: scaledGroups.length > 0 ? planDiscovery(spec) : undefined,
    };
}

function blobEndpoint(spec: StackSpec, blobHost: string | undefined): BlobEndpoint {
    const { blobs, glusterVolume } = spec.plone;
    const servers = hostsWithLayer(spec, "shared_blobs");
    switch (blobs) {
        case "local":
        case "zeo":
            return { mode: blobs, host: blobHost ?? "", path: PATHS.localBlobs };
        case "nfs":
            return { mode: "nfs", server: servers[0] ?? "", exportPath: PATHS.nfsExport, mountPoint: PATHS.sharedBlobsMount };
        case "gluster":
            return {
                mode: "gluster",
                primary: servers[0] ?? "",
                replicas: servers.slice(1),
                volume: glusterVolume,
                brickPath: `${PATHS.glusterExport}/brick`,
                mountPoint: PATHS.sharedBlobsMount,
            };
        case "efs":
            return { mode: "efs", mountPoint: PATHS.sharedBlobsMount };
        case "database":
            return { mode: "database" };
    }
}

/** The blob directory inside shared storage (the NFS export, the GlusterFS volume, EFS). */
export const SHARED_BLOB_DIR = "blobstorage";

/**
 * The directory ZODB keeps blobs in (deploy.cfg's blob-storage / RelStorage's blob-dir), or
 * undefined when blobs live in the database. Shared storage keeps them in a `blobstorage`
 * directory on the mount, as the cookbook did; a local volume is the directory itself.
 */
export function blobStorageDir(blobs: BlobEndpoint): string | undefined {
    switch (blobs.mode) {
        case "local":
        case "zeo":
            return blobs.path;
        case "nfs":
        case "gluster":
        case "efs":
            return `${blobs.mountPoint}/${SHARED_BLOB_DIR}`;
        case "database":
            return undefined;
    }
}

function planSecurityGroups(
    spec: StackSpec,
    hosts: HostPlan[],
    endpoints: Endpoints,
    frontDoor: "alb" | "eip",
    bastion: BastionPlan | undefined,
    widths: { maxClientsPerHost: number; maxVoltoPerHost: number },
): { groups: SecurityGroupPlan[]; rules: IngressRule[] } {
    const present = new Set<Layer>(hosts.flatMap((h) => h.layers));
    const groups: SecurityGroupPlan[] = [{ role: "host", description: "every plone-aws host: SSH from the admin sources", egress: "all" }];
    const rules: IngressRule[] = [];
    const tcp = (role: SecurityGroupRole, from: number, to: number, source: RuleSource, description: string) =>
        rules.push({ role, protocol: "tcp", fromPort: from, toPort: to, source, description });
    const adminSources: RuleSource[] = bastion?.kind === "created" ? [{ role: "bastion" }] : spec.network.adminCidrs.map((cidr) => ({ cidr }));
    const world: RuleSource = { cidr: "0.0.0.0/0" };

    for (const source of adminSources) tcp("host", PORTS.ssh, PORTS.ssh, source, "SSH from the admin sources");

    if (bastion?.kind === "created") {
        groups.push({ role: "bastion", description: "the SSH bastion", egress: "all" });
        for (const cidr of spec.network.adminCidrs) tcp("bastion", PORTS.ssh, PORTS.ssh, { cidr }, "SSH from the admin CIDRs");
    }

    // One group per listening layer the hosts carry, with the rules its catalogue record gives.
    const blobClients: SecurityGroupRole[] = present.has("zeoserver") ? ["plone_instances", "zeoserver"] : ["plone_instances"];
    const ctx: IngressContext = { spec, frontDoor, adminSources, ...widths, present, blobClients };
    for (const layer of LISTENING_LAYERS) {
        const group = layerInfo(layer).securityGroup;
        if (!group || !present.has(layer)) continue;
        groups.push({ role: layer, layer, description: group.description(spec), egress: "all" });
        if (layer === "frontend" && frontDoor === "alb") {
            // The load balancer in front of the front ends.
            groups.push({ role: "alb", description: "the application load balancer", egress: { role: "frontend", port: PORTS.http } });
            tcp("alb", PORTS.http, PORTS.http, world, "HTTP from anywhere (redirected to HTTPS)");
            tcp("alb", PORTS.https, PORTS.https, world, "HTTPS from anywhere");
        }
        for (const rule of group.ingress(ctx)) rules.push({ role: layer, ...rule });
    }
    if (endpoints.database?.kind === "rds") {
        const { port } = endpoints.database;
        groups.push({ role: "database", description: "RDS PostgreSQL for RelStorage", egress: "none" });
        tcp("database", port, port, { role: "plone_instances" }, "PostgreSQL from the Zope clients");
    }
    if (endpoints.blobs.mode === "efs") {
        groups.push({ role: "efs", description: "EFS mount targets for the blobs", egress: "none" });
        for (const role of blobClients) tcp("efs", PORTS.nfs, PORTS.nfs, { role }, "NFS (EFS) from the blob clients");
    }
    return { groups, rules };
}

/**
 * The front end whose haproxy (PORTS.haproxy) a volto host's processes fetch the REST API from
 * (Volto's internal API path): the host itself when it is a front end (loopback), else a front end
 * in its availability zone (no cross-AZ hop), else the first one.
 */
export function voltoApiFrontend(topology: Pick<Topology, "hosts" | "roles">, hostName: string): { host: string; loopback: boolean } {
    const { frontends } = topology.roles;
    if (frontends.includes(hostName)) return { host: hostName, loopback: true };
    const az = topology.hosts.find((h) => h.name === hostName)?.az;
    const sameAz = frontends.find((f) => topology.hosts.find((h) => h.name === f)?.az === az);
    return { host: sameAz ?? frontends[0], loopback: false };
}

/** Whether the front ends' haproxy must also listen on their private address: some volto host (fixed or scaled) is not a front end. */
export function haproxyServesVoltoHosts(topology: Pick<Topology, "roles" | "scaledGroups">): boolean {
    return topology.roles.voltoHosts.some((h) => !topology.roles.frontends.includes(h)) || topology.scaledGroups.some((g) => g.host.layers.includes("volto"));
}
