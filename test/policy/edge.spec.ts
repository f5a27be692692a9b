// The edge of a production stack: the load balancer's access logs, S3 access logging of the backup
// buckets, and a web ACL on the load balancer.
import { expect } from "chai";
import type { PolicyResource } from "@pulumi/policy";
import { albAccessLogs, backupBucketAccessLogging, EDGE_TYPES, loadBalancerWaf } from "../../policies/rules/edge";
import { S3_TYPES } from "../../policies/rules/backups";
import { TYPES } from "../../policies/rules/common";
import { COMPONENT_TYPES } from "../../components/aws/typeTokens";
import { FakeStack, runResourcePolicy, UNKNOWN } from "../helpers/policyArgs";

const LOGS = { bucket: "plone-aws-prod-logs-123456789012", prefix: "prod/alb", enabled: true };

describe("policy alb-access-logs", () => {
    const run = (props: Record<string, unknown>) => runResourcePolicy(albAccessLogs, TYPES.loadBalancer, props, { name: "prod-front-door-alb" });

    it("passes an application load balancer logging to a bucket, a bucket not known yet, and a network load balancer", async () => {
        expect(await run({ loadBalancerType: "application", accessLogs: LOGS })).to.deep.equal([]);
        expect(await run({ loadBalancerType: "application", accessLogs: { ...LOGS, bucket: UNKNOWN } })).to.deep.equal([]);
        expect(await run({ loadBalancerType: "network" })).to.deep.equal([]);
    });

    it("fires on an application load balancer without access logs, or with them switched off", async () => {
        const [none] = await run({ loadBalancerType: "application" });
        expect(none.message).to.equal(
            "prod-front-door-alb writes no access logs: requests the load balancer answers itself would leave no trace. " +
                "Keep plone-aws:monitoring.accessLogs.enabled (the default): the stack's log bucket receives them under <stack>/alb.",
        );
        const [off] = await run({ loadBalancerType: "application", accessLogs: { ...LOGS, enabled: false } });
        expect(off.message).to.include("prod-front-door-alb writes no access logs (accessLogs.enabled is not true)");
    });
});

/** A bucket of the OffsiteBackups component, with S3 access logging unless `logging` is false. */
function backupBucket(stack: FakeStack, name: string, logging = true): PolicyResource {
    const b = stack.add(S3_TYPES.bucket, name, { bucket: `plone-aws-${name}` }, { parentType: COMPONENT_TYPES.offsiteBackups });
    if (logging) {
        stack.add(
            EDGE_TYPES.bucketLogging[0],
            `${name}-access-logging`,
            { bucket: `plone-aws-${name}`, targetBucket: UNKNOWN, targetPrefix: `prod/s3/plone-aws-${name}/` },
            { parentType: COMPONENT_TYPES.offsiteBackups, dependsOn: { bucket: [b] } },
        );
    }
    return b;
}

describe("policy backup-bucket-access-logging", () => {
    it("passes backup buckets that log, and ignores the log buckets themselves", async () => {
        const stack = new FakeStack();
        backupBucket(stack, "prod-backups-bucket");
        backupBucket(stack, "prod-backups-replica");
        stack.add(S3_TYPES.bucket, "prod-access-logs", { bucket: "plone-aws-prod-logs" }, { parentType: COMPONENT_TYPES.accessLogBucket });
        expect(await stack.run(backupBucketAccessLogging)).to.deep.equal([]);
        expect(await new FakeStack().run(backupBucketAccessLogging)).to.deep.equal([]);
    });

    it("fires on each backup bucket without logging, naming it; another bucket's logging does not count", async () => {
        const stack = new FakeStack();
        backupBucket(stack, "prod-backups-bucket");
        const replica = backupBucket(stack, "prod-backups-replica", false);
        const violations = await stack.run(backupBucketAccessLogging);
        expect(violations).to.have.length(1);
        expect(violations[0].urn).to.equal(replica.urn);
        expect(violations[0].message).to.equal(
            "prod-backups-replica holds the site's backups, but has no S3 server access logging (aws.s3.BucketLogging): nobody could tell who read or deleted them. " +
                "Keep plone-aws:monitoring.accessLogs.enabled (the default): the stack's log bucket in each region receives them under <stack>/s3/.",
        );
    });
});

describe("policy load-balancer-waf", () => {
    function alb(stack: FakeStack, name: string): PolicyResource {
        return stack.add(TYPES.loadBalancer, name, { loadBalancerType: "application" }, { parentType: COMPONENT_TYPES.frontDoor });
    }

    it("passes a load balancer with a web ACL associated, and a stack without a load balancer", async () => {
        const stack = new FakeStack();
        const lb = alb(stack, "prod-front-door-alb");
        stack.add(EDGE_TYPES.webAclAssociation, "prod-waf-association", { resourceArn: UNKNOWN, webAclArn: UNKNOWN }, { dependsOn: { resourceArn: [lb] } });
        expect(await stack.run(loadBalancerWaf)).to.deep.equal([]);
        expect(await new FakeStack().run(loadBalancerWaf)).to.deep.equal([]);
    });

    it("fires on a load balancer without a web ACL, even when another one has it", async () => {
        const stack = new FakeStack();
        const guarded = alb(stack, "a-alb");
        const bare = alb(stack, "b-alb");
        stack.add(EDGE_TYPES.webAclAssociation, "a-waf", { resourceArn: UNKNOWN }, { dependsOn: { resourceArn: [guarded] } });
        const violations = await stack.run(loadBalancerWaf);
        expect(violations.map((v) => v.urn)).to.deep.equal([bare.urn]);
        expect(violations[0].message).to.match(/^b-alb has no web application firewall: .* Set plone-aws:frontend\.waf \(start with mode: count/);
    });

    it("is advisory: the pack reports it without failing the stack", () => {
        expect(loadBalancerWaf.enforcementLevel).to.equal("advisory");
    });
});
