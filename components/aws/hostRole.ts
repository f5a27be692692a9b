import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

export interface HostRoleArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** AWS managed policies attached to the role (none by default). */
    managedPolicyArns?: string[];
}

/**
 * The IAM role and instance profile every host runs with. Snapshots are taken by Data Lifecycle
 * Manager with a role of its own, so no host holds AWS keys. The role starts empty: the CloudWatch
 * agent (Monitoring) and the off-site copies (OffsiteBackups) add inline policies for exactly what
 * they use. No SSM: Debian's AMI has no SSM agent, so AmazonSSMManagedInstanceCore would grant
 * rights nothing uses; and CloudWatchAgentServerPolicy would let the agent recreate a log group
 * while the stack is being destroyed (logs:CreateLogGroup).
 */
export class HostRole extends pulumi.ComponentResource {
    public readonly role: aws.iam.Role;
    public readonly instanceProfile: aws.iam.InstanceProfile;

    constructor(name: string, args: HostRoleArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.hostRole, name, args, opts);
        const tags = resourceTags(args.stackName, name);
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `plone-aws ${args.stackName} hosts`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "ec2.amazonaws.com" } }],
                }),
                tags,
            },
            { parent: this },
        );
        for (const arn of args.managedPolicyArns ?? []) {
            new aws.iam.RolePolicyAttachment(`${name}-${arn.split("/").pop()}`, { role: this.role.name, policyArn: arn }, { parent: this });
        }
        this.instanceProfile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name, tags }, { parent: this });
        this.registerOutputs({ roleArn: this.role.arn, instanceProfileName: this.instanceProfile.name });
    }
}
