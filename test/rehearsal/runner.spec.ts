// The rehearsal for real (PLONE_AWS_REHEARSAL=1, root): a program of synthetic remote.Commands on
// the prod plan's hosts, rehearsed the way `npm run rehearse` does it: test hosts at the planned
// addresses, the commands over SSH with stdin piped, in dependency order and in parallel, the
// stop at the first failure, and nothing of the run left afterwards.
import { expect } from "chai";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { remote } from "@pulumi/command";
import { plannedHostAddresses } from "../../scripts/lib/offline/run";
import { rehearse, RehearsalReport } from "../../scripts/lib/rehearsal";
import type { StepResult } from "../../scripts/lib/rehearsal/runner";
import { loadRepoStack, REPO } from "../helpers/stacks";
import { NO_TRACES, REHEARSAL_CACHE, requireRehearsal, traces } from "../helpers/rehearsal";

const PROD = path.join(REPO, "Pulumi.prod.yaml");
const addresses = plannedHostAddresses(loadRepoStack("prod").spec);

/** A command named the way the program will name them: <stack prefix>-<host>-provision-<step>. */
function command(host: string, step: string, create: string, opts: { stdin?: pulumi.Input<string>; dependsOn?: pulumi.Resource[] } = {}): remote.Command {
    const privateKey = new pulumi.Config("plone-aws").requireSecret("sshPrivateKey");
    return new remote.Command(
        `prod-${host}-provision-${step}`,
        {
            connection: { host: addresses[host], user: "admin", privateKey, proxy: { host: addresses["bastion"], user: "admin", privateKey } },
            create,
            stdin: opts.stdin,
        },
        { dependsOn: opts.dependsOn },
    );
}

/** A step that notes when it ran on the host (the hosts share the machine's clock). */
const timed = (name: string, sleep: number) => `bash -c 'echo "${name} start $(date +%s%3N)"; sleep ${sleep}; echo "${name} end $(date +%s%3N)"'`;

function stamps(report: RehearsalReport): Record<string, number> {
    const out: Record<string, number> = {};
    for (const file of fs.readdirSync(path.join(report.runDir!, "logs")).filter((f) => f.endsWith(".log"))) {
        for (const m of fs.readFileSync(path.join(report.runDir!, "logs", file), "utf8").matchAll(/\| (\S+) (start|end) (\d+)$/gm))
            out[`${m[1]} ${m[2]}`] = Number(m[3]);
    }
    return out;
}

describe("rehearsal runner over SSH", function () {
    before(function () {
        requireRehearsal(this);
    });

    it("runs the commands in dependency order, hosts in parallel, with stdin piped as pulumi-command does", async () => {
        const secretText = `line 1 with 'quotes' "and" $HOME \`x\`\n${crypto.randomBytes(8).toString("hex")}\n`;
        const lines: string[] = [];
        const report = await rehearse({
            stackFile: PROD,
            cacheDir: REHEARSAL_CACHE,
            print: (l) => lines.push(l),
            program: () => {
                const a1 = command("app-1", "first", timed("app-1/first", 1.5));
                const b1 = command("app-2", "first", timed("app-2/first", 1.5));
                command("app-1", "second", timed("app-1/second", 0.2), { dependsOn: [a1, b1] });
                command("app-2", "second", timed("app-2/second", 0.2), { dependsOn: [a1] });
                // stdin reaches the command byte for byte, secret or not, and the command runs as admin.
                command("web-1", "stdin", "cat > /tmp/stdin-copy && id -un && sha256sum < /tmp/stdin-copy", { stdin: pulumi.secret(secretText) });
                return {};
            },
        });
        expect(report.exitCode, lines.join("\n")).to.equal(0);
        const r = Object.fromEntries(report.result!.results.map((x) => [`${x.host}/${x.step}`, x])) as Record<string, StepResult>;
        // app-1 and app-2 ran their first steps at the same time...
        expect(r["app-1/first"].startedAt!).to.be.below(r["app-2/first"].finishedAt!);
        expect(r["app-2/first"].startedAt!).to.be.below(r["app-1/first"].finishedAt!);
        // ...and each second step only after what it depends on, on the hosts' own clocks too.
        const t = stamps(report);
        expect(t["app-2/first start"]).to.be.below(t["app-1/first end"]);
        expect(t["app-1/second start"]).to.be.at.least(Math.max(t["app-1/first end"], t["app-2/first end"]));
        expect(t["app-2/second start"]).to.be.at.least(t["app-1/first end"]);

        const sha = crypto.createHash("sha256").update(secretText).digest("hex");
        const web = fs.readFileSync(path.join(report.runDir!, "logs", "web-1.log"), "utf8");
        expect(web).to.contain("stdin | admin");
        expect(web).to.contain(`stdin | ${sha}  -`);
        expect(lines.some((l) => /^\[app-1\] second \.\.\. ok \d+\.\ds$/.test(l))).to.equal(true);
        expect(lines.join("\n")).to.contain(`connecting through the bastion admin@${addresses["bastion"]} with ProxyJump, as pulumi up does`);
        expect(report.smoke.map((s) => s.ok)).to.deep.equal([true]);
        expect(report.leftovers).to.deep.equal([]);
        console.log(
            `      ${lines
                .join("\n")
                .split("\n")
                .filter((l) => /^ {2}(VPC|test hosts|commands|teardown|total)/.test(l))
                .map((l) => l.trim().replace(/\s+/g, " "))
                .join("; ")}`,
        );
    });

    it("stops at the first failing command with the end of its output, exits non-zero, and removes everything", async () => {
        const lines: string[] = [];
        const report = await rehearse({
            stackFile: PROD,
            cacheDir: REHEARSAL_CACHE,
            print: (l) => lines.push(l),
            program: () => {
                const ok = command("app-1", "setup", "echo setup done");
                const broken = command("app-1", "configure", "bash -s", {
                    stdin: "echo checking haproxy.cfg\necho 'haproxy: unable to find backend' >&2\nexit 7\n",
                    dependsOn: [ok],
                });
                command("app-1", "build", "echo never", { dependsOn: [broken] });
                // Still running when configure fails: it finishes (as Pulumi lets it), its successor never starts.
                const slow = command("app-2", "setup", "sleep 3; echo slow setup done");
                command("app-2", "configure", "echo never either", { dependsOn: [slow] });
                return {};
            },
        });
        expect(report.exitCode).to.equal(1);
        expect(report.result!.failed).to.include({ host: "app-1", step: "configure", exitCode: 7 });
        const status = Object.fromEntries(report.result!.results.map((x) => [`${x.host}/${x.step}`, x.status]));
        expect(status).to.deep.equal({
            "app-1/setup": "ok",
            "app-1/configure": "failed",
            "app-1/build": "not-run",
            "app-2/setup": "ok",
            "app-2/configure": "not-run",
        });
        const text = lines.join("\n");
        expect(text).to.contain("[app-1] configure ... FAILED (exit 7)");
        expect(text).to.match(
            /\[app-1\] configure failed \(exit 7\); the end of its output \(.*logs\/app-1\.log\):\n {2}\| checking haproxy\.cfg\n {2}\| haproxy: unable to find backend/,
        );
        expect(text).to.match(/not run after the failure: (app-1\/build, app-2\/configure|app-2\/configure, app-1\/build)/);
        expect(text).to.match(/FAILED: \[app-1\] configure$/);
        expect(fs.readFileSync(path.join(report.runDir!, "logs", "app-1.log"), "utf8")).to.contain("configure | haproxy: unable to find backend");
        // Teardown after a failure leaves nothing either.
        expect(report.leftovers).to.deep.equal([]);
        const left = traces(report.runId!, report.runDir!, []);
        expect({ ...left, pidfileProcesses: [] }).to.deep.equal({ netns: [], links: [], mounts: [], processes: [], loops: [], pidfileProcesses: [] });
    });

    it("stops on Ctrl-C while a command runs: the hosts are removed and the exit status is 130", async () => {
        // `npm run rehearse` in a process of its own, with a command that would run for a minute.
        const script = `
            const { remote } = require("@pulumi/command");
            const { rehearse } = require(${JSON.stringify(path.join(REPO, "scripts/lib/rehearsal"))});
            rehearse({ stackFile: ${JSON.stringify(PROD)}, cacheDir: ${JSON.stringify(REHEARSAL_CACHE)}, handleSignals: true, program: () => {
                new remote.Command("prod-app-1-provision-build", { connection: { host: ${JSON.stringify(addresses["app-1"])}, user: "admin" }, create: "echo building; sleep 60" });
                return {};
            } }).then((r) => process.exit(r.exitCode));`;
        const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (out += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        while (!out.includes("[app-1] build ...")) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 500));
        const interruptedAt = Date.now();
        child.kill("SIGINT");
        expect(await exited, out).to.equal(130);
        expect(Date.now() - interruptedAt).to.be.below(15_000);
        expect(out).to.contain("SIGINT: stopping; removing the test hosts of");
        expect(out).to.match(/INTERRUPTED \(SIGINT\)\s*$/);
        expect(out).to.not.contain("[smoke]");
        const runId = /run (parh-[0-9a-f]{6})/.exec(out)![1];
        expect(traces(runId, path.join(REHEARSAL_CACHE, "runs", runId), [])).to.deep.equal(NO_TRACES);
    });
});
