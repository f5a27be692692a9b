// The day-2 keys: plone-aws:monitoring and plone-aws:offsiteBackups, their defaults and the rules
// that span them, and the names the S3 copies get.
import { expect } from "chai";
import { backupBucketName, offsitePlan, offsiteTarget } from "../../components/topology/offsite";
import { hostAccessPolicy, replicaBucketName } from "../../components/aws/offsiteBackups";
import { buildTopology } from "../../components/topology";
import { VARIANTS } from "../helpers/appStacks";
import { ALL_SECRETS, loadRepoStack, parseObjects } from "../helpers/stacks";

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        "aws:region": "eu-west-1",
        "plone-aws:hosts": [{ name: "one", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
        "plone-aws:app": { repository: "https://example.org/buildout.git" },
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": { azCount: 1, natGateways: "none", adminCidrs: ["198.51.100.7/32"], availabilityZones: ["eu-west-1a"] },
        "plone-aws:access": { via: "publicIp", publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample test" },
        ...ALL_SECRETS,
        ...extra,
    };
}

describe("config: plone-aws:monitoring and plone-aws:offsiteBackups", () => {
    it("defaults: the CloudWatch agent on, 30 days of logs, alarms at 85% disk and 90% memory; copies to S3 kept 35 days", () => {
        const { spec } = parseObjects(config());
        expect(spec!.monitoring).to.deep.equal({
            accessLogs: { enabled: true, expireDays: 365 },
            cloudwatchAgent: true,
            logRetentionDays: 30,
            thresholds: {
                diskUsedPercent: 85,
                memoryUsedPercent: 90,
                http5xxPer5Minutes: 25,
                rdsCpuPercent: 80,
                rdsFreeStorageGiB: 5,
                rdsReplicaLagSeconds: 300,
            },
            newRelic: { infrastructure: false, pythonAgent: false },
        });
        expect(spec!.offsiteBackups).to.deep.equal({
            enabled: true,
            keepDays: 35,
            infrequentAccessDays: 30,
            glacierDays: 90,
            noncurrentDays: 90,
            restoreFrom: [],
        });
    });

    it("names each mistake with its key", () => {
        const errors = (extra: Record<string, unknown>) => parseObjects(config(extra)).errors.map((e) => `${e.path}: ${e.message}`);
        expect(errors({ "plone-aws:monitoring": { logRetentionDays: 31 } })[0]).to.match(
            /^plone-aws:monitoring.logRetentionDays: must be one of the periods CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30/,
        );
        expect(errors({ "plone-aws:monitoring": { alarmEmail: "ops" } })[0]).to.match(/^plone-aws:monitoring.alarmEmail:/);
        expect(errors({ "plone-aws:monitoring": { remoteSyslog: { host: "logs.example.org" } } })).to.deep.equal([
            "plone-aws:monitoring.remoteSyslog.port: required (number)",
        ]);
        expect(errors({ "plone-aws:monitoring": { newRelic: { infrastructure: true } } })).to.deep.equal([
            "plone-aws:newRelicLicenseKey: monitoring.newRelic.infrastructure needs the New Relic license key: pulumi config set --secret plone-aws:newRelicLicenseKey <value>",
        ]);
        expect(errors({ "plone-aws:offsiteBackups": { replicaRegion: "eu-west-1" } })).to.deep.equal([
            "plone-aws:offsiteBackups.replicaRegion: the replica must be in another region than the stack's own (eu-west-1)",
        ]);
        expect(errors({ "plone-aws:offsiteBackups": { replicaRegion: "eu-central-1", bucket: "shared-backups" } })[0]).to.match(
            /replication is set up on the bucket the stack creates/,
        );
        expect(errors({ "plone-aws:offsiteBackups": { infrequentAccessDays: 90, glacierDays: 60 } })[0]).to.match(
            /^plone-aws:offsiteBackups.glacierDays: objects move to Glacier after/,
        );
        expect(errors({ "plone-aws:offsiteBackups": { bucket: "Not_A_Bucket" } })[0]).to.match(/^plone-aws:offsiteBackups.bucket: must be an S3 bucket name/);
    });

    it("warns about remote syslog without TLS, and a ZEO stack whose repozo backups are off", () => {
        const warnings = (extra: Record<string, unknown>) => parseObjects(config(extra)).warnings.map((w) => w.path);
        expect(warnings({ "plone-aws:monitoring": { remoteSyslog: { host: "logs.example.org", port: 514, tls: false } } })).to.deep.equal([
            "plone-aws:monitoring.remoteSyslog.tls",
        ]);
        expect(warnings({ "plone-aws:plone": { backups: { enabled: false } } })).to.deep.equal(["plone-aws:offsiteBackups.enabled"]);
    });
});

describe("off-site copies: which host, which bucket, which prefix", () => {
    it("copies from the ZEO server (repozo and blobs), or from the RelStorage packing host (blobs), or from nowhere (blobs in the database)", () => {
        const ctxOf = (spec: ReturnType<(typeof VARIANTS)["nfs"]>) => ({ spec, topology: buildTopology(spec) });
        expect(offsitePlan(ctxOf(loadRepoStack("dev").spec))).to.deep.equal({
            host: "dev-1",
            repozoDir: "/srv/data/backups/filestorage",
            blobDir: "/srv/data/blobstorage",
        });
        expect(offsitePlan(ctxOf(VARIANTS.nfs()))).to.deep.equal({
            host: "zeo-1",
            repozoDir: "/srv/data/backups/filestorage",
            blobDir: "/srv/shared-blobs/blobstorage",
        });
        expect(offsitePlan(ctxOf(loadRepoStack("prod").spec))).to.deep.equal({ host: "app-1", blobDir: "/srv/shared-blobs/blobstorage" });
        expect(offsitePlan(ctxOf(VARIANTS.databaseBlobs()))).to.equal(undefined);
    });

    it("names the bucket after the stack and the account, within S3's 63 characters; the replica after its region", () => {
        expect(backupBucketName("prod", "123456789012")).to.equal("plone-aws-prod-backups-123456789012");
        const long = backupBucketName("a-very-long-stack-name-for-a-customer-project-staging", "123456789012");
        expect(long.length).to.be.at.most(63);
        expect(long).to.match(/^plone-aws-a-very-long-stack-name-[a-z0-9-]*-[0-9a-f]{8}-backups-123456789012$/);
        expect(replicaBucketName("plone-aws-prod-backups-123456789012", "eu-central-1")).to.equal("plone-aws-prod-backups-123456789012-eu-central-1");
        expect(replicaBucketName(long, "ap-southeast-2").length).to.be.at.most(63);
    });

    it("lets staging read prod's copies (restoreFrom) and write only its own prefix", () => {
        const { spec } = parseObjects(config({ "plone-aws:offsiteBackups": { restoreFrom: ["prod"] } }), "staging");
        const target = offsiteTarget(spec!, "123456789012");
        expect(target).to.deep.equal({
            bucket: "plone-aws-staging-backups-123456789012",
            sourceBuckets: { staging: "plone-aws-staging-backups-123456789012", prod: "plone-aws-prod-backups-123456789012" },
        });
        const policy = JSON.parse(hostAccessPolicy("staging", target.bucket, target.sourceBuckets));
        const writes = policy.Statement.filter((s: { Action: string | string[] }) => [s.Action].flat().includes("s3:PutObject"));
        expect(writes.map((s: { Resource: string }) => s.Resource)).to.deep.equal(["arn:aws:s3:::plone-aws-staging-backups-123456789012/staging/*"]);
        const reads = policy.Statement.filter((s: { Sid: string }) => s.Sid.startsWith("ReadSource"));
        expect(reads.map((s: { Action: string; Resource: string }) => [s.Action, s.Resource])).to.deep.equal([
            ["s3:GetObject", "arn:aws:s3:::plone-aws-prod-backups-123456789012/prod/*"],
        ]);
    });

    it("a stack without copies of its own may still read another's; a shared bucket holds each stack under its prefix", () => {
        const { spec } = parseObjects(config({ "plone-aws:offsiteBackups": { enabled: false, restoreFrom: ["prod"] } }), "staging");
        expect(offsiteTarget(spec!, "123456789012").sourceBuckets).to.deep.equal({ prod: "plone-aws-prod-backups-123456789012" });
        const shared = parseObjects(config({ "plone-aws:offsiteBackups": { bucket: "acme-plone-backups", restoreFrom: ["prod"] } }), "staging").spec!;
        expect(offsiteTarget(shared, "123456789012")).to.deep.equal({
            bucket: "acme-plone-backups",
            sourceBuckets: { staging: "acme-plone-backups", prod: "acme-plone-backups" },
        });
    });
});
