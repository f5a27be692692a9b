// Runs the Pulumi program in-process under Pulumi's mocks, the way `pulumi preview` would run it,
// and captures every registration: type, name, parent, inputs, options. The mock values (ids,
// addresses, DNS names) are deterministic, so two runs of the same stack file print the same plan.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { PROJECT, StackSpec } from "../../../components/config/spec";
import { buildTopology, PORTS } from "../../../components/topology";
import { ploneProgram } from "../../../components/program";
import type { StackOutputs } from "../../../components/aws/ploneStack";
import { intToIp, ipToInt, parseCidr, planSubnet, SubnetTier } from "../../../components/topology/addressing";

/** Pulumi's wire marker of a secret value. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export interface ResourceOptionsCapture {
    protect: boolean;
    retainOnDelete: boolean;
    ignoreChanges: string[];
    /** URNs this resource depends on (explicit dependsOn and input dependencies). */
    dependencies: string[];
    /** Input name -> URNs its value came from (how a policy finds the group a rule belongs to). */
    propertyDependencies: Record<string, string[]>;
    deletedWith?: string;
    deleteBeforeReplace: boolean;
    additionalSecretOutputs: string[];
    replaceOnChanges: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
    /** Earlier identities of the resource (the engine resolves them against the state: a rename without replacement). */
    aliases: AliasCapture[];
    /** The explicit provider ("<urn>::<id>"), when the resource has one. */
    provider?: string;
}

/** An alias as registered: a whole URN, or the parts that differ from the resource's own. */
export interface AliasCapture {
    urn?: string;
    name?: string;
    type?: string;
    parentUrn?: string;
    noParent?: boolean;
}

export interface CapturedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent component ("" at the root). */
    parent: string;
    /** false for component resources. */
    custom: boolean;
    id?: string;
    /** Inputs as registered; secret values keep Pulumi's secret wrapper (see unwrapSecrets). */
    inputs: Record<string, unknown>;
    /** Outputs as the mock provider returned them. */
    state: Record<string, unknown>;
    options: ResourceOptionsCapture;
}

export interface OfflineRun {
    stackName: string;
    resources: CapturedResource[];
    outputs: Record<string, unknown>;
    /** Invokes (data sources) the program made. */
    invokes: { token: string; inputs: Record<string, unknown> }[];
}

export interface OfflineConfig {
    stackName: string;
    raw: Record<string, string>;
    secretKeys: string[];
}

export function isSecretValue(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE;
}

/** Replaces Pulumi secret wrappers with their value, or with `mask` when given. */
export function unwrapSecrets(v: unknown, mask?: string): unknown {
    if (isSecretValue(v)) return mask ?? unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map((x) => unwrapSecrets(x, mask));
    if (v && typeof v === "object") {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x, mask)]));
    }
    return v;
}

export function shortHash(text: string, length = 8): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, length);
}

const ID_PREFIXES: Record<string, string> = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/instance:Instance": "i",
    "aws:ebs/volume:Volume": "vol",
    "aws:ec2/keyPair:KeyPair": "key",
    "aws:efs/fileSystem:FileSystem": "fs",
    "aws:efs/mountTarget:MountTarget": "fsmt",
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": "policy",
};

/** The id the mock provider gives a resource. */
export function mockId(type: string, name: string): string {
    return `${ID_PREFIXES[type] ?? "id"}-${shortHash(`${type}::${name}`, 17)}`;
}

/** The AWS account of the offline plan. */
export const MOCK_ACCOUNT_ID = "123456789012";

/** The address the mock provider gives an RDS instance. */
export function mockRdsAddress(resourceName: string, region: string): string {
    return `${resourceName}.c${shortHash(resourceName, 11)}.${region}.rds.amazonaws.com`;
}

/** The mock provider: deterministic ids and addresses, and the outputs the program reads. */
class MockCloud implements pulumi.runtime.Mocks {
    public readonly inputs = new Map<string, { inputs: Record<string, unknown>; state: Record<string, unknown>; id?: string; custom: boolean }>();
    public readonly invokes: { token: string; inputs: Record<string, unknown> }[] = [];
    private readonly subnets = new Map<string, { cidr: string; az: string; used: Set<number> }>();
    private readonly addressOf = new Map<string, string>();

    constructor(
        private readonly region: string,
        plannedAddresses: Map<string, string>,
    ) {
        this.addressOf = plannedAddresses;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const inputs = args.inputs as Record<string, unknown>;
        const plain = unwrapSecrets(inputs) as Record<string, unknown>;
        const id = args.custom === false ? undefined : mockId(args.type, args.name);
        const state: Record<string, unknown> = { ...inputs, ...this.computed(args.type, args.name, plain, id ?? "") };
        this.inputs.set(`${args.type}::${args.name}`, { inputs, state, id, custom: args.custom !== false });
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        this.invokes.push({ token: args.token, inputs: args.inputs });
        switch (args.token) {
            case "aws:index/getAvailabilityZones:getAvailabilityZones":
                return {
                    id: this.region,
                    names: ["a", "b", "c"].map((s) => `${this.region}${s}`),
                    zoneIds: [1, 2, 3].map((n) => `${this.region.replace(/-/g, "").slice(0, 4)}-az${n}`),
                    state: "available",
                };
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { id: MOCK_ACCOUNT_ID, accountId: MOCK_ACCOUNT_ID, arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/offline`, userId: "AIDAOFFLINE" };
            case "aws:ec2/getAmi:getAmi": {
                const filters = JSON.stringify(args.inputs.filters ?? []);
                const arm = filters.includes("arm64");
                return {
                    id: `ami-${shortHash(filters, 17)}`,
                    name: `debian-12-${arm ? "arm64" : "amd64"}-20261101-1`,
                    architecture: arm ? "arm64" : "x86_64",
                };
            }
            case "aws:kms/getAlias:getAlias": {
                // The key behind an AWS managed alias, in the region of the provider the lookup ran with.
                const region = this.regionOf(args.provider);
                const name = String(args.inputs.name);
                const keyId = `${shortHash(`${region}/${name}`, 8)}-0000-4000-8000-${shortHash(name, 12)}`;
                return {
                    id: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:${name}`,
                    arn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:${name}`,
                    name,
                    targetKeyId: keyId,
                    targetKeyArn: `arn:aws:kms:${region}:${MOCK_ACCOUNT_ID}:key/${keyId}`,
                };
            }
            default:
                throw new Error(`the offline plan has no mock for the data source ${args.token}`);
        }
    }

    private computed(type: string, name: string, inputs: Record<string, unknown>, id: string): Record<string, unknown> {
        const account = MOCK_ACCOUNT_ID;
        const service = type.split(":")[1]?.split("/")[0] ?? "x";
        const base: Record<string, unknown> = { arn: `arn:aws:${service}:${this.region}:${account}:${name}` };
        switch (type) {
            case "aws:ec2/subnet:Subnet":
                this.subnets.set(id, { cidr: String(inputs.cidrBlock), az: String(inputs.availabilityZone), used: new Set() });
                return base;
            case "aws:ec2/instance:Instance": {
                const subnet = this.subnets.get(String(inputs.subnetId));
                const privateIp = this.addressOf.get(name) ?? this.allocate(subnet, name);
                const publicIp = inputs.associatePublicIpAddress ? intToIp(ipToInt("203.0.113.0") + (ipToInt(privateIp) % 200) + 10) : "";
                return {
                    ...base,
                    privateIp,
                    publicIp,
                    privateDns: `ip-${privateIp.replace(/\./g, "-")}.${this.region}.compute.internal`,
                    availabilityZone: subnet?.az ?? `${this.region}a`,
                };
            }
            case "aws:ec2/eip:Eip":
                return { ...base, publicIp: intToIp(ipToInt("198.51.100.0") + (parseInt(shortHash(name, 4), 16) % 200) + 20), allocationId: id };
            case "aws:lb/loadBalancer:LoadBalancer":
                return {
                    ...base,
                    dnsName: `${name}-${parseInt(shortHash(name, 8), 16)}.${this.region}.elb.amazonaws.com`,
                    zoneId: "Z32O12XQLNTSW2",
                    arnSuffix: `app/${name}/${shortHash(name, 16)}`,
                };
            case "aws:lb/targetGroup:TargetGroup":
                return { ...base, arnSuffix: `targetgroup/${name}/${shortHash(name, 16)}` };
            case "aws:s3/bucket:Bucket": {
                const bucket = String(inputs.bucket ?? name);
                return { ...base, arn: `arn:aws:s3:::${bucket}`, bucket, bucketDomainName: `${bucket}.s3.amazonaws.com` };
            }
            case "aws:rds/instance:Instance": {
                const address = mockRdsAddress(name, this.region);
                const port = inputs.port ?? PORTS.postgres;
                return { ...base, address, port, endpoint: `${address}:${port}`, identifier: inputs.identifier ?? name };
            }
            case "aws:efs/fileSystem:FileSystem":
                return { ...base, dnsName: `${id}.efs.${this.region}.amazonaws.com` };
            case "aws:ec2/keyPair:KeyPair":
                return { ...base, keyName: name };
            case "aws:iam/role:Role":
            case "aws:iam/instanceProfile:InstanceProfile":
                return { ...base, arn: `arn:aws:iam::${account}:${type.endsWith("Role") ? "role" : "instance-profile"}/${name}`, name };
            case "aws:rds/subnetGroup:SubnetGroup":
            case "aws:rds/parameterGroup:ParameterGroup":
                return { ...base, name };
            case "command:remote:Command":
                return { stdout: "", stderr: "" };
            case "aws:sesv2/emailIdentity:EmailIdentity":
                // Easy DKIM: SES answers three tokens, the names of the domain's DKIM CNAME records.
                return {
                    ...base,
                    arn: `arn:aws:ses:${this.region}:${account}:identity/${String(inputs.emailIdentity)}`,
                    dkimSigningAttributes: { ...(inputs.dkimSigningAttributes as object), tokens: [1, 2, 3].map((i) => shortHash(`${name}-dkim-${i}`, 32)) },
                };
            // The elastic app layer (plone-aws:scaling): what the launch template's user data reads.
            case "aws:s3/bucketObjectv2:BucketObjectv2":
                return { ...base, versionId: shortHash(`${name}\0${String(inputs.content ?? "")}`, 32) };
            case "aws:ec2/launchTemplate:LaunchTemplate":
                return { ...base, latestVersion: 1 };
            case "aws:autoscaling/group:Group":
                return { ...base, name: inputs.name ?? name };
            // What EC2 Image Builder answers once the image is built: the AMI it made.
            case "aws:imagebuilder/image:Image":
                return {
                    ...base,
                    outputResources: [{ amis: [{ image: `ami-${shortHash(`${name}\0${String(inputs.imageRecipeArn)}`, 17)}`, region: this.region }] }],
                };
            default:
                return base;
        }
    }

    /** The region of an explicit aws provider ("<urn>::<id>" as an invoke names it), or the stack's. */
    private regionOf(provider: string | undefined): string {
        const name = provider?.split("::")[3];
        const region = name ? this.inputs.get(`pulumi:providers:aws::${name}`)?.inputs.region : undefined;
        return typeof region === "string" ? region : this.region;
    }

    /** An address inside the subnet for hosts the plan did not place. */
    private allocate(subnet: { cidr: string; used: Set<number> } | undefined, name: string): string {
        if (!subnet) return "10.255.255.254";
        const { base, size } = parseCidr(subnet.cidr);
        let n = 10 + (parseInt(shortHash(name, 6), 16) % Math.max(1, size - 20));
        while (subnet.used.has(n)) n = 10 + ((n - 9) % Math.max(1, size - 20));
        subnet.used.add(n);
        return intToIp(base + n);
    }
}

interface CaptureSink {
    options: Map<string, { urn: string; parent: string; custom: boolean; options: ResourceOptionsCapture }>;
    order: string[];
}

let sink: CaptureSink | undefined;

// Resource options (protect, parent, dependencies...) never reach the mocks' newResource: they are
// only on the registration request, so the monitor's registerResource is wrapped once to read them.
type RegisterRequest = {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProtect(): boolean | undefined;
    getRetainondelete(): boolean | undefined;
    getIgnorechangesList(): string[];
    getDependenciesList(): string[];
    getDeletedwith(): string;
    getDeletebeforereplace(): boolean;
    getPropertydependenciesMap(): { forEach(cb: (deps: { getUrnsList(): string[] }, key: string) => void): void };
    getAdditionalsecretoutputsList(): string[];
    getReplaceonchangesList(): string[];
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
    getAliasesList(): {
        getUrn(): string;
        getSpec(): { getName(): string; getType(): string; getParenturn(): string; getNoparent(): boolean } | undefined;
    }[];
    getProvider(): string;
};
const monitorPrototype = MockMonitor.prototype as unknown as {
    registerResource(req: RegisterRequest, cb: unknown): unknown;
    newUrn(parent: string, type: string, name: string): string;
    __ploneAwsCapture?: boolean;
};
if (!monitorPrototype.__ploneAwsCapture) {
    const original = monitorPrototype.registerResource;
    monitorPrototype.registerResource = function (this: typeof monitorPrototype, req: RegisterRequest, cb: unknown) {
        if (sink) {
            const key = `${req.getType()}::${req.getName()}`;
            const timeouts = req.getCustomtimeouts();
            const propertyDependencies: Record<string, string[]> = {};
            req.getPropertydependenciesMap().forEach((deps, input) => {
                if (deps.getUrnsList().length) propertyDependencies[input] = deps.getUrnsList();
            });
            sink.order.push(key);
            sink.options.set(key, {
                urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
                parent: req.getParent(),
                custom: req.getCustom(),
                options: {
                    protect: !!req.getProtect(),
                    retainOnDelete: !!req.getRetainondelete(),
                    ignoreChanges: req.getIgnorechangesList(),
                    dependencies: req.getDependenciesList(),
                    propertyDependencies,
                    deletedWith: req.getDeletedwith() || undefined,
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    aliases: req.getAliasesList().map((a) => {
                        const spec = a.getSpec();
                        if (a.getUrn() || !spec) return { urn: a.getUrn() };
                        return {
                            name: spec.getName() || undefined,
                            type: spec.getType() || undefined,
                            parentUrn: spec.getParenturn() || undefined,
                            noParent: spec.getNoparent() || undefined,
                        };
                    }),
                    provider: req.getProvider() || undefined,
                    customTimeouts:
                        timeouts && (timeouts.getCreate() || timeouts.getUpdate() || timeouts.getDelete())
                            ? {
                                  create: timeouts.getCreate() || undefined,
                                  update: timeouts.getUpdate() || undefined,
                                  delete: timeouts.getDelete() || undefined,
                              }
                            : undefined,
                },
            });
        }
        return original.call(this, req, cb);
    };
    monitorPrototype.__ploneAwsCapture = true;
}

async function settle<T>(value: T): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        return new Promise((resolve) =>
            (value as pulumi.Output<unknown>).apply((v) => {
                resolve(v);
                return v;
            }),
        );
    }
    return value;
}

/** Addresses the mock gives instances: the n-th host of a subnet gets .10+n, as in a fresh VPC. */
export type AddressPlan = Map<string, string>;

let running = false;

/**
 * Runs a program (the plone-aws program by default) under mocks with the given configuration.
 * Runs are serialised: Pulumi's runtime state is global to the process.
 */
export async function runOffline(
    config: OfflineConfig,
    options: { addresses?: AddressPlan; program?: () => StackOutputs | Record<string, unknown> } = {},
): Promise<OfflineRun> {
    if (running) throw new Error("runOffline is already running in this process: await the previous run");
    running = true;
    const capture: CaptureSink = { options: new Map(), order: [] };
    sink = capture;
    // Pulumi records a stack trace for every promise and resource (source positions, leak reports);
    // under ts-node each one is source-mapped: most of the plan's time on large stacks, and nothing
    // reads them offline. PLONE_AWS_DEBUG=1 keeps them, to debug the program itself.
    const errors = Error as { prepareStackTrace?: ErrorConstructor["prepareStackTrace"] };
    const prepareStackTrace = errors.prepareStackTrace;
    const stackTraceLimit = Error.stackTraceLimit;
    if (!process.env.PLONE_AWS_DEBUG) {
        errors.prepareStackTrace = undefined;
        Error.stackTraceLimit = 0;
    }
    try {
        pulumi.runtime.setAllConfig(config.raw, config.secretKeys);
        const cloud = new MockCloud(config.raw["aws:region"] ?? "us-east-1", options.addresses ?? new Map());
        await pulumi.runtime.setMocks(cloud, PROJECT, config.stackName, false);
        const outputs = (options.program ?? (() => ploneProgram({ offline: true })))();
        const settled: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(outputs)) settled[k] = await settle(v);
        await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();

        const resources: CapturedResource[] = capture.order.map((key) => {
            const reg = capture.options.get(key)!;
            const [type, name] = [key.slice(0, key.indexOf("::")), key.slice(key.indexOf("::") + 2)];
            const mock = cloud.inputs.get(key);
            return {
                urn: reg.urn,
                type,
                name,
                parent: reg.parent,
                custom: reg.custom,
                id: mock?.id,
                inputs: mock?.inputs ?? {},
                state: mock?.state ?? {},
                options: reg.options,
            };
        });
        return { stackName: config.stackName, resources, outputs: settled, invokes: cloud.invokes };
    } finally {
        errors.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
        sink = undefined;
        running = false;
    }
}

/**
 * The addresses a fresh VPC would most likely hand out: hosts take .10, .11, ... of their subnet in
 * the order of the stack file, the bastion comes after the hosts of its subnet. By host name
 * ("bastion" for the bastion the stack creates).
 */
export function plannedHostAddresses(spec: StackSpec): Record<string, string> {
    const topology = buildTopology(spec);
    const next = new Map<string, number>();
    const plan: Record<string, string> = {};
    const take = (tier: SubnetTier, az: number, host: string) => {
        const subnet = planSubnet(topology.vpcCidr, tier, az);
        const n = next.get(subnet.cidr) ?? 10;
        next.set(subnet.cidr, n + 1);
        plan[host] = intToIp(parseCidr(subnet.cidr).base + n);
    };
    for (const h of topology.hosts) take(h.subnet, h.az, h.name);
    if (topology.bastion?.kind === "created") take("public", 0, "bastion");
    return plan;
}

/** plannedHostAddresses keyed by the instance resource names PloneStack registers. */
export function addressPlan(spec: StackSpec): AddressPlan {
    return new Map(Object.entries(plannedHostAddresses(spec)).map(([host, ip]) => [`${spec.resourcePrefix}-${host}-instance`, ip]));
}
