// Monitoring and off-site backups under mocks: what the dev and prod stacks register (the alarm
// topic, log groups, alarms, the backup bucket, its replica and the hosts' access), what the
// provisioning scripts install (the CloudWatch agent and its configuration), and the real policy
// pack over gRPC on a stack whose bucket is broken the way a program change could break it.
import { expect } from "chai";
import * as path from "path";
import { addressPlan, CapturedResource, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { exitCodeFor, loadPolicyConfig, POLICY_PACK_DIR } from "../../scripts/lib/plan/policyCheck";
import { CLOUDWATCH_AGENT_CONFIG, CLOUDWATCH_AGENT_SCRIPT } from "../../components/render/monitoring/cloudwatchAgent";
import { backupEnvPath } from "../../components/render/operations/backup";
import { STACK_TAG } from "../../components/aws/tags";
import { loadRepoStack } from "../helpers/stacks";
import { sharedPolicyPack } from "../helpers/stackTools";

type Inputs = Record<string, any>;

function byType(run: OfflineRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

function plain(r: CapturedResource): Inputs {
    return unwrapSecrets(r.inputs) as Inputs;
}

function one(run: OfflineRun, name: string): CapturedResource {
    const found = run.resources.filter((r) => r.name === name);
    expect(found, name).to.have.length(1);
    return found[0];
}

/** The files a step script installs: path -> content (the installer's base64 heredocs). */
function installedFiles(script: string): Record<string, string> {
    const files: Record<string, string> = {};
    const re = /^stage '?([^' ]+)'? \S+ \S+ \S+ <<'([A-Z_]+)'\n([\s\S]*?)\n\2$/gm;
    for (let m = re.exec(script); m; m = re.exec(script)) files[m[1]] = Buffer.from(m[3].replace(/\n/g, ""), "base64").toString("utf8");
    return files;
}

function stepScript(run: OfflineRun, host: string, step: string): string {
    return String(plain(one(run, `${run.stackName}-${host}-provision-${step}`)).stdin);
}

async function runRepoStack(stack: string): Promise<OfflineRun> {
    const loaded = loadRepoStack(stack);
    return runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
}

/** One policy pack for this file's policy checks. */
const policyPack = sharedPolicyPack();

describe("monitoring and off-site backups under mocks", function () {
    let dev: OfflineRun;
    let prod: OfflineRun;
    before(async () => {
        dev = await runRepoStack("dev");
        prod = await runRepoStack("prod");
    });

    it("registers a Monitoring component with its args, its children named after it", () => {
        for (const run of [dev, prod]) {
            const [component] = byType(run, "plone-aws:monitoring:Monitoring");
            expect(component.name).to.equal(`${run.stackName}-monitoring`);
            const args = unwrapSecrets(component.inputs) as Inputs;
            expect(args.stackName).to.equal(run.stackName);
            expect(args.settings.thresholds.diskUsedPercent).to.equal(85);
            const children = run.resources.filter((r) => r.parent === component.urn);
            expect(children.length).to.be.greaterThan(5);
            for (const c of children) expect(c.name.startsWith(`${run.stackName}-monitoring-`), c.name).to.equal(true);
        }
    });

    it("mails the alarms of prod to monitoring.alarmEmail; dev has a topic without a subscriber", () => {
        expect(byType(prod, "aws:sns/topic:Topic").map((t) => t.name)).to.deep.equal(["prod-monitoring-alarms"]);
        expect(byType(prod, "aws:sns/topicSubscription:TopicSubscription").map(plain)).to.deep.equal([
            { topic: "arn:aws:sns:eu-west-1:123456789012:prod-monitoring-alarms", protocol: "email", endpoint: "ops@plone.example.org" },
        ]);
        expect(byType(dev, "aws:sns/topic:Topic")).to.have.length(1);
        expect(byType(dev, "aws:sns/topicSubscription:TopicSubscription")).to.have.length(0);
        expect(prod.outputs.alarmTopicArn).to.equal("arn:aws:sns:eu-west-1:123456789012:prod-monitoring-alarms");
    });

    it("creates the log groups the hosts write to, with the retention (dev 30 days, prod 90)", () => {
        const groups = (run: OfflineRun) => byType(run, "aws:cloudwatch/logGroup:LogGroup").map((g) => [plain(g).name, plain(g).retentionInDays]);
        expect(groups(dev)).to.deep.equal(["zope", "supervisor", "nginx-access", "nginx-error", "haproxy", "jobs"].map((k) => [`/plone-aws/dev/${k}`, 30]));
        expect(groups(prod).map(([, days]) => days)).to.satisfy((d: number[]) => d.every((x) => x === 90));
        for (const g of byType(prod, "aws:cloudwatch/logGroup:LogGroup")) expect(plain(g).tags[STACK_TAG]).to.equal("prod");
    });

    it("alarms on every host: status checks, the fullest disk (above 85%) and memory", () => {
        const alarms = new Map(byType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name, plain(a)]));
        const app1 = one(prod, "prod-app-1-instance").id;
        expect(alarms.get("prod-monitoring-app-1-status-check")).to.deep.include({
            namespace: "AWS/EC2",
            metricName: "StatusCheckFailed",
            dimensions: { InstanceId: app1 },
            threshold: 1,
            comparisonOperator: "GreaterThanOrEqualToThreshold",
        });
        const disk = alarms.get("prod-monitoring-app-1-disk")!;
        expect(disk).to.deep.include({ threshold: 85, comparisonOperator: "GreaterThanThreshold" });
        expect(disk.metricQueries[0].expression).to.equal(`SELECT MAX(disk_used_percent) FROM CWAgent WHERE InstanceId = '${app1}'`);
        expect(alarms.get("prod-monitoring-app-1-memory")).to.deep.include({
            namespace: "CWAgent",
            metricName: "mem_used_percent",
            dimensions: { InstanceId: app1 },
            threshold: 90,
        });
        for (const host of ["web-1", "web-2", "app-1", "app-2", "cache-1", "blobs-1", "blobs-2"]) {
            for (const kind of ["status-check", "disk", "memory"]) expect(alarms.has(`prod-monitoring-${host}-${kind}`), `${host} ${kind}`).to.equal(true);
        }
        const topic = "arn:aws:sns:eu-west-1:123456789012:prod-monitoring-alarms";
        for (const [name, a] of alarms) {
            if (name.endsWith("-recovery")) continue;
            expect(a.alarmActions, name).to.deep.equal([topic]);
            expect(a.okActions, name).to.deep.equal([topic]);
        }
    });

    it("alarms on the load balancer, the database and Data Lifecycle Manager in prod; dev has no ALB or database", () => {
        const alarms = new Map(byType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [a.name, plain(a)]));
        const lb = one(prod, "prod-front-door-alb").state.arnSuffix;
        const tg = one(prod, "prod-front-door-frontends").state.arnSuffix;
        expect(alarms.get("prod-monitoring-unhealthy-frontends")).to.deep.include({
            metricName: "UnHealthyHostCount",
            dimensions: { LoadBalancer: lb, TargetGroup: tg },
            threshold: 0,
        });
        const http = alarms.get("prod-monitoring-http-5xx")!;
        expect(http.metricQueries.map((q: Inputs) => q.metric?.metricName ?? q.expression)).to.deep.equal([
            "HTTPCode_ELB_5XX_Count",
            "HTTPCode_Target_5XX_Count",
            "FILL(elb, 0) + FILL(targets, 0)",
        ]);
        expect(http.metricQueries[0].metric.dimensions).to.deep.equal({ LoadBalancer: lb });
        const db = { DBInstanceIdentifier: "prod-db-instance" };
        expect(alarms.get("prod-monitoring-database-cpu")).to.deep.include({ metricName: "CPUUtilization", dimensions: db, threshold: 80 });
        expect(alarms.get("prod-monitoring-database-storage")).to.deep.include({
            metricName: "FreeStorageSpace",
            dimensions: db,
            threshold: 5 * 1024 ** 3,
            comparisonOperator: "LessThanThreshold",
        });
        expect(alarms.get("prod-monitoring-database-replica-lag")).to.deep.include({ metricName: "ReplicaLag", dimensions: db, threshold: 300 });
        const policyId = one(prod, "prod-snapshots-policy").id;
        expect(alarms.get("prod-monitoring-snapshots-failed")).to.deep.include({
            namespace: "AWS/EBS",
            metricName: "SnapshotsCreateFailed",
            dimensions: { DLMPolicyId: policyId },
        });
        expect(alarms.get("prod-monitoring-snapshot-copies-failed")).to.deep.include({ metricName: "SnapshotsCopiedRegionFailed" });
        const devAlarms = byType(dev, "aws:cloudwatch/metricAlarm:MetricAlarm")
            .map((a) => a.name)
            .filter((n) => !n.endsWith("-recovery"));
        expect(devAlarms.sort()).to.deep.equal([
            "dev-monitoring-dev-1-disk",
            "dev-monitoring-dev-1-memory",
            "dev-monitoring-dev-1-status-check",
            "dev-monitoring-snapshots-failed",
        ]);
    });

    it("creates the backup bucket private, encrypted, versioned, with a lifecycle; prod's is protected and replicated", () => {
        const bucketsOf = (run: OfflineRun) => byType(run, "aws:s3/bucket:Bucket");
        expect(bucketsOf(prod).map((b) => [b.name, plain(b).bucket, b.options.protect])).to.have.deep.members([
            ["prod-access-logs", "plone-aws-prod-logs-123456789012", true],
            ["prod-backups-bucket", "plone-aws-prod-backups-123456789012", true],
            ["prod-backups-replica", "plone-aws-prod-backups-123456789012-eu-central-1", true],
            ["prod-backups-replica-logs", "plone-aws-prod-logs-123456789012-eu-central-1", true],
        ]);
        expect(bucketsOf(dev).map((b) => [b.name, plain(b).bucket, b.options.protect])).to.have.deep.members([
            ["dev-access-logs", "plone-aws-dev-logs-123456789012", false],
            ["dev-backups-bucket", "plone-aws-dev-backups-123456789012", false],
        ]);
        expect(prod.outputs.backupBucket).to.equal("plone-aws-prod-backups-123456789012");
        const pab = plain(one(prod, "prod-backups-bucket-public-access"));
        expect(pab).to.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
        expect(plain(one(prod, "prod-backups-bucket-encryption")).rules[0].applyServerSideEncryptionByDefault).to.deep.equal({ sseAlgorithm: "AES256" });
        expect(plain(one(prod, "prod-backups-bucket-versioning")).versioningConfiguration).to.deep.equal({ status: "Enabled" });
        const rule = plain(one(prod, "prod-backups-bucket-lifecycle")).rules[0];
        expect(rule.transitions).to.deep.equal([
            { days: 30, storageClass: "STANDARD_IA" },
            { days: 90, storageClass: "GLACIER_IR" },
        ]);
        expect(rule.noncurrentVersionExpiration).to.deep.equal({ noncurrentDays: 90 });
        const tls = JSON.parse(plain(one(prod, "prod-backups-bucket-tls-only")).policy);
        expect(tls.Statement[0]).to.deep.include({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
        const replication = plain(one(prod, "prod-backups-replication"));
        expect(replication.rules[0].destination.bucket).to.equal("arn:aws:s3:::plone-aws-prod-backups-123456789012-eu-central-1");
        const provider = byType(prod, "pulumi:providers:aws");
        expect(provider.map((p) => [p.name, plain(p).region])).to.have.deep.members([
            ["prod-db-backup-region", "eu-central-1"],
            ["prod-backups-replica-region", "eu-central-1"],
        ]);
        // The replica's parts go to the replica's region.
        expect(one(prod, "prod-backups-replica-versioning").options.dependencies).to.include(one(prod, "prod-backups-replica").urn);
    });

    it("lets the host role write only under the stack's own prefix", () => {
        const policy = JSON.parse(plain(one(prod, "prod-backups-host-access")).policy);
        expect(policy.Statement).to.deep.equal([
            {
                Sid: "ListOwnPrefix",
                Effect: "Allow",
                Action: "s3:ListBucket",
                Resource: "arn:aws:s3:::plone-aws-prod-backups-123456789012",
                Condition: { StringLike: { "s3:prefix": ["prod/*"] } },
            },
            {
                Sid: "WriteOwnPrefix",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                Resource: "arn:aws:s3:::plone-aws-prod-backups-123456789012/prod/*",
            },
        ]);
        expect(plain(one(prod, "prod-backups-host-access")).role).to.equal("prod-host-role-role");
    });

    it("with Volto (plone6): the volto log group, the agent on the volto hosts shipping their processes' logs, the front-door alarm naming Volto", async () => {
        const plone6 = await runRepoStack("plone6");
        const groups = new Set(byType(plone6, "aws:cloudwatch/logGroup:LogGroup").map((g) => plain(g).name as string));
        expect(groups.has("/plone-aws/plone6/volto")).to.equal(true);
        const agent = JSON.parse(installedFiles(stepScript(plone6, "volto-1", "configure"))[CLOUDWATCH_AGENT_CONFIG]);
        const collected = agent.logs.logs_collected.files.collect_list as { file_path: string; log_group_name: string }[];
        expect(collected.map((c) => `${c.log_group_name} ${c.file_path}`)).to.include.members([
            "/plone-aws/plone6/volto /var/log/supervisor/plone-volto1-stdout.log",
            "/plone-aws/plone6/volto /var/log/supervisor/plone-volto2-stderr.log",
            "/plone-aws/plone6/supervisor /var/log/supervisor/supervisord.log",
        ]);
        for (const c of collected) expect(groups.has(c.log_group_name), c.log_group_name).to.equal(true);
        const alarm = byType(plone6, "aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === "plone6-monitoring-unhealthy-frontends")!;
        expect(plain(alarm).alarmDescription).to.include("haproxy has no live Zope client or no live Volto process");
        const prodAlarm = byType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => a.name === "prod-monitoring-unhealthy-frontends")!;
        expect(plain(prodAlarm).alarmDescription).not.to.include("Volto");
    });

    it("installs the CloudWatch agent at setup and its configuration at configure, every log group of it created by the stack", () => {
        const groups = new Set(byType(prod, "aws:cloudwatch/logGroup:LogGroup").map((g) => plain(g).name as string));
        for (const host of ["web-1", "app-1", "blobs-1"]) {
            expect(stepScript(prod, host, "setup")).to.include(`${CLOUDWATCH_AGENT_SCRIPT} install`);
            const files = installedFiles(stepScript(prod, host, "configure"));
            const agent = JSON.parse(files[CLOUDWATCH_AGENT_CONFIG]);
            expect(agent.metrics.metrics_collected.mem.measurement).to.deep.equal(["mem_used_percent"]);
            expect(agent.metrics.append_dimensions).to.deep.equal({ InstanceId: "${aws:InstanceId}" });
            const collected = agent.logs.logs_collected.files.collect_list as { file_path: string; log_group_name: string }[];
            for (const c of collected) expect(groups.has(c.log_group_name), `${host}: ${c.log_group_name}`).to.equal(true);
            if (host === "web-1")
                expect(collected.map((c) => c.file_path)).to.deep.equal(["/var/log/nginx/access.log", "/var/log/nginx/error.log", "/var/log/haproxy.log"]);
            if (host === "app-1") {
                expect(collected.map((c) => c.file_path)).to.include.members([
                    "/srv/www/plone/shared/var/log/client1.log",
                    "/var/log/supervisor/plone-client1-stderr.log",
                    "/var/log/plone-aws/backup.log",
                ]);
                expect(files[backupEnvPath({ spec: loadRepoStack("prod").spec })]).to.include("BUCKET=plone-aws-prod-backups-123456789012");
            }
            expect(agent.metrics.metrics_collected.disk.resources[0]).to.equal("/");
        }
        expect(installedFiles(stepScript(prod, "blobs-1", "configure"))[CLOUDWATCH_AGENT_CONFIG]).to.include("/srv/gluster-exports");
        // The Gluster peers ship glusterd's and their brick's log, the hosts that mount the volume the mount's.
        const shipped = (host: string) =>
            (
                JSON.parse(installedFiles(stepScript(prod, host, "configure"))[CLOUDWATCH_AGENT_CONFIG]).logs.logs_collected.files.collect_list as {
                    file_path: string;
                    log_group_name: string;
                }[]
            )
                .filter((c) => c.log_group_name === "/plone-aws/prod/glusterfs")
                .map((c) => c.file_path);
        expect(shipped("blobs-1")).to.deep.equal(["/var/log/glusterfs/glusterd.log", "/var/log/glusterfs/bricks/srv-gluster-exports-brick.log"]);
        expect(shipped("app-1")).to.deep.equal(["/var/log/glusterfs/srv-shared-blobs.log"]);
        expect(shipped("web-1")).to.deep.equal([]);
    });

    it("the real pack over gRPC fails a stack whose backup bucket lost its versioning or its public access block", async () => {
        const { config, configFile } = loadPolicyConfig(path.join(POLICY_PACK_DIR, "config.prod.json"));
        const passed = await policyPack.check(prod, { config, configFile });
        expect(passed.violations.filter((v) => v.policy === "backup-buckets-protected")).to.deep.equal([]);
        const broken = structuredClone(prod);
        for (const r of broken.resources) {
            if (r.name === "prod-backups-replica-versioning") {
                for (const props of [r.inputs, r.state]) (props.versioningConfiguration as { status: string }).status = "Suspended";
            }
        }
        broken.resources = broken.resources.filter((r) => r.name !== "prod-backups-bucket-public-access");
        const report = await policyPack.check(broken, { config, configFile });
        expect(exitCodeFor(report)).to.equal(2);
        const hits = report.violations.filter((v) => v.policy === "backup-buckets-protected");
        expect(hits.map((v) => v.resource?.name).sort()).to.deep.equal(["prod-backups-bucket", "prod-backups-replica"]);
        expect(hits.find((v) => v.resource?.name === "prod-backups-bucket")!.message).to.include("it has no public access block");
        expect(hits.find((v) => v.resource?.name === "prod-backups-replica")!.message).to.include("its versioning is Suspended, not Enabled");
    });
});
