// What every bucket of a stack gets, whatever it holds: object ownership by the bucket owner (ACLs
// off), all four public access blocks, default encryption with S3-managed keys (the only kind ALB
// log delivery writes to), and a bucket policy statement that refuses plain HTTP.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Ownership controls, public access block and default encryption of `bucket`, named after `name`. */
export function closeBucket(name: string, bucket: aws.s3.Bucket, opts: pulumi.CustomResourceOptions): void {
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
    new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
            bucket: bucket.id,
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        },
        opts,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        {
            bucket: bucket.id,
            rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
        },
        opts,
    );
}

/** The bucket policy statement that denies every request over plain HTTP. */
export function tlsOnlyStatement(bucketArn: string): Record<string, unknown> {
    return {
        Sid: "TlsOnly",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}
