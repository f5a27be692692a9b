import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CloneError, CloneOptions, cloneStack } from "../../scripts/lib/stacks/clone";
import { collapsedInstanceType, stagingDbClass, stagingInstanceType } from "../../scripts/lib/stacks/stagingTypes";
import { REPO } from "../helpers/stacks";
import { tempDir } from "../helpers/system";
import { checkStackText, configOf, ofType, runCommand, runScript, sharedPolicyPack } from "../helpers/stackTools";
import { cloneStackCommand } from "../../scripts/clone-stack";

const PROD = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8");
const DEV = fs.readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8");
const NOW = new Date("2026-03-01T12:00:00Z");
/** One policy pack for this file's policy checks. */
const policyPack = sharedPolicyPack();

function options(over: Partial<CloneOptions> = {}): CloneOptions {
    return {
        from: "prod",
        to: "staging",
        sourceFile: "Pulumi.prod.yaml",
        keepTopology: false,
        instanceTypes: [],
        environment: {},
        now: NOW,
        ...over,
    };
}

type Section = Record<string, unknown>;
const section = (config: Record<string, unknown>, name: string) => config[`plone-aws:${name}`] as Section;

/** Keys of a mapping in file order. */
function keysOf(text: string, ...p: string[]): string[] {
    const node = YAML.parseDocument(text).getIn(["config", ...p], true);
    return YAML.isMap(node) ? node.items.map((i) => String((i.key as YAML.Scalar).value)) : [];
}

describe("clone-stack: prod into staging", function () {
    const result = cloneStack(
        PROD,
        options({ domain: "staging.example.org", certbotEmail: "ops@example.org", environment: { PLONE_ENV: "staging", FEATURE_X: "on" } }),
    );
    const prod = configOf(PROD);
    const staging = configOf(result.text);

    it("puts every layer on one smaller host, dropping only what one host makes pointless", function () {
        const hosts = section(staging, "hosts") as unknown as Section[];
        expect(hosts).to.have.length(1);
        // app-1 is a c6i.xlarge (4 vCPUs): t3.large by the staging table.
        expect(hosts[0]).to.deep.equal({
            name: "staging-1",
            instanceType: "t3.large",
            az: 0,
            layers: ["frontend", "plone_instances", "db_packing"],
            volumes: { blobs: 500 },
        });
        const prodLayers = new Set((section(prod, "hosts") as unknown as { layers: string[] }[]).flatMap((h) => h.layers));
        const dropped = [...prodLayers].filter((l) => !(hosts[0].layers as string[]).includes(l));
        expect(dropped.sort()).to.deep.equal(["memcached", "shared_blobs"]);
        expect(result.changes.join("\n"))
            .to.match(/memcached dropped: .*RelStorage cache/)
            .and.match(/gluster blobs -> local/);
        expect(section(staging, "plone").blobs).to.equal("local");
    });

    it("may read prod's off-site backups (ops restore) and does not replicate its own", function () {
        expect(section(staging, "offsiteBackups")).to.deep.equal({ restoreFrom: ["prod"] });
        expect(result.changes).to.include("backups are not replicated to eu-central-1: staging's data is a copy already");
        expect(result.text).to.include("# clone: npm run ops -- prod restore --from DATE restores prod's backups onto staging");
    });

    it("drops the web firewall with the load balancer, replicates no RDS backup, keeps access logs 30 days, and says so", function () {
        expect(section(prod, "frontend").waf).to.deep.equal({ mode: "count" });
        expect(section(staging, "frontend").waf).to.equal(undefined);
        expect(section(staging, "database").backupReplication).to.deep.equal({ enabled: false });
        expect(section(staging, "monitoring").accessLogs).to.deep.equal({ expireDays: 30 });
        expect(result.changes).to.include.members([
            "no web firewall: AWS WAF attaches to a load balancer, and staging has an Elastic IP",
            "RDS automated backups are not replicated to eu-central-1: staging's database is a copy already",
            "access logs kept 30 days instead of 365",
        ]);
        expect(result.text).to.include("expireDays: 30 # prod: 365");
    });

    it("does not dump staging's database to S3 (a copy already), and says how to restore prod's dump into it", function () {
        expect(section(staging, "database").dump).to.deep.equal({ enabled: false });
        expect(result.changes).to.include("the database is not dumped to S3: staging's database is a copy already (it restores prod's dumps)");
        expect(result.text).to.include("# clone: staging's database is a copy already: npm run ops -- prod restore --from latest restores prod's dump into it");
    });

    it("turns off Multi-AZ and deletion protection and sizes the database down", function () {
        expect(section(staging, "database")).to.include({ multiAz: false, deletionProtection: false, instanceClass: "db.t4g.medium" });
        expect(section(staging, "database")).to.include({ allocatedStorage: 100, backupRetentionDays: 14 });
    });

    it("serves staging from an Elastic IP with certbot, on its own domain", function () {
        const frontend = section(staging, "frontend");
        expect(frontend.frontDoor).to.equal("eip");
        expect(frontend.domain).to.equal("staging.example.org");
        expect(frontend.aliases).to.equal(undefined);
        expect(frontend.tls).to.deep.equal({ mode: "certbot", email: "ops@example.org" });
        expect(frontend.varnish).to.deep.equal(section(prod, "frontend").varnish);
        expect(result.text).to.match(/# clone: ACM certificates live on load balancers/);
    });

    it("sets tier, environment and snapshot tag, and keeps every other setting", function () {
        expect(staging["plone-aws:tier"]).to.equal("staging");
        expect(section(staging, "app").environment).to.deep.equal({ PLONE_ENV: "staging", FEATURE_X: "on" });
        expect(section(staging, "snapshots")).to.deep.equal({ time: "03:00", retain: 15, tagValue: "staging" });
        const { environment: _e, ...app } = section(staging, "app");
        const { environment: _p, ...prodApp } = section(prod, "app");
        expect(app).to.deep.equal(prodApp);
        const { blobs: _b, ...plone } = section(staging, "plone");
        const { blobs: _pb, ...prodPlone } = section(prod, "plone");
        expect(plone).to.deep.equal(prodPlone);
        expect(section(staging, "access")).to.deep.equal(section(prod, "access"));
        expect(staging["aws:region"]).to.equal("eu-west-1");
        expect(section(staging, "network")).to.deep.equal({ ...section(prod, "network"), natGateways: "none" });
    });

    it("keeps the source's comments and key order, and says in the header what it was cloned from", function () {
        // Every key in prod's order but plone-aws:mail, which a clone drops unless --mail-to is given ("clone-stack: mail").
        expect(keysOf(PROD)).to.include("plone-aws:mail");
        expect(keysOf(result.text)).to.deep.equal(keysOf(PROD).filter((k) => k !== "plone-aws:mail"));
        for (const s of ["plone-aws:app", "plone-aws:plone", "plone-aws:network", "plone-aws:access"]) {
            expect(keysOf(result.text, s).slice(0, keysOf(PROD, s).length), s).to.deep.equal(keysOf(PROD, s));
        }
        expect(result.text).to.include("    # Replace with the addresses operators and `pulumi up` connect from.\n    adminCidrs: [198.51.100.0/28]");
        expect(result.text).to.match(/^# The staging stack, cloned from prod \(Pulumi\.prod\.yaml\) on 2026-03-01 by\n# `npm run clone-stack -- prod staging`/);
        expect(result.text).to.include("#   The production stack: two front ends behind an application load balancer");
        expect(result.text).to.include("plone-aws:tier: staging # prod: production");
        expect(result.text).to.include("instanceClass: db.t4g.medium # prod: db.m6g.large");
        expect(result.text).not.to.include("pulumi config set --secret plone-aws:sshPrivateKey < ~/.ssh/plone-prod");
    });

    it("lists every secret with the exact command for the new stack", function () {
        expect(result.secrets.map((s) => s.command)).to.deep.equal([
            "pulumi config set --secret plone-aws:sshPrivateKey --stack staging",
            "pulumi config set --secret plone-aws:deployKey --stack staging",
            "pulumi config set --secret plone-aws:dbPassword --stack staging",
            "pulumi config set --secret plone-aws:haproxyStatsPassword --stack staging",
        ]);
        expect(result.copyCommands).to.deep.equal([]);
    });

    it("validates and plans: one instance (and the bastion), an Elastic IP, no load balancer", async function () {
        const { loaded, run } = await checkStackText(result.text, "staging", policyPack);
        expect(loaded.spec.tier).to.equal("staging");
        expect(loaded.spec.database).to.include({ multiAz: false, deletionProtection: false, finalSnapshot: false });
        expect(ofType(run, "aws:lb/loadBalancer:LoadBalancer")).to.have.length(0);
        expect(ofType(run, "aws:ec2/natGateway:NatGateway")).to.have.length(0);
        const instances = ofType(run, "aws:ec2/instance:Instance");
        expect(instances.map((r) => r.name).sort()).to.deep.equal(["staging-bastion-instance", "staging-staging-1-instance"]);
        expect(instances.find((r) => r.name === "staging-staging-1-instance")!.inputs.instanceType).to.equal("t3.large");
        expect(ofType(run, "aws:ec2/eipAssociation:EipAssociation")).to.have.length(1);
        const rds = ofType(run, "aws:rds/instance:Instance");
        expect(rds).to.have.length(1);
        expect(rds[0].inputs).to.include({ multiAz: false, deletionProtection: false, instanceClass: "db.t4g.medium" });
        expect(ofType(run, "aws:dlm/lifecyclePolicy:LifecyclePolicy")[0].inputs).to.have.nested.property(
            "policyDetails.targetTags.plone-aws:snapshot",
            "staging",
        );
    });
});

describe("clone-stack --keep-topology", function () {
    const result = cloneStack(
        PROD,
        options({
            keepTopology: true,
            certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555",
            instanceTypes: ["app-1=m6i.large"],
        }),
    );
    const staging = configOf(result.text);

    it("keeps the hosts with staging instance types; two front ends keep the load balancer", function () {
        const hosts = section(staging, "hosts") as unknown as { name: string; instanceType: string; layers: string[] }[];
        const prodHosts = section(configOf(PROD), "hosts") as unknown as { name: string; layers: string[] }[];
        expect(hosts.map((h) => [h.name, h.layers])).to.deep.equal(prodHosts.map((h) => [h.name, h.layers]));
        expect(hosts.map((h) => h.instanceType)).to.deep.equal(["t3.medium", "t3.medium", "m6i.large", "t3.large", "t3.medium", "t3.medium", "t3.medium"]);
        expect(section(staging, "plone").blobs).to.equal("gluster");
        expect(section(staging, "frontend").frontDoor).to.equal(undefined);
        expect(section(staging, "frontend").tls).to.deep.equal({
            mode: "acm",
            certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-4333-8444-555555555555",
        });
        expect(section(staging, "database")).to.include({ multiAz: false, deletionProtection: false });
        expect(section(staging, "network").natGateways).to.equal("single");
        expect(result.warnings.join("\n")).to.match(/keeps 2 front ends, so staging keeps a load balancer/);
    });

    it("keeps the web firewall on the load balancer, in count mode when prod blocks", function () {
        expect(section(staging, "frontend").waf).to.deep.equal({ mode: "count" });
        const blocking = cloneStack(PROD.replace("    waf:\n      mode: count", "    waf:\n      mode: block"), options({ keepTopology: true }));
        expect(section(configOf(blocking.text), "frontend").waf).to.deep.equal({ mode: "count" });
        expect(blocking.text).to.include("mode: count # prod: block");
        expect(blocking.changes).to.include("web firewall in count mode: it logs what it would block, and blocks nothing");
    });

    it("validates and plans with the load balancer and every host", async function () {
        const { run } = await checkStackText(result.text, "staging", policyPack);
        expect(ofType(run, "aws:lb/loadBalancer:LoadBalancer")).to.have.length(1);
        expect(ofType(run, "aws:wafv2/webAclAssociation:WebAclAssociation")).to.have.length(1);
        expect(ofType(run, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")).to.have.length(0);
        expect(ofType(run, "aws:ec2/instance:Instance")).to.have.length(8);
        expect(ofType(run, "aws:ec2/natGateway:NatGateway")).to.have.length(1);
    });
});

describe("clone-stack: other sources", function () {
    it("clones the single-host dev stack (ZEO, local blobs) into a valid stack", async function () {
        const result = cloneStack(DEV, options({ from: "dev", sourceFile: "Pulumi.dev.yaml", domain: "staging.example.org" }));
        const hosts = section(configOf(result.text), "hosts") as unknown as Section[];
        expect(hosts).to.deep.equal([{ name: "staging-1", instanceType: "t3.large", az: 0, layers: ["frontend", "plone_instances", "zeoserver"] }]);
        expect(section(configOf(result.text), "frontend").tls).to.deep.equal({ mode: "none" });
        const { run } = await checkStackText(result.text, "staging", policyPack);
        expect(ofType(run, "aws:ec2/instance:Instance")).to.have.length(1);
        expect(ofType(run, "aws:rds/instance:Instance")).to.have.length(0);
    });

    it("clones the Plone 6 stack (pip builder, RelStorage) with its builder's keys, into a valid stack", async function () {
        const source = fs.readFileSync(path.join(REPO, "Pulumi.plone6.yaml"), "utf8");
        const result = cloneStack(source, options({ from: "plone6", sourceFile: "Pulumi.plone6.yaml", domain: "staging.example.org" }));
        const app = section(configOf(result.text), "app");
        expect(app).to.deep.include({ builder: "pip", backendPath: "backend" });
        expect(app.pip).to.deep.equal(section(configOf(source), "app").pip);
        const { run } = await checkStackText(result.text, "staging", policyPack);
        expect(ofType(run, "aws:ec2/instance:Instance")).to.have.length(2); // the host and the bastion
    });

    it("keeps Volto: plone-aws:volto as the source has it, volto on the one host (or on its own hosts with --keep-topology)", function () {
        const source = fs.readFileSync(path.join(REPO, "Pulumi.plone6.yaml"), "utf8");
        const withEnvironment = source.replace("    processesPerCpu: 1\n", "    processesPerCpu: 1\n    environment: { RAZZLE_GA4_CODE: G-PROD }\n");
        const result = cloneStack(withEnvironment, options({ from: "plone6", sourceFile: "Pulumi.plone6.yaml", domain: "staging.example.org" }));
        const config = configOf(result.text);
        expect(section(config, "volto")).to.deep.equal(section(configOf(withEnvironment), "volto"));
        const hosts = section(config, "hosts") as unknown as { layers: string[] }[];
        expect(hosts).to.have.length(1);
        expect(hosts[0].layers).to.include.members(["frontend", "plone_instances", "volto"]);
        expect(result.warnings.join("\n")).to.include("volto.environment keeps plone6's RAZZLE_GA4_CODE=G-PROD");
        const kept = cloneStack(source, options({ from: "plone6", sourceFile: "Pulumi.plone6.yaml", domain: "staging.example.org", keepTopology: true }));
        const keptHosts = section(configOf(kept.text), "hosts") as unknown as { name: string; layers: string[] }[];
        expect(keptHosts.filter((h) => h.layers.includes("volto")).map((h) => h.name)).to.deep.equal(["volto-1", "volto-2"]);
    });

    it("never copies secure values or the secrets provider, and lists them with their commands", function () {
        const source = `encryptionsalt: v1:c2FsdA==:v1:AAAA:BBBB\n${PROD.replace("config:\n", "config:\n  plone-aws:dbPassword:\n    secure: v1:ZW5jcnlwdGVk\n  plone-aws:haproxyStatsPassword: hunter2-plain\n  aws:secretKey:\n    secure: v1:b3RoZXI=\n")}`;
        const result = cloneStack(source, options({ certbotEmail: "ops@example.org" }));
        for (const leak of ["secure:", "v1:ZW5jcnlwdGVk", "hunter2-plain", "v1:c2FsdA==", "v1:b3RoZXI="]) expect(result.text).not.to.include(leak);
        expect(result.text).not.to.match(/^encryptionsalt:/m);
        expect(result.changes).to.include("encryptionsalt not copied: `pulumi stack init staging` gives the new stack its own secrets provider");
        expect(result.secrets.map((s) => s.command)).to.include.members([
            "pulumi config set --secret plone-aws:dbPassword --stack staging",
            "pulumi config set --secret plone-aws:haproxyStatsPassword --stack staging",
            "pulumi config set --secret aws:secretKey --stack staging",
        ]);
        expect(result.copyCommands).to.deep.equal([
            "pulumi config cp aws:secretKey --stack prod --dest staging",
            "pulumi config cp plone-aws:dbPassword --stack prod --dest staging",
            "pulumi config cp plone-aws:haproxyStatsPassword --stack prod --dest staging",
        ]);
        expect(result.warnings.join("\n")).to.match(/plone-aws:haproxyStatsPassword is stored in plain text/);
    });

    it("gives staging its own database, broker and cache instead of prod's external ones", async function () {
        const source = PROD.replace(
            "    relstorage:\n",
            "    celery:\n      enabled: true\n      brokerHost: prod-broker.cache.amazonaws.com\n    relstorage:\n      cacheServers: [prod-cache.cache.amazonaws.com:11211]\n",
        )
            .replace("  plone-aws:database:\n", "  plone-aws:database:\n    host: prod-db.example.internal\n")
            .replace("layers: [plone_instances, db_packing]", "layers: [plone_instances, db_packing, celerybeat]")
            // One AZ: a single front end on an Elastic IP (a load balancer needs two AZs, ACM a load balancer).
            .replace(/    - name: web-2\n(      .*\n)+?(?=    - name:)/, "")
            .replace(/    tls:\n      mode: acm\n(      .*\n)+?(?=    varnish:)/, "    tls: { mode: certbot, email: ops@plone.example.org }\n")
            // AWS WAF needs the load balancer.
            .replace(/    # AWS WAF on the load balancer(.*\n)+?      mode: count\n/, "")
            .replace("azCount: 2", "azCount: 1")
            .replace("availabilityZones: [eu-west-1a, eu-west-1b]", "availabilityZones: [eu-west-1a]")
            .replace(/az: 1/g, "az: 0");
        const result = cloneStack(source, options());
        const staging = configOf(result.text);
        expect(section(staging, "database").host).to.equal(undefined);
        expect(section(staging, "network").azCount).to.equal(2);
        expect(section(staging, "network").availabilityZones).to.deep.equal(["eu-west-1a", "eu-west-1b"]);
        expect(result.warnings.join("\n")).to.match(/eu-west-1b was added as the second AZ/);
        expect(JSON.stringify(section(staging, "plone"))).not.to.match(/prod-broker|prod-cache/);
        expect((section(staging, "hosts") as unknown as { layers: string[] }[])[0].layers).to.deep.equal([
            "frontend",
            "plone_instances",
            "redis",
            "celerybeat",
            "db_packing",
        ]);
        const { run } = await checkStackText(result.text, "staging", policyPack);
        expect(ofType(run, "aws:rds/instance:Instance")).to.have.length(1);
    });

    it("without --certbot-email turns TLS off and says why (ACM cannot be used on an Elastic IP)", function () {
        const result = cloneStack(PROD, options());
        expect(section(configOf(result.text), "frontend").tls).to.deep.equal({ mode: "none" });
        expect(result.text).to.match(/# clone: ACM certificates live on load balancers, not on an Elastic IP: no TLS until/);
        expect(result.warnings.join("\n")).to.match(/--certbot-email/);
        expect(section(configOf(result.text), "frontend").domain).to.equal("staging.plone.example.org");
    });

    it("refuses an invalid source, an unknown host and a clone that would not validate", function () {
        expect(() => cloneStack(PROD.replace("storage: relstorage", "storage: zodb"), options())).to.throw(
            CloneError,
            /plone-aws:plone\.storage: must be one of "zeo", "relstorage", not "zodb"[\s\S]*must be valid before it is cloned/,
        );
        expect(() => cloneStack(PROD, options({ instanceTypes: ["web-1=t3.small"] }))).to.throw(
            CloneError,
            /the clone has no host web-1 \(its hosts: staging-1\)/,
        );
        expect(() => cloneStack(PROD, options({ instanceTypes: ["x9.weird"] }))).to.throw(
            CloneError,
            /plone-aws:hosts\[0\]\.instanceType: the vCPU count of x9\.weird[\s\S]*was not written/,
        );
    });
});

describe("staging instance types", function () {
    it("halves the vCPUs on burstable types of the same architecture", function () {
        expect(stagingInstanceType("c6i.xlarge")).to.equal("t3.large");
        expect(stagingInstanceType("m7g.2xlarge")).to.equal("t4g.xlarge");
        expect(stagingInstanceType("c4.large")).to.equal("t3.medium");
        expect(stagingInstanceType("r6i.16xlarge")).to.equal("t3.2xlarge");
        expect(stagingInstanceType("m6i.metal")).to.equal(undefined);
        expect(collapsedInstanceType("c6i.large")).to.equal("t3.large");
        expect(collapsedInstanceType("m6g.4xlarge")).to.equal("t4g.2xlarge");
        expect(stagingDbClass("db.r6g.2xlarge")).to.equal("db.t4g.xlarge");
    });
});

describe("npm run clone-stack (in-process; a usage error through a child process)", function () {
    let tmp: { dir: string; cleanup: () => void };
    before(() => {
        tmp = tempDir("clone");
        fs.copyFileSync(path.join(REPO, "Pulumi.prod.yaml"), path.join(tmp.dir, "Pulumi.prod.yaml"));
    });
    after(() => tmp.cleanup());

    it("writes the clone, prints the secret commands, and refuses to overwrite it without --force", async function () {
        const first = await runCommand(cloneStackCommand, ["prod", "staging", "--dir", tmp.dir, "--set", "PLONE_ENV=staging"]);
        expect(first.status, first.stderr).to.equal(0);
        expect(first.stdout).to.include(`Wrote ${path.join(tmp.dir, "Pulumi.staging.yaml")}, cloned from Pulumi.prod.yaml:`);
        expect(first.stdout).to.include("  pulumi config set --secret plone-aws:dbPassword --stack staging\n");
        const written = fs.readFileSync(path.join(tmp.dir, "Pulumi.staging.yaml"), "utf8");

        const second = await runCommand(cloneStackCommand, ["prod", "staging", "--dir", tmp.dir, "--domain", "other.example.org"]);
        expect(second.status).to.equal(1);
        expect(second.stderr.trim()).to.equal(
            `error: ${path.join(tmp.dir, "Pulumi.staging.yaml")} exists already: it was left unchanged (use --force to overwrite it)`,
        );
        expect(fs.readFileSync(path.join(tmp.dir, "Pulumi.staging.yaml"), "utf8")).to.equal(written);

        const forced = await runCommand(cloneStackCommand, ["prod", "staging", "--dir", tmp.dir, "--domain", "other.example.org", "--force"]);
        expect(forced.status, forced.stderr).to.equal(0);
        expect(fs.readFileSync(path.join(tmp.dir, "Pulumi.staging.yaml"), "utf8")).to.include("domain: other.example.org");
    });

    it("exits 1 with a clear message for a missing source and for bad arguments, never a stack trace", async function () {
        const missing = await runCommand(cloneStackCommand, ["qa", "staging2", "--dir", tmp.dir]);
        expect(missing.status).to.equal(1);
        expect(missing.stderr.trim()).to.equal(`error: no stack file ${path.join(tmp.dir, "Pulumi.qa.yaml")}: nothing to clone`);
        // The process itself: exit 1 and the usage, no trace.
        const oneName = runScript("clone-stack.ts", ["prod"]);
        expect(oneName.status).to.equal(1);
        expect(oneName.stderr).to.match(/^error: name the source and the new stack \(got 1 names\)\nusage: npm run clone-stack/);
        const badSet = await runCommand(cloneStackCommand, ["prod", "staging3", "--dir", tmp.dir, "--set", "1BAD=x"]);
        expect(badSet.status).to.equal(1);
        expect(badSet.stderr).to.match(/^error: --set 1BAD=x: expected KEY=value/);
        for (const r of [missing, oneName, badSet]) expect(r.stderr).not.to.match(/\n\s+at /);
    });
});

describe("clone-stack: mail", function () {
    it("drops mail by default, so staging never mails the source's users, and says so", () => {
        const result = cloneStack(PROD, options());
        expect(section(configOf(PROD), "mail").senderAddress).to.equal("noreply@plone.example.org");
        expect(configOf(result.text)["plone-aws:mail"]).to.equal(undefined);
        expect(result.changes).to.include(
            "mail off (plone-aws:mail dropped): staging must not mail prod's users; --mail-to ADDRESS sends every mail to one sandbox address instead",
        );
        expect(result.secrets.map((s) => s.key)).to.not.include("plone-aws:smtpCredentials");
    });

    it("with --mail-to, redirects every mail to the sandbox address through the source's SES identity", () => {
        const result = cloneStack(PROD, options({ mailTo: "qa@plone.example.org" }));
        expect(keysOf(result.text)).to.deep.equal(keysOf(PROD));
        const mail = section(configOf(result.text), "mail");
        expect(mail).to.deep.include({ senderAddress: "noreply@plone.example.org", redirectTo: "qa@plone.example.org", ses: false });
        expect(result.changes).to.include.members([
            "every mail goes to qa@plone.example.org (mail.redirectTo), never to prod's users",
            "no SES identity of its own (mail.ses false): prod's identity for plone.example.org signs the mail; a second one would collide",
        ]);
        expect(result.secrets.map((s) => s.key)).to.include("plone-aws:smtpCredentials");
    });

    it("refuses a --mail-to that is not an address, naming the key", () => {
        expect(() => cloneStack(PROD, options({ mailTo: "qa@example.org\nrecipient_canonical_maps = x" }))).to.throw(CloneError, /plone-aws:mail\.redirectTo/);
    });
});
