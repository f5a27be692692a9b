// The rehearsal runner without hosts: steps from a captured program (real @pulumi/command
// registrations under mocks), dependency order, the pool bound, and the stop at the first failure.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { runOffline } from "../../scripts/lib/offline/run";
import { PULUMI_COMMAND_DIAL_ERROR_LIMIT } from "../../scripts/lib/rehearsal/dial";
import { dependencyOrder, parseDuration, RehearsalStep, runSteps, StepTransport, stepsFromRun } from "../../scripts/lib/rehearsal/runner";
import { tempDir } from "../helpers/system";

/** A transport that "runs" a step by waiting `ms` from its create line `sleep <ms> <exit>`. */
function fakeTransport(): StepTransport & { maxRunning: number } {
    let running = 0;
    const t = {
        maxRunning: 0,
        run(step: RehearsalStep, command: string, io: { onOutput(c: string, s: "stdout" | "stderr"): void }) {
            const [, ms, exit] = command.split(" ");
            running++;
            t.maxRunning = Math.max(t.maxRunning, running);
            io.onOutput(`${step.step} on ${step.host}\nsecret-password-123 in output\n`, "stdout");
            io.onOutput("partial line without newline", "stderr");
            return new Promise<number>((resolve) =>
                setTimeout(() => {
                    running--;
                    resolve(Number(exit ?? 0));
                }, Number(ms)),
            );
        },
    };
    return t;
}

const step = (host: string, name: string, create: string, dependsOn: string[] = []): RehearsalStep => ({
    urn: `urn:${host}:${name}`,
    host,
    step: name,
    address: "10.0.0.1",
    user: "admin",
    create,
    dependsOn,
});

describe("rehearsal runner (no hosts)", () => {
    let logs: string;
    let cleanup: () => void;
    beforeEach(() => ({ dir: logs, cleanup } = tempDir("runner")));
    afterEach(() => cleanup());

    it("parses Pulumi's customTimeouts durations", () => {
        expect(parseDuration("10m")).to.equal(600_000);
        expect(parseDuration("1h30m")).to.equal(5_400_000);
        expect(parseDuration("90s")).to.equal(90_000);
        expect(parseDuration("ten minutes")).to.equal(undefined);
    });

    it("orders steps after what they depend on and names a cycle", () => {
        const a = step("h", "a", "x", ["urn:h:b"]);
        const b = step("h", "b", "x");
        expect(dependencyOrder([a, b]).map((s) => s.step)).to.deep.equal(["b", "a"]);
        const c = step("h", "c", "x", ["urn:h:d"]);
        const d = step("h", "d", "x", ["urn:h:c"]);
        expect(() => dependencyOrder([c, d])).to.throw(/cycle: h\/c -> h\/d -> h\/c/);
    });

    it("runs independent steps together, within the pool, and each after its dependencies", async () => {
        const steps = [
            step("app-1", "setup", "sleep 150"),
            step("app-2", "setup", "sleep 150"),
            step("web-1", "setup", "sleep 150"),
            step("app-1", "configure", "sleep 50", ["urn:app-1:setup", "urn:web-1:setup"]),
        ];
        const transport = fakeTransport();
        const lines: string[] = [];
        const r = await runSteps(steps, transport, { logsDir: logs, concurrency: 2, print: (l) => lines.push(l), redact: ["secret-password-123"] });
        expect(r.ok).to.equal(true);
        expect(transport.maxRunning).to.equal(2);
        const at = Object.fromEntries(r.results.map((x) => [`${x.host}/${x.step}`, x]));
        expect(at["app-1/configure"].startedAt!).to.be.at.least(Math.max(at["app-1/setup"].finishedAt!, at["web-1/setup"].finishedAt!));
        expect(lines).to.include("[app-1] setup ...");
        expect(lines.some((l) => /^\[app-1\] configure \.\.\. ok \d+\.\ds$/.test(l))).to.equal(true);
        const log = fs.readFileSync(path.join(logs, "app-1.log"), "utf8");
        expect(log).to.contain("setup | setup on app-1");
        expect(log).to.contain("setup | partial line without newline");
        expect(log).to.contain("[secret] in output");
        expect(log).to.not.contain("secret-password-123");
    });

    it("starts nothing after the first failure and reports its output", async () => {
        const steps = [
            step("app-1", "setup", "sleep 10 0"),
            step("app-1", "configure", "sleep 10 3", ["urn:app-1:setup"]),
            step("app-1", "build", "sleep 10 0", ["urn:app-1:configure"]),
            step("web-1", "setup", "sleep 10 0", ["urn:app-1:setup"]),
            step("web-1", "configure", "sleep 10 0", ["urn:web-1:setup", "urn:app-1:configure"]),
        ];
        const lines: string[] = [];
        const r = await runSteps(steps, fakeTransport(), { logsDir: logs, concurrency: 1, print: (l) => lines.push(l) });
        expect(r.ok).to.equal(false);
        expect(r.failed).to.include({ host: "app-1", step: "configure", status: "failed", exitCode: 3 });
        expect(r.failed!.tail).to.include("configure on app-1");
        expect(r.results.filter((x) => x.status === "not-run").map((x) => `${x.host}/${x.step}`)).to.have.members([
            "app-1/build",
            "web-1/setup",
            "web-1/configure",
        ]);
        expect(lines.join("\n")).to.match(/\[app-1\] configure failed \(exit 3\); the end of its output/);
        expect(lines.join("\n")).to.contain("not run after the failure: app-1/build");
    });

    it("ends a step that runs past its timeout", async () => {
        const transport: StepTransport = {
            run: (_s, _c, io) => new Promise((resolve) => io.signal.addEventListener("abort", () => resolve(143))),
        };
        const r = await runSteps([{ ...step("app-1", "build", "x"), timeoutMs: 100 }], transport, { logsDir: logs, print: () => undefined });
        expect(r.failed).to.include({ status: "timeout", step: "build" });
    });
});

describe("steps from a captured program", function () {
    it("reads create, stdin, user, address, dependencies and timeouts of real remote.Command registrations", async () => {
        const program = () => {
            const key = pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----");
            const conn = (host: string) => ({ host, user: "admin", privateKey: key, proxy: { host: "203.0.113.5", user: "admin", privateKey: key } });
            const ready = new remote.Command("stage-app-1-provision-ready", {
                connection: { ...conn("10.40.128.11"), dialErrorLimit: 40, perDialTimeout: 15 },
                create: "cloud-init status --wait",
            });
            const setup = new remote.Command(
                "stage-app-1-provision-setup",
                {
                    connection: conn("10.40.128.11"),
                    create: "sudo bash -s",
                    stdin: pulumi.secret("db-password-xyz"),
                    logging: "none",
                },
                { dependsOn: [ready], customTimeouts: { create: "20m" } },
            );
            // A command that depends on a command through another resource, and one named otherwise.
            const marker = new remote.Command("stage-marker", { connection: { host: "10.40.144.11" }, create: "true" }, { dependsOn: [setup] });
            const volume = new aws.ebs.Volume("stage-volume", { availabilityZone: "eu-west-1a", size: 1 }, { dependsOn: [setup] });
            new remote.Command(
                "stage-app-2-configure",
                { connection: conn("10.40.144.11"), create: "echo hi", environment: { LANG: "C.UTF-8" } },
                { dependsOn: [marker, volume] },
            );
            return {};
        };
        const run = await runOffline({ stackName: "stage", raw: {}, secretKeys: [] }, { program });
        const steps = stepsFromRun(run, { hostAddresses: { "app-1": "10.40.128.11", "app-2": "10.40.144.11" } });
        const by = Object.fromEntries(steps.map((s) => [`${s.host}/${s.step}`, s]));
        expect(Object.keys(by)).to.deep.equal(["app-1/ready", "app-1/setup", "app-2/marker", "app-2/configure"]);
        expect(by["app-1/setup"]).to.include({
            address: "10.40.128.11",
            user: "admin",
            create: "sudo bash -s",
            stdin: "db-password-xyz",
            logging: "none",
            timeoutMs: 1_200_000,
            viaBastion: "203.0.113.5",
        });
        // ssh goes through the bastion as connection.proxy says (its user; here no instance has 203.0.113.5).
        expect(by["app-1/setup"].proxy).to.deep.equal({ address: "203.0.113.5", user: "admin" });
        expect(by["app-2/marker"].proxy).to.equal(undefined);
        expect(by["app-1/setup"].dependsOn).to.deep.equal([by["app-1/ready"].urn]);
        // connection.dialErrorLimit: how often the runner dials a host that does not answer; when
        // the program sets none, @pulumi/command's SDK fills in the provider's default.
        expect(by["app-1/ready"].dialErrorLimit).to.equal(40);
        expect(by["app-1/setup"].dialErrorLimit).to.equal(PULUMI_COMMAND_DIAL_ERROR_LIMIT);
        // connection.user defaults to root, as pulumi-command's does.
        expect(by["app-2/marker"].user).to.equal("root");
        expect(by["app-2/configure"].dependsOn).to.have.members([by["app-2/marker"].urn, by["app-1/setup"].urn]);
        expect(by["app-2/configure"].environment).to.deep.equal({ LANG: "C.UTF-8" });
    });

    it("sends a command that connects to a public IP or an Elastic IP to the instance's private IP", async () => {
        const program = () => {
            const subnet = new aws.ec2.Subnet("stage-subnet", { vpcId: "vpc-1", cidrBlock: "10.20.0.0/20", availabilityZone: "eu-west-1a" });
            const dev = new aws.ec2.Instance("stage-dev-1-instance", {
                ami: "ami-1",
                instanceType: "t3.large",
                subnetId: subnet.id,
                associatePublicIpAddress: true,
            });
            const web = new aws.ec2.Instance("stage-web-1-instance", { ami: "ami-1", instanceType: "t3.large", subnetId: subnet.id });
            const eip = new aws.ec2.Eip("stage-eip", { domain: "vpc" });
            new aws.ec2.EipAssociation("stage-eip", { allocationId: eip.id, instanceId: web.id });
            new remote.Command("stage-dev-1-provision-setup", { connection: { host: dev.publicIp, user: "admin" }, create: "true" });
            new remote.Command("stage-web-1-provision-setup", { connection: { host: eip.publicIp, user: "admin" }, create: "true" });
            return {};
        };
        const addresses = new Map([
            ["stage-dev-1-instance", "10.20.0.10"],
            ["stage-web-1-instance", "10.20.0.11"],
        ]);
        const run = await runOffline({ stackName: "stage", raw: { "aws:region": "eu-west-1" }, secretKeys: [] }, { program, addresses });
        const steps = stepsFromRun(run, { hostAddresses: { "dev-1": "10.20.0.10", "web-1": "10.20.0.11" } });
        expect(steps.map((s) => [s.host, s.address, /^(203\.0\.113|198\.51\.100)\./.test(s.publicAddress ?? "")]).sort()).to.deep.equal([
            ["dev-1", "10.20.0.10", true],
            ["web-1", "10.20.0.11", true],
        ]);
        const lines: string[] = [];
        const { dir: logs, cleanup } = tempDir("public");
        try {
            await runSteps(steps, { run: () => Promise.resolve(0) }, { logsDir: logs, print: (l) => lines.push(l) });
        } finally {
            cleanup();
        }
        expect(lines[0]).to.match(/^note: pulumi up connects to these hosts' public addresses; .*dev-1 203\.0\.113\.\d+ -> 10\.20\.0\.10/);
    });
});
