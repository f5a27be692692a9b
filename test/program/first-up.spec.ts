// What a first `pulumi up` on a real account needs beyond what mocks accept: the example values of
// the stack files refused before anything is created, secret values RDS takes, the setup waiting
// for the NAT route, the replica region deployed like the rest, step outputs secret and redacted,
// a host role with only what is used, alarms that watch what AWS publishes.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { addressPlan, CapturedResource, OfflineRun, runOffline, unwrapSecrets } from "../../scripts/lib/offline/run";
import { loadStack } from "../../scripts/lib/offline/loadStack";
import { readStackFile } from "../../scripts/lib/offline/stackFile";
import { ploneProgram } from "../../components/program";
import { ALL_SECRETS, REPO } from "../helpers/stacks";
import { run } from "../helpers/system";

/** A real, well-formed key (ssh-keygen -t ed25519). */
const REAL_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvkQPoy6QUHsZJxs2nNZC9QlAlPnqV+dqx1XKwGfOAn ops@example.org";

function byName(r: OfflineRun, name: string, type?: string): CapturedResource {
    const found = r.resources.find((x) => x.name === name && (!type || x.type === type));
    if (!found) throw new Error(`no resource ${name}`);
    return found;
}

function plain(r: CapturedResource): Record<string, any> {
    return unwrapSecrets(r.inputs) as Record<string, any>;
}

/** The program as `pulumi up` runs it (not the offline tools' mode), on a stack file with these changes. */
async function deploy(raw: Record<string, string>): Promise<{ run?: OfflineRun; error?: Error }> {
    try {
        return { run: await runOffline({ stackName: "prod", raw, secretKeys: Object.keys(ALL_SECRETS) }, { program: () => ploneProgram() }) };
    } catch (e) {
        return { error: e as Error };
    }
}

/** prod's configuration with its example values replaced by real-looking ones. */
function realProd(extra: Record<string, string> = {}): Record<string, string> {
    const raw: Record<string, string> = {
        ...readStackFile(path.join(REPO, "Pulumi.prod.yaml")).raw,
        ...ALL_SECRETS,
        "plone-aws:dbPassword": "0a1b2c3d4e5f60718293a4b5",
    };
    const access = JSON.parse(raw["plone-aws:access"]);
    const frontend = JSON.parse(raw["plone-aws:frontend"]);
    const network = JSON.parse(raw["plone-aws:network"]);
    raw["plone-aws:access"] = JSON.stringify({ ...access, publicKey: REAL_KEY });
    raw["plone-aws:frontend"] = JSON.stringify({
        ...frontend,
        tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:210987654321:certificate/7c1c2a0e-5e0a-4f3b-9c1e-2f4b5d6e7f80" },
    });
    raw["plone-aws:network"] = JSON.stringify({ ...network, adminCidrs: ["192.168.17.0/28"] });
    return { ...raw, ...extra };
}

describe("a first pulumi up", function () {
    describe("refuses what the stack files only show as examples, and secrets AWS refuses", () => {
        it("the example key, certificate and documentation ranges of Pulumi.prod.yaml, before registering anything", async () => {
            const raw = { ...readStackFile(path.join(REPO, "Pulumi.prod.yaml")).raw, ...ALL_SECRETS };
            const { run: registered, error } = await deploy(raw);
            expect(registered).to.equal(undefined);
            expect(error).to.be.instanceOf(pulumi.RunError);
            const lines = error!.message.split("\n");
            expect(lines[0]).to.equal("Stack prod has 3 configuration errors:");
            expect(lines.slice(1, 4).map((l) => l.split(":").slice(0, 2).join(":").trim())).to.deep.equal([
                "- plone-aws:access.publicKey",
                "- plone-aws:frontend.tls.certificateArn",
                "- plone-aws:network.adminCidrs[0]",
            ]);
            const monitor = (pulumi.runtime as unknown as { getMonitor(): { getRegisteredResources(): Map<string, unknown> } }).getMonitor();
            expect(monitor.getRegisteredResources().size).to.equal(0);
        });

        it("an RDS master password with a character RDS refuses; one of hex digits deploys", async () => {
            const slash = await deploy(realProd({ "plone-aws:dbPassword": "abc/def+ghi=jklmnop" }));
            expect(slash.error?.message).to.match(/plone-aws:dbPassword: RDS refuses this master password \(contains \/\)/);
            const ok = await deploy(realProd());
            expect(ok.error).to.equal(undefined);
            expect(ok.run!.resources.length).to.be.greaterThan(100);
        });

        it("the README's commands make passwords RDS accepts (the old base64 one often did not)", () => {
            const makes = (cmd: string) => Array.from({ length: 40 }, () => run("bash", ["-c", cmd]).stdout.trim());
            const forbidden = /[/"@ ]/;
            expect(makes("openssl rand -hex 24").filter((p) => forbidden.test(p) || p.length < 8)).to.deep.equal([]);
            // 24 random bytes in base64: a '/' in about 40% of passwords.
            expect(makes("openssl rand -base64 24").some((p) => forbidden.test(p))).to.equal(true);
        });
    });

    describe("the provisioning", () => {
        let prod: OfflineRun;
        let dev: OfflineRun;
        before(async () => {
            for (const name of ["prod", "dev"]) {
                const loaded = loadStack({ stackFile: path.join(REPO, `Pulumi.${name}.yaml`) });
                const planned = await runOffline(loaded.config, { addresses: addressPlan(loaded.spec!) });
                if (name === "prod") prod = planned;
                else dev = planned;
            }
        });

        it("waits for the host's way out before setup runs apt: the NAT route of a private subnet, the internet route of a public one", () => {
            const ready = byName(prod, "prod-app-2-provision-ready");
            for (const dep of ["prod-network-private-1", "prod-nat-1"].map((n) => n.replace("prod-nat", "prod-network-nat"))) {
                expect(
                    ready.options.dependencies.some((u) => u.endsWith(`::${dep}`)),
                    dep,
                ).to.equal(true);
            }
            const routes = byName(prod, "prod-network-private-1", "aws:ec2/routeTable:RouteTable");
            expect(plain(routes).routes[0].natGatewayId).to.equal(byName(prod, "prod-network-nat-1", "aws:ec2/natGateway:NatGateway").id);
            const devReady = byName(dev, "dev-dev-1-provision-ready");
            expect(devReady.options.dependencies.some((u) => u.endsWith("::dev-network-public"))).to.equal(true);
        });

        it("keeps every step's output secret in the state and never sends the previous one back", () => {
            const commands = prod.resources.filter((r) => r.type === "command:remote:Command");
            expect(commands.length).to.be.greaterThan(20);
            for (const c of commands) {
                expect(c.options.additionalSecretOutputs, c.name).to.include.members(["stdout", "stderr"]);
                expect(c.inputs.addPreviousOutputInEnv, c.name).to.equal(false);
            }
        });

        it("blanks every secret of the stack out of the configure step's output, whatever the secret", () => {
            const configure = String(plain(byName(prod, "prod-app-1-provision-configure")).stdin);
            const inline = /PLONE_AWS_REDACT='([0-9a-f ]+)'/.exec(configure);
            expect(inline, "the configure step filters its output").to.not.equal(null);
            const texts = inline![1].split(" ").map((h) => Buffer.from(h, "hex").toString("utf8"));
            // The offline placeholders stand for the values: the deploy key (each line of it), the stats and database passwords.
            for (const key of ["plone-aws:deployKey", "plone-aws:haproxyStatsPassword", "plone-aws:dbPassword"]) {
                expect(
                    texts.some((t) => t.includes(`<secret ${key}>`)),
                    key,
                ).to.equal(true);
            }
            // Steps without secrets of their own read the list configure installs.
            const build = String(plain(byName(prod, "prod-app-1-provision-build")).stdin);
            expect(build).to.include("perl -e");
            expect(build).to.include("/etc/plone-aws/redact");
        });
    });

    describe("the resources around the hosts", () => {
        let prod: OfflineRun;
        before(async () => {
            const raw = {
                ...realProd(),
                "aws:profile": "plone-prod",
                "aws:defaultTags": JSON.stringify({ tags: { team: "web" } }),
                "aws:assumeRoles": JSON.stringify([{ roleArn: "arn:aws:iam::210987654321:role/deploy" }]),
            };
            prod = (await deploy(raw)).run!;
        });

        it("deploys the replica region with the stack's profile, assumed role and default tags", () => {
            const provider = prod.resources.find((r) => r.type === "pulumi:providers:aws")!;
            // A provider's structured inputs reach the engine as JSON text.
            const inputs = Object.fromEntries(
                Object.entries(plain(provider)).map(([k, v]) => [k, typeof v === "string" && /^[[{]/.test(v) ? JSON.parse(v) : v]),
            );
            expect(inputs).to.deep.include({
                region: "eu-central-1",
                profile: "plone-prod",
                defaultTags: { tags: { team: "web" } },
                assumeRoles: [{ roleArn: "arn:aws:iam::210987654321:role/deploy" }],
            });
            expect(byName(prod, "prod-backups-replica").options.provider?.startsWith(provider.urn)).to.equal(true);
        });

        it("gives the hosts' role only what the CloudWatch agent uses: no SSM, no log group creation", () => {
            const attachments = prod.resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((r) => plain(r).policyArn);
            expect(attachments).to.deep.equal(["arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole"]);
            const agent = JSON.parse(plain(byName(prod, "prod-monitoring-agent-access")).policy);
            const actions = agent.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
            expect(actions).to.include.members(["cloudwatch:PutMetricData", "logs:PutLogEvents", "logs:CreateLogStream"]);
            expect(actions).not.to.include("logs:CreateLogGroup");
            const logs = agent.Statement.find((s: { Sid: string }) => s.Sid === "Logs");
            // The hosts' log groups: the web firewall's (aws-waf-logs-...) is written by WAF, not the agent.
            const hostGroups = prod.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && !plain(r).name.startsWith("aws-waf-logs-"));
            expect(logs.Resource.length).to.equal(2 * hostGroups.length);
        });

        it("alarms on what is published: status checks of running hosts, DLM failures in AWS/EBS", () => {
            const status = plain(byName(prod, "prod-monitoring-app-1-status-check"));
            expect(status.treatMissingData).to.equal("notBreaching");
            expect(plain(byName(prod, "prod-monitoring-snapshots-failed"))).to.include({ namespace: "AWS/EBS", metricName: "SnapshotsCreateFailed" });
        });

        it("names the DLM policy and schedule in the characters DLM takes", () => {
            const policy = plain(byName(prod, "prod-snapshots-policy"));
            expect(policy.description).to.equal("plone-aws prod daily data volume snapshots");
            expect(policy.policyDetails.schedules[0].name).to.equal("daily at 0300 UTC keep 15");
        });
    });
});
