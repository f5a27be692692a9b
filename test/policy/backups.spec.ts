// The off-site backup buckets: encrypted, versioned, closed to the public; checked through the
// configuration resources that name each bucket (their property dependency), as the engine links them.
import { expect } from "chai";
import type { PolicyResource } from "@pulumi/policy";
import { backupBucketsProtected, S3_TYPES } from "../../policies/rules/backups";
import { FakeStack, UNKNOWN } from "../helpers/policyArgs";

interface BucketParts {
    encryption?: Record<string, unknown> | false;
    versioning?: string | false;
    publicAccess?: Partial<Record<"blockPublicAcls" | "blockPublicPolicy" | "ignorePublicAcls" | "restrictPublicBuckets", boolean | string>> | false;
    acl?: string;
}

const FULL_BLOCK = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };

/** A bucket and the resources that configure it, as the OffsiteBackups component registers them. */
function bucket(stack: FakeStack, name: string, parts: BucketParts = {}): PolicyResource {
    const b = stack.add(
        S3_TYPES.bucket,
        name,
        { bucket: `plone-aws-${name}`, forceDestroy: false, tags: { "plone-aws:stack": "prod" } },
        { parentType: "plone-aws:backups:OffsiteBackups" },
    );
    const on = { dependsOn: { bucket: [b] } };
    if (parts.encryption !== false) {
        stack.add(
            S3_TYPES.encryption[0],
            `${name}-encryption`,
            {
                bucket: `plone-aws-${name}`,
                rules: [parts.encryption ?? { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
            },
            on,
        );
    }
    if (parts.versioning !== false) {
        stack.add(
            S3_TYPES.versioning[0],
            `${name}-versioning`,
            { bucket: `plone-aws-${name}`, versioningConfiguration: { status: parts.versioning ?? "Enabled" } },
            on,
        );
    }
    if (parts.publicAccess !== false) {
        stack.add(S3_TYPES.publicAccessBlock, `${name}-public-access`, { bucket: `plone-aws-${name}`, ...FULL_BLOCK, ...(parts.publicAccess ?? {}) }, on);
    }
    if (parts.acl) stack.add(S3_TYPES.acl[0], `${name}-acl`, { bucket: `plone-aws-${name}`, acl: parts.acl }, on);
    return b;
}

describe("policy backup-buckets-protected", () => {
    it("passes a bucket that is encrypted (AES256 or KMS), versioned and fully blocked, and its replica", async () => {
        const stack = new FakeStack();
        bucket(stack, "prod-backups-bucket");
        bucket(stack, "prod-backups-replica", {
            encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "arn:aws:kms:eu-central-1:123456789012:key/1" } },
        });
        expect(await stack.run(backupBucketsProtected)).to.deep.equal([]);
    });

    it("passes values a preview does not know yet (judged at the update), and a stack without buckets", async () => {
        const stack = new FakeStack();
        bucket(stack, "prod-backups-bucket", { encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: UNKNOWN } }, versioning: UNKNOWN });
        expect(await stack.run(backupBucketsProtected)).to.deep.equal([]);
        expect(await new FakeStack().run(backupBucketsProtected)).to.deep.equal([]);
    });

    it("fires on a bucket without encryption, naming it and what is missing", async () => {
        const stack = new FakeStack();
        const b = bucket(stack, "prod-backups-bucket", { encryption: false });
        const [v, ...rest] = await stack.run(backupBucketsProtected);
        expect(rest).to.deep.equal([]);
        expect(v.urn).to.equal(b.urn);
        expect(v.message).to.equal(
            "prod-backups-bucket holds copies of the site's data, but it has no server-side encryption configuration (aws.s3.BucketServerSideEncryptionConfiguration). " +
                "The OffsiteBackups component gives each bucket it creates default encryption (AES256), versioning and a public access block with all four settings on.",
        );
    });

    it("fires on a bucket that is not versioned, or whose versioning is suspended", async () => {
        const none = new FakeStack();
        bucket(none, "a", { versioning: false });
        expect((await none.run(backupBucketsProtected))[0].message).to.include(
            "a holds copies of the site's data, but it is not versioned (no aws.s3.BucketVersioning)",
        );
        const suspended = new FakeStack();
        bucket(suspended, "b", { versioning: "Suspended" });
        expect((await suspended.run(backupBucketsProtected))[0].message).to.include("but its versioning is Suspended, not Enabled");
    });

    it("fires on a bucket open to the public: no public access block, one with a setting off, a public ACL", async () => {
        const noBlock = new FakeStack();
        bucket(noBlock, "a", { publicAccess: false });
        expect((await noBlock.run(backupBucketsProtected))[0].message).to.include("it has no public access block (aws.s3.BucketPublicAccessBlock)");
        const partial = new FakeStack();
        bucket(partial, "b", { publicAccess: { blockPublicPolicy: false, restrictPublicBuckets: false } });
        expect((await partial.run(backupBucketsProtected))[0].message).to.include(
            "its public access block leaves blockPublicPolicy, restrictPublicBuckets off",
        );
        const acl = new FakeStack();
        bucket(acl, "c", { acl: "public-read" });
        expect((await acl.run(backupBucketsProtected))[0].message).to.include("c-acl gives it the ACL public-read");
    });

    it("checks each bucket on its own: another bucket's configuration does not count", async () => {
        const stack = new FakeStack();
        bucket(stack, "good");
        stack.add(S3_TYPES.bucket, "bare", { bucket: "plone-aws-bare" });
        const violations = await stack.run(backupBucketsProtected);
        expect(violations).to.have.length(1);
        expect(violations[0].message).to.match(
            /^bare holds copies of the site's data, but it has no server-side encryption configuration .*; it is not versioned .*; it has no public access block/,
        );
    });
});
