// What AWS itself refuses, checked before anything is created: rules over the validated spec and
// its topology (load balancer AZs, security groups per network interface, pinned AZs, the ACM
// certificate's region), and what only a real deployment refuses: the example values of the
// stack files (key, certificate, documentation address ranges) and secret values RDS rejects.
import type { StackSpec } from "./spec";
import type { Topology } from "../topology";
import { ConfigIssue, keyPath, NAMESPACE } from "./issues";
import type { SecretKey } from "./schema";
import { publicKeyProblem } from "./sshKeys";
import { parseCidr } from "../topology/addressing";

/** A zone id (euw1-az1) rather than a zone name (eu-west-1a). */
export function isZoneId(zone: string): boolean {
    return /^[a-z]{2,5}\d-az\d{1,2}$/.test(zone);
}

/** Rules that need the whole spec and its topology; errors stop the program like config errors. */
export function stackLimitIssues(spec: StackSpec, topology: Topology): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const warnings: ConfigIssue[] = [];
    const err = (path: PropertyKey[], message: string) => errors.push({ path: keyPath(path), message });
    const warn = (path: PropertyKey[], message: string) => warnings.push({ path: keyPath(path), message });

    // ELBv2 CreateLoadBalancer: an application load balancer needs subnets in at least two AZs.
    if (topology.frontDoor.kind === "alb" && topology.azCount < 2) {
        err(["network", "azCount"], `the load balancer in front of ${topology.frontDoor.hosts.join(", ")} needs subnets in at least two AZs (AWS refuses one): set network.azCount to 2 or more`);
    }
    const frontendAzs = new Set(topology.hosts.filter((h) => h.layers.includes("frontend")).map((h) => h.az));
    if (topology.frontDoor.kind === "alb" && frontendAzs.size < 2 && spec.tier === "production") {
        warn(["hosts"], `every front end is in AZ ${[...frontendAzs][0]}: the load balancer spans two AZs, but the site goes down with that one; put a front end in another AZ`);
    }

    // EC2: 5 security groups per network interface unless the quota was raised.
    const limit = spec.quotas.securityGroupsPerInterface;
    topology.hosts.forEach((h, i) => {
        if (h.securityGroups.length > limit) {
            err(["hosts", i, "layers"], `${h.name} would get ${h.securityGroups.length} security groups (${h.securityGroups.join(", ")}), and EC2 allows ${limit} per network interface: move a layer to another host, or raise plone-aws:quotas.securityGroupsPerInterface once AWS raised the quota`);
        }
    });

    const zones = spec.network.availabilityZones;
    if (zones) {
        if (zones.length < topology.azCount) err(["network", "availabilityZones"], `lists ${zones.length} AZs, and the stack uses ${topology.azCount} (network.azCount): list one per AZ index`);
        zones.forEach((z, i) => {
            if (zones.indexOf(z) !== i) err(["network", "availabilityZones", i], `${z} is listed twice: each AZ index needs its own zone`);
            if (!isZoneId(z) && !z.startsWith(spec.region)) err(["network", "availabilityZones", i], `${z} is not in the stack's region ${spec.region}`);
        });
        if (zones.some(isZoneId) && !zones.every(isZoneId)) err(["network", "availabilityZones"], "mixes zone names and zone ids: use one or the other");
    } else {
        warn(["network", "availabilityZones"], `not set: AZ index 0..${topology.azCount - 1} means the zones AWS lists at each \`pulumi up\`, and a change in that list would move (replace) subnets and hosts; pin them, e.g. [${["a", "b", "c"].slice(0, topology.azCount).map((s) => `${spec.region}${s}`).join(", ")}]`);
    }

    // ACM: a load balancer can only use a certificate of its own region.
    const tls = spec.frontend.tls;
    if (tls.mode === "acm" && topology.frontDoor.kind === "alb") {
        const region = tls.certificateArn.split(":")[3];
        if (region !== spec.region) err(["frontend", "tls", "certificateArn"], `the certificate is in ${region}, and the load balancer in ${spec.region}: request or import it in ${spec.region}`);
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
            if (!kinds.includes(kind as never)) err(["hosts", i, "volumeSnapshots", kind], `${h.name} has no ${kind} volume (its layers give it ${kinds.length ? kinds.join(", ") : "no data volumes"})`);
        }
    });
    return { errors, warnings };
}

/** RFC 5737 documentation ranges: examples, nobody connects from them. */
const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];
/** The account id of AWS's documentation examples. */
const EXAMPLE_ACCOUNT = "123456789012";

/**
 * The example values of the stack files, which AWS refuses (the key) or which make a deployed
 * stack useless (nobody can reach SSH from a documentation range; there is no such certificate).
 * The offline tools list them as "before pulumi up"; the program refuses to deploy with them.
 */
export function deploymentIssues(spec: StackSpec): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    const add = (path: PropertyKey[], message: string) => issues.push({ path: keyPath(path), message });
    const keyIssue = publicKeyProblem(spec.access.publicKey);
    if (keyIssue) add(["access", "publicKey"], keyIssue);
    spec.access.additionalPublicKeys.forEach((k, i) => {
        const problem = publicKeyProblem(k);
        if (problem) add(["access", "additionalPublicKeys", i], problem);
    });
    const tls = spec.frontend.tls;
    if (tls.mode === "acm") {
        const account = tls.certificateArn.split(":")[4];
        if (account === EXAMPLE_ACCOUNT || /\/0{8}-0{4}-/.test(tls.certificateArn)) {
            add(["frontend", "tls", "certificateArn"], "is the example ARN of the stack file: put the ARN of your ACM certificate for the domain and aliases (same region)");
        }
    }
    spec.network.adminCidrs.forEach((c, i) => {
        const { base, size } = parseCidr(c);
        const documentation = DOCUMENTATION_RANGES.find((r) => {
            const range = parseCidr(r);
            return base >= range.base && base + size <= range.base + range.size;
        });
        if (documentation) add(["network", "adminCidrs", i], `${c} is in the documentation range ${documentation} (RFC 5737), an example: put the addresses operators and \`pulumi up\` connect from`);
    });
    return issues;
}

/** Characters RDS refuses in a master password (RDS CreateDBInstance MasterUserPassword). */
const RDS_PASSWORD_FORBIDDEN = ["/", '"', "@", " "];

/**
 * Why RDS would refuse a master password (PostgreSQL: 8 to 128 printable ASCII characters without
 * / " @ or space), or undefined. config/secrets.ts checks the dbPassword of a database the stack
 * creates with it, wherever its value is known (`pulumi up`, a stack file's plain value).
 */
export function rdsMasterPasswordProblem(password: string): string | undefined {
    const bad = RDS_PASSWORD_FORBIDDEN.filter((c) => password.includes(c));
    const printable = /^[\x20-\x7e]*$/.test(password);
    if (password.length >= 8 && password.length <= 128 && !bad.length && printable) return undefined;
    return [
        password.length < 8 || password.length > 128 ? `${password.length} characters (8 to 128 are allowed)` : "",
        bad.length ? `contains ${bad.map((c) => (c === " " ? "a space" : c)).join(" ")}` : "",
        printable ? "" : "contains characters outside printable ASCII",
    ].filter(Boolean).join("; ");
}
