// Quotas a stack can hit on its own: security groups per network interface (a host carries one per
// listening layer), Elastic IPs per region (counted over the stack files of the repository, which
// usually share an account), the two AZs an application load balancer needs, and the size of the
// inline policies of an IAM user or role.
import * as fs from "fs";
import * as path from "path";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology } from "../../../components/topology";
import type { CapturedResource, OfflineRun } from "../offline/run";
import { loadStack } from "../offline/loadStack";
import { unwrapSecrets } from "../offline/run";

export interface QuotaIssue {
    resource: string;
    type: string;
    field: string;
    message: string;
    source: string;
}

/** The Elastic IPs a stack allocates: a NAT gateway's each, the bastion's, the single front end's. */
export function elasticIpsOf(spec: StackSpec): number {
    const t = buildTopology(spec);
    return t.natGateways + (t.bastion?.kind === "created" ? 1 : 0) + (t.frontDoor.kind === "eip" ? 1 : 0);
}

/** The other stack files next to this one (Pulumi.<stack>.yaml), with their region and Elastic IPs. */
export function siblingStacks(stackFile: string): { file: string; stack: string; region: string; elasticIps: number }[] {
    const dir = path.dirname(path.resolve(stackFile));
    const own = path.resolve(stackFile);
    const out: { file: string; stack: string; region: string; elasticIps: number }[] = [];
    for (const name of fs.readdirSync(dir).sort()) {
        const m = /^Pulumi\.(.+)\.ya?ml$/.exec(name);
        const file = path.join(dir, name);
        if (!m || file === own) continue;
        const loaded = loadStack({ stackFile: file });
        if (!loaded.spec) continue; // An invalid stack file is its own plan's problem.
        out.push({ file: path.relative(process.cwd(), file), stack: loaded.spec.stackName, region: loaded.spec.region, elasticIps: elasticIpsOf(loaded.spec) });
    }
    return out;
}

function plain(r: CapturedResource): Record<string, unknown> {
    return unwrapSecrets(r.inputs) as Record<string, unknown>;
}

/**
 * IAM's quotas on inline policies, all of a user's (or role's) together, white space not counted
 * (IAM user guide, "IAM and AWS STS quotas": user policy size 2,048 characters, role policy size
 * 10,240; terraform-provider-aws internal/service/iam/user_policy.go ValidIAMPolicyJSON(2048)).
 */
export const INLINE_POLICY_LIMITS = [
    { type: "aws:iam/userPolicy:UserPolicy", owner: "user", what: "IAM user", max: 2048 },
    { type: "aws:iam/rolePolicy:RolePolicy", owner: "role", what: "IAM role", max: 10240 },
] as const;

/** The characters of a policy document IAM counts against its quotas. */
export function policySize(document: string): number {
    return document.replace(/\s/g, "").length;
}

function inlinePolicyIssues(custom: CapturedResource[]): QuotaIssue[] {
    const issues: QuotaIssue[] = [];
    for (const limit of INLINE_POLICY_LIMITS) {
        const byOwner = new Map<string, CapturedResource[]>();
        for (const r of custom.filter((x) => x.type === limit.type)) {
            const owner = String(plain(r)[limit.owner]);
            byOwner.set(owner, [...(byOwner.get(owner) ?? []), r]);
        }
        for (const [owner, policies] of byOwner) {
            const sizes = policies.map((r) => {
                const policy = plain(r).policy;
                return typeof policy === "string" ? policySize(policy) : 0;
            });
            const total = sizes.reduce((a, b) => a + b, 0);
            if (total <= limit.max) continue;
            const last = policies[policies.length - 1];
            issues.push({
                resource: last.name,
                type: last.type,
                field: "policy",
                message: `the inline policies of the ${limit.what} ${owner} (${policies.map((r, i) => `${r.name} ${sizes[i]}`).join(", ")}) are ${total} characters without white space, and IAM allows ${limit.max}: shorten them or use a managed policy`,
                source: `IAM quota: inline policies of an ${limit.what} (${limit.max} characters, white space not counted)`,
            });
        }
    }
    return issues;
}

export function quotaIssues(run: OfflineRun, spec: StackSpec, siblings: { file: string; stack: string; region: string; elasticIps: number }[]): QuotaIssue[] {
    const issues: QuotaIssue[] = [];
    const custom = run.resources.filter((r) => r.custom);

    const limit = spec.quotas.securityGroupsPerInterface;
    for (const r of custom.filter((x) => x.type === "aws:ec2/instance:Instance")) {
        const groups = (plain(r).vpcSecurityGroupIds as unknown[] | undefined) ?? [];
        if (groups.length > limit) {
            issues.push({
                resource: r.name,
                type: r.type,
                field: "vpcSecurityGroupIds",
                message: `has ${groups.length} security groups, and EC2 allows ${limit} per network interface (plone-aws:quotas.securityGroupsPerInterface)`,
                source: "EC2 quota: security groups per network interface (default 5)",
            });
        }
    }

    const subnets = new Map(custom.filter((x) => x.type === "aws:ec2/subnet:Subnet").map((s) => [s.id, s.state]));
    for (const lb of custom.filter((x) => x.type === "aws:lb/loadBalancer:LoadBalancer")) {
        const inputs = plain(lb);
        if (inputs.loadBalancerType !== "application") continue;
        const zones = new Set(
            ((inputs.subnets as string[] | undefined) ?? []).map((id) => {
                const s = subnets.get(id);
                return String(s?.availabilityZone ?? s?.availabilityZoneId ?? id);
            }),
        );
        if (zones.size < 2) {
            issues.push({
                resource: lb.name,
                type: lb.type,
                field: "subnets",
                message: `spans ${zones.size} availability zone${zones.size === 1 ? "" : "s"}: an application load balancer needs subnets in at least two (network.azCount)`,
                source: "ELBv2 API reference (CreateLoadBalancer Subnets: at least two Availability Zones)",
            });
        }
    }

    issues.push(...inlinePolicyIssues(custom));

    const own = custom.filter((x) => x.type === "aws:ec2/eip:Eip").length;
    const sameRegion = siblings.filter((s) => s.region === spec.region);
    const total = own + sameRegion.reduce((n, s) => n + s.elasticIps, 0);
    if (own > 0 && total > spec.quotas.elasticIpsPerRegion) {
        const others = sameRegion.filter((s) => s.elasticIps > 0).map((s) => `${s.stack} ${s.elasticIps}`);
        issues.push({
            resource: `${spec.stackName} (${own} Elastic IP${own === 1 ? "" : "s"})`,
            type: "aws:ec2/eip:Eip",
            field: "domain",
            message: `the stacks of this repository in ${spec.region} allocate ${total} Elastic IPs (${[`${spec.stackName} ${own}`, ...others].join(", ")}), and the region allows ${spec.quotas.elasticIpsPerRegion} (plone-aws:quotas.elasticIpsPerRegion): use natGateways single, share a bastion, or raise the quota with AWS and then the key`,
            source: "EC2 quota: Elastic IP addresses per region (default 5)",
        });
    }
    return issues;
}
