import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { elbLogDeliveryPrincipal, S3_LOG_DELIVERY_SERVICE } from "./elbLogDelivery";
import { closeBucket, tlsOnlyStatement } from "./privateBucket";
import { resourceTags } from "./tags";
import { COMPONENT_TYPES } from "./typeTokens";

/** Where the load balancer writes under the log bucket: "<stack>/alb" (ALB adds AWSLogs/<account>/elasticloadbalancing/<region>/...). */
export function albLogPrefix(stackName: string): string {
    return `${stackName}/alb`;
}

/** Where S3 writes the server access logs of one of the stack's buckets: "<stack>/s3/<bucket>/". */
export function s3LogPrefix(stackName: string, bucketName: string): string {
    return `${stackName}/s3/${bucketName}/`;
}

export interface AccessLogBucketArgs {
    /** Stack name: the plone-aws:stack tag and the key prefix of every log. */
    stackName: string;
    /** The bucket's name. */
    bucketName: pulumi.Input<string>;
    /** The bucket's region: ALB log delivery's principal differs by region. */
    region: string;
    /** The stack's account: log delivery writes only for it (aws:SourceAccount, the ALB's AWSLogs/<account>/). */
    accountId: pulumi.Input<string>;
    /** Days a log object is kept before it expires (monitoring.accessLogs.expireDays). */
    expireDays: number;
    /** The stack's load balancer writes its access logs here (only the bucket in the stack's region). */
    loadBalancerLogs: boolean;
    /** Buckets whose S3 server access logs go here (same region and account, as S3 requires). */
    s3LogSources: pulumi.Input<string>[];
    /** Production: Pulumi protects the bucket from deletion. */
    protect: boolean;
}

/**
 * A stack's access log bucket in one region: private (ACLs off, public access blocked, TLS only),
 * encrypted with S3-managed keys (ALB log delivery writes to no other kind), versioned so a deleted
 * log can be recovered for 30 days, every log expiring after expireDays; its policy lets ALB log
 * delivery write under "<stack>/alb" and S3 log delivery under "<stack>/s3/", for the stack's account only.
 */
export class AccessLogBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    /** The bucket policy. */
    public readonly policy: aws.s3.BucketPolicy;
    /**
     * The bucket's name once its policy is in place: log delivery checks that it may write when
     * logging is switched on, so whatever logs here takes the name from this output (and so depends on the policy).
     */
    public readonly deliveryBucketName: pulumi.Output<string>;

    constructor(name: string, args: AccessLogBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.accessLogBucket, name, args, opts);
        const tags = resourceTags(args.stackName, name);
        const child = { parent: this };
        this.bucket = new aws.s3.Bucket(
            name,
            { bucket: args.bucketName, forceDestroy: false, tags: { ...tags, Name: name } },
            { ...child, protect: args.protect },
        );
        closeBucket(name, this.bucket, child);
        const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: this.bucket.id, versioningConfiguration: { status: "Enabled" } }, child);
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: this.bucket.id,
                rules: [
                    {
                        id: "expire-logs",
                        status: "Enabled",
                        filter: { prefix: "" },
                        expiration: { days: args.expireDays },
                        noncurrentVersionExpiration: { noncurrentDays: 30 },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
                    },
                ],
            },
            { ...child, dependsOn: [versioning] },
        );
        this.policy = new aws.s3.BucketPolicy(
            `${name}-policy`,
            {
                bucket: this.bucket.id,
                policy: pulumi
                    .all([this.bucket.arn, args.accountId, pulumi.all(args.s3LogSources)])
                    .apply(([arn, account, sources]) => logBucketPolicy(arn, account, args.stackName, args.region, args.loadBalancerLogs, sources)),
            },
            child,
        );
        this.deliveryBucketName = pulumi.all([this.bucket.bucket, this.policy.id]).apply(([bucket]) => bucket);
        this.registerOutputs({ bucketName: this.bucket.bucket });
    }
}

/**
 * The log bucket's policy: TLS only; ALB log delivery may put objects under
 * "<stack>/alb/AWSLogs/<account>/"; S3 log delivery under "<stack>/s3/" for the listed source buckets
 * of the account (the conditions AWS recommends against the confused deputy).
 */
export function logBucketPolicy(
    bucketArn: string,
    accountId: string,
    stackName: string,
    region: string,
    loadBalancerLogs: boolean,
    s3LogSources: string[],
): string {
    const statements: Record<string, unknown>[] = [tlsOnlyStatement(bucketArn)];
    if (loadBalancerLogs) {
        statements.push({
            Sid: "LoadBalancerLogDelivery",
            Effect: "Allow",
            Principal: elbLogDeliveryPrincipal(region),
            Action: "s3:PutObject",
            Resource: `${bucketArn}/${albLogPrefix(stackName)}/AWSLogs/${accountId}/*`,
        });
    }
    if (s3LogSources.length > 0) {
        statements.push({
            Sid: "S3ServerAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: S3_LOG_DELIVERY_SERVICE },
            Action: "s3:PutObject",
            Resource: `${bucketArn}/${stackName}/s3/*`,
            Condition: {
                ArnLike: { "aws:SourceArn": s3LogSources.map((b) => `${bucketArn.replace(/:::.*$/, ":::")}${b}`) },
                StringEquals: { "aws:SourceAccount": accountId },
            },
        });
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}
