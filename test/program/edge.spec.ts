// The edge under mocks: the access log bucket and who may write to it, the load balancer's and the
// backup buckets' logging, the web ACL, and the replication of RDS backups to the snapshot region.
import { expect } from "chai";
import { addressPlan, CapturedResource, MOCK_ACCOUNT_ID, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { loadRepoStack } from "../helpers/stacks";
import { ELB_LOG_ACCOUNTS, elbLogDeliveryPrincipal } from "../../components/aws/elbLogDelivery";
import { LOGIN_PATH_PATTERNS } from "../../components/topology/ports";

function byType(run: OfflineRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

function plain(r: CapturedResource): Record<string, any> {
    return unwrapSecrets(r.inputs) as Record<string, any>;
}

function named(run: OfflineRun, type: string, name: string): Record<string, any> {
    const r = byType(run, type).find((x) => x.name === name);
    if (!r) throw new Error(`no ${type} ${name}: ${byType(run, type).map((x) => x.name)}`);
    return plain(r);
}

async function runRepoStack(stack: string, edit?: (config: Record<string, string>) => void): Promise<OfflineRun> {
    const loaded = loadRepoStack(stack);
    const config = { ...loaded.config, raw: { ...loaded.config.raw } };
    edit?.(config.raw);
    return runOffline(config, { addresses: addressPlan(loaded.spec) });
}

const BUCKET = "aws:s3/bucket:Bucket";
const POLICY = "aws:s3/bucketPolicy:BucketPolicy";
const LOGGING = "aws:s3/bucketLogging:BucketLogging";

describe("access logs, web firewall and RDS backup replication under mocks", function () {
    let prod: OfflineRun;
    let dev: OfflineRun;
    before(async () => {
        prod = await runRepoStack("prod");
        dev = await runRepoStack("dev");
    });

    it("prod: a log bucket in each region, private, encrypted, versioned, expiring its logs", () => {
        expect(named(prod, BUCKET, "prod-access-logs").bucket).to.equal(`plone-aws-prod-logs-${MOCK_ACCOUNT_ID}`);
        expect(named(prod, BUCKET, "prod-backups-replica-logs").bucket).to.equal(`plone-aws-prod-logs-${MOCK_ACCOUNT_ID}-eu-central-1`);
        for (const name of ["prod-access-logs", "prod-backups-replica-logs"]) {
            expect(named(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", `${name}-public-access`)).to.include({
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            expect(named(prod, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", `${name}-encryption`).rules[0])
                .to.have.nested.property("applyServerSideEncryptionByDefault.sseAlgorithm")
                .that.equals("AES256");
            const lifecycle = named(prod, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${name}-lifecycle`);
            expect(lifecycle.rules[0].expiration).to.deep.equal({ days: 365 });
        }
        const bucket = byType(prod, BUCKET).find((b) => b.name === "prod-access-logs")!;
        expect(prod.resources.find((r) => r.urn === bucket.parent)?.type).to.equal("plone-aws:logs:AccessLogBucket");
    });

    it("prod: the log bucket policy is TLS only, lets eu-west-1's ELB account write under prod/alb and S3 log delivery under prod/s3 for the backup bucket", () => {
        const policy = JSON.parse(named(prod, POLICY, "prod-access-logs-policy").policy);
        const arn = `arn:aws:s3:::plone-aws-prod-logs-${MOCK_ACCOUNT_ID}`;
        const bySid = Object.fromEntries(policy.Statement.map((s: { Sid: string }) => [s.Sid, s]));
        expect(bySid.TlsOnly).to.include({ Effect: "Deny" });
        expect(bySid.LoadBalancerLogDelivery).to.deep.equal({
            Sid: "LoadBalancerLogDelivery",
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::156460612806:root" },
            Action: "s3:PutObject",
            Resource: `${arn}/prod/alb/AWSLogs/${MOCK_ACCOUNT_ID}/*`,
        });
        expect(bySid.S3ServerAccessLogDelivery.Principal).to.deep.equal({ Service: "logging.s3.amazonaws.com" });
        expect(bySid.S3ServerAccessLogDelivery.Resource).to.equal(`${arn}/prod/s3/*`);
        expect(bySid.S3ServerAccessLogDelivery.Condition).to.deep.equal({
            ArnLike: { "aws:SourceArn": [`arn:aws:s3:::plone-aws-prod-backups-${MOCK_ACCOUNT_ID}`] },
            StringEquals: { "aws:SourceAccount": MOCK_ACCOUNT_ID },
        });
        // The replica region's log bucket takes S3 logs only: no load balancer there.
        const replica = JSON.parse(named(prod, POLICY, "prod-backups-replica-logs-policy").policy);
        expect(replica.Statement.map((s: { Sid: string }) => s.Sid)).to.deep.equal(["TlsOnly", "S3ServerAccessLogDelivery"]);
    });

    it("names ALB log delivery by ELB's account in older regions and by the service principal in newer ones", () => {
        expect(elbLogDeliveryPrincipal("us-east-1")).to.deep.equal({ AWS: "arn:aws:iam::127311923021:root" });
        expect(elbLogDeliveryPrincipal("cn-north-1")).to.deep.equal({ AWS: "arn:aws-cn:iam::638102146993:root" });
        expect(elbLogDeliveryPrincipal("us-gov-west-1")).to.deep.equal({ AWS: "arn:aws-us-gov:iam::048591011584:root" });
        expect(elbLogDeliveryPrincipal("eu-central-2")).to.deep.equal({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
        expect(elbLogDeliveryPrincipal("ap-southeast-4")).to.deep.equal({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
        for (const account of Object.values(ELB_LOG_ACCOUNTS)) expect(account).to.match(/^\d{12}$/);
    });

    it("prod: the load balancer logs under prod/alb, after the bucket policy exists", () => {
        const lb = byType(prod, "aws:lb/loadBalancer:LoadBalancer")[0];
        expect(plain(lb).accessLogs).to.deep.equal({ bucket: `plone-aws-prod-logs-${MOCK_ACCOUNT_ID}`, prefix: "prod/alb", enabled: true });
        const policyUrn = byType(prod, POLICY).find((p) => p.name === "prod-access-logs-policy")!.urn;
        expect(lb.options.dependencies).to.include(policyUrn);
    });

    it("prod: the backup bucket and its replica log S3 access into the log bucket of their own region", () => {
        expect(named(prod, LOGGING, "prod-backups-bucket-access-logging")).to.deep.include({
            targetBucket: `plone-aws-prod-logs-${MOCK_ACCOUNT_ID}`,
            targetPrefix: `prod/s3/plone-aws-prod-backups-${MOCK_ACCOUNT_ID}/`,
        });
        expect(named(prod, LOGGING, "prod-backups-replica-access-logging")).to.deep.include({
            targetBucket: `plone-aws-prod-logs-${MOCK_ACCOUNT_ID}-eu-central-1`,
            targetPrefix: `prod/s3/plone-aws-prod-backups-${MOCK_ACCOUNT_ID}-eu-central-1/`,
        });
        const replicaLogging = byType(prod, LOGGING).find((r) => r.name === "prod-backups-replica-access-logging")!;
        const replicaBucket = byType(prod, BUCKET).find((r) => r.name === "prod-backups-replica")!;
        expect(replicaLogging.options.provider)
            .to.equal(replicaBucket.options.provider)
            .and.to.match(/prod-backups-replica-region/);
    });

    it("dev: an Elastic IP front door, so the log bucket takes only the backup bucket's S3 logs; no web firewall", () => {
        const policy = JSON.parse(named(dev, POLICY, "dev-access-logs-policy").policy);
        expect(policy.Statement.map((s: { Sid: string }) => s.Sid)).to.deep.equal(["TlsOnly", "S3ServerAccessLogDelivery"]);
        expect(byType(dev, "aws:wafv2/webAcl:WebAcl")).to.have.length(0);
        expect(byType(dev, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).to.have.length(0);
    });

    it("without monitoring.accessLogs: no log bucket, no logging, and the load balancer logs nothing", async () => {
        const run = await runRepoStack("prod", (raw) => {
            const monitoring = JSON.parse(raw["plone-aws:monitoring"]);
            raw["plone-aws:monitoring"] = JSON.stringify({ ...monitoring, accessLogs: { enabled: false } });
        });
        expect(byType(run, "plone-aws:logs:AccessLogBucket")).to.have.length(0);
        expect(byType(run, LOGGING)).to.have.length(0);
        expect(plain(byType(run, "aws:lb/loadBalancer:LoadBalancer")[0]).accessLogs).to.equal(undefined);
    });

    it("prod: a REGIONAL web ACL on the load balancer, counting: managed groups, the login rate limit, the admin allow-list", () => {
        const acl = named(prod, "aws:wafv2/webAcl:WebAcl", "prod-waf-acl");
        expect(acl).to.include({ name: "plone-aws-prod-web-acl", scope: "REGIONAL" });
        expect(acl.defaultAction).to.deep.equal({ allow: {} });
        const rules = Object.fromEntries(acl.rules.map((r: { name: string }) => [r.name, r]));
        expect(Object.keys(rules)).to.deep.equal([
            "admin-cidrs",
            "AWSManagedRulesAmazonIpReputationList",
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "login-rate-limit",
        ]);
        expect(rules["admin-cidrs"].action).to.deep.equal({ allow: {} });
        expect(rules.AWSManagedRulesCommonRuleSet.overrideAction).to.deep.equal({ count: {} });
        expect(rules.AWSManagedRulesCommonRuleSet.statement.managedRuleGroupStatement.ruleActionOverrides).to.deep.equal([
            { name: "SizeRestrictions_BODY", actionToUse: { count: {} } },
        ]);
        expect(rules["login-rate-limit"].action).to.deep.equal({ count: {} });
        expect(rules["login-rate-limit"].statement.rateBasedStatement).to.include({ aggregateKeyType: "IP", limit: 100, evaluationWindowSec: 300 });
        expect(named(prod, "aws:wafv2/ipSet:IpSet", "prod-waf-admin-cidrs")).to.include({ scope: "REGIONAL", ipAddressVersion: "IPV4" });
        expect(named(prod, "aws:wafv2/ipSet:IpSet", "prod-waf-admin-cidrs").addresses).to.deep.equal(["198.51.100.0/28"]);
        const lb = byType(prod, "aws:lb/loadBalancer:LoadBalancer")[0];
        expect(named(prod, "aws:wafv2/webAclAssociation:WebAclAssociation", "prod-waf-association").resourceArn).to.equal(lb.state.arn);
    });

    it("prod: the WAF logs to a log group named aws-waf-logs-..., cookies and Authorization redacted", () => {
        const group = named(prod, "aws:cloudwatch/logGroup:LogGroup", "prod-waf-log");
        expect(group.name).to.equal("aws-waf-logs-plone-aws-prod");
        expect(group.retentionInDays).to.equal(90);
        const logging = named(prod, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration", "prod-waf-logging");
        expect(logging.logDestinationConfigs).to.have.length(1);
        expect(logging.redactedFields).to.deep.equal([{ singleHeader: { name: "cookie" } }, { singleHeader: { name: "authorization" } }]);
    });

    it("block mode blocks with every rule", async () => {
        const run = await runRepoStack("prod", (raw) => {
            const frontend = JSON.parse(raw["plone-aws:frontend"]);
            raw["plone-aws:frontend"] = JSON.stringify({ ...frontend, waf: { mode: "block", loginRateLimit: 50 } });
        });
        const acl = named(run, "aws:wafv2/webAcl:WebAcl", "prod-waf-acl");
        const rules = Object.fromEntries(acl.rules.map((r: { name: string }) => [r.name, r]));
        expect(rules.AWSManagedRulesKnownBadInputsRuleSet.overrideAction).to.deep.equal({ none: {} });
        expect(rules["login-rate-limit"].action).to.deep.equal({ block: {} });
        expect(rules["login-rate-limit"].statement.rateBasedStatement.limit).to.equal(50);
    });

    it("matches Plone's login paths, under sub-sites and VirtualHostMonster paths, and nothing else", () => {
        const patterns = LOGIN_PATH_PATTERNS.map((p) => new RegExp(p));
        const matches = (path: string) => patterns.some((p) => p.test(path));
        for (const path of [
            "/Plone/login_form",
            "/Plone/@@login",
            "/login",
            "/Plone/en/about/login_form",
            "/VirtualHostBase/https/www.example.org:443/Plone/VirtualHostRoot/login_form",
            "/Plone/acl_users/credentials_cookie_auth/require_login",
            "/Plone/acl_users/credentials_cookie_auth",
            "/Plone/++api++/@login",
            "/Plone/@login",
        ])
            expect(matches(path), path).to.equal(true);
        for (const path of ["/Plone/news/login-tips", "/Plone/logins", "/Plone/front-page", "/Plone/@@search"]) expect(matches(path), path).to.equal(false);
    });

    it("prod: RDS automated backups replicated to the snapshot copy region, with that region's aws/rds key", () => {
        const [replication] = byType(prod, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
        const db = byType(prod, "aws:rds/instance:Instance")[0];
        expect(plain(replication).sourceDbInstanceArn).to.equal(db.state.arn);
        expect(plain(replication).retentionPeriod).to.equal(7);
        expect(plain(replication).kmsKeyId).to.match(/^arn:aws:kms:eu-central-1:123456789012:key\//);
        const provider = byType(prod, "pulumi:providers:aws").find((p) => replication.options.provider?.includes(`::${p.name}::`))!;
        expect(plain(provider).region).to.equal("eu-central-1");
    });

    it("an explicit key and retention are used; replication off when asked", async () => {
        const key = "arn:aws:kms:eu-central-1:123456789012:key/11111111-2222-4333-8444-555555555555";
        const run = await runRepoStack("prod", (raw) => {
            const database = JSON.parse(raw["plone-aws:database"]);
            raw["plone-aws:database"] = JSON.stringify({ ...database, backupReplication: { retentionDays: 14, kmsKeyArn: key } });
        });
        const [replication] = byType(run, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication");
        expect(plain(replication)).to.include({ retentionPeriod: 14, kmsKeyId: key });
        const off = await runRepoStack("prod", (raw) => {
            const database = JSON.parse(raw["plone-aws:database"]);
            raw["plone-aws:database"] = JSON.stringify({ ...database, backupReplication: { enabled: false } });
        });
        expect(byType(off, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).to.have.length(0);
    });
});
