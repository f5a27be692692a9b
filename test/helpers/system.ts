// Running real programs in tests: the daemon checks and the scripts the hosts run.
import { spawnSync, SpawnSyncOptions, StdioOptions } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { shellQuote } from "../../components/render/shell";

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

/** Blocks this process for `ms` milliseconds: a pause between polls without starting a `sleep` process. */
export function sleepMs(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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

/** One program of runAll: as run() takes it, with the working directory and, when given, the whole environment. */
export interface BatchedRun {
    command: string;
    args: string[];
    cwd: string;
    env?: Record<string, string>;
}

export interface BatchedResult {
    status: number;
    /** stdout and stderr together. */
    output: string;
    /** Whether runAll's `watch` path existed after this program ran. */
    watched: boolean;
}

/**
 * Runs programs one after the other from one bash process, each with stdin /dev/null, and returns
 * what run() would tell of each (stdout and stderr together). For checks that run a validator over
 * many files: a spawn from a test process costs more than a `bash -n` or an `nginx -t` itself.
 * `watch`: a path whose existence is recorded after each program (a file a payload would create).
 */
export function runAll(runs: BatchedRun[], dir: string, watch = ""): BatchedResult[] {
    if (runs.length === 0) return [];
    const boundary = `@@plone-aws-run-all-${process.pid}-${Date.now()}@@`;
    const script = [
        `boundary=${shellQuote(boundary)} watch=${shellQuote(watch)}`,
        "one() {",
        "  local dir=$1 status watched=0; shift",
        '  printf "%s start\\n" "$boundary"',
        '  (cd "$dir" && exec "$@") </dev/null 2>&1',
        "  status=$?",
        '  if [ -n "$watch" ] && [ -e "$watch" ]; then watched=1; fi',
        '  printf "\\n%s end %s %s\\n" "$boundary" "$status" "$watched"',
        "}",
        ...runs.map((r) => {
            const env = r.env ? ["env", "-i", ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`)] : [];
            return ["one", r.cwd, ...env, r.command, ...r.args].map(shellQuote).join(" ");
        }),
        "",
    ].join("\n");
    const file = path.join(dir, "run-all.sh");
    fs.writeFileSync(file, script);
    const r = run("bash", [file], { maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`runAll: bash exited ${r.status}: ${r.stderr}`);
    const results: BatchedResult[] = [];
    const ends = new RegExp(`${boundary} start\\n([\\s\\S]*?)\\n${boundary} end (\\d+) ([01])\\n`, "g");
    for (const m of r.stdout.matchAll(ends)) results.push({ output: m[1], status: Number(m[2]), watched: m[3] === "1" });
    if (results.length !== runs.length) throw new Error(`runAll: ${results.length} results for ${runs.length} programs:\n${r.stdout.slice(-2000)}`);
    return results;
}
