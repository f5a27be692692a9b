// Running programs for the rehearsal: synchronously (setup, cleanup) or asynchronously with a
// time limit (commands in the hosts), and the error the test-host code throws.
import { spawn, spawnSync, SpawnSyncOptions } from "child_process";
import * as os from "os";

export class TestHostError extends Error {}

export interface CommandResult {
    status: number;
    stdout: string;
    stderr: string;
}

/** Runs a program to completion; throws TestHostError with its stderr unless `allowFailure`. */
export function run(command: string, args: string[], options: SpawnSyncOptions & { allowFailure?: boolean } = {}): CommandResult {
    const r = spawnSync(command, args, { encoding: "utf8", timeout: 120_000, ...options });
    if (r.error) throw new TestHostError(`${command} ${args.join(" ")}: ${r.error.message}`);
    const result = { status: r.status ?? -1, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
    if (result.status !== 0 && !options.allowFailure) {
        throw new TestHostError(`${command} ${args.join(" ")} failed (exit ${result.status}): ${result.stderr.trim() || result.stdout.trim()}`);
    }
    return result;
}

/** Runs a program asynchronously, with optional stdin; resolves with its status and output. */
export function runAsync(
    command: string,
    args: string[],
    options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: options.env ?? process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
        child.on("error", (e) => {
            if (timer) clearTimeout(timer);
            reject(new TestHostError(`${command}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer);
            resolve({ status: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1), stdout, stderr });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(options.input ?? "");
    });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tail(text: string, lines: number): string {
    return text.replace(/\n+$/, "").split("\n").slice(-lines).join("\n");
}
