// The real pack over gRPC, as `npm run policy` runs it: the repository's stacks pass, and broken
// stacks fail with exit code 2 and the right policy named. Some breakage can be written in a stack
// file; the rest cannot get past the config validation, so it is made the way a broken program
// change would make it: by mutating the resources an offline run captured.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { addressPlan, CapturedResource, OfflineRun, runOffline } from "../../scripts/lib/offline/run";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import {
    checkPolicies,
    exitCodeFor,
    formatPolicyReport,
    loadPolicyConfig,
    PolicyReport,
    POLICY_PACK_DIR,
    startPolicyPack,
} from "../../scripts/lib/plan/policyCheck";
import { LAYER_TAG, SNAPSHOT_TAG, STACK_TAG } from "../../components/aws/tags";
import { TAGGABLE_TYPES } from "../../policies/rules/tagging";
import { REPO } from "../helpers/stacks";
import { sharedPolicyPack } from "../helpers/stackTools";
import { run as runProgram, tempDir } from "../helpers/system";

const SECRET_SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";

async function offlineRun(file: string): Promise<OfflineRun> {
    const loaded = loadStack({ stackFile: file });
    if (!loaded.spec) throw new Error(`${file}: ${JSON.stringify(loaded.errors)}`);
    return runOffline(loaded.config, { addresses: addressPlan(loaded.spec) });
}

/** One pack for the checks of this file (each configures it afresh); the CLI's way of running it has a test of its own. */
const policyPack = sharedPolicyPack();

function check(run: OfflineRun, configName: string): Promise<PolicyReport> {
    const { config, configFile } = loadPolicyConfig(path.join(POLICY_PACK_DIR, configName));
    return policyPack.check(run, { config, configFile });
}

/** A copy of a run with some captured resources changed (inputs and outputs alike). */
function mutated(run: OfflineRun, change: (r: CapturedResource) => void): OfflineRun {
    const copy = structuredClone(run);
    copy.resources.forEach(change);
    return copy;
}

function byName(run: OfflineRun, name: string, type?: string): CapturedResource {
    const r = run.resources.find((x) => x.name === name && (!type || x.type === type));
    if (!r) throw new Error(`no resource ${name}`);
    return r;
}

function tagsOf(props: Record<string, unknown>): Record<string, string> {
    return props.tags as Record<string, string>;
}

function policiesHit(report: PolicyReport, level: "mandatory" | "advisory" = "mandatory"): string[] {
    return [...new Set(report.violations.filter((v) => v.level === level).map((v) => v.policy))];
}

describe("the policy check over gRPC (real pack, offline runs)", function () {
    let dev: OfflineRun;
    let prod: OfflineRun;
    const tmp = tempDir("policy");

    before(async () => {
        dev = await offlineRun(path.join(REPO, "Pulumi.dev.yaml"));
        prod = await offlineRun(path.join(REPO, "Pulumi.prod.yaml"));
    });
    after(() => tmp.cleanup());

    it("passes dev: no mandatory violation, the missing cross-region copy as advisory", async () => {
        const report = await check(dev, "config.dev.json");
        expect(report.pack).to.deep.equal({ name: "plone-guard", version: "0.1.0" });
        expect(report.resources).to.equal(dev.resources.length);
        expect(exitCodeFor(report)).to.equal(0);
        expect(policiesHit(report)).to.deep.equal([]);
        expect(report.violations.map((v) => [v.policy, v.resource?.name])).to.deep.equal([["dlm-cross-region-copy", "dev-snapshots-policy"]]);
        expect(formatPolicyReport(report)).to.include("passed with warnings, 1 advisory violation");
    });

    it("gives the same verdict when the pack runs the way the CLI runs it (run-policy-pack, type-checked)", async () => {
        const { config, configFile } = loadPolicyConfig(path.join(POLICY_PACK_DIR, "config.dev.json"));
        const report = await checkPolicies(dev, { config, configFile, pack: startPolicyPack(POLICY_PACK_DIR, "cli") });
        expect(report.violations.map((v) => [v.policy, v.level, v.resource?.name])).to.deep.equal([
            ["dlm-cross-region-copy", "advisory", "dev-snapshots-policy"],
        ]);
    });

    it("passes prod with every policy mandatory but the cost guard and the web firewall's", async () => {
        const report = await check(prod, "config.prod.json");
        expect(report.violations).to.deep.equal([]);
        expect(report.policies.filter((p) => p.level !== "mandatory").map((p) => p.name)).to.deep.equal(["load-balancer-waf", "instance-types-allowed"]);
        expect(exitCodeFor(report)).to.equal(0);
    });

    it("knows every taggable type the program registers (a resource with tags is checked for them)", () => {
        const tagged = new Set([...dev.resources, ...prod.resources].filter((r) => r.custom && r.inputs.tags !== undefined).map((r) => r.type));
        expect([...tagged].filter((t) => !TAGGABLE_TYPES.includes(t))).to.deep.equal([]);
        for (const r of prod.resources.filter((x) => TAGGABLE_TYPES.includes(x.type))) expect(tagsOf(r.inputs)[STACK_TAG], r.name).to.equal("prod");
    });

    describe("stack files that break a policy", () => {
        function writeProd(dir: string, edit: (text: string) => string): string {
            fs.mkdirSync(dir, { recursive: true });
            const file = path.join(dir, "Pulumi.prod.yaml");
            const text = fs.readFileSync(path.join(REPO, "Pulumi.prod.yaml"), "utf8");
            const edited = edit(text);
            expect(edited).to.not.equal(text);
            fs.writeFileSync(file, edited);
            return file;
        }

        it("SSH from 0.0.0.0/0: ssh-from-admin-sources, exit code 2 from the command itself", async () => {
            const file = writeProd(path.join(tmp.dir, "ssh"), (t) => t.replace("adminCidrs: [198.51.100.0/28]", "adminCidrs: [0.0.0.0/0]"));
            const report = await check(await offlineRun(file), "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["ssh-from-admin-sources"]);
            expect(report.violations[0].resource?.name).to.equal("prod-network-bastion-tcp-22-from-0-0-0-0-0");

            const cli = runProgram(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/policy.ts", "--stack-file", file], { cwd: REPO });
            expect(cli.status, cli.stderr).to.equal(2);
            expect(cli.stdout).to.include("Policy check of stack prod with policies/config.prod.json: FAILED: 1 mandatory violation");
            expect(cli.stdout).to.include("[mandatory] ssh-from-admin-sources");
            expect(cli.stdout).to.include(
                "prod-network-bastion-tcp-22-from-0-0-0-0-0 opens port 22 (SSH) on prod-network-bastion (the bastion group) to the whole internet (0.0.0.0/0)",
            );
        });

        it("RDS without Multi-AZ: rds-multi-az", async () => {
            const file = writeProd(path.join(tmp.dir, "rds"), (t) => t.replace("multiAz: true", "multiAz: false"));
            const report = await check(await offlineRun(file), "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["rds-multi-az"]);
            expect(report.violations[0].message).to.include("prod-db-instance is a single-AZ database");
        });

        it("two zeoserver hosts never get that far: the config validation refuses them with exit code 1", () => {
            const file = path.join(tmp.dir, "Pulumi.twozeo.yaml");
            const text = fs
                .readFileSync(path.join(REPO, "Pulumi.dev.yaml"), "utf8")
                .replace(
                    "      layers: [frontend, plone_instances, zeoserver]",
                    "      layers: [frontend, plone_instances, zeoserver]\n    - name: dev-2\n      instanceType: t3.large\n      az: 0\n      layers: [zeoserver]",
                );
            fs.writeFileSync(file, text);
            const cli = runProgram(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/policy.ts", "--stack-file", file], { cwd: REPO });
            expect(cli.status).to.equal(1);
            expect(cli.stderr).to.include("plone-aws:hosts[1].layers: zeoserver is already on dev-1");
        });
    });

    describe("captured resources changed as a broken program change would", () => {
        it("an untagged data volume: ebs-volume-snapshot-tag", async () => {
            const broken = mutated(prod, (r) => {
                if (r.type !== "aws:ebs/volume:Volume" || r.name !== "prod-blobs-1-bricks") return;
                delete tagsOf(r.inputs)[SNAPSHOT_TAG];
                delete tagsOf(r.state)[SNAPSHOT_TAG];
            });
            const report = await check(broken, "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["ebs-volume-snapshot-tag"]);
            expect(report.violations[0]).to.include({ urn: byName(prod, "prod-blobs-1-bricks", "aws:ebs/volume:Volume").urn });
            expect(report.violations[0].message).to.include("prod-blobs-1-bricks has no plone-aws:snapshot tag");
        });

        it("a DLM policy that targets another tag: dlm-covers-snapshot-tags", async () => {
            const broken = mutated(prod, (r) => {
                if (r.name !== "prod-snapshots-policy") return;
                for (const props of [r.inputs, r.state])
                    (props.policyDetails as { targetTags: Record<string, string> }).targetTags = { [SNAPSHOT_TAG]: "staging" };
            });
            const report = await check(broken, "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["dlm-covers-snapshot-tags"]);
            expect(report.violations[0].message).to.include(
                "prod-blobs-1-bricks, prod-blobs-2-bricks carry plone-aws:snapshot=prod, but no enabled snapshot policy of the stack targets that value (prod-snapshots-policy targets plone-aws:snapshot=staging)",
            );
        });

        it("two ZEO hosts: single-instance-layers on the second", async () => {
            const broken = mutated(prod, (r) => {
                if (r.name !== "prod-app-1-instance" && r.name !== "prod-app-2-instance") return;
                for (const props of [r.inputs, r.state]) tagsOf(props)[LAYER_TAG] += " zeoserver";
            });
            const report = await check(broken, "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["single-instance-layers"]);
            expect(report.violations[0].resource?.name).to.equal("prod-app-2-instance");
            expect(report.violations[0].message).to.include("prod-app-2-instance carries zeoserver, which already runs on prod-app-1-instance");
        });

        it("remote commands: keys only in the (secret) connection and in quiet stdin; stdin that is logged fails", async () => {
            const command = (name: string, logging: string | undefined): CapturedResource => {
                const host = byName(prod, "prod-app-1-instance");
                return {
                    ...structuredClone(host),
                    type: "command:remote:Command",
                    name,
                    urn: host.urn.replace("aws:ec2/instance:Instance::prod-app-1-instance", `command:remote:Command::${name}`),
                    custom: true,
                    inputs: {
                        connection: {
                            ...SECRET_SIG,
                            value: { host: "10.40.128.11", user: "admin", privateKey: KEY, proxy: { host: "198.51.100.20", user: "admin", privateKey: KEY } },
                        },
                        create: "bash -s",
                        stdin: { ...SECRET_SIG, value: `install -m 0600 /dev/stdin deploy_key <<'EOF'\n${KEY}EOF\n` },
                        ...(logging ? { logging } : {}),
                    },
                    state: { stdout: "", stderr: "" },
                };
            };
            const quiet = structuredClone(prod);
            quiet.resources.push(command("prod-app-1-configure", "none"));
            const clean = await check(quiet, "config.prod.json");
            expect(clean.violations).to.deep.equal([]);

            const loud = structuredClone(prod);
            loud.resources.push(command("prod-app-1-configure", undefined));
            const report = await check(loud, "config.prod.json");
            expect(exitCodeFor(report)).to.equal(2);
            expect(policiesHit(report)).to.deep.equal(["no-credentials-in-inputs", "remote-command-secret-logging"]);
            expect(report.violations.map((v) => v.message)).to.deep.equal([
                'prod-app-1-configure: input stdin holds a private key (-----BEGIN OPENSSH PRIVATE KEY-----). Keys reach the hosts only as a remote command\'s connection.privateKey or on the stdin of a command with logging "none", from a secret config value (pulumi config set --secret).',
                'prod-app-1-configure is given a stdin (files and secrets) but logs stdout and stderr (the default): a script that echoes what it reads would put the secrets into the Pulumi logs and the update history. Set logging: "none" on the command.',
            ]);
        });

        it("an invalid policy config stops before anything is analyzed: exit code 1", async () => {
            const report = await policyPack.check(prod, { config: { "rds-multi-az": "strict", "dlm-retention": { minRetain: 0 } }, configFile: "bad.json" });
            expect(exitCodeFor(report)).to.equal(1);
            expect(report.configErrors).to.deep.equal([
                'bad.json: rds-multi-az: "strict" is not an enforcement level (advisory, mandatory, remediate, disabled)',
                "bad.json: dlm-retention.minRetain: must be at least 1, not 0",
            ]);
            expect(formatPolicyReport(report)).to.include("the policy config is invalid (2 errors): nothing was checked");
        });
    });
});
