// The off-site backups: the S3 buckets a stack creates hold copies of the whole site (its database
// backups and its blobs), so each one is encrypted, versioned (an overwrite or a deletion can be
// undone) and closed to the public.
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { isUnknown, known } from "./common";

type BucketProps = Unwrap<aws.s3.BucketArgs>;
type EncryptionProps = Unwrap<aws.s3.BucketServerSideEncryptionConfigurationArgs>;
type VersioningProps = Unwrap<aws.s3.BucketVersioningArgs>;
type PublicAccessProps = Unwrap<aws.s3.BucketPublicAccessBlockArgs>;
type AclProps = Unwrap<aws.s3.BucketAclArgs>;

export const S3_TYPES = {
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    encryption: [
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    ],
    versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    acl: ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"],
} as const;

const ENCRYPTIONS = ["AES256", "aws:kms", "aws:kms:dsse"];
const PUBLIC_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const BLOCKS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

/** The resources of a type whose `bucket` input came from this bucket (their property dependency). */
function configuring(resources: PolicyResource[], types: readonly string[], bucket: PolicyResource): PolicyResource[] {
    return resources.filter((r) => types.includes(r.type) && (r.propertyDependencies.bucket ?? []).some((d) => d.urn === bucket.urn));
}

function list<T>(value: T[] | undefined): T[] {
    return Array.isArray(value) ? value : [];
}

/** Why a bucket is not encrypted by its own configuration, or undefined when it is. */
function encryptionProblem(resources: PolicyResource[], bucket: PolicyResource): string | undefined {
    const props = bucket.props as BucketProps;
    const inline = known(() => props.serverSideEncryptionConfiguration?.rule?.applyServerSideEncryptionByDefault?.sseAlgorithm);
    if (typeof inline === "string" && ENCRYPTIONS.includes(inline)) return undefined;
    const configs = configuring(resources, S3_TYPES.encryption, bucket);
    if (configs.length === 0) return "it has no server-side encryption configuration (aws.s3.BucketServerSideEncryptionConfiguration)";
    for (const c of configs) {
        const rules = list(known(() => (c.props as EncryptionProps).rules));
        const algorithms = rules.map((r) => known(() => r.applyServerSideEncryptionByDefault?.sseAlgorithm));
        // Unknown during preview: judged at the update.
        if (algorithms.some((a) => a === undefined) || algorithms.some((a) => typeof a === "string" && ENCRYPTIONS.includes(a))) return undefined;
    }
    return "its encryption configuration names no default algorithm (AES256 or aws:kms)";
}

function versioningProblem(resources: PolicyResource[], bucket: PolicyResource): string | undefined {
    const props = bucket.props as BucketProps;
    if (known(() => props.versioning?.enabled) === true) return undefined;
    const configs = configuring(resources, S3_TYPES.versioning, bucket);
    if (configs.length === 0) return "it is not versioned (no aws.s3.BucketVersioning)";
    const statuses = configs.map((c) => known(() => (c.props as VersioningProps).versioningConfiguration?.status));
    if (statuses.some((st) => st === "Enabled" || st === undefined)) return undefined;
    return `its versioning is ${statuses.join(", ")}, not Enabled`;
}

function publicProblems(resources: PolicyResource[], bucket: PolicyResource): string[] {
    const problems: string[] = [];
    const blocks = configuring(resources, [S3_TYPES.publicAccessBlock], bucket);
    if (blocks.length === 0) {
        problems.push("it has no public access block (aws.s3.BucketPublicAccessBlock)");
    } else {
        const props = blocks[0].props as PublicAccessProps;
        // A setting unknown during preview is judged at the update.
        const open = BLOCKS.filter((b) => !isUnknown(() => props[b]) && known(() => props[b]) !== true);
        if (open.length) problems.push(`its public access block leaves ${open.join(", ")} off`);
    }
    const inlineAcl = known(() => (bucket.props as BucketProps).acl);
    if (typeof inlineAcl === "string" && PUBLIC_ACLS.includes(inlineAcl)) problems.push(`its ACL is ${inlineAcl}`);
    for (const acl of configuring(resources, S3_TYPES.acl, bucket)) {
        const canned = known(() => (acl.props as AclProps).acl);
        if (typeof canned === "string" && PUBLIC_ACLS.includes(canned)) problems.push(`${acl.name} gives it the ACL ${canned}`);
    }
    return problems;
}

export const backupBucketsProtected: StackValidationPolicy = {
    name: "backup-buckets-protected",
    description:
        "Every S3 bucket of the stack (the off-site backups and their replica) is encrypted by default, versioned, and closed to the public: all four public access blocks on, no public ACL.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const buckets = args.resources.filter((r) => r.type === S3_TYPES.bucket || r.type === S3_TYPES.bucketV2);
        for (const bucket of buckets) {
            const problems = [
                encryptionProblem(args.resources, bucket),
                versioningProblem(args.resources, bucket),
                ...publicProblems(args.resources, bucket),
            ].filter((p): p is string => p !== undefined);
            if (problems.length === 0) continue;
            reportViolation(
                `${bucket.name} holds copies of the site's data, but ${problems.join("; ")}. ` +
                    "The OffsiteBackups component gives each bucket it creates default encryption (AES256), versioning and a public access block with all four settings on.",
                bucket.urn,
            );
        }
    },
};
