// Fake analyzer arguments for the plone-guard rules: what the policy server hands a resource policy
// (inputs of one resource) or a stack policy (outputs of all, linked by parent and property
// dependencies), with the server's props proxy and the policy's configSchema defaults applied.
import type {
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";
import { defaultPolicyConfig, JsonSchema, PolicyInfo, validateValue } from "../../scripts/lib/plan/policyConfig";
import { SECURITY_GROUP_TAG, TYPES } from "../../policies/rules/common";

// The analyzer's own proxy: reading a value that is unknown during preview throws, as in the server.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- proxy.d.ts declares nothing: the module is internal to @pulumi/policy
const proxy: { unknownCheckingProxy<T extends object>(target: T): T } = require("@pulumi/policy/proxy");

/** What `pulumi preview` sends for a string that is not known yet (an id of a resource to be created). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export interface Violation {
    message: string;
    urn?: string;
}

type Props = Record<string, unknown>;

function infoOf(policy: ResourceValidationPolicy | StackValidationPolicy): PolicyInfo {
    return {
        name: policy.name,
        description: policy.description,
        enforcementLevel: policy.enforcementLevel ?? "advisory",
        configSchema: policy.configSchema && {
            properties: policy.configSchema.properties as Record<string, JsonSchema>,
            required: policy.configSchema.required,
        },
    };
}

/** The policy's settings as the CLI would pass them: schema defaults, then the test's overrides (validated). */
export function configOf(policy: ResourceValidationPolicy | StackValidationPolicy, overrides: Props = {}): Props {
    const info = infoOf(policy);
    const properties = { ...defaultPolicyConfig(info).properties, ...overrides };
    for (const [key, value] of Object.entries(overrides)) {
        const schema = info.configSchema?.properties[key];
        if (!schema) throw new Error(`${policy.name} has no setting ${key}`);
        const errors = validateValue(value, schema, `${policy.name}.${key}`);
        if (errors.length) throw new Error(errors.join("; "));
    }
    return properties;
}

const NO_OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export interface FakeOptions {
    name?: string;
    /** The component it was registered in (plone-aws:host:Host, ...), which goes into its URN. */
    parentType?: string;
    protect?: boolean;
    /** The policy's settings beyond its defaults. */
    config?: Props;
}

export function urnOf(type: string, name: string, parentType?: string): string {
    return `urn:pulumi:test::plone-aws::${parentType ? `${parentType}$` : ""}${type}::${name}`;
}

function isTypeOf(type: string) {
    return (cls: { __pulumiType?: string } | object): boolean => (cls as { __pulumiType?: string }).__pulumiType === type;
}

/** The arguments a resource policy gets for one resource. */
export function resourceArgs(type: string, props: Props, options: FakeOptions = {}): ResourceValidationArgs {
    const name = options.name ?? "test-resource";
    const wrapped = proxy.unknownCheckingProxy(structuredClone(props));
    const policyConfig = options.config ?? {};
    return {
        type,
        name,
        urn: urnOf(type, name, options.parentType),
        props: wrapped,
        opts: { ...NO_OPTIONS, protect: options.protect ?? false },
        stackTags: new Map(),
        isType: isTypeOf(type),
        asType: (cls) => (isTypeOf(type)(cls) ? (wrapped as never) : undefined),
        getConfig: <T extends object>() => policyConfig as T,
        notApplicable: (reason?: string) => {
            throw new Error(`not applicable: ${reason ?? ""}`);
        },
    };
}

/** Runs a resource policy as the server does: the type fast path, every validation, violations collected. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, type: string, props: Props, options: FakeOptions = {}): Promise<Violation[]> {
    const args = resourceArgs(type, props, { ...options, config: configOf(policy, options.config) });
    const validations: ResourceValidation[] = Array.isArray(policy.validateResource)
        ? policy.validateResource
        : policy.validateResource
          ? [policy.validateResource]
          : [];
    const typed = validations.length === 1 ? (validations[0] as { __pulumiType?: string }).__pulumiType : undefined;
    if (typed && typed !== type) return [];
    const violations: Violation[] = [];
    for (const validate of validations) {
        await validate(args, (message, urn) => violations.push({ message, urn }));
    }
    return violations;
}

/** A stack of fake resources for stack policies, with parents and property dependencies by object. */
export class FakeStack {
    public readonly resources: PolicyResource[] = [];

    add(
        type: string,
        name: string,
        props: Props,
        options: { parentType?: string; dependsOn?: Record<string, PolicyResource[]>; protect?: boolean } = {},
    ): PolicyResource {
        const wrapped = proxy.unknownCheckingProxy(structuredClone(props));
        const deps = options.dependsOn ?? {};
        const resource: PolicyResource = {
            type,
            name,
            urn: urnOf(type, name, options.parentType),
            props: wrapped,
            opts: { ...NO_OPTIONS, protect: options.protect ?? false },
            dependencies: [...new Set(Object.values(deps).flat())],
            propertyDependencies: deps,
            isType: isTypeOf(type),
            asType: (cls) => (isTypeOf(type)(cls) ? (wrapped as never) : undefined),
        };
        this.resources.push(resource);
        return resource;
    }

    /** A security group with its plone-aws:security-group role. */
    group(role: string, name = `test-network-${role}`): PolicyResource {
        return this.add(TYPES.securityGroup, name, { description: role, tags: { [SECURITY_GROUP_TAG]: role, "plone-aws:stack": "test" } });
    }

    /** An aws.vpc.SecurityGroupIngressRule on `group`, from a CIDR or another group. */
    ingress(
        group: PolicyResource,
        port: number | [number, number],
        source: string | PolicyResource,
        options: { protocol?: string; name?: string } = {},
    ): PolicyResource {
        const [fromPort, toPort] = typeof port === "number" ? [port, port] : port;
        const fromGroup = typeof source !== "string";
        const name = options.name ?? `${group.name}-${fromPort}-from-${fromGroup ? source.name : source}`;
        return this.add(
            TYPES.ingressRule,
            name,
            {
                securityGroupId: `sg-${group.name}`,
                ipProtocol: options.protocol ?? "tcp",
                fromPort,
                toPort,
                ...(fromGroup ? { referencedSecurityGroupId: `sg-${source.name}` } : source.includes(":") ? { cidrIpv6: source } : { cidrIpv4: source }),
            },
            { dependsOn: { securityGroupId: [group], ...(fromGroup ? { referencedSecurityGroupId: [source] } : {}) } },
        );
    }

    async run(policy: StackValidationPolicy, config: Props = {}): Promise<Violation[]> {
        const violations: Violation[] = [];
        const settings = configOf(policy, config);
        await policy.validateStack(
            {
                resources: this.resources,
                stackTags: new Map(),
                getConfig: <T extends object>() => settings as T,
                notApplicable: (reason?: string) => {
                    throw new Error(`not applicable: ${reason ?? ""}`);
                },
            },
            (message, urn) => violations.push({ message, urn }),
        );
        return violations;
    }
}
