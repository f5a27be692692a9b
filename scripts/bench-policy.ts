// npm run bench:policy [-- <stack>] [--runs N]
// Wall time of the offline policy check, start-up included: a fresh `node scripts/policy.ts <stack>`
// per run (what `npm run policy -- <stack>` runs, without npm's own start-up), then where the time
// goes in one run in this process. The target is under 5 s for prod on a 2-core machine; the
// figures are printed, not asserted (they depend on the machine and on what else it runs).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { takeOption } from "./lib/cli";

const REPO = path.resolve(__dirname, "..");
const TARGET_SECONDS = 5;

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(2)} s`;
}

const GNU_TIME = "/usr/bin/time";

/** Wall time, and with GNU time the CPU time of the command and its children (the policy pack). */
function timeCommand(command: string, args: string[]): { ms: number; cpuMs?: number; status: number | null } {
    const report = path.join(os.tmpdir(), `plone-aws-bench-${process.pid}.txt`);
    const timed = fs.existsSync(GNU_TIME);
    const start = process.hrtime.bigint();
    const r = timed
        ? spawnSync(GNU_TIME, ["-f", "%U %S", "-o", report, command, ...args], { cwd: REPO, stdio: "ignore" })
        : spawnSync(command, args, { cwd: REPO, stdio: "ignore" });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (!timed) return { ms, status: r.status };
    const [user, sys] = fs.readFileSync(report, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
    fs.rmSync(report, { force: true });
    return { ms, cpuMs: (user + sys) * 1000, status: r.status };
}

async function phases(stack: string): Promise<[string, number][]> {
    // In the order scripts/policy.ts takes: the pack first, then the program's modules.
    const t0 = performance.now();
    const pack = (await import("./lib/plan/policyPack")).startPolicyPack();
    const offline = await import("./lib/offline/run");
    const planLoad = await import("./lib/offline/loadStack");
    const policyCheck = await import("./lib/plan/policyCheck");
    const t1 = performance.now();
    const loaded = planLoad.loadStack({ stack });
    if (!loaded.spec) {
        pack.stop();
        throw new Error(`Pulumi.${stack}.yaml is invalid`);
    }
    const run = await offline.runOffline(loaded.config, { addresses: offline.addressPlan(loaded.spec) });
    const t2 = performance.now();
    await pack.ready;
    const t3 = performance.now();
    const { config, configFile } = policyCheck.loadPolicyConfig(policyCheck.defaultPolicyConfigFile(loaded.spec.stackName, loaded.spec.tier));
    await policyCheck.checkPolicies(run, { pack, config, configFile });
    const t4 = performance.now();
    return [
        ["starting the pack, loading the modules (@pulumi/pulumi, @pulumi/aws, the program, gRPC)", t1 - t0],
        [`reading the stack and running the program under mocks (${run.resources.length} resources; the pack loads meanwhile)`, t2 - t1],
        ["waiting for the pack after that", t3 - t2],
        ["Configure, Analyze x resources, AnalyzeStack", t4 - t3],
    ];
}

async function main(argv: string[]): Promise<number> {
    const runsOption = takeOption(argv, "--runs");
    const runs = Number(runsOption.value ?? 5);
    const stack = runsOption.rest.find((a) => !a.startsWith("-")) ?? "prod";
    console.log(
        `Offline policy check of ${stack}: ${runs} runs on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown CPU"}), load average ${os.loadavg()[0].toFixed(2)}`,
    );

    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
        const { ms, cpuMs, status } = timeCommand(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/policy.ts", stack]);
        times.push(ms);
        if (cpuMs !== undefined) cpu.push(cpuMs);
        console.log(`  run ${i + 1}: ${seconds(ms)} wall${cpuMs !== undefined ? `, ${seconds(cpuMs)} CPU (the check and the pack)` : ""} (exit ${status})`);
    }
    console.log(
        `node scripts/policy.ts ${stack}: wall min ${seconds(Math.min(...times))}, median ${seconds(median(times))}, max ${seconds(Math.max(...times))} (target < ${TARGET_SECONDS} s: ${median(times) < TARGET_SECONDS * 1000 ? "met" : "missed"} by the median)`,
    );
    // CPU time does not grow with what else the machine runs, wall time does.
    if (cpu.length) console.log(`CPU time per run: median ${seconds(median(cpu))}, spread over the check and the pack process`);

    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { scripts?: Record<string, string> };
    if (pkg.scripts?.policy) {
        const { ms } = timeCommand("npm", ["run", "--silent", "policy", "--", stack]);
        console.log(`npm run policy -- ${stack}: ${seconds(ms)} (npm's own start-up included)`);
    }

    console.log("Where the time goes (one run in this process, after node's start-up):");
    for (const [what, ms] of await phases(stack)) console.log(`  ${seconds(ms).padStart(8)}  ${what}`);
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
        console.error(e);
        process.exit(70);
    },
);
