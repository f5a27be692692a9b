import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resourceTags, SNAPSHOT_TAG } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

export interface SnapshotsArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** The plone-aws:snapshot tag value the data volumes carry. */
    tagValue: string;
    /** Daily snapshot time, HH:MM UTC. */
    time: string;
    /** Snapshots kept per volume. */
    retain: number;
    /** Copy each snapshot to another region, kept for retainDays. */
    crossRegionCopy?: { region: string; retainDays: number; kmsKeyArn?: string };
}

/** DLM's description and schedule names: letters, digits, spaces, "_" and "-" only (DLM API PolicyDescription, ScheduleName). */
export function dlmText(text: string): string {
    return text.replace(/[^0-9A-Za-z _-]+/g, "-");
}

/**
 * Daily EBS snapshots by Data Lifecycle Manager, selecting the volumes by tag. It replaces the
 * cookbook's ec2-snapshot cron job and the IAM user keys it needed.
 */
export class Snapshots extends pulumi.ComponentResource {
    public readonly policy: aws.dlm.LifecyclePolicy;

    constructor(name: string, args: SnapshotsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.snapshots, name, args, opts);
        const tags = resourceTags(args.stackName, name);
        const role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Data Lifecycle Manager for plone-aws ${args.stackName}`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "dlm.amazonaws.com" } }],
                }),
                tags,
            },
            { parent: this },
        );
        const attachment = new aws.iam.RolePolicyAttachment(
            `${name}-role`,
            {
                role: role.name,
                policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
            },
            { parent: this },
        );

        const copy = args.crossRegionCopy;
        this.policy = new aws.dlm.LifecyclePolicy(
            `${name}-policy`,
            {
                description: dlmText(`plone-aws ${args.stackName} daily data volume snapshots`),
                executionRoleArn: role.arn,
                state: "ENABLED",
                policyDetails: {
                    policyType: "EBS_SNAPSHOT_MANAGEMENT",
                    resourceTypes: ["VOLUME"],
                    targetTags: { [SNAPSHOT_TAG]: args.tagValue },
                    schedules: [
                        {
                            name: dlmText(`daily at ${args.time.replace(":", "")} UTC keep ${args.retain}`),
                            copyTags: true,
                            tagsToAdd: { "plone-aws:snapshot-by": "dlm" },
                            createRule: { interval: 24, intervalUnit: "HOURS", times: args.time },
                            retainRule: { count: args.retain },
                            crossRegionCopyRules: copy
                                ? [
                                      {
                                          target: copy.region,
                                          encrypted: true,
                                          cmkArn: copy.kmsKeyArn,
                                          copyTags: true,
                                          retainRule: { interval: copy.retainDays, intervalUnit: "DAYS" },
                                      },
                                  ]
                                : undefined,
                        },
                    ],
                },
                tags,
            },
            { parent: this, dependsOn: [attachment] },
        );
        this.registerOutputs({ policyArn: this.policy.arn });
    }
}
