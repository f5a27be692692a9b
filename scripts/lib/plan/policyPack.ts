// The plone-guard policy pack as a process: started the way the CLI's analyzer plugin starts it,
// serving gRPC on the port it prints. Kept apart from the gRPC client (policyCheck.ts) and free of
// heavy imports, so a command can start the pack before it loads the program.
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Tier } from "../../../components/config/schema";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const POLICY_PACK_DIR = path.join(REPO_ROOT, "policies");

/** The policy config a stack uses by default: config.<stack>.json, else the one of its tier. */
export function defaultPolicyConfigFile(stackName: string, tier: Tier, packDir = POLICY_PACK_DIR): string | undefined {
    const byTier: Record<Tier, string> = { development: "dev", staging: "staging", production: "prod" };
    for (const name of [stackName, byTier[tier]]) {
        const file = path.join(packDir, `config.${name}.json`);
        if (fs.existsSync(file)) return file;
    }
    return undefined;
}

/** A started policy pack: the port it serves on, and how to stop it. */
export interface PolicyPackProcess {
    ready: Promise<number>;
    stop(): void;
}

/**
 * How the pack's process is run. fast: node with ts-node's transpile-only hook (about a second).
 * cli: @pulumi/pulumi's run-policy-pack, exactly what the CLI's analyzer plugin runs, which
 * type-checks the pack with its tsconfig.json first (ten seconds and more).
 */
export type PackRunner = "fast" | "cli";

const PACK_START_TIMEOUT_MS = 120_000;

function packCommand(packDir: string, runner: PackRunner): string[] {
    if (runner === "cli") {
        // The engine address is only passed along by the CLI; the pack does not call back.
        return [require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir] }), "127.0.0.1:0", "."];
    }
    return ["-r", require.resolve("ts-node/register/transpile-only"), "index.ts"];
}

/** The CPU time (user + system, in clock ticks) a process has used, from Linux's /proc; undefined elsewhere. */
function processCpuTicks(pid: number | undefined): number | undefined {
    if (pid === undefined) return undefined;
    try {
        // The fields after the command name (which may hold spaces) start at the state: utime and stime are the 12th and 13th.
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return Number(fields[11]) + Number(fields[12]);
    } catch {
        return undefined;
    }
}

/**
 * Starts the policy pack in its own directory (its package.json gives the version). The pack
 * prints its port and serves until stopped. Start it early and hand it to checkPolicies: it
 * loads while the program runs.
 */
export function startPolicyPack(packDir = POLICY_PACK_DIR, runner: PackRunner = "fast"): PolicyPackProcess {
    const child: ChildProcess = spawn(process.execPath, packCommand(packDir, runner), {
        cwd: packDir,
        stdio: ["ignore", "pipe", "pipe"],
        // The fast runner transpiles with swc (scripts/lib/plan/policy-pack.tsconfig.json extends the
        // pack's own tsconfig); the CLI runner uses the pack's tsconfig as `pulumi preview` does.
        env: {
            ...process.env,
            TS_NODE_PROJECT:
                runner === "fast" && packDir === POLICY_PACK_DIR ? path.join(__dirname, "policy-pack.tsconfig.json") : path.join(packDir, "tsconfig.json"),
        },
    });
    // The pack serves until killed: take it down with this process, also on Ctrl-C or a kill.
    const stopOnExit = () => child.kill();
    const stopOnSignal = (signal: NodeJS.Signals) => {
        child.kill();
        process.kill(process.pid, signal);
    };
    process.on("exit", stopOnExit);
    process.once("SIGINT", stopOnSignal);
    process.once("SIGTERM", stopOnSignal);
    let stderr = "";
    const ready = new Promise<number>((resolve, reject) => {
        let stdout = "";
        // A hang guard that waits on progress: a pack still loading (its CPU time grew since the
        // last look) on a busy machine gets another period; one that did nothing for a period fails.
        let cpuSeen = processCpuTicks(child.pid);
        const check = (): void => {
            const cpu = processCpuTicks(child.pid);
            if (cpu !== undefined && cpuSeen !== undefined && cpu > cpuSeen) {
                cpuSeen = cpu;
                timer = setTimeout(check, PACK_START_TIMEOUT_MS);
                return;
            }
            reject(new Error(`the policy pack in ${packDir} did not start: nothing from it for ${PACK_START_TIMEOUT_MS / 1000} s`));
        };
        let timer = setTimeout(check, PACK_START_TIMEOUT_MS);
        child.stdout!.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
            const line = stdout.split("\n")[0];
            if (stdout.includes("\n") && /^\d+$/.test(line.trim())) {
                clearTimeout(timer);
                resolve(Number(line.trim()));
            }
        });
        child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
        });
        child.on("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`the policy pack in ${packDir} exited (${signal ?? `code ${code}`}) before serving:\n${stderr.trim() || stdout.trim()}`));
        });
    });
    // A rejection nobody awaits yet (the pack failed while the program still runs) is not a crash.
    ready.catch(() => undefined);
    return {
        ready,
        stop: () => {
            process.removeListener("exit", stopOnExit);
            process.removeListener("SIGINT", stopOnSignal);
            process.removeListener("SIGTERM", stopOnSignal);
            child.kill();
        },
    };
}
