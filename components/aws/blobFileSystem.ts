import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

export interface BlobFileSystemArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** One subnet per AZ where the blob clients run; each gets a mount target. */
    subnetIds: pulumi.Input<string>[];
    /** The EFS security group (NFS from the blob clients only). */
    securityGroupId: pulumi.Input<string>;
    /** Production: protect the file system and keep it when the stack is destroyed. */
    protect: boolean;
}

/** EFS for the blobs: managed, multi-AZ, encrypted, backed up by AWS Backup. */
export class BlobFileSystem extends pulumi.ComponentResource {
    public readonly fileSystem: aws.efs.FileSystem;

    constructor(name: string, args: BlobFileSystemArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.blobFileSystem, name, args, opts);
        this.fileSystem = new aws.efs.FileSystem(
            `${name}-fs`,
            {
                encrypted: true,
                performanceMode: "generalPurpose",
                throughputMode: "elastic",
                lifecyclePolicies: [{ transitionToIa: "AFTER_30_DAYS" }],
                tags: resourceTags(args.stackName, name, "shared_blobs"),
            },
            { parent: this, protect: args.protect, retainOnDelete: args.protect },
        );
        args.subnetIds.forEach((subnetId, az) => {
            new aws.efs.MountTarget(
                `${name}-az${az}`,
                {
                    fileSystemId: this.fileSystem.id,
                    subnetId,
                    securityGroups: [args.securityGroupId],
                },
                { parent: this },
            );
        });
        new aws.efs.BackupPolicy(
            `${name}-backup`,
            {
                fileSystemId: this.fileSystem.id,
                backupPolicy: { status: "ENABLED" },
            },
            { parent: this },
        );
        this.registerOutputs({ fileSystemId: this.fileSystem.id, dnsName: this.fileSystem.dnsName });
    }
}
