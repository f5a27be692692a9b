// The offline check of every registered input against what AWS and the provider accept, over every
// stack file and fixture of the repository, and on the mistakes it exists for.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { addressPlan, CapturedResource, OfflineRun, runOffline } from "../../scripts/lib/offline/run";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { parseStackText } from "../../scripts/lib/offline/stackFile";
import { validateStack } from "../../scripts/lib/offline/loadStack";
import { checkAwsConstraints, formatAwsIssues, siblingStacks } from "../../scripts/lib/awsCheck";
import { elasticIpsOf, policySize } from "../../scripts/lib/awsCheck/quotas";
import type { StackSpec } from "../../components/config/spec";
import { REPO } from "../helpers/stacks";
import { STORAGE_VARIANT_CONFIGS } from "../helpers/storageVariants";
import { APP_VARIANT_CONFIGS } from "../helpers/appStacks";
import { run as runProgram, tempDir } from "../helpers/system";

interface Planned {
    spec: StackSpec;
    run: OfflineRun;
}

async function planFile(file: string, stackName?: string): Promise<Planned> {
    const loaded = loadStack({ stackFile: file, stack: stackName });
    if (!loaded.spec) throw new Error(`${file}: ${JSON.stringify(loaded.errors)}`);
    return { spec: loaded.spec, run: await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) }) };
}

/** A configuration built in a test, planned as a stack file with those keys would be. */
async function planConfig(config: Record<string, unknown>, stackName: string): Promise<Planned> {
    const text = `config:\n${Object.entries(config)
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
        .join("\n")}\n`;
    const loaded = validateStack(parseStackText(text, `Pulumi.${stackName}.yaml`, stackName));
    if (!loaded.spec) throw new Error(`${stackName}: ${JSON.stringify(loaded.errors)}`);
    return { spec: loaded.spec, run: await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) }) };
}

function one(run: OfflineRun, type: string): CapturedResource {
    const found = run.resources.filter((r) => r.type === type);
    expect(found, type).to.have.length(1);
    return found[0];
}

const STACK_FILES = [
    ...fs
        .readdirSync(REPO)
        .filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml")
        .map((f) => path.join(REPO, f)),
    ...fs.readdirSync(path.join(REPO, "test/fixtures/stacks")).map((f) => path.join(REPO, "test/fixtures/stacks", f)),
];

describe("the offline check against AWS's and the provider's constraints", function () {
    let prod: Planned;
    before(async () => {
        prod = await planFile(path.join(REPO, "Pulumi.prod.yaml"));
    });

    describe("passes every stack file and fixture", () => {
        it(`the stack files (${STACK_FILES.map((f) => path.relative(REPO, f)).join(", ")})`, async () => {
            expect(STACK_FILES.length).to.be.greaterThan(2);
            for (const file of STACK_FILES) {
                const { spec, run } = await planFile(file);
                const issues = checkAwsConstraints(run, { spec, siblings: siblingStacks(file) });
                expect(issues, formatAwsIssues(issues, file)).to.deep.equal([]);
            }
        });

        it("the variants of the storage and app tests", async () => {
            const configs = { ...STORAGE_VARIANT_CONFIGS, ...APP_VARIANT_CONFIGS };
            expect(Object.keys(configs).length).to.be.greaterThan(8);
            for (const [name, config] of Object.entries(configs)) {
                const { spec, run } = await planConfig(config(), name.toLowerCase());
                const issues = checkAwsConstraints(run, { spec });
                expect(issues, formatAwsIssues(issues, name)).to.deep.equal([]);
            }
        });

        it("a stack whose long name would make the load balancer's and the target group's auto-names too long", async () => {
            const { spec, run } = await planFile(path.join(REPO, "Pulumi.prod.yaml"), "production-eu-west");
            const issues = checkAwsConstraints(run, { spec });
            expect(issues, formatAwsIssues(issues, "production-eu-west")).to.deep.equal([]);
            const names = [one(run, "aws:lb/loadBalancer:LoadBalancer"), one(run, "aws:lb/targetGroup:TargetGroup")].map((r) => r.inputs.name as string);
            expect(names.map((n) => n.replace(/[0-9a-f]{8}$/, "<hash>"))).to.deep.equal(["production-eu-west-alb-<hash>", "production-eu-west-web-<hash>"]);
            for (const n of names) expect(n.length).to.be.at.most(32);
            // Where the auto-name fits, it stays (nothing to replace for existing stacks): prod's load
            // balancer (prod-front-door-alb-xxxxxxx, 27); its target group would be 33.
            expect(one(prod.run, "aws:lb/loadBalancer:LoadBalancer").inputs.name).to.equal(undefined);
            expect(one(prod.run, "aws:lb/targetGroup:TargetGroup").inputs.name).to.match(/^prod-web-[0-9a-f]{8}$/);
        });
    });

    describe("the mail's names for a long stack name", () => {
        /** A stack name of `n` characters (its own resource prefix). */
        const stackOf = (n: number) => `production-${"x".repeat(n - 11)}`;

        it("passes the longest stack name prod's IAM role auto-names allow, with its SES names", async () => {
            // 31: <prefix>-backups-replication-role plus Pulumi's 8 is IAM's 64 for a role; one more is refused.
            const { spec, run } = await planFile(path.join(REPO, "Pulumi.prod.yaml"), stackOf(31));
            const issues = checkAwsConstraints(run, { spec });
            expect(issues, formatAwsIssues(issues, stackOf(31))).to.deep.equal([]);
            expect(one(run, "aws:iam/user:User").inputs.name).to.equal(`plone-aws-${stackOf(31)}-ses-smtp`);
            expect(one(run, "aws:sesv2/configurationSet:ConfigurationSet").inputs.configurationSetName).to.equal(`plone-aws-${stackOf(31)}`);
            const alarms = run.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name.includes("-mail-"));
            expect(alarms.map((a) => a.inputs.name)).to.deep.equal([
                `plone-aws-${stackOf(31)}-mail-bounce-rate`,
                `plone-aws-${stackOf(31)}-mail-complaint-rate`,
            ]);
            const longer = await planFile(path.join(REPO, "Pulumi.prod.yaml"), stackOf(32));
            expect(checkAwsConstraints(longer.run, { spec: longer.spec }).map((i) => i.resource)).to.deep.equal([`${stackOf(32)}-backups-replication-role`]);
        });

        it("refuses, in the configuration, a stack name that makes the SMTP user's name longer than IAM's 64", () => {
            const loaded = loadStack({ stackFile: path.join(REPO, "Pulumi.prod.yaml"), stack: stackOf(46) });
            expect(loaded.spec).to.equal(undefined);
            expect(loaded.errors.map((e) => `${e.path}: ${e.message.split(":")[0]}`)).to.deep.equal([
                `plone-aws:mail: the SES SMTP user is named plone-aws-${stackOf(46)}-ses-smtp after the stack ${stackOf(46)}`,
            ]);
        });
    });

    describe("catches what AWS or the provider refuses", () => {
        /** A copy of the run with a resource changed the way an older or broken program registered it. */
        function registered(run: OfflineRun, type: string, change: (inputs: Record<string, any>) => void, name?: string): OfflineRun {
            const copy = structuredClone(run);
            const r = copy.resources.find((x) => x.type === type && (!name || x.name === name))!;
            change(r.inputs as Record<string, any>);
            return copy;
        }

        it("the DLM description and schedule name and the target group's auto-name the program registered before", () => {
            // What plone-aws registered for prod until this change (components/aws/snapshots.ts, frontDoor.ts).
            let run = registered(prod.run, "aws:dlm/lifecyclePolicy:LifecyclePolicy", (i) => {
                i.description = "plone-aws prod: daily data volume snapshots";
                i.policyDetails.schedules[0].name = "daily 03:00 UTC, keep 15";
            });
            run = registered(run, "aws:lb/targetGroup:TargetGroup", (i) => delete i.name);
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => [i.resource, i.field, i.source.split(":")[0]])).to.deep.equal([
                ["prod-snapshots-policy", "description", "AWS API model (botocore 1.29.27)"],
                ["prod-snapshots-policy", "description", "terraform-provider-aws internal/service/dlm/lifecycle_policy.go (description"],
                ["prod-snapshots-policy", "policyDetails.schedules[0].name", "AWS API model (botocore 1.29.27)"],
                ["prod-front-door-frontends", "name", "pulumi-aws provider/resources.go (aws_lb_target_group"],
            ]);
            expect(issues[3].message).to.equal("Pulumi names it after the resource (25 characters) plus 8: 33, and at most 32 are allowed");
        });

        it("an auto-name within the bridge's limit that the provider's validation refuses", () => {
            const run = registered(prod.run, "aws:lb/loadBalancer:LoadBalancer", (i) => delete i.name);
            const lb = run.resources.find((r) => r.type === "aws:lb/loadBalancer:LoadBalancer")!;
            lb.name = "production-eu-west-front-door-alb";
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => [i.resource, i.field, i.message])).to.deep.equal([
                ["production-eu-west-front-door-alb", "name", "(the name Pulumi generates) is 41 characters, at most 32 are allowed"],
            ]);
        });

        it("values out of the model's range and enum, and tags AWS reserves", () => {
            let run = registered(prod.run, "aws:lb/targetGroup:TargetGroup", (i) => (i.healthCheck.interval = 2));
            run = registered(run, "aws:ebs/volume:Volume", (i) => {
                i.type = "gp4";
                i.tags["aws:owner"] = "ops";
            });
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => `${i.resource} ${i.field}: ${i.message}`)).to.deep.equal([
                "prod-blobs-1-bricks type: must be one of standard, io1, io2, gp2, sc1, st1, gp3",
                'prod-blobs-1-bricks tags["aws:owner"]: cannot begin with "aws:" (reserved for AWS)',
                "prod-front-door-frontends healthCheck.interval: is 2, at least 5 is needed",
            ]);
        });

        it("a WAF name with a dot, a metric name with a space, a rate limit below WAF's minimum", () => {
            const run = registered(prod.run, "aws:wafv2/webAcl:WebAcl", (i) => {
                i.name = "plone-aws-prod.eu-web-acl";
                i.visibilityConfig.metricName = "prod web acl";
                i.rules[i.rules.length - 1].statement.rateBasedStatement.limit = 1;
            });
            const issues = checkAwsConstraints(run, { spec: prod.spec }).map((i) => `${i.resource} ${i.field}`);
            expect(issues).to.have.members([
                "prod-waf-acl name",
                "prod-waf-acl visibilityConfig.metricName",
                "prod-waf-acl rules[4].statement.rateBasedStatement.limit",
            ]);
        });

        it("the SES and IAM inputs of the mail: names, domains, enums", () => {
            let run = registered(prod.run, "aws:sesv2/configurationSet:ConfigurationSet", (i) => {
                i.configurationSetName = "plone-aws-prod.eu";
                i.deliveryOptions.tlsPolicy = "Require";
            });
            run = registered(run, "aws:iam/user:User", (i) => {
                i.name = "plone aws prod ses smtp";
                i.path = "plone-aws";
            });
            run = registered(run, "aws:sesv2/emailIdentity:EmailIdentity", (i) => (i.emailIdentity = "-plone-.example.org"));
            run = registered(run, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes", (i) => {
                i.emailIdentity = "plone.example.org";
                i.mailFromDomain = "plone.example.org";
            });
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => `${i.resource} ${i.field}: ${i.message} [${i.source.split(" (")[0]}]`)).to.deep.equal([
                "prod-mail-smtp-user name: does not match [\\w+=,.@-]+ [AWS API model]",
                "prod-mail-smtp-user path: does not match (\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F) [AWS API model]",
                "prod-mail-configuration-set deliveryOptions.tlsPolicy: must be one of REQUIRE, OPTIONAL [AWS API model]",
                "prod-mail-configuration-set configurationSetName: may only contain letters, digits, '_' and '-' [Amazon SES API v2 reference]",
                `prod-mail-identity emailIdentity: has the label "-plone-": labels are 1 to 63 letters, digits and '-', not at either end [Amazon SES API v2 reference]`,
                "prod-mail-mail-from mailFromDomain: is the identity plone.example.org itself: the MAIL FROM domain must be one of its subdomains (bounce.plone.example.org) [Amazon SES API v2 reference]",
            ]);
            const elsewhere = registered(prod.run, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes", (i) => {
                i.mailFromDomain = "bounce.plone.example.net";
            });
            expect(checkAwsConstraints(elsewhere, { spec: prod.spec }).map((i) => i.message)).to.deep.equal([
                "is not a subdomain of the identity plone.example.org",
            ]);
            const longSet = registered(prod.run, "aws:sesv2/configurationSet:ConfigurationSet", (i) => (i.configurationSetName = "s".repeat(65)));
            expect(checkAwsConstraints(longSet, { spec: prod.spec }).map((i) => i.message)).to.deep.equal(["is 65 characters, at most 64 are allowed"]);
        });

        it("an inline user policy larger than IAM's quota, and a user policy auto-name longer than IAM's", () => {
            // IAM counts a user's inline policies together, white space left out: the size of prod's is what it has to spare.
            const user = one(prod.run, "aws:iam/userPolicy:UserPolicy");
            const size = policySize(user.inputs.policy as string);
            expect(size).to.be.within(300, 2048);
            const big = registered(prod.run, "aws:iam/userPolicy:UserPolicy", (i) => {
                const doc = JSON.parse(i.policy);
                doc.Statement[0].Condition.StringLike["ses:FromAddress"].push(`*@${"x".repeat(2048 - size)}.org`);
                i.policy = JSON.stringify(doc, null, 4);
            });
            const issues = checkAwsConstraints(big, { spec: prod.spec });
            expect(issues.map((i) => [i.resource, i.field, i.source])).to.deep.equal([
                ["prod-mail-smtp-send", "policy", "IAM quota: inline policies of an IAM user (2048 characters, white space not counted)"],
            ]);
            expect(issues[0].message).to.match(
                /^the inline policies of the IAM user plone-aws-prod-ses-smtp \(prod-mail-smtp-send 2\d{3}\) are 2\d{3} characters without white space, and IAM allows 2048/,
            );
            const renamed = registered(prod.run, "aws:iam/userPolicy:UserPolicy", () => undefined);
            renamed.resources.find((r) => r.type === "aws:iam/userPolicy:UserPolicy")!.name = `prod-${"m".repeat(116)}`;
            expect(checkAwsConstraints(renamed, { spec: prod.spec }).map((i) => `${i.field}: ${i.message}`)).to.deep.equal([
                "name: (the name Pulumi generates) is 129 characters, at most 128 are allowed",
            ]);
        });

        it("more security groups on a host than a network interface takes", () => {
            const run = registered(
                prod.run,
                "aws:ec2/instance:Instance",
                (i) => i.vpcSecurityGroupIds.push("sg-1", "sg-2", "sg-3", "sg-4", "sg-5"),
                "prod-web-1-instance",
            );
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => [i.resource, i.field])).to.deep.equal([["prod-web-1-instance", "vpcSecurityGroupIds"]]);
            expect(issues[0].message).to.match(/has 7 security groups, and EC2 allows 5 per network interface/);
        });

        it("a load balancer whose subnets are all in one AZ", () => {
            const run = registered(prod.run, "aws:lb/loadBalancer:LoadBalancer", (i) => (i.subnets = [i.subnets[0], i.subnets[0]]));
            const issues = checkAwsConstraints(run, { spec: prod.spec });
            expect(issues.map((i) => [i.resource, i.field, i.message])).to.deep.equal([
                ["prod-front-door-alb", "subnets", "spans 1 availability zone: an application load balancer needs subnets in at least two (network.azCount)"],
            ]);
        });

        it("more Elastic IPs in a region than the quota, counted over the repository's stack files", async () => {
            const dev = await planFile(path.join(REPO, "Pulumi.dev.yaml"));
            // Counted from the topology for the other stacks: the same number the program allocates.
            expect(elasticIpsOf(dev.spec)).to.equal(dev.run.resources.filter((r) => r.type === "aws:ec2/eip:Eip").length);
            expect(elasticIpsOf(prod.spec)).to.equal(prod.run.resources.filter((r) => r.type === "aws:ec2/eip:Eip").length);
            const others = [2, 1, 1].map((n, i) => ({ file: `Pulumi.s${i}.yaml`, stack: `s${i}`, region: "eu-west-1", elasticIps: n }));
            const issues = checkAwsConstraints(prod.run, { spec: prod.spec, siblings: others });
            expect(issues.map((i) => i.message)).to.deep.equal([
                "the stacks of this repository in eu-west-1 allocate 7 Elastic IPs (prod 3, s0 2, s1 1, s2 1), and the region allows 5 (plone-aws:quotas.elasticIpsPerRegion): use natGateways single, share a bastion, or raise the quota with AWS and then the key",
            ]);
            const elsewhere = others.map((o) => ({ ...o, region: "us-east-1" }));
            expect(checkAwsConstraints(prod.run, { spec: prod.spec, siblings: elsewhere })).to.deep.equal([]);
        });
    });

    describe("npm run plan", () => {
        const tmp = tempDir("aws-check");
        after(() => tmp.cleanup());

        it("stops with exit 1, naming the resource and the input, before anything else", () => {
            // Six copies of dev in one directory and region: 6 Elastic IPs for the front ends.
            const dir = path.join(tmp.dir, "eips");
            fs.mkdirSync(dir, { recursive: true });
            const dev = fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");
            for (const n of [1, 2, 3, 4, 5, 6]) fs.writeFileSync(path.join(dir, `Pulumi.dev${n}.yaml`), dev);
            const cli = runProgram(
                process.execPath,
                ["-r", "ts-node/register/transpile-only", "scripts/plan.ts", "--stack-file", path.join(dir, "Pulumi.dev1.yaml")],
                { cwd: REPO },
            );
            expect(cli.status, cli.stdout).to.equal(1);
            expect(cli.stdout).to.equal("");
            expect(cli.stderr).to.include("AWS or the provider would refuse 1 input at `pulumi up`:");
            expect(cli.stderr).to.include("dev1 (1 Elastic IP) (aws:ec2/eip:Eip) domain: the stacks of this repository in eu-west-1 allocate 6 Elastic IPs");
            expect(cli.stderr).to.include("Nothing was created or changed.");
            expect(cli.stderr).not.to.match(/\n\s+at /);
        });
    });
});
