// The offline plan as text (a resource tree, a per-host summary, totals) or as JSON.
import { cronJobs } from "../../../components/render/operations/cron";
import { programName } from "../../../components/render/app/layout";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology, Topology } from "../../../components/topology";
import { crossHostDependencies, hostStepNames } from "../../../components/render/hostSteps";
import type { ConfigIssue } from "../../../components/config/load";
import { CapturedResource, OfflineRun, unwrapSecrets } from "../offline/run";
import { exitCodeFor, formatPolicyReport, PolicyReport } from "./policyCheck";
import { secretPlaceholder } from "../offline/stackFile";

export const SECRET_MASK = "[secret]";

export interface PlanContext {
    file: string;
    spec: StackSpec;
    run: OfflineRun;
    warnings: ConfigIssue[];
    unsetSecrets: ConfigIssue[];
    /** Example values `pulumi up` refuses (loadStack's deployBlockers). */
    deployBlockers?: ConfigIssue[];
    /** The policy pack's verdict on the planned resources (npm run policy without the program run twice). */
    policy?: PolicyReport;
    /** Why the policy check could not run, when it could not. */
    policyError?: string;
}

export interface HostSummary {
    name: string;
    instanceType: string;
    vcpus: number;
    az: number;
    subnet: string;
    privateIp?: string;
    layers: string[];
    clients: { count: number; ports?: string };
    /** Volto's server-side rendering processes (volto layer): <app>-volto1..N under supervisor. */
    volto: { count: number; ports?: string; programs: string[] };
    volumes: { kind: string; mountPoint: string; sizeGiB: number }[];
    /** Ports other stack members (or the world) may open on this host. */
    ports: string[];
}

/** Inputs worth a glance per resource type (the JSON has all of them). */
const KEY_INPUTS: Record<string, string[]> = {
    "aws:ec2/vpc:Vpc": ["cidrBlock"],
    "aws:ec2/subnet:Subnet": ["cidrBlock", "availabilityZone"],
    "aws:ec2/natGateway:NatGateway": ["subnetId"],
    "aws:ec2/securityGroup:SecurityGroup": ["description"],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ["ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId"],
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ["ipProtocol", "cidrIpv4", "referencedSecurityGroupId"],
    "aws:ec2/instance:Instance": ["instanceType", "subnetId", "associatePublicIpAddress", "metadataOptions.httpTokens", "rootBlockDevice.encrypted"],
    "aws:ebs/volume:Volume": ["size", "type", "encrypted", "tags.plone-aws:snapshot"],
    "aws:ec2/volumeAttachment:VolumeAttachment": ["deviceName"],
    "aws:rds/instance:Instance": [
        "engine",
        "engineVersion",
        "instanceClass",
        "multiAz",
        "storageEncrypted",
        "backupRetentionPeriod",
        "deletionProtection",
        "password",
    ],
    "aws:lb/loadBalancer:LoadBalancer": ["loadBalancerType", "idleTimeout"],
    "aws:lb/listener:Listener": ["port", "protocol", "sslPolicy", "defaultActions"],
    "aws:lb/targetGroup:TargetGroup": ["port", "healthCheck.path"],
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": ["policyDetails.targetTags", "policyDetails.schedules"],
    "aws:efs/fileSystem:FileSystem": ["encrypted", "throughputMode"],
    "aws:cloudwatch/metricAlarm:MetricAlarm": ["metricName", "alarmActions"],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["policyArn"],
    "aws:ec2/keyPair:KeyPair": ["publicKey"],
    // The elastic app layer (plone-aws:scaling).
    "aws:autoscaling/group:Group": ["name", "minSize", "maxSize", "desiredCapacity", "healthCheckGracePeriod"],
    "aws:autoscaling/schedule:Schedule": ["recurrence", "timeZone", "minSize", "maxSize", "desiredCapacity"],
    "aws:autoscaling/policy:Policy": ["policyType", "scalingAdjustment", "cooldown", "targetTrackingConfiguration.targetValue"],
    "aws:autoscaling/lifecycleHook:LifecycleHook": ["name", "lifecycleTransition", "heartbeatTimeout"],
    "aws:ec2/launchTemplate:LaunchTemplate": ["metadataOptions.httpTokens", "blockDeviceMappings"],
    "aws:servicediscovery/service:Service": ["name"],
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": ["name"],
    "aws:ssm/parameter:Parameter": ["name", "type", "value"],
    "aws:s3/bucketObjectv2:BucketObjectv2": ["key", "serverSideEncryption"],
    "aws:imagebuilder/component:Component": ["name", "version"],
    "aws:imagebuilder/imageRecipe:ImageRecipe": ["name", "version", "parentImage"],
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": ["instanceTypes", "subnetId"],
};

/** The scaled groups of a stack as the plan shows them (none: the key is left out of the JSON). */
export function scaledGroupSummaries(topology: Topology): Record<string, unknown>[] {
    return topology.scaledGroups.map(({ plan, host }) => ({
        name: plan.name,
        instanceTypes: plan.instanceTypes,
        layers: host.layers,
        clientsPerInstance: host.clients.length,
        subnets: plan.subnets.map((s) => s.cidr),
        size: { min: plan.min, max: plan.max, desired: plan.desired },
        schedules: plan.schedules,
        targetCpu: plan.targetCpu,
        steps: plan.steps,
        cooldowns: plan.cooldowns,
        image: plan.bakedImage ? "baked (EC2 Image Builder: Debian 12 and the group's packages)" : "Debian 12 (packages installed at boot)",
        lifecycleHook: { transition: "terminating", drainTimeout: plan.drainTimeout },
        discovery: plan.discovery.map((d) => `${d.srvName} (port ${d.port})`),
    }));
}

function pick(obj: unknown, path: string): unknown {
    // Tag keys contain dots-free colons; split on the first segments only.
    const parts = path.startsWith("tags.") ? ["tags", path.slice(5)] : path.split(".");
    let cur: unknown = obj;
    for (const p of parts) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
}

/** Masks secret values and the offline placeholders (which stand for secrets). */
export function maskInputs(inputs: Record<string, unknown>): Record<string, unknown> {
    return unwrapSecrets(inputs, SECRET_MASK) as Record<string, unknown>;
}

function idNames(resources: CapturedResource[]): Map<string, string> {
    const names = new Map<string, string>();
    for (const r of resources) {
        if (r.id) names.set(r.id, r.name);
        const arn = r.state.arn;
        if (typeof arn === "string") names.set(arn, r.name);
    }
    return names;
}

function short(value: unknown, names: Map<string, string>): string {
    if (typeof value === "string") {
        if (names.has(value)) return names.get(value)!;
        return value.length > 60 ? `${value.slice(0, 57)}...` : value;
    }
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === "object") {
        return `[${value.length}: ${value.map((v) => short(summariseObject(v as Record<string, unknown>), names)).join("; ")}]`;
    }
    const text = JSON.stringify(value, (_k, v) => (typeof v === "string" && names.has(v) ? names.get(v) : v));
    return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

function summariseObject(o: Record<string, unknown>): string {
    return Object.entries(o)
        .filter(([, v]) => v !== undefined && v !== null && typeof v !== "object")
        .map(([k, v]) => `${k}=${v}`)
        .join(" ");
}

export function hostSummaries(spec: StackSpec, run: OfflineRun, topology: Topology = buildTopology(spec)): HostSummary[] {
    const ips = (run.outputs.hostPrivateIps ?? {}) as Record<string, string>;
    return topology.hosts.map((h) => {
        const ports = new Set<string>();
        for (const rule of topology.ingressRules) {
            if (rule.role !== "host" && h.securityGroups.includes(rule.role)) {
                ports.add(rule.fromPort === rule.toPort ? `${rule.fromPort}` : `${rule.fromPort}-${rule.toPort}`);
            }
        }
        if (h.securityGroups.includes("host")) ports.add("22");
        const clients = h.clients.length;
        const volto = h.voltoProcesses;
        return {
            name: h.name,
            instanceType: h.instanceType,
            vcpus: h.vcpus,
            az: h.az,
            subnet: h.subnet,
            privateIp: ips[h.name],
            layers: h.layers,
            clients: { count: clients, ports: clients ? `${h.clients[0].port}-${h.clients[clients - 1].port}` : undefined },
            volto: {
                count: volto.length,
                ports: volto.length ? `${volto[0].port}-${volto[volto.length - 1].port}` : undefined,
                programs: volto.map((p) => programName(spec.app.name, p.name)),
            },
            volumes: h.volumes.map((v) => ({ kind: v.kind, mountPoint: v.mountPoint, sizeGiB: v.sizeGiB })),
            ports: [...ports].sort((a, b) => parseInt(a) - parseInt(b)),
        };
    });
}

/** Each host's provisioning steps in order, with the steps of other hosts each one waits for. */
export function provisioningOrder(spec: StackSpec, topology: Topology = buildTopology(spec)): { host: string; steps: { step: string; after: string[] }[] }[] {
    const cross = crossHostDependencies({ spec, topology });
    return topology.hosts.map((h) => ({
        host: h.name,
        steps: hostStepNames(h).map((step) => ({ step, after: (cross.get(`${h.name}/${step}`) ?? []).map((r) => `${r.host} ${r.step}`) })),
    }));
}

export function totals(run: OfflineRun): { resources: number; components: number; byType: Record<string, number> } {
    const byType: Record<string, number> = {};
    for (const r of run.resources) byType[r.type] = (byType[r.type] ?? 0) + 1;
    return {
        resources: run.resources.filter((r) => r.custom).length,
        components: run.resources.filter((r) => !r.custom).length,
        byType: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
    };
}

export function planJson(ctx: PlanContext): Record<string, unknown> {
    const { run, spec } = ctx;
    return {
        stack: spec.stackName,
        file: ctx.file,
        region: spec.region,
        tier: spec.tier,
        offline: true,
        warnings: ctx.warnings,
        unsetSecrets: ctx.unsetSecrets,
        deployBlockers: ctx.deployBlockers ?? [],
        hosts: hostSummaries(spec, run),
        ...(spec.scaling.groups.length ? { scaledGroups: scaledGroupSummaries(buildTopology(spec)) } : {}),
        provisioning: provisioningOrder(spec),
        resources: run.resources.map((r) => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent || undefined,
            custom: r.custom,
            id: r.id,
            inputs: maskInputs(r.inputs),
            dependencies: r.options.dependencies,
            options: {
                protect: r.options.protect,
                retainOnDelete: r.options.retainOnDelete,
                ignoreChanges: r.options.ignoreChanges,
                deletedWith: r.options.deletedWith,
                customTimeouts: r.options.customTimeouts,
            },
        })),
        outputs: run.outputs,
        totals: totals(run),
        policy: ctx.policy ? { ...ctx.policy, exitCode: exitCodeFor(ctx.policy) } : { error: ctx.policyError },
    };
}

function table(rows: string[][]): string[] {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) =>
        r
            .map((c, i) => c.padEnd(widths[i]))
            .join("  ")
            .trimEnd(),
    );
}

/** The plan's line on outbound mail: who relays, to where, how, as which domain. */
export function mailSummary(spec: StackSpec, relays: string[]): string {
    const mail = spec.mail;
    if (!mail) return "Mail: none (plone-aws:mail is unset: Plone cannot send password resets or notifications).";
    const tls = { starttls: "STARTTLS", implicit: "TLS", none: "no TLS" }[mail.relay.tls];
    const ses = mail.ses
        ? `; SES identity ${mail.domain} with DKIM, MAIL FROM ${mail.mailFromDomain}, delivery TLS ${mail.requireTlsDelivery ? "required" : "optional"}`
        : "";
    const sandbox = mail.redirectTo ? `; every mail redirected to ${mail.redirectTo}` : "";
    return `Mail: postfix on ${relays.join(", ") || "no host"} (localhost:25) relays to ${mail.relay.host}:${mail.relay.port} over ${tls}, from ${mail.senderAddress}${ses}${sandbox}.`;
}

export function planText(ctx: PlanContext): string {
    const { run, spec } = ctx;
    const topology = buildTopology(spec);
    const names = idNames(run.resources);
    const out: string[] = [];
    const door = topology.frontDoor.kind === "alb" ? "application load balancer" : "Elastic IP on the front end";
    const db = spec.database
        ? spec.database.host
            ? `relstorage on ${spec.database.host}`
            : `relstorage on RDS PostgreSQL ${spec.database.engineVersion}${spec.database.multiAz ? " Multi-AZ" : ""}`
        : "zeo";
    out.push(`Plan of stack ${spec.stackName} (${ctx.file}), offline: no cloud account was contacted; ids and addresses are mock values.`);
    out.push(
        `Region ${spec.region}, tier ${spec.tier}, ${topology.hosts.length} host${topology.hosts.length === 1 ? "" : "s"} in ${topology.azCount} AZ${topology.azCount === 1 ? "" : "s"}; front door: ${door}${topology.frontDoor.https ? " with TLS" : ""}; storage: ${db}; blobs: ${spec.plone.blobs}.`,
    );
    out.push(mailSummary(spec, topology.roles.mailRelays));
    out.push("");

    out.push("Resources");
    const children = new Map<string, CapturedResource[]>();
    for (const r of run.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const walk = (parent: string, prefix: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            const branch = parent === "" ? "" : last ? "└─ " : "├─ ";
            const inputs = maskInputs(r.inputs);
            const shown = (KEY_INPUTS[r.type] ?? [])
                .map((k) => [k, pick(inputs, k)] as const)
                .filter(([, v]) => v !== undefined && v !== "")
                .map(([k, v]) => `${k}=${short(v, names)}`);
            const opts = [
                r.options.protect ? "protect" : "",
                r.options.retainOnDelete ? "retainOnDelete" : "",
                r.options.ignoreChanges.length ? `ignoreChanges=${r.options.ignoreChanges.join(",")}` : "",
                r.options.deletedWith ? `deletedWith=${r.options.deletedWith.split("::").pop()}` : "",
            ].filter(Boolean);
            const text = [`${r.type}  ${r.name}`, ...shown, ...(opts.length ? [`[${opts.join(" ")}]`] : [])].join("  ");
            out.push(`${prefix}${branch}${text}`);
            walk(r.urn, parent === "" ? prefix : prefix + (last ? "   " : "│  "));
        });
    };
    walk("", "");
    out.push("");

    out.push("Hosts");
    const rows = [["host", "type", "vCPU", "az", "subnet", "private ip", "layers", "clients", "volto", "volumes (GiB)", "ports"]];
    for (const h of hostSummaries(spec, run, topology)) {
        rows.push([
            h.name,
            h.instanceType,
            String(h.vcpus),
            String(h.az),
            h.subnet,
            h.privateIp ?? "-",
            h.layers.join(","),
            h.clients.count ? `${h.clients.count} (${h.clients.ports})` : "-",
            h.volto.count ? `${h.volto.count} (${h.volto.ports})` : "-",
            h.volumes.length ? h.volumes.map((v) => `${v.kind}:${v.sizeGiB}`).join(",") : "-",
            h.ports.join(" "),
        ]);
    }
    out.push(...table(rows).map((l) => `  ${l}`));
    out.push("");

    if (topology.scaledGroups.length) {
        out.push("Scaled groups (Auto Scaling; each instance provisions itself at boot from the bundle in S3 and registers in Cloud Map)");
        for (const g of scaledGroupSummaries(topology)) {
            const size = g.size as { min: number; max: number; desired: number };
            out.push(
                `  ${g.name}: ${(g.instanceTypes as string[]).join(", ")}; min ${size.min}, max ${size.max}, desired ${size.desired}; ${g.clientsPerInstance} clients per instance`,
            );
            for (const s of g.schedules as { name: string; recurrence: string; timeZone: string; min?: number; max?: number; desired?: number }[]) {
                const sizes = (["min", "max", "desired"] as const).filter((k) => s[k] !== undefined).map((k) => `${k} ${s[k]}`);
                out.push(`    schedule ${s.name}: ${s.recurrence} (${s.timeZone}) -> ${sizes.join(", ")}`);
            }
            const cpu = g.targetCpu as { averageCpu: number } | undefined;
            if (cpu) out.push(`    target tracking: average CPU ${cpu.averageCpu}%`);
            for (const st of g.steps as { metric: string; scaleOutAbove: number; scaleInBelow: number; adjustment: number; evaluationMinutes: number }[]) {
                out.push(
                    `    step rule on ${st.metric}: +${st.adjustment} above ${st.scaleOutAbove}, -${st.adjustment} below ${st.scaleInBelow} (for ${st.evaluationMinutes} min)`,
                );
            }
            const hook = g.lifecycleHook as { drainTimeout: number };
            out.push(`    termination hook: drain through the haproxy agent (up to ${hook.drainTimeout}s), deregister, complete`);
            out.push(`    discovery: ${(g.discovery as string[]).join(", ")}`);
        }
        out.push("");
    }

    out.push("Provisioning (remote commands over SSH, in this order on each host; hosts in parallel otherwise)");
    const order = provisioningOrder(spec, topology);
    const width = Math.max(...order.map((o) => o.host.length));
    for (const o of order) {
        const chain = o.steps.map((s) => (s.after.length ? `${s.step} (after ${s.after.join(", ")})` : s.step)).join(" -> ");
        out.push(`  ${o.host.padEnd(width)}  ${chain}`);
    }
    out.push("");

    // The backups, dumps and packs the hosts run on their own (cron), with their schedules.
    const jobs = topology.hosts.flatMap((h) => cronJobs({ spec, topology }, h).map((j) => [h.name, j.schedule, j.name, j.comment]));
    if (jobs.length) {
        out.push(`Scheduled jobs (cron, the hosts' time zone ${spec.plone.timezone})`);
        out.push(...table(jobs).map((l) => `  ${l}`));
        out.push("");
    }

    const t = totals(run);
    out.push(`Totals: ${t.resources} resources in ${t.components} components`);
    out.push(...table(Object.entries(t.byType).map(([type, n]) => [String(n).padStart(5), type])).map((l) => `  ${l}`));
    out.push("");

    out.push("Outputs");
    for (const [k, v] of Object.entries(run.outputs)) if (v !== undefined) out.push(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);

    if (ctx.warnings.length) {
        out.push("", "Warnings");
        for (const w of ctx.warnings) out.push(`  - ${w.path}: ${w.message}`);
    }
    if (ctx.unsetSecrets.length) {
        out.push("", `Secrets to set before pulumi up (the plan used placeholders such as ${secretPlaceholder("plone-aws:dbPassword")}):`);
        for (const s of ctx.unsetSecrets) out.push(`  - ${s.path}: ${s.message}`);
    }
    if (ctx.deployBlockers?.length) {
        out.push("", "Example values to replace before pulumi up (it refuses to deploy them):");
        for (const s of ctx.deployBlockers) out.push(`  - ${s.path}: ${s.message}`);
    }

    out.push("", "Policy");
    if (ctx.policy) {
        out.push(
            ...formatPolicyReport(ctx.policy)
                .split("\n")
                .map((l) => (l ? `  ${l}` : l)),
        );
        const code = exitCodeFor(ctx.policy);
        if (code === 2)
            out.push(
                "",
                `  Mandatory policies are violated: \`pulumi preview --policy-pack policies\` would stop here, and \`npm run policy -- ${spec.stackName}\` exits 2.`,
            );
    } else {
        out.push(`  The policy check did not run: ${ctx.policyError ?? "unknown reason"}`);
    }
    return out.join("\n");
}
