// The Auto Scaling groups of app hosts (plone-aws:scaling) as the rest of the code needs them: the
// host every instance is (the same HostPlan a fixed host gets: layers, clients, packages, security
// groups), the sizes, schedules and rules, and how the front ends find the instances: one AWS
// Cloud Map service per Zope client index and per Volto process index, whose SRV records haproxy's
// server-template slots read (docs/DESIGN notes: "Discovery"). Pure: no Pulumi, no I/O.
import { cronFields, type ScaledGroupConfig } from "../config/schema";
import type { StackSpec } from "../config/spec";
import { intToIp, parseCidr, planSubnet, type SubnetPlan, type SubnetTier } from "./addressing";

/** The DNS port of the VPC's resolver. */
export const DNS_PORT = 53;

/** What a discovery service finds: a Zope client (the Plone backend) or a Volto process (the frontend). */
export type DiscoveredKind = "client" | "volto";

/** One Cloud Map service of a group: the instances' Zope client or Volto process `process` (SRV records with its port). */
export interface DiscoveryService {
    kind: DiscoveredKind;
    /** client1 .. clientN, volto1 .. voltoN: the name in the host's rotation directory and haproxy's agent. */
    process: string;
    port: number;
    /** The Cloud Map service's name, in the form haproxy resolves as SRV: _<group>-<client>._tcp. */
    serviceName: string;
    /** What haproxy asks the resolver: <serviceName>.<namespace>. */
    srvName: string;
}

export interface ScalingSchedulePlan {
    name: string;
    /** Five cron fields, macros expanded (AWS takes no @daily). */
    recurrence: string;
    timeZone: string;
    min?: number;
    max?: number;
    desired?: number;
}

export interface ScaledGroupPlan {
    name: string;
    /** The instance types, the first preferred. */
    instanceTypes: string[];
    /** Where the instances launch: the private subnets behind the bastion, else the public ones. */
    subnet: SubnetTier;
    subnets: SubnetPlan[];
    min: number;
    max: number;
    desired: number;
    healthCheckGracePeriod: number;
    drainTimeout: number;
    /** Whether the instances launch from the group's baked image (EC2 Image Builder) or Debian's AMI. */
    bakedImage: boolean;
    schedules: ScalingSchedulePlan[];
    targetCpu?: ScaledGroupConfig["targetCpu"];
    steps: ScaledGroupConfig["steps"];
    cooldowns: ScaledGroupConfig["cooldowns"];
    /** One service per Zope client of an instance, then one per Volto process. */
    discovery: DiscoveryService[];
}

export interface DiscoveryPlan {
    /** The private DNS namespace (AWS Cloud Map) of the stack: <stack prefix>.plone-aws.internal. */
    namespace: string;
    /** The VPC's resolver (the VPC base address + 2), which answers for the namespace. */
    resolver: { address: string; port: number };
}

/** The private DNS namespace of a stack's discovery services. */
export function discoveryNamespace(spec: Pick<StackSpec, "resourcePrefix">): string {
    return `${spec.resourcePrefix}.plone-aws.internal`;
}

/** The Amazon-provided DNS server of a VPC: its base address plus two. */
export function vpcResolverAddress(vpcCidr: string): string {
    return intToIp(parseCidr(vpcCidr).base + 2);
}

export function planDiscovery(spec: Pick<StackSpec, "resourcePrefix" | "network">): DiscoveryPlan {
    return { namespace: discoveryNamespace(spec), resolver: { address: vpcResolverAddress(spec.network.cidr), port: DNS_PORT } };
}

/**
 * The plan of one group; `clients` and `voltoProcesses` are those of its host (from its instance
 * type's vCPUs, as a fixed host's).
 */
export function planScaledGroup(
    spec: Pick<StackSpec, "access" | "network" | "resourcePrefix">,
    group: ScaledGroupConfig,
    processes: { clients: { name: string; port: number }[]; voltoProcesses: { name: string; port: number }[] },
): ScaledGroupPlan {
    const subnet: SubnetTier = spec.access.via === "publicIp" ? "public" : "private";
    const namespace = discoveryNamespace(spec);
    return {
        name: group.name,
        instanceTypes: [...group.instanceTypes],
        subnet,
        subnets: Array.from({ length: spec.network.azCount }, (_, az) => planSubnet(spec.network.cidr, subnet, az)),
        min: group.min,
        max: group.max,
        desired: group.desired ?? group.min,
        healthCheckGracePeriod: group.healthCheckGracePeriod,
        drainTimeout: group.drainTimeout,
        bakedImage: group.bakedImage,
        schedules: group.schedules.map((s) => ({
            name: s.name,
            recurrence: cronFields(s.recurrence).join(" "),
            timeZone: s.timeZone,
            min: s.min,
            max: s.max,
            desired: s.desired,
        })),
        targetCpu: group.targetCpu,
        steps: group.steps,
        cooldowns: group.cooldowns,
        discovery: [
            ...processes.clients.map((c) => ({ kind: "client" as const, ...c })),
            ...processes.voltoProcesses.map((p) => ({ kind: "volto" as const, ...p })),
        ].map(({ kind, name, port }) => {
            const serviceName = `_${group.name}-${name}._tcp`;
            return { kind, process: name, port, serviceName, srvName: `${serviceName}.${namespace}` };
        }),
    };
}

/** The load average the scaled instances publish (CloudWatch's agent has none): the metric of the step rules on load. */
export const LOAD_METRIC = { namespace: "plone-aws", name: "LoadAverage1m" } as const;

/** The memory metric of the step rules: the CloudWatch agent's, summed by group (render/monitoring/cloudwatchAgent.ts). */
export const MEMORY_METRIC = { namespace: "CWAgent", name: "mem_used_percent" } as const;

/** Seconds a Cloud Map SRV record is cached (the services' TTL): how long a front end may still ask for a gone instance. */
export const DISCOVERY_TTL_SECONDS = 10;
