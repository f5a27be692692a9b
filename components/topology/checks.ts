// What the configuration's own rules cannot see: checks of a valid spec against its topology. A host
// may only size (or restore from snapshots) the volumes its layers give it, and what AWS refuses
// before anything is created: load balancer AZs, security groups per network interface, pinned
// AZs, the ACM certificate's region. Errors stop the program like configuration errors.
import { isZoneId } from "../config/awsRules";
import { ConfigIssue, keyPath } from "../config/issues";
import type { StackSpec } from "../config/spec";
import type { Topology } from "./index";

/** The topology's issues: the volume overrides first; the AWS limits only when those are right. */
export function topologyIssues(spec: StackSpec, topology: Topology): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors = volumeOverrideIssues(spec, topology);
    if (errors.length > 0) return { errors, warnings: [] };
    return stackLimitIssues(spec, topology);
}

/** A host may only size the volumes its layers actually get. */
function volumeOverrideIssues(spec: StackSpec, topology: Topology): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    spec.hosts.forEach((h, i) => {
        const kinds = topology.hosts[i].volumes.map((v) => v.kind);
        for (const kind of Object.keys(h.volumes)) {
            if (!kinds.includes(kind as never)) {
                issues.push({
                    path: keyPath(["hosts", i, "volumes", kind]),
                    message: `this host has no ${kind} volume (its layers give it ${kinds.length ? kinds.join(", ") : "no data volumes"})`,
                });
            }
        }
    });
    return issues;
}

/** Rules that need the whole spec and its topology; errors stop the program like config errors. */
function stackLimitIssues(spec: StackSpec, topology: Topology): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    const warn = (path: PropertyKey[], message: string) => warnings.push({ path: keyPath(path), message });

    // ELBv2 CreateLoadBalancer: an application load balancer needs subnets in at least two AZs.
    if (topology.frontDoor.kind === "alb" && topology.azCount < 2) {
        err(
            ["network", "azCount"],
            `the load balancer in front of ${topology.frontDoor.hosts.join(", ")} needs subnets in at least two AZs (AWS refuses one): set network.azCount to 2 or more`,
        );
    }
    const frontendAzs = new Set(topology.hosts.filter((h) => h.layers.includes("frontend")).map((h) => h.az));
    if (topology.frontDoor.kind === "alb" && frontendAzs.size < 2 && spec.tier === "production") {
        warn(
            ["hosts"],
            `every front end is in AZ ${[...frontendAzs][0]}: the load balancer spans two AZs, but the site goes down with that one; put a front end in another AZ`,
        );
    }

    // EC2: 5 security groups per network interface unless the quota was raised.
    const limit = spec.quotas.securityGroupsPerInterface;
    topology.hosts.forEach((h, i) => {
        if (h.securityGroups.length > limit) {
            err(
                ["hosts", i, "layers"],
                `${h.name} would get ${h.securityGroups.length} security groups (${h.securityGroups.join(", ")}), and EC2 allows ${limit} per network interface: move a layer to another host, or raise plone-aws:quotas.securityGroupsPerInterface once AWS raised the quota`,
            );
        }
    });

    const zones = spec.network.availabilityZones;
    if (zones) {
        if (zones.length < topology.azCount)
            err(["network", "availabilityZones"], `lists ${zones.length} AZs, and the stack uses ${topology.azCount} (network.azCount): list one per AZ index`);
        zones.forEach((z, i) => {
            if (zones.indexOf(z) !== i) err(["network", "availabilityZones", i], `${z} is listed twice: each AZ index needs its own zone`);
            if (!isZoneId(z) && !z.startsWith(spec.region)) err(["network", "availabilityZones", i], `${z} is not in the stack's region ${spec.region}`);
        });
        if (zones.some(isZoneId) && !zones.every(isZoneId)) err(["network", "availabilityZones"], "mixes zone names and zone ids: use one or the other");
    } else {
        warn(
            ["network", "availabilityZones"],
            `not set: AZ index 0..${topology.azCount - 1} means the zones AWS lists at each \`pulumi up\`, and a change in that list would move (replace) subnets and hosts; pin them, e.g. [${[
                "a",
                "b",
                "c",
            ]
                .slice(0, topology.azCount)
                .map((s) => `${spec.region}${s}`)
                .join(", ")}]`,
        );
    }

    // ACM: a load balancer can only use a certificate of its own region.
    const tls = spec.frontend.tls;
    if (tls.mode === "acm" && topology.frontDoor.kind === "alb") {
        const region = tls.certificateArn.split(":")[3];
        if (region !== spec.region)
            err(
                ["frontend", "tls", "certificateArn"],
                `the certificate is in ${region}, and the load balancer in ${spec.region}: request or import it in ${spec.region}`,
            );
    }

    const current = new Set(spec.hosts.map((h) => h.name));
    const formerly = new Map<string, string>();
    spec.hosts.forEach((h, i) => {
        h.previousNames.forEach((old, j) => {
            if (current.has(old)) err(["hosts", i, "previousNames", j], `${old} is the name of a host of the stack: a previous name must be free`);
            else if (formerly.has(old)) err(["hosts", i, "previousNames", j], `${old} is already a previous name of ${formerly.get(old)}`);
            formerly.set(old, h.name);
        });
        const kinds = topology.hosts[i].volumes.map((v) => v.kind);
        for (const kind of Object.keys(h.volumeSnapshots)) {
            if (!kinds.includes(kind as never))
                err(
                    ["hosts", i, "volumeSnapshots", kind],
                    `${h.name} has no ${kind} volume (its layers give it ${kinds.length ? kinds.join(", ") : "no data volumes"})`,
                );
        }
    });
    return { errors, warnings };
}
