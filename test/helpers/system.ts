// Running real programs in tests: the daemon checks and the scripts the hosts run.
import { spawnSync, SpawnSyncOptions, StdioOptions } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface RunResult {
    status: number;
    stdout: string;
    stderr: string;
}

/**
 * How long a program may run before a test calls it hung. Not a budget: a program that works
 * finishes far sooner however busy the machine is; tests wait on progress (the program's exit).
 */
export const HANG_GUARD_MS = 30 * 60_000;

/**
 * Runs a program to its end. Its stdin is /dev/null unless `input` is given: node's pipes are
 * sockets, and Debian's bash takes a socket on stdin for an ssh session and sources ~/.bashrc,
 * which would run the tester's shell setup (pyenv, PATH changes) inside the host scripts.
 */
export function run(command: string, args: string[], options: SpawnSyncOptions = {}): RunResult {
    const stdio: StdioOptions = options.input === undefined ? ["ignore", "pipe", "pipe"] : "pipe";
    const r = spawnSync(command, args, { encoding: "utf8", timeout: HANG_GUARD_MS, stdio, ...options });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}

export function hasBinary(name: string): boolean {
    return run("bash", ["-c", `command -v ${name}`]).status === 0;
}

/**
 * Skips the calling suite when a program it needs is missing, unless running in CI, where
 * `npm test` has installed them and a missing program is a failure.
 */
export function requireBinaries(ctx: Mocha.Context, ...names: string[]): void {
    const missing = names.filter((n) => !hasBinary(n));
    if (missing.length === 0) return;
    if (process.env.CI) throw new Error(`missing programs: ${missing.join(", ")} (scripts/ensure-test-packages.sh installs them)`);
    console.log(`      (skipped: ${missing.join(", ")} not installed; npm test installs them when run as root)`);
    ctx.skip();
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `plone-aws-${prefix}-`));
    return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
