// The configuration of the edge: frontend.waf, monitoring.accessLogs and database.backupReplication,
// their defaults, and the rules across keys (a WAF needs a load balancer; backups are replicated to
// the snapshot copy region, which must be set, and only when RDS keeps backups).
import { expect } from "chai";
import { minimalConfig, parseObjects } from "../helpers/stacks";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvkQPoy6QUHsZJxs2nNZC9QlAlPnqV+dqx1XKwGfOAn ops@example.org";

/** Two front ends behind a load balancer, RelStorage on RDS. */
function albStack(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        ...minimalConfig(),
        "plone-aws:hosts": [
            { name: "web-1", instanceType: "t3.large", az: 0, layers: ["frontend"] },
            { name: "web-2", instanceType: "t3.large", az: 1, layers: ["frontend"] },
            { name: "app-1", instanceType: "t3.large", az: 0, layers: ["plone_instances", "db_packing"] },
        ],
        "plone-aws:plone": { storage: "relstorage", blobs: "database" },
        "plone-aws:database": {},
        "plone-aws:frontend": { domain: "www.example.org" },
        "plone-aws:network": { azCount: 2, natGateways: "single", adminCidrs: ["192.168.17.0/28"], availabilityZones: ["eu-west-1a", "eu-west-1b"] },
        "plone-aws:access": { publicKey: KEY },
        ...extra,
    };
}

const messages = (config: Record<string, unknown>) => parseObjects(config).errors.map((e) => `${e.path}: ${e.message}`);

describe("config: access logs, web firewall, RDS backup replication", () => {
    it("defaults: access logs on, kept 365 days; no WAF; backup replication off without a snapshot copy region", () => {
        const { spec, errors } = parseObjects(albStack());
        expect(errors).to.deep.equal([]);
        expect(spec!.monitoring.accessLogs).to.deep.equal({ enabled: true, expireDays: 365 });
        expect(spec!.frontend.waf).to.equal(undefined);
        expect(spec!.database!.backupReplication).to.deep.equal({ enabled: false, retentionDays: 7 });
    });

    it("frontend.waf: count mode, 100 login requests per 5 minutes, admin CIDRs allowed, 90 days of log by default", () => {
        const { spec } = parseObjects(albStack({ "plone-aws:frontend": { domain: "www.example.org", waf: {} } }));
        expect(spec!.frontend.waf).to.deep.equal({ mode: "count", loginRateLimit: 100, allowAdminCidrs: true, logRetentionDays: 90 });
    });

    it("frontend.waf refuses a mode it does not know, a rate below WAF's minimum, a retention CloudWatch does not offer", () => {
        const errors = messages(
            albStack({ "plone-aws:frontend": { domain: "www.example.org", waf: { mode: "deny", loginRateLimit: 5, logRetentionDays: 10 } } }),
        );
        expect(errors).to.have.length(3);
        expect(errors.join("\n")).to.include("plone-aws:frontend.waf.mode").and.include("plone-aws:frontend.waf.loginRateLimit");
        expect(errors.join("\n")).to.include("plone-aws:frontend.waf.logRetentionDays: must be one of the periods CloudWatch Logs accepts");
    });

    it("frontend.waf needs a load balancer", () => {
        expect(messages({ ...minimalConfig(), "plone-aws:frontend": { domain: "dev.example.org", waf: {} } })).to.deep.equal([
            "plone-aws:frontend.waf: AWS WAF attaches to a load balancer, and this stack has a single front end on an Elastic IP: set frontend.frontDoor to alb, or remove frontend.waf",
        ]);
    });

    it("backup replication is on by default when the snapshots are copied to another region", () => {
        const { spec } = parseObjects(albStack({ "plone-aws:snapshots": { crossRegionCopy: { region: "eu-central-1" } } }));
        expect(spec!.database!.backupReplication).to.deep.equal({ enabled: true, retentionDays: 7 });
        const off = parseObjects(
            albStack({
                "plone-aws:snapshots": { crossRegionCopy: { region: "eu-central-1" } },
                "plone-aws:database": { backupReplication: { enabled: false } },
            }),
        );
        expect(off.spec!.database!.backupReplication.enabled).to.equal(false);
    });

    it("backup replication asked for without a snapshot copy region, or without backups to replicate, is refused", () => {
        expect(messages(albStack({ "plone-aws:database": { backupReplication: { enabled: true } } }))).to.deep.equal([
            "plone-aws:database.backupReplication.enabled: the backups are replicated to the region the EBS snapshots are copied to, and none is set: set snapshots.crossRegionCopy.region",
        ]);
        expect(
            messages(
                albStack({
                    "plone-aws:snapshots": { crossRegionCopy: { region: "eu-central-1" } },
                    "plone-aws:database": { backupRetentionDays: 0, backupReplication: { enabled: true } },
                }),
            ),
        ).to.deep.equal([
            "plone-aws:database.backupReplication.enabled: database.backupRetentionDays is 0, so RDS keeps no automated backups to replicate: raise it, or set backupReplication.enabled to false",
        ]);
        // Unset, it simply stays off when RDS keeps no backups.
        const { spec } = parseObjects(
            albStack({ "plone-aws:snapshots": { crossRegionCopy: { region: "eu-central-1" } }, "plone-aws:database": { backupRetentionDays: 0 } }),
        );
        expect(spec!.database!.backupReplication.enabled).to.equal(false);
    });

    it("refuses a retention RDS does not allow, a key that is not a KMS ARN, and an access log expiry of 0 days", () => {
        const errors = messages(
            albStack({
                "plone-aws:database": { backupReplication: { retentionDays: 36, kmsKeyArn: "alias/aws/rds" } },
                "plone-aws:monitoring": { accessLogs: { expireDays: 0 } },
            }),
        );
        expect(errors.map((e) => e.split(":").slice(0, 2).join(":"))).to.include.members([
            "plone-aws:database.backupReplication.retentionDays",
            "plone-aws:database.backupReplication.kmsKeyArn",
            "plone-aws:monitoring.accessLogs.expireDays",
        ]);
    });

    it("database.dump: on with the off-site copies by default, daily at 20:00, kept 35 days; its own schedule and retention", () => {
        expect(parseObjects(albStack()).spec!.database!.dump).to.deep.equal({ enabled: true, schedule: "0 20 * * *", keepDays: 35 });
        const off = parseObjects(albStack({ "plone-aws:offsiteBackups": { enabled: false } }));
        expect(off.spec!.database!.dump.enabled).to.equal(false);
        const own = parseObjects(albStack({ "plone-aws:database": { dump: { schedule: "30 2 * * 1-5", keepDays: 14 } } }));
        expect(own.spec!.database!.dump).to.deep.equal({ enabled: true, schedule: "30 2 * * 1-5", keepDays: 14 });
    });

    it("database.dump refuses dumps without the off-site bucket, a schedule cron cannot read and a retention of 0 days", () => {
        expect(messages(albStack({ "plone-aws:offsiteBackups": { enabled: false }, "plone-aws:database": { dump: { enabled: true } } }))).to.deep.equal([
            "plone-aws:database.dump.enabled: the dumps go to the off-site bucket, and offsiteBackups.enabled is false: set offsiteBackups.enabled, or set database.dump.enabled to false",
        ]);
        const errors = messages(albStack({ "plone-aws:database": { dump: { schedule: "every night; rm -rf /", keepDays: 0 } } }));
        expect(errors.map((e) => e.split(":").slice(0, 2).join(":"))).to.include.members([
            "plone-aws:database.dump.schedule",
            "plone-aws:database.dump.keepDays",
        ]);
    });
});
