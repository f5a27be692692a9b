import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseSpec } from "../config/spec";
import { resourceTags } from "./tags";
import { shortHash } from "./names";
import { COMPONENT_TYPES } from "./typeTokens";
import { regionalProvider } from "./providers";

export interface DatabaseArgs {
    /** Stack name, for the plone-aws:stack tag. */
    stackName: string;
    /** Engine, size, Multi-AZ, backups and protection, from plone-aws:database. */
    settings: DatabaseSpec;
    /** Private subnets, one per AZ (Multi-AZ needs at least two). */
    subnetIds: pulumi.Input<string>[];
    /** The database security group (PostgreSQL from the Zope clients only). */
    securityGroupId: pulumi.Input<string>;
    /** The master password (plone-aws:dbPassword), also used by RelStorage. */
    password: pulumi.Input<string>;
    /** Production: protect the instance from deletion by Pulumi as well. */
    protect: boolean;
    /**
     * Replicate the automated backups to this region (snapshots.crossRegionCopy.region), kept
     * retentionDays, encrypted with kmsKeyArn or the destination region's aws/rds key.
     */
    backupReplication?: { region: string; retentionDays: number; kmsKeyArn?: string };
}

/**
 * The final snapshot of an RDS instance is named once per instance: the inputs that replace the
 * instance (rds/instance.go in terraform-provider-aws: ForceNew) are part of the name, so a second
 * replacement does not fail on the snapshot the first one left.
 */
export function finalSnapshotName(name: string, s: Pick<DatabaseSpec, "name" | "user">): string {
    return `${name}-final-${shortHash(["postgres", s.name, s.user, "encrypted"].join("\0"))}`;
}

/** RDS PostgreSQL for RelStorage: encrypted, private, Multi-AZ, backed up. */
export class Database extends pulumi.ComponentResource {
    public readonly instance: aws.rds.Instance;
    /** The replication of the automated backups to the snapshot copy region, when there is one. */
    public readonly backupReplication?: aws.rds.InstanceAutomatedBackupsReplication;

    constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.database, name, args, opts);
        const s = args.settings;
        const tags = resourceTags(args.stackName, name);
        const major = s.engineVersion.split(".")[0];

        const subnetGroup = new aws.rds.SubnetGroup(
            `${name}-subnets`,
            {
                subnetIds: args.subnetIds,
                description: `plone-aws ${args.stackName} RelStorage`,
                tags,
            },
            { parent: this },
        );
        // A new major version needs a new family: the group is replaced (before the old one goes),
        // and the instance moves to it in the same modification as the upgrade.
        const parameters = new aws.rds.ParameterGroup(
            `${name}-params`,
            {
                family: `postgres${major}`,
                description: `plone-aws ${args.stackName} RelStorage`,
                parameters: [
                    // RelStorage's commit lock waits show up as slow statements; log them.
                    { name: "log_min_duration_statement", value: "2000" },
                ],
                tags,
            },
            { parent: this },
        );

        this.instance = new aws.rds.Instance(
            `${name}-instance`,
            {
                engine: "postgres",
                engineVersion: s.engineVersion,
                instanceClass: s.instanceClass,
                allocatedStorage: s.allocatedStorage,
                maxAllocatedStorage: s.maxAllocatedStorage,
                storageType: "gp3",
                storageEncrypted: true,
                dbName: s.name,
                username: s.user,
                password: args.password,
                port: s.port,
                multiAz: s.multiAz,
                dbSubnetGroupName: subnetGroup.name,
                parameterGroupName: parameters.name,
                vpcSecurityGroupIds: [args.securityGroupId],
                publiclyAccessible: false,
                backupRetentionPeriod: s.backupRetentionDays,
                backupWindow: s.backupWindow,
                maintenanceWindow: s.maintenanceWindow,
                copyTagsToSnapshot: true,
                autoMinorVersionUpgrade: true,
                // Off unless the stack asks for it (docs/operations.md, "Upgrade PostgreSQL").
                allowMajorVersionUpgrade: s.allowMajorVersionUpgrade,
                applyImmediately: s.applyImmediately,
                deletionProtection: s.deletionProtection,
                skipFinalSnapshot: !s.finalSnapshot,
                finalSnapshotIdentifier: s.finalSnapshot ? finalSnapshotName(name, s) : undefined,
                performanceInsightsEnabled: true,
                tags,
            },
            { parent: this, protect: args.protect, customTimeouts: { create: "60m", update: "80m", delete: "60m" } },
        );

        const replication = args.backupReplication;
        if (replication) {
            // Created in the destination region: the provider of that region, with the stack's credentials.
            const provider = regionalProvider(`${name}-backup-region`, replication.region, { parent: this });
            // The instance is encrypted, so RDS needs a key in the destination region (KMS keys are regional).
            const kmsKeyId = replication.kmsKeyArn ?? aws.kms.getAliasOutput({ name: "alias/aws/rds" }, { parent: this, provider }).targetKeyArn;
            this.backupReplication = new aws.rds.InstanceAutomatedBackupsReplication(
                `${name}-backup-replication`,
                { sourceDbInstanceArn: this.instance.arn, retentionPeriod: replication.retentionDays, kmsKeyId },
                { parent: this, provider, customTimeouts: { create: "75m", delete: "75m" } },
            );
        }

        this.registerOutputs({ address: this.instance.address, port: this.instance.port });
    }
}
