// The program under Pulumi's mocks: which resources it registers, with which inputs and options.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { addressPlan, CapturedResource, isSecretValue, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { cidrContains, planSubnet } from "../../components/topology/addressing";
import { LAYER_TAG, SNAPSHOT_TAG, STACK_TAG } from "../../components/aws/tags";
import { ALL_SECRETS, loadRepoStack } from "../helpers/stacks";
import { readStackFile } from "../../scripts/lib/offline/stackFile";
import * as path from "path";
import { REPO } from "../helpers/stacks";

/** Types that carry tags in AWS (the policy pack checks the same). */
const TAGGABLE =
    /^aws:(ec2\/(vpc|subnet|internetGateway|routeTable|natGateway|eip|securityGroup|instance|keyPair):|vpc\/securityGroup(Ingress|Egress)Rule:|ebs\/volume:|iam\/(role|instanceProfile):|rds\/(instance|subnetGroup|parameterGroup):|lb\/(loadBalancer|targetGroup|listener):|efs\/fileSystem:|dlm\/lifecyclePolicy:|cloudwatch\/metricAlarm:)/;

function byType(run: OfflineRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

function plain(r: CapturedResource): Record<string, any> {
    return unwrapSecrets(r.inputs) as Record<string, any>;
}

async function runRepoStack(stack: string): Promise<OfflineRun> {
    const loaded = loadRepoStack(stack);
    return runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
}

describe("the program under mocks", function () {
    let dev: OfflineRun;
    let prod: OfflineRun;
    before(async () => {
        dev = await runRepoStack("dev");
        prod = await runRepoStack("prod");
    });

    it("dev: one host carrying every layer, its data volumes, an Elastic IP, no load balancer or database", () => {
        const instances = byType(dev, "aws:ec2/instance:Instance");
        expect(instances).to.have.length(1);
        expect(plain(instances[0]).tags[LAYER_TAG]).to.equal("frontend plone_instances zeoserver");
        expect(byType(dev, "aws:ebs/volume:Volume").map((v) => v.name)).to.deep.equal(["dev-dev-1-filestorage", "dev-dev-1-backups", "dev-dev-1-blobs"]);
        expect(byType(dev, "aws:ec2/volumeAttachment:VolumeAttachment")).to.have.length(3);
        expect(byType(dev, "aws:ec2/eip:Eip")).to.have.length(1);
        expect(byType(dev, "aws:lb/loadBalancer:LoadBalancer")).to.have.length(0);
        expect(byType(dev, "aws:rds/instance:Instance")).to.have.length(0);
        expect(byType(dev, "aws:ec2/natGateway:NatGateway")).to.have.length(0);
    });

    it("prod: 7 hosts and a bastion, ALB, RDS Multi-AZ, NAT per AZ, gluster volumes", () => {
        expect(byType(prod, "aws:ec2/instance:Instance")).to.have.length(8);
        expect(byType(prod, "plone-aws:host:Host")).to.have.length(7);
        expect(byType(prod, "aws:lb/loadBalancer:LoadBalancer")).to.have.length(1);
        expect(byType(prod, "aws:lb/targetGroupAttachment:TargetGroupAttachment")).to.have.length(2);
        expect(byType(prod, "aws:ec2/natGateway:NatGateway")).to.have.length(2);
        expect(byType(prod, "aws:ebs/volume:Volume").map((v) => [v.name, plain(v).size])).to.deep.equal([
            ["prod-blobs-1-bricks", 500],
            ["prod-blobs-2-bricks", 500],
        ]);
        const db = plain(byType(prod, "aws:rds/instance:Instance")[0]);
        expect(db).to.include({
            engine: "postgres",
            multiAz: true,
            storageEncrypted: true,
            publiclyAccessible: false,
            deletionProtection: true,
            skipFinalSnapshot: false,
            backupRetentionPeriod: 14,
        });
        expect(db.finalSnapshotIdentifier).to.be.a("string");
    });

    it("keeps the database password secret in the RDS inputs", () => {
        const db = byType(prod, "aws:rds/instance:Instance")[0];
        expect(isSecretValue(db.inputs.password)).to.equal(true);
    });

    it("requires IMDSv2 and encrypts every root and data volume", () => {
        for (const run of [dev, prod]) {
            for (const i of byType(run, "aws:ec2/instance:Instance")) {
                const inputs = plain(i);
                expect(inputs.metadataOptions.httpTokens, i.name).to.equal("required");
                expect(inputs.rootBlockDevice).to.include({ encrypted: true, volumeType: "gp3" });
                // Hosts keep their launch key pair (the configure step manages authorized_keys); the bastion is replaced with a new key.
                expect(i.options.ignoreChanges, i.name).to.deep.equal(i.name.includes("bastion") ? ["ami"] : ["ami", "keyName"]);
            }
            for (const v of byType(run, "aws:ebs/volume:Volume")) expect(plain(v)).to.include({ encrypted: true, type: "gp3" });
        }
    });

    it("gives the data volumes volumes.type with its IOPS and throughput (the root volumes stay gp3)", async () => {
        const loaded = loadRepoStack("prod");
        const raw = { ...loaded.config.raw, "plone-aws:volumes": JSON.stringify({ type: "io2", iops: 12000 }) };
        const run = await runOffline({ ...loaded.config, raw }, { addresses: addressPlan(loaded.spec) });
        const volumes = byType(run, "aws:ebs/volume:Volume");
        expect(volumes).to.have.length(byType(prod, "aws:ebs/volume:Volume").length);
        for (const v of volumes) expect(plain(v), v.name).to.include({ type: "io2", iops: 12000, encrypted: true }).and.not.have.property("throughput");
        for (const i of byType(run, "aws:ec2/instance:Instance")) expect(plain(i).rootBlockDevice.volumeType).to.equal("gp3");
    });

    it("tags every taggable resource with the stack, and host resources with their layer", () => {
        for (const run of [dev, prod]) {
            const taggable = run.resources.filter((r) => TAGGABLE.test(r.type));
            expect(taggable.length).to.be.greaterThan(20);
            for (const r of taggable) expect(plain(r).tags?.[STACK_TAG], `${r.type} ${r.name}`).to.equal(run.stackName);
            for (const r of [...byType(run, "aws:ec2/instance:Instance"), ...byType(run, "aws:ebs/volume:Volume")]) {
                if (r.name.includes("bastion")) continue;
                expect(plain(r).tags[LAYER_TAG], r.name).to.be.a("string").and.not.equal("");
            }
        }
    });

    it("protects and retains data in production only", () => {
        for (const v of byType(prod, "aws:ebs/volume:Volume")) {
            expect(v.options, v.name).to.include({ protect: true, retainOnDelete: true });
            expect(plain(v).finalSnapshot).to.equal(true);
        }
        expect(byType(prod, "aws:rds/instance:Instance")[0].options.protect).to.equal(true);
        for (const v of byType(dev, "aws:ebs/volume:Volume")) {
            expect(v.options, v.name).to.include({ protect: false, retainOnDelete: false });
            // Deleted with a removed host in dev and staging, but snapshotted first.
            expect(plain(v).finalSnapshot, v.name).to.equal(true);
        }
    });

    it("snapshots exactly the tag the data volumes carry, keeps 15, copies to the second region in prod", () => {
        for (const run of [dev, prod]) {
            const policy = plain(byType(run, "aws:dlm/lifecyclePolicy:LifecyclePolicy")[0]);
            const target = policy.policyDetails.targetTags;
            for (const v of byType(run, "aws:ebs/volume:Volume")) {
                expect(plain(v).tags[SNAPSHOT_TAG]).to.equal(target[SNAPSHOT_TAG]);
            }
            expect(policy.policyDetails.schedules[0].retainRule.count).to.equal(15);
        }
        const prodPolicy = plain(byType(prod, "aws:dlm/lifecyclePolicy:LifecyclePolicy")[0]);
        expect(prodPolicy.policyDetails.schedules[0].createRule).to.deep.include({ times: "03:00", interval: 24 });
        expect(prodPolicy.policyDetails.schedules[0].crossRegionCopyRules[0]).to.deep.include({ target: "eu-central-1", encrypted: true });
        const role = byType(prod, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").find((a) => a.name === "prod-snapshots-role")!;
        expect(plain(role).policyArn).to.equal("arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole");
    });

    it("serves HTTPS on the ALB with a TLS 1.2+ policy and only redirects HTTP", () => {
        const listeners = byType(prod, "aws:lb/listener:Listener").map(plain);
        const https = listeners.find((l) => l.port === 443)!;
        expect(https.protocol).to.equal("HTTPS");
        expect(https.sslPolicy).to.match(/TLS13-1-2/);
        const http = listeners.find((l) => l.port === 80)!;
        expect(http.defaultActions[0]).to.deep.include({ type: "redirect" });
        expect(http.defaultActions[0].redirect).to.deep.include({ protocol: "HTTPS", statusCode: "HTTP_301" });
    });

    it("recovers every fixed host automatically, saying why in the alarm", () => {
        const recovery = byType(prod, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => a.name.endsWith("-recovery"));
        expect(recovery.map((a) => a.name).sort()).to.deep.equal(
            ["app-1", "app-2", "blobs-1", "blobs-2", "cache-1", "web-1", "web-2"].map((h) => `prod-${h}-recovery`),
        );
        for (const r of recovery) expect(plain(r).alarmActions).to.deep.equal(["arn:aws:automate:eu-west-1:ec2:recover"]);
        const description = (host: string) => plain(recovery.find((a) => a.name === `prod-${host}-recovery`)!).alarmDescription;
        expect(description("app-1")).to.equal(
            "Recover prod-app-1 (it carries plone_instances, db_packing, which run on one host only) when its hardware fails",
        );
        expect(description("web-1")).to.equal(
            "Recover prod-web-1 (frontend) onto healthy hardware when its system status check fails: same instance, addresses and volumes",
        );
    });

    it("nests resources under their components, named after them", () => {
        const components = new Map(prod.resources.filter((r) => !r.custom).map((r) => [r.urn, r]));
        for (const r of prod.resources) {
            if (r.parent === "") {
                expect(r.type).to.equal("plone-aws:stack:PloneStack");
                continue;
            }
            const parent = components.get(r.parent);
            expect(parent, `${r.name} has a component parent`).to.not.equal(undefined);
            expect(r.name.startsWith(parent!.name), `${r.name} is named after ${parent!.name}`).to.equal(true);
        }
    });

    it("passes component args to the component, so policies can read them", () => {
        const host = byType(prod, "plone-aws:host:Host").find((h) => h.name === "prod-app-1")!;
        expect((unwrapSecrets(host.inputs) as any).plan.layers).to.deep.equal(["plone_instances", "db_packing"]);
    });

    it("outputs the site URL, the front door and private IPs inside each host's subnet", () => {
        expect(prod.outputs.siteUrl).to.equal("https://www.plone.example.org/");
        expect(String(prod.outputs.frontDoorAddress)).to.match(/\.elb\.amazonaws\.com$/);
        expect(String(prod.outputs.databaseEndpoint)).to.match(/\.rds\.amazonaws\.com:5432$/);
        const ips = prod.outputs.hostPrivateIps as Record<string, string>;
        const spec = loadRepoStack("prod").spec;
        for (const h of spec.hosts) expect(cidrContains(planSubnet(spec.network.cidr, "private", h.az).cidr, ips[h.name]), h.name).to.equal(true);
        expect(dev.outputs.frontDoorAddress).to.match(/^198\.51\.100\.\d+$/);
        // npm run ops connects to sshAddresses: the private IPs behind prod's bastion, dev's Elastic IP.
        expect(prod.outputs.sshAddresses).to.deep.equal(ips);
        expect(dev.outputs.sshAddresses).to.deep.equal({ "dev-1": dev.outputs.frontDoorAddress });
    });

    it("registers no resource at all when the configuration is invalid", async () => {
        const config = readStackFile(path.join(REPO, "Pulumi.prod.yaml"));
        const raw = { ...config.raw, ...ALL_SECRETS, "plone-aws:plone": JSON.stringify({ storage: "relstorage", blobs: "s3" }) };
        let error: unknown;
        let run: OfflineRun | undefined;
        try {
            run = await runOffline({ stackName: "prod", raw, secretKeys: Object.keys(ALL_SECRETS) });
        } catch (e) {
            error = e;
        }
        expect(run).to.equal(undefined);
        expect(error).to.be.instanceOf(pulumi.RunError);
        expect(String((error as Error).message)).to.contain("plone-aws:plone.blobs: must be one of");
        const monitor = (pulumi.runtime as unknown as { getMonitor(): { getRegisteredResources(): Map<string, unknown> } }).getMonitor();
        expect(monitor.getRegisteredResources().size).to.equal(0);
    });
});
