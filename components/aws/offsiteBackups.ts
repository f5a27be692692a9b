import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { OffsiteBackupsConfig } from "../config/schema";
import { resourceTags } from "./tags";
import { regionalProvider } from "./providers";
import { COMPONENT_TYPES } from "./typeTokens";
import { closeBucket, tlsOnlyStatement } from "./privateBucket";
import { AccessLogBucket, s3LogPrefix } from "./accessLogBucket";

export interface OffsiteBackupsArgs {
    /** Stack name: the plone-aws:stack tag, and the key prefix the hosts write under. */
    stackName: string;
    /** offsiteBackups from the stack configuration. */
    settings: OffsiteBackupsConfig;
    /** The bucket the stack writes to: created here unless settings.bucket names an existing one. */
    bucketName: pulumi.Input<string>;
    /** Buckets of the stacks in settings.restoreFrom (read-only for the hosts), by stack name. */
    sourceBuckets: pulumi.Input<Record<string, string>>;
    /** The host role, which gets write access to the stack's prefix and read access to the sources'. */
    hostRoleName: pulumi.Input<string>;
    /** Production: Pulumi protects the buckets from deletion. */
    protect: boolean;
    /**
     * S3 server access logging of the buckets created here: the primary's into the stack's log
     * bucket; the replica's into a log bucket created here in the replica's region (S3 logs only
     * into a bucket of the same region).
     */
    accessLogs?: {
        /** The stack's log bucket (in the stack's region, its policy admitting the primary bucket): AccessLogBucket.deliveryBucketName. */
        bucketName: pulumi.Input<string>;
        /** The stack's account, for the replica log bucket's policy. */
        accountId: pulumi.Input<string>;
        /** monitoring.accessLogs.expireDays, for the replica log bucket. */
        expireDays: number;
    };
}

/** Name of the replica bucket in another region (S3 names are at most 63 characters). */
export function replicaBucketName(bucketName: string, region: string): string {
    const suffix = `-${region}`;
    return `${bucketName.slice(0, 63 - suffix.length)}${suffix}`;
}

/**
 * The off-site copies of a stack's backups: an S3 bucket that is private (public access blocked,
 * ACLs off, TLS only), encrypted, versioned, with a lifecycle to cheaper storage classes and
 * optionally replicated to a bucket in a second region; and the part of the host role that lets the
 * hosts write only under "<stack>/" (and read the prefixes of offsiteBackups.restoreFrom).
 */
export class OffsiteBackups extends pulumi.ComponentResource {
    /** The bucket the stack created, when it created one. */
    public readonly bucket?: aws.s3.Bucket;
    public readonly replica?: aws.s3.Bucket;
    /** The name of the bucket the hosts write to. */
    public readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: OffsiteBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.offsiteBackups, name, args, opts);
        const s = args.settings;
        const tags = resourceTags(args.stackName, name);
        const create = s.enabled && !s.bucket;
        this.bucketName = pulumi.output(args.bucketName);

        if (create) {
            const primary = this.privateBucket(`${name}-bucket`, args.bucketName, s, tags, { parent: this, protect: args.protect });
            this.bucket = primary.bucket;
            const logs = args.accessLogs;
            if (logs) this.logTo(`${name}-bucket`, primary.bucket, args.bucketName, logs.bucketName, args.stackName, {});
            if (s.replicaRegion) {
                const region = s.replicaRegion;
                const provider = regionalProvider(`${name}-replica-region`, region, { parent: this });
                const replicaName = pulumi.output(args.bucketName).apply((b) => replicaBucketName(b, region));
                const replica = this.privateBucket(`${name}-replica`, replicaName, s, tags, { parent: this, protect: args.protect, provider });
                this.replica = replica.bucket;
                this.replicate(name, primary, replica, tags);
                if (logs) {
                    const replicaLogs = new AccessLogBucket(
                        `${name}-replica-logs`,
                        {
                            stackName: args.stackName,
                            bucketName: pulumi.output(logs.bucketName).apply((b) => replicaBucketName(b, region)),
                            region,
                            accountId: logs.accountId,
                            expireDays: logs.expireDays,
                            loadBalancerLogs: false,
                            s3LogSources: [replicaName],
                            protect: args.protect,
                        },
                        { parent: this, provider },
                    );
                    this.logTo(`${name}-replica`, replica.bucket, replicaName, replicaLogs.deliveryBucketName, args.stackName, { provider });
                }
            }
        }

        // The hosts' access: write and prune under "<stack>/" of the bucket they write to, read the sources.
        const policy = pulumi
            .all([args.bucketName, args.sourceBuckets])
            .apply(([bucket, sources]) => hostAccessPolicy(args.stackName, s.enabled ? bucket : undefined, sources));
        new aws.iam.RolePolicy(`${name}-host-access`, { role: args.hostRoleName, policy }, { parent: this });

        this.registerOutputs({ bucketName: this.bucketName, replicaBucketName: this.replica?.bucket });
    }

    private privateBucket(
        name: string,
        bucketName: pulumi.Input<string>,
        s: OffsiteBackupsConfig,
        tags: Record<string, string>,
        opts: pulumi.CustomResourceOptions,
    ): { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning } {
        const child = { parent: this, provider: opts.provider };
        const bucket = new aws.s3.Bucket(name, { bucket: bucketName, forceDestroy: false, tags: { ...tags, Name: name } }, opts);
        closeBucket(name, bucket, child);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: bucket.id,
                rules: [
                    {
                        id: "cheaper-storage",
                        status: "Enabled",
                        filter: { prefix: "" },
                        // Glacier Instant Retrieval: a restore needs no thaw.
                        transitions: [
                            { days: s.infrequentAccessDays, storageClass: "STANDARD_IA" },
                            { days: s.glacierDays, storageClass: "GLACIER_IR" },
                        ],
                        noncurrentVersionTransitions: [{ noncurrentDays: 30, storageClass: "GLACIER_IR" }],
                        noncurrentVersionExpiration: { noncurrentDays: s.noncurrentDays },
                        expiration: { expiredObjectDeleteMarker: true },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { ...child, dependsOn: [versioning] },
        );
        new aws.s3.BucketPolicy(
            `${name}-tls-only`,
            {
                bucket: bucket.id,
                policy: bucket.arn.apply((arn) => JSON.stringify({ Version: "2012-10-17", Statement: [tlsOnlyStatement(arn)] })),
            },
            child,
        );
        return { bucket, versioning };
    }

    /** S3 server access logging of `bucket` into the log bucket (whose policy must admit it), under "<stack>/s3/<bucket name>/". */
    private logTo(
        name: string,
        bucket: aws.s3.Bucket,
        bucketName: pulumi.Input<string>,
        logBucketName: pulumi.Input<string>,
        stackName: string,
        opts: pulumi.CustomResourceOptions,
    ): void {
        new aws.s3.BucketLogging(
            `${name}-access-logging`,
            {
                bucket: bucket.id,
                targetBucket: logBucketName,
                targetPrefix: pulumi.output(bucketName).apply((b) => s3LogPrefix(stackName, b)),
            },
            { ...opts, parent: this },
        );
    }

    private replicate(
        name: string,
        primary: { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning },
        replica: { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning },
        tags: Record<string, string>,
    ): void {
        const role = new aws.iam.Role(
            `${name}-replication-role`,
            {
                description: `S3 replication of ${name} to its replica`,
                assumeRolePolicy: JSON.stringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "s3.amazonaws.com" } }],
                }),
                tags: { ...tags, Name: `${name}-replication-role` },
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-replication-access`,
            {
                role: role.name,
                policy: pulumi.all([primary.bucket.arn, replica.bucket.arn]).apply(([source, target]) =>
                    JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            { Effect: "Allow", Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"], Resource: [source] },
                            {
                                Effect: "Allow",
                                Action: ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                                Resource: [`${source}/*`],
                            },
                            { Effect: "Allow", Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], Resource: [`${target}/*`] },
                        ],
                    }),
                ),
            },
            { parent: this },
        );
        new aws.s3.BucketReplicationConfig(
            `${name}-replication`,
            {
                bucket: primary.bucket.id,
                role: role.arn,
                rules: [
                    {
                        id: "replica",
                        status: "Enabled",
                        filter: { prefix: "" },
                        deleteMarkerReplication: { status: "Enabled" },
                        destination: { bucket: replica.bucket.arn, storageClass: "STANDARD_IA" },
                    },
                ],
            },
            { parent: this, dependsOn: [primary.versioning, replica.versioning] },
        );
    }
}

/**
 * The hosts' S3 permissions: everything under "<stack>/" of the bucket they write to (objects only:
 * put, get, delete for the pruning of old repozo files), and reading under "<source>/" of each
 * source bucket. Nothing else of any bucket.
 */
export function hostAccessPolicy(stackName: string, bucket: string | undefined, sources: Record<string, string>): string {
    const statements: Record<string, unknown>[] = [];
    if (bucket) {
        statements.push(
            {
                Sid: "ListOwnPrefix",
                Effect: "Allow",
                Action: "s3:ListBucket",
                Resource: `arn:aws:s3:::${bucket}`,
                Condition: { StringLike: { "s3:prefix": [`${stackName}/*`] } },
            },
            {
                Sid: "WriteOwnPrefix",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                Resource: `arn:aws:s3:::${bucket}/${stackName}/*`,
            },
        );
    }
    Object.entries(sources).forEach(([stack, source], i) => {
        if (bucket && stack === stackName && source === bucket) return;
        statements.push(
            {
                Sid: `ListSource${i}`,
                Effect: "Allow",
                Action: "s3:ListBucket",
                Resource: `arn:aws:s3:::${source}`,
                Condition: { StringLike: { "s3:prefix": [`${stack}/*`] } },
            },
            { Sid: `ReadSource${i}`, Effect: "Allow", Action: "s3:GetObject", Resource: `arn:aws:s3:::${source}/${stack}/*` },
        );
    });
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
