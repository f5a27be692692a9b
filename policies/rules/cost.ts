// Cost guard: the instance types and database classes a stack may run, per stack in its policy
// config. Advisory by default: a bigger type is a review question, not an outage.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { forType, known, matchesPattern, TYPES } from "./common";

type InstanceProps = Unwrap<aws.ec2.InstanceArgs>;
type LaunchTemplateProps = Unwrap<aws.ec2.LaunchTemplateArgs>;
type RdsProps = Unwrap<aws.rds.InstanceArgs>;

interface CostConfig {
    allowedInstanceTypes: string[];
    allowedDbInstanceClasses: string[];
}

/** Current general-purpose, compute and memory families up to 2xlarge. */
export const DEFAULT_INSTANCE_TYPES = [
    "t3.*",
    "t3a.*",
    "t4g.*",
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
    "m7i.large",
    "m7i.xlarge",
    "m7i.2xlarge",
    "m6g.large",
    "m6g.xlarge",
    "m7g.large",
    "m7g.xlarge",
    "c6i.large",
    "c6i.xlarge",
    "c6i.2xlarge",
    "c7i.large",
    "c7i.xlarge",
    "c7i.2xlarge",
    "c6g.large",
    "c6g.xlarge",
    "c7g.large",
    "c7g.xlarge",
    "r6i.large",
    "r6i.xlarge",
    "r7i.large",
    "r7i.xlarge",
    "r6g.large",
    "r7g.large",
];
export const DEFAULT_DB_INSTANCE_CLASSES = ["db.t4g.*", "db.m6g.large", "db.m6g.xlarge", "db.m7g.large", "db.m7g.xlarge", "db.r6g.large", "db.r7g.large"];

function report(kind: string, value: unknown, allowed: string[], name: string, key: string): string | undefined {
    if (typeof value !== "string" || matchesPattern(value, allowed)) return undefined;
    return (
        `${name} is a ${value}, which this stack's policy config does not allow (${kind}: ${allowed.join(", ")}): ` +
        `pick an allowed one in ${key}, or widen instance-types-allowed in the stack's policy config after a cost review.`
    );
}

export const instanceTypesAllowed: ResourceValidationPolicy = {
    name: "instance-types-allowed",
    description: "EC2 instance types and RDS instance classes are within the stack's allowed list (cost guard).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            allowedInstanceTypes: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                default: DEFAULT_INSTANCE_TYPES,
                description: "EC2 instance types, * matching any text (t3.*).",
            },
            allowedDbInstanceClasses: {
                type: "array",
                items: { type: "string" },
                minItems: 1,
                default: DEFAULT_DB_INSTANCE_CLASSES,
                description: "RDS instance classes, * matching any text.",
            },
        },
    },
    validateResource: [
        forType<InstanceProps>(TYPES.instance, (instance, args, reportViolation) => {
            const message = report(
                "instance types",
                known(() => instance.instanceType),
                args.getConfig<CostConfig>().allowedInstanceTypes,
                args.name,
                "plone-aws:hosts (instanceType)",
            );
            if (message) reportViolation(message);
        }),
        forType<LaunchTemplateProps>(TYPES.launchTemplate, (template, args, reportViolation) => {
            const message = report(
                "instance types",
                known(() => template.instanceType),
                args.getConfig<CostConfig>().allowedInstanceTypes,
                args.name,
                "the launch template",
            );
            if (message) reportViolation(message);
        }),
        forType<RdsProps>(TYPES.rdsInstance, (db, args, reportViolation) => {
            const message = report(
                "database classes",
                known(() => db.instanceClass),
                args.getConfig<CostConfig>().allowedDbInstanceClasses,
                args.name,
                "plone-aws:database.instanceClass",
            );
            if (message) reportViolation(message);
        }),
    ],
};
