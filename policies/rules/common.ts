// What the plone-guard rules share: the resource types and tags of a plone-aws stack, reading
// values that `pulumi preview` may not know yet, and finding the security group a rule opens.
// The tag names and ports come from the program itself, so the pack and the program cannot drift.
import type { PolicyResource, ReportViolation, ResourceValidation, ResourceValidationArgs } from "@pulumi/policy";
import { BLOBS_TAG, LAYER_TAG, SECURITY_GROUP_TAG, SNAPSHOT_TAG, STACK_TAG } from "../../components/aws/tags";
import { COMPONENT_TYPES } from "../../components/aws/typeTokens";
import { clientPort, MAX_CLIENTS_PER_HOST, MAX_VOLTO_PER_HOST, PORTS, voltoPort } from "../../components/topology/ports";

export { BLOBS_TAG, LAYER_TAG, SECURITY_GROUP_TAG, SNAPSHOT_TAG, STACK_TAG };

/** Type tokens the rules look at. */
export const TYPES = {
    instance: "aws:ec2/instance:Instance",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    autoscalingGroup: "aws:autoscaling/group:Group",
    volume: "aws:ebs/volume:Volume",
    subnet: "aws:ec2/subnet:Subnet",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    dlmPolicy: "aws:dlm/lifecyclePolicy:LifecyclePolicy",
    rdsInstance: "aws:rds/instance:Instance",
    efsFileSystem: "aws:efs/fileSystem:FileSystem",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    albListener: "aws:alb/listener:Listener",
    remoteCommand: "command:remote:Command",
    ploneStack: COMPONENT_TYPES.stack,
} as const;

/** Component types of the program, and the layer their children belong to ("host": the host's own layers). */
export const LAYER_OF_COMPONENT: Readonly<Record<string, string>> = {
    [COMPONENT_TYPES.host]: "host",
    [COMPONENT_TYPES.frontDoor]: "frontend",
    [COMPONENT_TYPES.blobFileSystem]: "shared_blobs",
};

/** What the analyzer's props proxy throws when a rule reads a value `pulumi preview` does not know yet. */
function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && e.constructor.name === "UnknownValueError";
}

/**
 * Reads a value that may be unknown during `pulumi preview` (an id, an address, anything computed
 * from a resource not created yet): undefined then, instead of the whole rule being skipped.
 */
export function known<T>(read: () => T): T | undefined {
    try {
        return read();
    } catch (e) {
        if (isUnknownValueError(e)) return undefined;
        throw e;
    }
}

/** True when reading the value throws because it is unknown during preview (so it is set to something). */
export function isUnknown(read: () => unknown): boolean {
    try {
        read();
        return false;
    } catch (e) {
        if (isUnknownValueError(e)) return true;
        throw e;
    }
}

/** True when the value is set: known and defined, or unknown during preview (set to something computed). */
export function isSet(read: () => unknown): boolean {
    return isUnknown(read) || read() !== undefined;
}

type TypedValidation<T> = (props: T, args: ResourceValidationArgs, reportViolation: ReportViolation) => void;

/**
 * A validation that runs only for one type token, typed by the resource's input args (import type
 * only: the pack never loads @pulumi/aws). The attached __pulumiType lets the analyzer skip other
 * types without calling it, as validateResourceOfType does.
 */
export function forType<T>(type: string, validate: TypedValidation<T>): ResourceValidation {
    const fn: ResourceValidation & { __pulumiType?: string } = (args, report) => {
        if (args.type !== type) return;
        validate(args.props as T, args, report);
    };
    fn.__pulumiType = type;
    return fn;
}

/** Tags of a resource as a plain map (tags that are unknown during preview are left out). */
export function tagsOf(props: Record<string, unknown>): Record<string, string> {
    const tags = known(() => props.tags);
    if (!tags || typeof tags !== "object") return {};
    const out: Record<string, string> = {};
    for (const key of Object.keys(tags)) {
        const value = known(() => (tags as Record<string, unknown>)[key]);
        if (typeof value === "string") out[key] = value;
    }
    return out;
}

/** The layers a resource's plone-aws:layer tag names (a host lists several, space-separated). */
export function layersOf(props: Record<string, unknown>): string[] {
    return (tagsOf(props)[LAYER_TAG] ?? "").split(/\s+/).filter(Boolean);
}

/** The type of the component a resource was registered in, read from its URN (parent types come before `$`). */
export function parentTypeOf(urn: string): string | undefined {
    const qualifiedType = urn.split("::")[2] ?? "";
    const chain = qualifiedType.split("$");
    return chain.length > 1 ? chain[chain.length - 2] : undefined;
}

/** A plone-aws host as the stack policies see it: its instance, layers and blob mode. */
export interface HostView {
    resource: PolicyResource;
    name: string;
    layers: string[];
    /** The plone-aws:blobs tag: nfs or gluster on shared_blobs hosts. */
    blobs?: string;
}

export function hostsOf(resources: PolicyResource[]): HostView[] {
    return resources
        .filter((r) => r.type === TYPES.instance)
        .map((r) => ({ resource: r, name: r.name, layers: layersOf(r.props), blobs: tagsOf(r.props)[BLOBS_TAG] }));
}

/** The availability zone of an instance: its subnet's (known during preview), or its own. */
export function availabilityZoneOf(instance: PolicyResource): string | undefined {
    const subnet = (instance.propertyDependencies.subnetId ?? []).find((r) => r.type === TYPES.subnet);
    const fromSubnet = subnet ? known(() => subnet.props.availabilityZone) : undefined;
    if (typeof fromSubnet === "string") return fromSubnet;
    const own = known(() => instance.props.availabilityZone);
    return typeof own === "string" ? own : undefined;
}

// ---------------------------------------------------------------------------------------------
// Network: CIDRs, ports and the ingress permissions of a stack.

export const WORLD_CIDRS: readonly string[] = ["0.0.0.0/0", "::/0"];

export function isWorld(cidr: string): boolean {
    return WORLD_CIDRS.includes(cidr);
}

/** The prefix length of a CIDR block (0 for an address without one is never assumed: /32 or /128). */
export function prefixOf(cidr: string): number {
    const [address, prefix] = cidr.split("/");
    if (prefix === undefined) return address.includes(":") ? 128 : 32;
    return Number(prefix);
}

export function isIpv6(cidr: string): boolean {
    return cidr.includes(":");
}

/** The services of a plone-aws stack by port, for messages that say what a rule opens. */
const SERVICES: { from: number; to: number; name: string }[] = [
    { from: PORTS.ssh, to: PORTS.ssh, name: "SSH" },
    { from: PORTS.http, to: PORTS.http, name: "HTTP" },
    { from: PORTS.https, to: PORTS.https, name: "HTTPS" },
    { from: PORTS.rpcbind, to: PORTS.rpcbind, name: "rpcbind" },
    { from: PORTS.haproxyStats, to: PORTS.haproxyStats, name: "haproxy statistics" },
    { from: PORTS.nfs, to: PORTS.nfs, name: "NFS" },
    { from: PORTS.postgres, to: PORTS.postgres, name: "PostgreSQL" },
    { from: PORTS.varnish, to: PORTS.varnish, name: "Varnish" },
    { from: PORTS.varnishAdmin, to: PORTS.varnishAdmin, name: "Varnish admin" },
    { from: PORTS.redis, to: PORTS.redis, name: "Redis" },
    { from: PORTS.zeo, to: PORTS.zeo, name: "ZEO" },
    { from: PORTS.haproxy, to: PORTS.haproxy, name: "haproxy" },
    // Zope clients: client1 .. clientN of the most a host may run (plone.clientCount).
    { from: clientPort(1), to: clientPort(MAX_CLIENTS_PER_HOST), name: "Zope clients" },
    // Solr listens on plone.solr.port, PORTS.solr unless configured otherwise.
    { from: PORTS.solr, to: PORTS.solr, name: "Solr" },
    { from: PORTS.haproxyAgent, to: PORTS.haproxyAgent, name: "haproxy agent" },
    { from: PORTS.memcached, to: PORTS.memcached, name: "memcached" },
    { from: PORTS.glusterdFirst, to: PORTS.glusterdLast, name: "glusterd" },
    { from: PORTS.statd, to: PORTS.lockd, name: "NFS statd/mountd/lockd" },
    { from: PORTS.glusterBricksFirst, to: PORTS.glusterBricksLast, name: "GlusterFS bricks" },
    // Volto processes: volto1 .. voltoN of the most a host may run (volto.processCount); haproxy's Volto frontend.
    { from: voltoPort(1), to: voltoPort(MAX_VOLTO_PER_HOST), name: "Volto processes" },
    { from: PORTS.haproxyVolto, to: PORTS.haproxyVolto, name: "haproxy (Volto)" },
];

/** "port 8001 (ZEO)", "ports 0-65535 (every port)". */
export function describePorts(from: number, to: number): string {
    if (from <= 0 && to >= 65535) return "every port";
    const names = SERVICES.filter((s) => s.from <= to && s.to >= from).map((s) => s.name);
    const ports = from === to ? `port ${from}` : `ports ${from}-${to}`;
    return names.length ? `${ports} (${names.join(", ")})` : ports;
}

/** Where an ingress permission lets traffic in from. */
export type IngressSource =
    | { kind: "cidr"; cidr: string }
    | { kind: "group"; group?: PolicyResource; role?: string; label: string }
    | { kind: "prefixList"; id: string }
    | { kind: "self" };

/** One source of one ingress rule, wherever it is written (a rule resource or inline in a group). */
export interface IngressPermission {
    /** The resource that grants it (the rule, or the group for inline rules). */
    resource: PolicyResource;
    /** How messages name it: the rule's name, or "<group> ingress[i]". */
    label: string;
    /** The group it opens, when the stack creates it. */
    group?: PolicyResource;
    /** Its plone-aws:security-group tag (alb, frontend, bastion, a layer, ...). */
    groupRole?: string;
    groupLabel: string;
    protocol: string;
    fromPort: number;
    toPort: number;
    source: IngressSource;
}

function roleOf(group: PolicyResource | undefined): string | undefined {
    return group ? tagsOf(group.props)[SECURITY_GROUP_TAG] : undefined;
}

function groupDependency(r: PolicyResource, input: string): PolicyResource | undefined {
    return (r.propertyDependencies[input] ?? []).find((d) => d.type === TYPES.securityGroup);
}

function num(v: unknown, fallback: number): number {
    return typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : fallback;
}

/** Protocol "-1" (all traffic) opens every port whatever fromPort/toPort say. */
function portRange(protocol: string, from: unknown, to: unknown): [number, number] {
    if (protocol === "-1" || protocol === "all") return [0, 65535];
    return [num(from, 0), num(to, 65535)];
}

function strings(v: unknown): string[] {
    if (!Array.isArray(v)) return [];
    const out: string[] = [];
    v.forEach((_, i) => {
        const s = known(() => v[i]);
        if (typeof s === "string") out.push(s);
    });
    return out;
}

/**
 * Every ingress permission of the stack: `aws.vpc.SecurityGroupIngressRule`s, ingress
 * `aws.ec2.SecurityGroupRule`s and the inline `ingress` of groups. The group a rule opens is found
 * through the rule's property dependencies (its securityGroupId came from that group), as the
 * engine reports them even when the id itself is unknown during preview.
 */
export function ingressPermissions(resources: PolicyResource[]): IngressPermission[] {
    const out: IngressPermission[] = [];
    const labelOf = (group: PolicyResource | undefined, id: unknown) =>
        group?.name ?? (typeof id === "string" ? id : "a security group the stack does not create");
    for (const r of resources) {
        const p = r.props;
        if (r.type === TYPES.ingressRule) {
            const group = groupDependency(r, "securityGroupId");
            const protocol = String(known(() => p.ipProtocol) ?? "-1");
            const [fromPort, toPort] = portRange(
                protocol,
                known(() => p.fromPort),
                known(() => p.toPort),
            );
            const base = {
                resource: r,
                label: r.name,
                group,
                groupRole: roleOf(group),
                groupLabel: labelOf(
                    group,
                    known(() => p.securityGroupId),
                ),
                protocol,
                fromPort,
                toPort,
            };
            const v4 = known(() => p.cidrIpv4);
            const v6 = known(() => p.cidrIpv6);
            const prefixList = known(() => p.prefixListId);
            const referenced = groupDependency(r, "referencedSecurityGroupId");
            if (typeof v4 === "string") out.push({ ...base, source: { kind: "cidr", cidr: v4 } });
            if (typeof v6 === "string") out.push({ ...base, source: { kind: "cidr", cidr: v6 } });
            if (typeof prefixList === "string") out.push({ ...base, source: { kind: "prefixList", id: prefixList } });
            if (referenced || isSet(() => p.referencedSecurityGroupId)) {
                const id = known(() => p.referencedSecurityGroupId);
                out.push({ ...base, source: { kind: "group", group: referenced, role: roleOf(referenced), label: labelOf(referenced, id) } });
            }
        } else if (r.type === TYPES.securityGroupRule && known(() => p.type) === "ingress") {
            const group = groupDependency(r, "securityGroupId");
            const protocol = String(known(() => p.protocol) ?? "-1");
            const [fromPort, toPort] = portRange(
                protocol,
                known(() => p.fromPort),
                known(() => p.toPort),
            );
            const base = {
                resource: r,
                label: r.name,
                group,
                groupRole: roleOf(group),
                groupLabel: labelOf(
                    group,
                    known(() => p.securityGroupId),
                ),
                protocol,
                fromPort,
                toPort,
            };
            for (const cidr of [...strings(known(() => p.cidrBlocks)), ...strings(known(() => p.ipv6CidrBlocks))])
                out.push({ ...base, source: { kind: "cidr", cidr } });
            if (known(() => p.self) === true) out.push({ ...base, source: { kind: "self" } });
            if (isSet(() => p.sourceSecurityGroupId)) {
                const source = groupDependency(r, "sourceSecurityGroupId");
                out.push({
                    ...base,
                    source: {
                        kind: "group",
                        group: source,
                        role: roleOf(source),
                        label: labelOf(
                            source,
                            known(() => p.sourceSecurityGroupId),
                        ),
                    },
                });
            }
        } else if (r.type === TYPES.securityGroup) {
            const inline = known(() => p.ingress);
            if (!Array.isArray(inline)) continue;
            inline.forEach((_, i) => {
                const rule = known(() => inline[i]) as Record<string, unknown> | undefined;
                if (!rule) return;
                const protocol = String(known(() => rule.protocol) ?? "-1");
                const [fromPort, toPort] = portRange(
                    protocol,
                    known(() => rule.fromPort),
                    known(() => rule.toPort),
                );
                const base = { resource: r, label: `${r.name} ingress[${i}]`, group: r, groupRole: roleOf(r), groupLabel: r.name, protocol, fromPort, toPort };
                for (const cidr of [...strings(known(() => rule.cidrBlocks)), ...strings(known(() => rule.ipv6CidrBlocks))])
                    out.push({ ...base, source: { kind: "cidr", cidr } });
                if (known(() => rule.self) === true) out.push({ ...base, source: { kind: "self" } });
                const groups = (r.propertyDependencies.ingress ?? []).filter((d) => d.type === TYPES.securityGroup);
                for (const id of strings(known(() => rule.securityGroups))) {
                    const source = groups.length === 1 ? groups[0] : undefined;
                    out.push({ ...base, source: { kind: "group", group: source, role: roleOf(source), label: source?.name ?? id } });
                }
            });
        }
    }
    return out;
}

/** True when the permission's port range includes any of the given ports. */
export function covers(p: Pick<IngressPermission, "fromPort" | "toPort">, ...ports: number[]): boolean {
    return ports.some((port) => p.fromPort <= port && port <= p.toPort);
}

/** True when every port of the permission is one of the given ports. */
export function onlyPorts(p: Pick<IngressPermission, "fromPort" | "toPort">, ...ports: number[]): boolean {
    for (let port = p.fromPort; port <= p.toPort; port++) {
        if (!ports.includes(port)) return false;
    }
    return true;
}

/** Matches an instance type, class or policy name against patterns such as "c6i.*" (only * is special). */
export function matchesPattern(value: string, patterns: readonly string[]): boolean {
    return patterns.some((pattern) => {
        const re = new RegExp(
            `^${pattern
                .split("*")
                .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
                .join(".*")}$`,
        );
        return re.test(value);
    });
}
