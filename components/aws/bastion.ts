import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

export interface BastionArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    instanceType: string;
    /** A public subnet. */
    subnetId: pulumi.Input<string>;
    /** The bastion security group (SSH from the admin CIDRs). */
    securityGroupId: pulumi.Input<string>;
    amiId: pulumi.Input<string>;
    keyName: pulumi.Input<string>;
}

/** The SSH jump host through which `pulumi up` and operators reach the private hosts. */
export class Bastion extends pulumi.ComponentResource {
    public readonly instance: aws.ec2.Instance;
    /** The bastion's public (Elastic) IP. */
    public readonly address: pulumi.Output<string>;

    constructor(name: string, args: BastionArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.bastion, name, args, opts);
        const tags = resourceTags(args.stackName, name);
        this.instance = new aws.ec2.Instance(
            `${name}-instance`,
            {
                ami: args.amiId,
                instanceType: args.instanceType,
                subnetId: args.subnetId,
                vpcSecurityGroupIds: [args.securityGroupId],
                keyName: args.keyName,
                metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
                rootBlockDevice: { volumeType: "gp3", volumeSize: 8, encrypted: true, deleteOnTermination: true, tags },
                maintenanceOptions: { autoRecovery: "default" },
                tags,
                // Not keyName: a rotated key replaces the bastion (it holds nothing), which then accepts
                // only the new key; the hosts behind it keep running (docs/operations.md, "Rotate the SSH key").
            },
            { parent: this, ignoreChanges: ["ami"] },
        );
        const eip = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", instance: this.instance.id, tags }, { parent: this });
        this.address = eip.publicIp;
        this.registerOutputs({ address: this.address });
    }
}
