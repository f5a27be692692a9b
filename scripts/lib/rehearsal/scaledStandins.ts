// What AWS provides to the instances of a scaled group (plone-aws:scaling), played in the
// rehearsal by stand-ins that say so, each from what the program registered (the captured offline
// run), as AWS would receive it:
//   - the group's launch: a test host in the group's subnet (scale.ts), whose first boot runs the
//     launch template's user data through a cloud-init stand-in (CLOUD_INIT_STANDIN);
//   - the instance metadata service (IMDSv2), S3 (the bundle object, versioned, and the build cache),
//     SSM Parameter Store (the secret files), AWS Cloud Map (registrations, and the SRV and A records
//     the VPC's resolver answers), Auto Scaling (the group's instances, the termination lifecycle
//     hook) and CloudWatch: one process in the run's VPC namespace, cloud/aws_standin.py, at the
//     metadata service's address, the VPC resolver's address and an API port on every subnet's
//     gateway;
//   - the AWS CLI on the hosts that call AWS: cloud/aws_cli.py as /usr/local/bin/aws, which sends
//     each call to that API (the host scripts run unchanged; real awscli would need AWS's endpoints).
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { StackSpec } from "../../../components/config/spec";
import { buildTopology, type ScaledGroupPlan } from "../../../components/topology";
import type { DiscoveredKind } from "../../../components/topology/scaling";
import { IMDS_ADDRESS } from "../../../components/render/scaling/instance";
import { CLOUDWATCH_AGENT_CTL } from "../../../components/render/monitoring/cloudwatchAgent";
import { COMPONENT_TYPES } from "../../../components/aws/typeTokens";
import { CapturedResource, OfflineRun, unwrapSecrets } from "../offline/run";
import { RehearsalError } from "./runner";
import { run, sleep, tail } from "./processes";
import type { TestHostRun } from "./testHosts";

const TYPES = {
    group: "aws:autoscaling/group:Group",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    hook: "aws:autoscaling/lifecycleHook:LifecycleHook",
    object: "aws:s3/bucketObjectv2:BucketObjectv2",
    bucket: "aws:s3/bucket:Bucket",
    parameter: "aws:ssm/parameter:Parameter",
    service: "aws:servicediscovery/service:Service",
    namespace: "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace",
    imageComponent: "aws:imagebuilder/component:Component",
} as const;

/** One Cloud Map service of a group: the SRV records of one Zope client of every instance. */
export interface DiscoveryServiceStandin {
    /** The service's id (what the instances register in). */
    id: string;
    /** _<group>-<process>._tcp */
    name: string;
    /** What haproxy asks the resolver: <name>.<namespace>. */
    srvName: string;
    ttl: number;
    kind: DiscoveredKind;
    /** client1 .., volto1 .. */
    process: string;
    port: number;
}

export interface ScaledGroupStandin {
    /** The group's name in AWS (<stack prefix>-<group>). */
    name: string;
    plan: ScaledGroupPlan;
    /** The launch template's user data, as an instance receives it (decoded). */
    userData: string;
    lifecycleHook: { name: string; heartbeatTimeout: number; defaultResult: string };
    services: DiscoveryServiceStandin[];
    /** The group's baked image (EC2 Image Builder): its component's version and document, absent on Debian's AMI. */
    image?: { version: string; document: string };
}

/** Everything the stand-in plays for a stack's scaled groups. */
export interface ScalingStandin {
    region: string;
    /** The bundles' bucket (its name). */
    bucket: string;
    /** Its objects as the program writes them: each group's bundle. */
    objects: { key: string; versionId: string; content: string }[];
    /** SSM parameter name -> value (the secret files, base64; the run's own secrets). */
    parameters: Record<string, string>;
    namespace: string;
    /** The VPC's resolver, which answers for the namespace. */
    resolver: { address: string; port: number };
    groups: ScaledGroupStandin[];
}

const plainInputs = (r: CapturedResource) => unwrapSecrets(r.inputs) as Record<string, unknown>;
const plainState = (r: CapturedResource) => unwrapSecrets(r.state) as Record<string, unknown>;

function text(r: CapturedResource, value: unknown, what: string): string {
    if (typeof value !== "string" || !value) throw new RehearsalError(`${r.name}: ${what} is not known offline`);
    return value;
}

/**
 * The scaled groups of a captured run as the stand-in must play them, or undefined when the
 * program creates none. Every value comes from a registered resource: the bundle object's bucket,
 * key, content and version; the SSM parameters; each group's launch template user data, lifecycle
 * hook and Cloud Map services (matched to the topology's clients by their names).
 */
export function scalingStandinOf(run: OfflineRun, spec: StackSpec): ScalingStandin | undefined {
    const components = run.resources.filter((r) => r.type === COMPONENT_TYPES.scaledGroup);
    if (components.length === 0) return undefined;
    const of = (type: string, parent?: string) => run.resources.filter((r) => r.type === type && (parent === undefined || r.parent === parent));
    const topology = buildTopology(spec);
    if (!topology.discovery) throw new RehearsalError("the program creates scaled groups, but the topology plans no discovery");

    const buckets = new Map(of(TYPES.bucket).map((b) => [b.id, text(b, plainState(b).bucket, "the bucket's name")]));
    const namespaces = of(TYPES.namespace);
    if (namespaces.length !== 1) throw new RehearsalError(`the program creates ${namespaces.length} Cloud Map namespaces; the stand-in plays one`);
    const namespace = text(namespaces[0], plainInputs(namespaces[0]).name, "the namespace's name");

    let bucket: string | undefined;
    const objects: ScalingStandin["objects"] = [];
    const parameters: Record<string, string> = {};
    const groups = components.map((component): ScaledGroupStandin => {
        const one = (type: string) => {
            const found = of(type, component.urn);
            if (found.length !== 1) throw new RehearsalError(`${component.name}: ${found.length} ${type}, the stand-in plays one`);
            return found[0];
        };
        const group = one(TYPES.group);
        const template = one(TYPES.launchTemplate);
        const hook = one(TYPES.hook);
        const object = one(TYPES.object);
        const objectInputs = plainInputs(object);
        const objectBucket = buckets.get(String(objectInputs.bucket));
        if (!objectBucket) throw new RehearsalError(`${object.name}: its bucket is not one the program creates`);
        if (bucket !== undefined && bucket !== objectBucket) throw new RehearsalError("the groups' bundles are in two buckets; the stand-in plays one");
        bucket = objectBucket;
        objects.push({
            key: text(object, objectInputs.key, "the bundle's key"),
            versionId: text(object, plainState(object).versionId, "the bundle's version"),
            content: text(object, objectInputs.content, "the bundle"),
        });
        for (const p of of(TYPES.parameter, component.urn)) {
            const inputs = plainInputs(p);
            parameters[text(p, inputs.name, "the parameter's name")] = text(p, inputs.value, "the parameter's value");
        }
        const services = of(TYPES.service, component.urn).map((s) => {
            const inputs = plainInputs(s);
            const dns = (inputs.dnsConfig ?? {}) as { dnsRecords?: { type?: string; ttl?: number }[] };
            const srv = dns.dnsRecords?.find((r) => r.type === "SRV");
            if (!srv) throw new RehearsalError(`${s.name}: the stand-in plays services with SRV records`);
            return { id: text(s, s.id, "the service's id"), name: text(s, inputs.name, "the service's name"), ttl: Number(srv.ttl ?? 60) };
        });
        const planned = topology.scaledGroups.find((g) => g.plan.discovery.every((d) => services.some((s) => s.name === d.serviceName)));
        if (!planned) throw new RehearsalError(`${component.name}: no planned group has the services ${services.map((s) => s.name).join(", ")}`);
        const hookInputs = plainInputs(hook);
        const images = of(COMPONENT_TYPES.groupImage, component.urn);
        const imageComponents = images.flatMap((i) => of(TYPES.imageComponent, i.urn));
        if (images.length > 1 || imageComponents.length !== images.length)
            throw new RehearsalError(`${component.name}: the stand-in plays an image with one component`);
        const image = imageComponents.map((c) => ({
            version: text(c, plainInputs(c).version, "the image component's version"),
            document: text(c, plainInputs(c).data, "the image component's document"),
        }))[0];
        return {
            name: text(group, plainInputs(group).name, "the group's name"),
            plan: planned.plan,
            userData: Buffer.from(text(template, plainInputs(template).userData, "the user data"), "base64").toString("utf8"),
            lifecycleHook: {
                name: text(hook, hookInputs.name, "the lifecycle hook's name"),
                heartbeatTimeout: Number(hookInputs.heartbeatTimeout ?? 3600),
                defaultResult: String(hookInputs.defaultResult ?? "ABANDON"),
            },
            services: planned.plan.discovery.map((d) => {
                const s = services.find((x) => x.name === d.serviceName)!;
                return { ...s, srvName: d.srvName, kind: d.kind, process: d.process, port: d.port };
            }),
            image,
        };
    });
    return { region: spec.region, bucket: bucket!, objects, parameters, namespace, resolver: topology.discovery.resolver, groups };
}

/** The port of the stand-in's API on every subnet gateway of the run's VPC (LocalStack's). */
export const AWS_STANDIN_API_PORT = 4566;

const CLOUD_DIR = path.join(__dirname, "cloud");
/** Where aws_cli.py finds the stand-in's API on a host. */
const ENDPOINT_FILE = "/etc/plone-aws-rehearsal/aws-endpoint";
/** cloud-init's record that the first boot is over (the stand-in writes it as cloud-init does). */
export const BOOT_FINISHED = "/var/lib/cloud/instance/boot-finished";
/** The user data's exit status (the stand-in's own: cloud-init logs it). */
export const USER_DATA_STATUS = "/var/lib/cloud/instance/user-data.status";

/**
 * The stand-in for cloud-init on a test host playing a scaled instance (Debian's AMIs run
 * cloud-init). `cloud-init run-user-data` does what its scripts_user module does at first boot:
 * fetches the user data from the metadata service (IMDSv2), runs it once as root in a clean
 * environment, detached, output to /var/log/cloud-init-output.log, then marks the boot finished.
 * `cloud-init status [--wait]` answers as cloud-init does: running until then (--wait blocks).
 */
export const CLOUD_INIT_STANDIN = `#!/bin/bash
# plone-aws rehearsal: a stand-in for cloud-init (see scripts/lib/rehearsal/scaledStandins.ts).
set -euo pipefail
finished=${BOOT_FINISHED}
status=${USER_DATA_STATUS}
report() {
  if [ ! -e "$finished" ]; then echo "status: running"; return 0; fi
  if [ "$(cat "$status")" = 0 ]; then echo "status: done"; else echo "status: error"; return 1; fi
}
case "\${1:-}" in
status)
  if [ "\${2:-}" = --wait ]; then while [ ! -e "$finished" ]; do sleep 1; done; fi
  report
  ;;
run-user-data)
  mkdir -p /var/lib/cloud/instance/scripts
  token=$(curl -fsS -m 5 -X PUT http://${IMDS_ADDRESS}/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600')
  curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $token" -o /var/lib/cloud/instance/scripts/part-001 http://${IMDS_ADDRESS}/latest/user-data
  chmod 0700 /var/lib/cloud/instance/scripts/part-001
  setsid env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root \\
    bash -c '/var/lib/cloud/instance/scripts/part-001; echo $? >"$0"; touch "$1"' "$status" "$finished" \\
    </dev/null >>/var/log/cloud-init-output.log 2>&1 &
  ;;
*)
  echo "cloud-init stand-in: status [--wait] | run-user-data" >&2
  exit 2
  ;;
esac
`;

/**
 * The CloudWatch agent on a scaled instance: Amazon's package is in Amazon's S3 buckets (signed
 * with their key), out of reach here, and an instance that finds the metadata service installs it
 * (render/monitoring/cloudwatchAgent.ts). The stand-in image has a stand-in package instead, whose
 * amazon-cloudwatch-agent-ctl checks that the configuration it is given is JSON.
 */
export const CLOUDWATCH_AGENT_STANDIN = `set -euo pipefail
pkg=$(mktemp -d)
mkdir -p "$pkg/DEBIAN" "$pkg${path.posix.dirname(CLOUDWATCH_AGENT_CTL)}"
cat >"$pkg/DEBIAN/control" <<'PLONE_AWS_CONTROL'
Package: amazon-cloudwatch-agent
Version: 0.0.0-plone-aws-rehearsal
Architecture: all
Maintainer: plone-aws rehearsal <dev@plone-aws.invalid>
Description: stand-in for Amazon's CloudWatch agent (plone-aws rehearsal)
PLONE_AWS_CONTROL
cat >"$pkg${CLOUDWATCH_AGENT_CTL}" <<'PLONE_AWS_CTL'
#!/usr/bin/python3
# plone-aws rehearsal: a stand-in for amazon-cloudwatch-agent-ctl (-a fetch-config -m ec2 -s -c file:CONFIG).
import json, sys
args = sys.argv[1:]
json.load(open(args[args.index("-c") + 1].replace("file:", "", 1)))
PLONE_AWS_CTL
chmod 0755 "$pkg${CLOUDWATCH_AGENT_CTL}"
dpkg-deb --build --root-owner-group "$pkg" "$pkg.deb" >/dev/null
dpkg -i "$pkg.deb" >/dev/null
rm -rf "$pkg" "$pkg.deb"
`;

/** An instance as the group has it (instances.json of the stand-in). */
interface InstanceRecord {
    address: string;
    group: string;
    /** The group's view: Pending, InService, Terminating:Wait, Terminated. */
    lifecycleState: string;
    /** What the metadata service's autoscaling/target-lifecycle-state answers. */
    targetLifecycleState: string;
    /** The file of its user data, in the stand-in's directory. */
    userData: string;
}

/** A lifecycle action the stand-in received (lifecycle.json). */
export interface LifecycleAction {
    time: number;
    group: string;
    hook: string;
    instanceId: string;
    action: "heartbeat" | "complete";
    result?: string;
}

/** An API call the stand-in received (calls.log); parameters that may be secret are not kept. */
export interface ApiCall {
    time: number;
    from: string;
    instance: string | null;
    call: string;
    params: Record<string, unknown>;
}

/** The AWS stand-in of a run: its process in the VPC namespace, its state directory, and what the group does. */
export class AwsStandin {
    private readonly instances: Record<string, InstanceRecord> = {};

    private constructor(
        readonly hosts: TestHostRun,
        readonly scaling: ScalingStandin,
        readonly dir: string,
        private readonly child: ChildProcess,
        private readonly exited: Promise<number | null>,
    ) {}

    /**
     * Starts the stand-in: its world (what the program registered) in <run>/vpc/aws (removed with
     * the run: it holds the run's secrets), the metadata service's and the resolver's addresses
     * on the VPC namespace's loopback (the hosts reach both through their gateway, as in a VPC),
     * the process, and waits until it listens.
     */
    static async start(hosts: TestHostRun, scaling: ScalingStandin): Promise<AwsStandin> {
        const dir = path.join(hosts.runDir, "vpc", "aws");
        fs.mkdirSync(path.join(dir, "objects"), { recursive: true, mode: 0o700 });
        const objects = scaling.objects.map((o, i) => {
            const file = path.join("objects", String(i));
            fs.writeFileSync(path.join(dir, file), o.content, { mode: 0o600 });
            return { bucket: scaling.bucket, key: o.key, versionId: o.versionId, file };
        });
        const world = {
            region: scaling.region,
            api: { address: "0.0.0.0", port: AWS_STANDIN_API_PORT },
            imds: { address: IMDS_ADDRESS, port: 80 },
            dns: scaling.resolver,
            buckets: [scaling.bucket],
            objects,
            parameters: scaling.parameters,
            namespace: scaling.namespace,
            services: scaling.groups.flatMap((g) => g.services.map((s) => ({ id: s.id, name: s.name, ttl: s.ttl }))),
            groups: scaling.groups.map((g) => ({ name: g.name, hooks: [{ name: g.lifecycleHook.name }] })),
        };
        fs.writeFileSync(path.join(dir, "world.json"), JSON.stringify(world, null, 1), { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "instances.json"), "{}\n");
        for (const address of [scaling.resolver.address, IMDS_ADDRESS]) run("ip", ["-n", hosts.vpcNetns, "addr", "replace", `${address}/32`, "dev", "lo"]);

        const logFile = path.join(hosts.logsDir, "aws-standin.log");
        const out = fs.openSync(logFile, "a");
        const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        const child = spawn("ip", ["netns", "exec", hosts.vpcNetns, python, path.join(CLOUD_DIR, "aws_standin.py"), dir], {
            stdio: ["ignore", out, out],
            // The run's marker: a crashed run's leftovers are found by it.
            env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PLONE_AWS_RUN: hosts.runId },
        });
        fs.closeSync(out);
        let code: number | null | undefined;
        const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve((code = c))));
        const standin = new AwsStandin(hosts, scaling, dir, child, exited);
        while (!fs.existsSync(path.join(dir, "ready"))) {
            if (code !== undefined) throw new RehearsalError(`the AWS stand-in exited (${code}):\n${tail(fs.readFileSync(logFile, "utf8"), 20)}`);
            await sleep(50);
        }
        return standin;
    }

    /** What each part of AWS is played by, one line each, for the output. */
    describe(): string[] {
        const gateways = [...new Set([...this.hosts.hosts.values()].map((h) => h.gateway))];
        const standin = `the AWS stand-in (${path.relative(process.cwd(), path.join(CLOUD_DIR, "aws_standin.py"))}, in the VPC namespace)`;
        const s3 = `S3 (s3://${this.scaling.bucket}: ${this.scaling.objects.map((o) => `${o.key} version ${o.versionId}`).join(", ")}; the build cache)`;
        const hooks = this.scaling.groups.map((g) => `group ${g.name}, lifecycle hook ${g.lifecycleHook.name}`).join("; ");
        return [
            `the instance metadata service (IMDSv2): ${standin} at ${IMDS_ADDRESS}`,
            `${s3}, SSM Parameter Store (${Object.keys(this.scaling.parameters).length} parameters), AWS Cloud Map (namespace ${this.scaling.namespace}), ` +
                `Auto Scaling (${hooks}) and CloudWatch: ${standin}, its API on port ${AWS_STANDIN_API_PORT} of the subnets' gateways (${gateways.join(", ")}), ` +
                "called by an aws CLI stand-in (/usr/local/bin/aws on the hosts that call AWS)",
            `the VPC resolver's answers for ${this.scaling.namespace} (Cloud Map's SRV and A records): ${standin} at ${this.scaling.resolver.address}:${this.scaling.resolver.port}`,
        ];
    }

    /** Installs the aws CLI stand-in on a test host (what real awscli would be: the endpoint is the stand-in's). */
    async installCli(host: string): Promise<void> {
        const gateway = this.hosts.host(host).gateway;
        const cli = fs.readFileSync(path.join(CLOUD_DIR, "aws_cli.py"), "utf8");
        const r = await this.hosts.ssh(
            host,
            `set -e; mkdir -p ${path.dirname(ENDPOINT_FILE)}; echo http://${gateway}:${AWS_STANDIN_API_PORT} > ${ENDPOINT_FILE}; install -m 0755 /dev/stdin /usr/local/bin/aws`,
            { user: "root", input: cli, timeoutMs: 60_000 },
        );
        if (r.status !== 0) throw new RehearsalError(`${host}: installing the aws CLI stand-in: ${(r.stdout + r.stderr).trim()}`);
    }

    private save(): void {
        const file = path.join(this.dir, "instances.json");
        fs.writeFileSync(`${file}.new`, JSON.stringify(this.instances, null, 1));
        fs.renameSync(`${file}.new`, file);
    }

    /** The group launches an instance: it is in the group (InService: the program sets no launch hook) and the metadata service knows it. */
    launch(group: ScaledGroupStandin, instanceId: string, address: string): void {
        const userData = `user-data-${instanceId}`;
        fs.writeFileSync(path.join(this.dir, userData), group.userData, { mode: 0o600 });
        this.instances[instanceId] = { address, group: group.name, lifecycleState: "InService", targetLifecycleState: "InService", userData };
        this.save();
    }

    /** The group ends an instance (a scale-in): its termination hook waits (Terminating:Wait), the metadata service says Terminated. */
    terminate(instanceId: string): void {
        Object.assign(this.instances[instanceId], { lifecycleState: "Terminating:Wait", targetLifecycleState: "Terminated" });
        this.save();
    }

    /** The instance is gone: out of the group. */
    terminated(instanceId: string): void {
        this.instances[instanceId].lifecycleState = "Terminated";
        this.save();
    }

    private readJson<T>(name: string, fallback: T): T {
        try {
            return JSON.parse(fs.readFileSync(path.join(this.dir, name), "utf8")) as T;
        } catch {
            return fallback;
        }
    }

    /** Cloud Map's registrations: service id -> instance id -> attributes. */
    registrations(): Record<string, Record<string, Record<string, string>>> {
        return this.readJson("registrations.json", {});
    }

    lifecycleActions(): LifecycleAction[] {
        return this.readJson<LifecycleAction[]>("lifecycle.json", []);
    }

    calls(): ApiCall[] {
        const file = path.join(this.dir, "calls.log");
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as ApiCall);
    }

    /** Stops the process; keeps the call log with the run's logs (no secret is in it) and removes the world (the secrets). */
    async stop(): Promise<void> {
        this.child.kill("SIGTERM");
        await this.exited;
        const calls = path.join(this.dir, "calls.log");
        if (fs.existsSync(calls)) fs.copyFileSync(calls, path.join(this.hosts.logsDir, "aws-standin-calls.log"));
        fs.rmSync(path.join(this.dir, "world.json"), { force: true });
    }
}
