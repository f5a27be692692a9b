// The elastic app layer under Pulumi's mocks (test/fixtures/stacks/Pulumi.scaled.yaml: prod plus a
// scaled group): the resources a scaled group registers and their inputs, no secret in user data or
// in the bundle, and the front ends' files that find the scaled hosts. Stacks without a group
// register none of it (the repository's stacks).
import { expect } from "chai";
import * as path from "path";
import { addressPlan, CapturedResource, isSecretValue, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { LAYER_TAG, BLOBS_TAG } from "../../components/aws/tags";
import { ALL_SECRETS, loadRepoStack, REPO } from "../helpers/stacks";
import { runResourcePolicy } from "../helpers/policyArgs";
import { scaledGroupsStateless } from "../../policies/rules/scaling";
import { imdsv2Required } from "../../policies/rules/exposure";
import { storageEncrypted } from "../../policies/rules/durability";
import { TYPES } from "../../policies/rules/common";
import { imageComponentScript } from "../../components/render/scaling/image";
import { run as runCommand } from "../helpers/system";

const SCALED = path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaled.yaml");

function byType(run: OfflineRun, type: string): CapturedResource[] {
    return run.resources.filter((r) => r.type === type);
}

const plain = (r: CapturedResource): Record<string, any> => unwrapSecrets(r.inputs) as Record<string, any>;

/** The files a shell archive writes (the bundle: base64 heredocs), by name. */
function bundleFiles(bundle: string): Record<string, string> {
    const files: Record<string, string> = {};
    for (const m of bundle.matchAll(/base64 -d >"\$dir\/([^"]+)" <<'PLONE_AWS_BUNDLE_EOF'\n([\s\S]*?)\nPLONE_AWS_BUNDLE_EOF/g)) {
        files[m[1]] = Buffer.from(m[2].replace(/\n/g, ""), "base64").toString("utf8");
    }
    return files;
}

/** A file a configure script installs (stage PATH ... <<'TAG' base64 TAG), decoded. */
function stagedFile(script: string, filePath: string): string {
    const at = script.indexOf(`stage ${filePath} `);
    if (at < 0) throw new Error(`the script installs no ${filePath}`);
    const [head, ...rest] = script.slice(at).split("\n");
    const tag = /<<'([A-Z_]+)'$/.exec(head)![1];
    return Buffer.from(rest.slice(0, rest.indexOf(tag)).join(""), "base64").toString("utf8");
}

describe("the program under mocks: a scaled group of app hosts", function () {
    let run: OfflineRun;
    let userData: string;
    let bundle: string;
    let files: Record<string, string>;
    before(async () => {
        const loaded = loadStack({ stackFile: SCALED });
        if (!loaded.spec) throw new Error(JSON.stringify(loaded.errors));
        run = await runOffline({ ...loaded.config, raw: { ...loaded.config.raw, ...ALL_SECRETS } }, { addresses: addressPlan(loaded.spec) });
        userData = Buffer.from(plain(byType(run, "aws:ec2/launchTemplate:LaunchTemplate")[0]).userData, "base64").toString("utf8");
        bundle = plain(byType(run, "aws:s3/bucketObjectv2:BucketObjectv2")[0]).content;
        files = bundleFiles(bundle);
    });

    it("registers the group, its launch template, bundle, secret files, discovery services, schedules, rules and drain hook", () => {
        const group = plain(byType(run, "aws:autoscaling/group:Group")[0]);
        expect(group).to.deep.include({
            name: "scaled-app-auto",
            minSize: 0,
            maxSize: 6,
            desiredCapacity: 1,
            healthCheckType: "EC2",
            healthCheckGracePeriod: 600,
        });
        expect(group.vpcZoneIdentifiers).to.have.length(2);
        expect(group.mixedInstancesPolicy.launchTemplate.overrides).to.deep.equal([{ instanceType: "c6i.xlarge" }, { instanceType: "m6i.xlarge" }]);
        expect(group.instanceRefresh.preferences).to.include({ minHealthyPercentage: 100, maxHealthyPercentage: 200 });
        const tags = Object.fromEntries(group.tags.map((t: { key: string; value: string }) => [t.key, t.value]));
        expect(tags).to.include({ [LAYER_TAG]: "plone_instances", [BLOBS_TAG]: "gluster" });
        expect(byType(run, "aws:autoscaling/group:Group")[0].options?.ignoreChanges ?? []).to.include("desiredCapacity");

        expect(byType(run, "aws:autoscaling/schedule:Schedule").map(plain)).to.deep.equal([
            {
                scheduledActionName: "app-auto-office-hours",
                autoscalingGroupName: "scaled-app-auto",
                recurrence: "0 8 * * 1-5",
                timeZone: "Europe/Berlin",
                minSize: 2,
                maxSize: -1,
                desiredCapacity: 2,
            },
            {
                scheduledActionName: "app-auto-evening",
                autoscalingGroupName: "scaled-app-auto",
                recurrence: "0 19 * * 1-5",
                timeZone: "Europe/Berlin",
                minSize: 0,
                maxSize: -1,
                desiredCapacity: 1,
            },
        ]);
        const policies = byType(run, "aws:autoscaling/policy:Policy").map(plain);
        expect(policies.find((p) => p.policyType === "TargetTrackingScaling")!.targetTrackingConfiguration).to.deep.include({
            targetValue: 60,
            disableScaleIn: false,
        });
        expect(policies.filter((p) => p.policyType === "SimpleScaling").map((p) => [p.scalingAdjustment, p.cooldown])).to.deep.equal([
            [1, 300],
            [-1, 600],
            [2, 300],
            [-2, 600],
        ]);
        const alarms = byType(run, "aws:cloudwatch/metricAlarm:MetricAlarm")
            .map(plain)
            .filter((a) => a.dimensions?.AutoScalingGroupName);
        expect(alarms.map((a) => [a.namespace, a.metricName, a.comparisonOperator, a.threshold])).to.deep.equal([
            ["CWAgent", "mem_used_percent", "GreaterThanThreshold", 85],
            ["CWAgent", "mem_used_percent", "LessThanThreshold", 40],
            ["plone-aws", "LoadAverage1m", "GreaterThanThreshold", 6],
            ["plone-aws", "LoadAverage1m", "LessThanThreshold", 1],
        ]);
        expect(plain(byType(run, "aws:autoscaling/lifecycleHook:LifecycleHook")[0])).to.deep.include({
            name: "app-auto-drain",
            lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            heartbeatTimeout: 420,
            defaultResult: "CONTINUE",
        });
        const services = byType(run, "aws:servicediscovery/service:Service").map(plain);
        expect(services.map((s) => s.name)).to.deep.equal(Array.from({ length: 8 }, (_, i) => `_app-auto-client${i + 1}._tcp`));
        expect(services[0].dnsConfig.dnsRecords).to.deep.equal([{ type: "SRV", ttl: 10 }]);
        expect(plain(byType(run, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace")[0]).name).to.equal("scaled.plone-aws.internal");
    });

    it("launches with IMDSv2 only, an encrypted root volume and the host role; the policies agree", async () => {
        const template = byType(run, "aws:ec2/launchTemplate:LaunchTemplate")[0];
        const lt = plain(template);
        expect(lt.metadataOptions).to.include({ httpTokens: "required", httpPutResponseHopLimit: 1 });
        expect(lt.blockDeviceMappings[0].ebs).to.include({ encrypted: "true", volumeType: "gp3" });
        expect(lt.iamInstanceProfile.arn).to.match(/instance-profile/);
        expect(await runResourcePolicy(imdsv2Required, TYPES.launchTemplate, lt)).to.deep.equal([]);
        expect(await runResourcePolicy(storageEncrypted, TYPES.launchTemplate, lt)).to.deep.equal([]);
        const group = plain(byType(run, "aws:autoscaling/group:Group")[0]);
        expect(await runResourcePolicy(scaledGroupsStateless, TYPES.autoscalingGroup, group)).to.deep.equal([]);
    });

    it("boots from the group's baked image: EC2 Image Builder installs every package the instances' setup would (bakedImage, the default)", async () => {
        const [component] = byType(run, "aws:imagebuilder/component:Component").map(plain);
        const [recipe] = byType(run, "aws:imagebuilder/imageRecipe:ImageRecipe").map(plain);
        const [infrastructure] = byType(run, "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration").map(plain);
        const [image] = byType(run, "aws:imagebuilder/image:Image");
        expect(component).to.include({ name: "scaled-app-auto-packages", platform: "Linux" });
        expect(recipe.version)
            .to.equal(component.version)
            .and.match(/^1\.0\.\d+$/);
        expect(recipe.parentImage, "built on the Debian AMI").to.match(/^ami-/);
        expect(recipe.blockDeviceMappings[0].ebs).to.include({ encrypted: "true", volumeType: "gp3" });
        expect(recipe.systemsManagerAgent).to.deep.equal({ uninstallAfterBuild: true });
        expect(Buffer.from(recipe.userDataBase64, "base64").toString("utf8")).to.contain("amazon-ssm-agent.deb");
        expect(infrastructure.instanceMetadataOptions).to.include({ httpTokens: "required" });
        expect(infrastructure.terminateInstanceOnFailure).to.equal(true);
        expect(byType(run, "aws:imagebuilder/imageRecipe:ImageRecipe")[0].options?.ignoreChanges ?? []).to.include("parentImage");
        // The launch template boots the AMI Image Builder made, not Debian's.
        const ami = (unwrapSecrets(image.state) as Record<string, any>).outputResources[0].amis[0].image;
        expect(plain(byType(run, "aws:ec2/launchTemplate:LaunchTemplate")[0]).imageId)
            .to.equal(ami)
            .and.not.equal(recipe.parentImage);

        // Every package the setup in the bundle installs is in the image: an instance's setup skips apt.
        const script = imageComponentScript(component.data);
        const arrayOf = (text: string) => /^PACKAGES=\((.*)\)$/m.exec(text)![1].split(" ");
        const setupPackages = arrayOf(files["setup.sh"]);
        expect(setupPackages.length).to.be.greaterThan(10);
        expect(arrayOf(script)).to.include.members([...setupPackages, "awscli"]);

        // bakedImage: false boots Debian's AMI and makes no image.
        const loaded = loadStack({ stackFile: SCALED });
        const groups = JSON.parse(loaded.config.raw["plone-aws:scaling"]) as { groups: Record<string, unknown>[] };
        const plainAmi = await runOffline(
            {
                ...loaded.config,
                raw: {
                    ...loaded.config.raw,
                    ...ALL_SECRETS,
                    "plone-aws:scaling": JSON.stringify({ groups: groups.groups.map((g) => ({ ...g, bakedImage: false })) }),
                },
            },
            { addresses: addressPlan(loaded.spec!) },
        );
        expect(plainAmi.resources.filter((r) => r.type.startsWith("aws:imagebuilder/"))).to.deep.equal([]);
        expect(plain(byType(plainAmi, "aws:ec2/launchTemplate:LaunchTemplate")[0]).imageId).to.equal(recipe.parentImage);
    });

    it("keeps every secret out of the user data and the bundle: the secret files are SSM SecureString parameters", () => {
        const secrets = Object.values(ALL_SECRETS).flatMap((v) => [v, ...v.split("\n").filter((l) => l.length > 6 && !l.startsWith("-----"))]);
        expect(Object.keys(files).sort()).to.deep.equal(["activate.sh", "build.sh", "configure.sh", "drain.sh", "secret-files.list", "setup.sh", "watch.sh"]);
        for (const s of secrets) {
            expect(userData, `user data holds ${s}`).not.to.include(s);
            for (const [name, content] of Object.entries(files)) expect(content, `${name} holds ${s}`).not.to.include(s);
        }
        const parameters = byType(run, "aws:ssm/parameter:Parameter");
        expect(parameters.map((p) => plain(p).name)).to.have.length(3);
        for (const p of parameters) {
            expect(plain(p).type).to.equal("SecureString");
            expect(isSecretValue(p.inputs.value), plain(p).name).to.equal(true);
            expect(plain(p).name).to.match(/^\/plone-aws\/scaled\/app-auto\/files\/[0-9a-f]{16}\/0$/);
            expect(userData).not.to.include(plain(p).name); // names travel in the bundle, not in user data
            expect(files["secret-files.list"]).to.include(plain(p).name);
        }
        const deployCfg = parameters.map((p) => Buffer.from(plain(p).value, "base64").toString("utf8")).find((v) => v.includes("[relstorage]"));
        expect(deployCfg, "deploy.cfg with the real database password is in SSM").to.include("db-secret");
    });

    it("boots from exactly the bundle version `pulumi up` wrote, checked against its hash", () => {
        const object = byType(run, "aws:s3/bucketObjectv2:BucketObjectv2")[0];
        expect(plain(object)).to.include({ key: "groups/app-auto/bundle.sh", serverSideEncryption: "aws:kms" });
        expect(userData).to.match(/^BUNDLE_VERSION=[0-9a-f]{32}$/m);
        expect(userData).to.match(/^BUNDLE_SHA256=[0-9a-f]{64}$/m);
        expect(userData).to.include("GROUP=scaled-app-auto");
        expect(userData).to.match(/^SERVICES=\(id-[0-9a-f]+:client:client1:8081 /m);
    });

    it("the front ends find the scaled clients (haproxy slots from SRV), and the purge ACL admits their subnets", () => {
        const configure = run.resources.find((r) => r.type === "command:remote:Command" && r.name === "scaled-web-1-provision-configure")!;
        const script = String(plain(configure).stdin);
        const haproxy = stagedFile(script, "/etc/haproxy/haproxy.cfg");
        expect(haproxy).to.include("nameserver vpc 10.40.0.2:53");
        expect(haproxy).to.include("server-template app-auto-client8- 6 _app-auto-client8._tcp.scaled.plone-aws.internal resolvers vpc");
        const vcl = stagedFile(script, "/etc/varnish/default.vcl");
        expect(vcl).to.include('"10.40.128.0"/20;');
        expect(vcl).to.include('"10.40.144.0"/20;');
        // The scaled host runs the same configure step: its own files, with the secret files from SSM.
        expect(files["configure.sh"]).to.match(/stage \/etc\/plone-aws\/plone\/deploy.cfg 0600 plone plone <"\$\{PLONE_AWS_SECRET_FILES:\?/);
        expect(stagedFile(files["configure.sh"], "/etc/supervisor/conf.d/plone.conf")).to.include("--bind 0.0.0.0");
    });

    it("build once, deploy many: the first fixed app host publishes its build cache where the scaled instances read it", () => {
        const build = run.resources.find((r) => r.type === "command:remote:Command" && r.name === "scaled-app-1-provision-build")!;
        const script = String(plain(build).stdin);
        expect(script).to.include("/usr/local/sbin/plone-deploy build || exit $?");
        expect(script).to.match(/aws --region eu-west-1 s3 cp --only-show-errors --sse aws:kms - s3:\/\/scaled-scaling-bundles\/build-cache\/plone\.tar\.gz/);
        const other = run.resources.find((r) => r.type === "command:remote:Command" && r.name === "scaled-app-2-provision-build")!;
        expect(String(plain(other).stdin)).not.to.include("build-cache");
        expect(userData).to.include("BUILD_CACHE_KEY=build-cache/plone.tar.gz");
        // No Volto in the group: no frontend cache to read.
        expect(userData).to.match(/^FRONTEND_CACHE_KEY=''$/m);
        expect(userData).to.include("BUCKET=scaled-scaling-bundles");
    });

    it("a Plone 6 group (Pulumi.scaledev6.yaml: pip, Zope clients and Volto): a discovery service per Volto process too, which the front end's Volto backend reads; Volto's ports open to the front end", async () => {
        const loaded = loadStack({ stackFile: path.join(REPO, "test", "fixtures", "stacks", "Pulumi.scaledev6.yaml") });
        if (!loaded.spec) throw new Error(JSON.stringify(loaded.errors));
        const run6 = await runOffline({ ...loaded.config, raw: { ...loaded.config.raw, ...ALL_SECRETS } }, { addresses: addressPlan(loaded.spec) });
        const services = byType(run6, "aws:servicediscovery/service:Service");
        expect(services.map((r) => plain(r).name)).to.deep.equal(["_app-auto-client1._tcp", "_app-auto-client2._tcp", "_app-auto-volto1._tcp"]);
        const userData6 = Buffer.from(plain(byType(run6, "aws:ec2/launchTemplate:LaunchTemplate")[0]).userData, "base64").toString("utf8");
        // The boot registers each process once it answers its own health check: Plone's /ok, Volto's volto.healthPath.
        expect(userData6).to.match(/^SERVICES=\(id-[0-9a-f]+:client:client1:8081 id-[0-9a-f]+:client:client2:8082 id-[0-9a-f]+:volto:volto1:3001\)$/m);
        expect(userData6)
            .to.match(/^HEALTH_PATH=\/ok$/m)
            .and.match(/^VOLTO_HEALTH_PATH=\/ok$/m);
        const configure = run6.resources.find((r) => r.type === "command:remote:Command" && r.name === "scaledev6-dev-1-provision-configure")!;
        const haproxy = stagedFile(String(plain(configure).stdin), "/etc/haproxy/haproxy.cfg");
        const volto = haproxy.slice(haproxy.indexOf("\nbackend volto\n"), haproxy.indexOf("\nbackend api_chain\n"));
        expect(volto).to.include(
            'server-template app-auto-volto1- 2 _app-auto-volto1._tcp.scaledev6.plone-aws.internal resolvers vpc resolve-prefer ipv4 init-addr none maxconn 8 agent-check agent-port 8999 agent-inter 2s agent-send "volto1\\n"',
        );
        expect(volto).to.not.include("app-auto-client");
        // The Volto processes of the group's instances read the REST API from the front end's private address.
        expect(haproxy).to.match(/^ {4}bind 10\.31\.0\.10:8080$/m);
        // The group's instances carry the volto layer's security group: Volto's ports from the front ends.
        const template = plain(byType(run6, "aws:ec2/launchTemplate:LaunchTemplate")[0]);
        const groupSgs: string[] = template.networkInterfaces[0].securityGroups;
        const voltoSg = byType(run6, "aws:ec2/securityGroup:SecurityGroup").find((r) => r.name.endsWith("-volto"))!;
        expect(groupSgs).to.include(voltoSg.id);
        const voltoIngress = byType(run6, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => plain(r).securityGroupId === voltoSg.id);
        expect(voltoIngress.map((r) => `${plain(r).fromPort}-${plain(r).toPort}`)).to.include("3001-3001");
        // pip's cache is in the build cache the fixed host publishes; the instance's build is pip's.
        const build = run6.resources.find((r) => r.type === "command:remote:Command" && r.name === "scaledev6-dev-1-provision-build")!;
        const buildScript = String(plain(build).stdin);
        expect(buildScript).to.include("shared/pip-cache").and.include("s3://");
        // ... and, as the first fixed volto host, the frontend's build cache, which the instances read.
        expect(buildScript).to.match(/aws --region eu-central-1 s3 cp --only-show-errors --sse aws:kms - s3:\/\/\S+\/build-cache\/plone-frontend\.tar\.gz/);
        expect(userData6).to.match(/^FRONTEND_CACHE_KEY=build-cache\/plone-frontend\.tar\.gz$/m);
        const shellcheck = runCommand("shellcheck", ["-s", "bash", "-"], { input: buildScript });
        expect(shellcheck.stdout + shellcheck.stderr, "the build step").to.equal("");
        const bundle6 = bundleFiles(plain(byType(run6, "aws:s3/bucketObjectv2:BucketObjectv2")[0]).content);
        expect(stagedFile(bundle6["configure.sh"], "/etc/supervisor/conf.d/plone.conf")).to.include("[program:plone-volto1]").and.include("runwsgi");
    });

    it("stacks without a scaled group register none of it", async () => {
        for (const stack of ["dev", "prod"]) {
            const loaded = loadRepoStack(stack);
            const plain = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
            const scaling = plain.resources.filter((r) =>
                /autoscaling|servicediscovery|ssm\/parameter|launchTemplate|bucketObjectv2|plone-aws:scaling/.test(r.type),
            );
            expect(
                scaling.map((r) => r.type),
                stack,
            ).to.deep.equal([]);
        }
    });
});
