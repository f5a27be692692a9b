// npm run rehearse -- <stack> [--stack-file FILE] [--keep] [--run-dir DIR] [--cache-dir DIR] [--parallel N]
// npm run rehearse -- --teardown <run id>|stale [--cache-dir DIR]
//
// Rehearses `pulumi up` for a stack on local test hosts (scripts/lib/rehearsal/index.ts): the commands
// the program registers run over real SSH on a test host per instance, then the smoke checks.
// Exit 0 when all pass; 1 on a failure (the failing command's output is printed) or an invalid
// stack; 2 when this machine cannot run test hosts (root and Linux only).
import { parseStackArgs } from "./lib/offline/loadStack";
import { StackFileError } from "./lib/offline/stackFile";
import { exitWith, usageError } from "./lib/cli";
import { rehearse } from "./lib/rehearsal";
import { RehearsalStackError } from "./lib/rehearsal/stack";
import { RehearsalError } from "./lib/rehearsal/runner";
import { DEFAULT_CACHE_DIR, teardownStale } from "./lib/rehearsal/runs";
import { machineProblems } from "./lib/rehearsal/machine";
import { TestHostError } from "./lib/rehearsal/processes";

const USAGE = [
    "usage: npm run rehearse -- <stack> [--stack-file FILE] [--keep] [--run-dir DIR] [--cache-dir DIR] [--parallel N]",
    "       npm run rehearse -- --teardown <run id>|stale [--cache-dir DIR]",
].join("\n");

function takeValue(rest: string[], name: string): string | undefined {
    const i = rest.findIndex((a) => a === name || a.startsWith(`${name}=`));
    if (i < 0) return undefined;
    const [arg] = rest.splice(i, 1);
    if (arg.includes("=")) return arg.slice(name.length + 1);
    const [value] = rest.splice(i, 1);
    if (value === undefined || value.startsWith("--")) throw new StackFileError(`${name} needs a value`);
    return value;
}

async function teardownCommand(target: string, cacheDir: string): Promise<number> {
    const report = await teardownStale({ cacheDir, ...(target === "stale" ? {} : { only: [target] }) });
    for (const id of report.removed) console.log(`removed run ${id}`);
    for (const s of report.skipped) console.log(`left run ${s.runId}: ${s.reason}`);
    for (const l of report.leftovers) console.error(`could not remove: ${l}`);
    if (!report.removed.length && !report.skipped.length) console.log(target === "stale" ? "no stale runs" : `no run ${target}`);
    return report.leftovers.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
    // The options with values first: parseStackArgs takes the first bare word for the stack.
    const args = [...argv];
    const runDir = takeValue(args, "--run-dir");
    const cacheDir = takeValue(args, "--cache-dir") ?? DEFAULT_CACHE_DIR;
    const parallel = Number(takeValue(args, "--parallel") ?? 8);
    const teardown = takeValue(args, "--teardown");
    const { selection, flags, rest } = parseStackArgs(args, ["--keep", "--help"]);
    if (flags.has("--help")) {
        console.log(USAGE);
        return 0;
    }
    if (rest.length) return usageError(`unknown argument ${rest[0]}`, USAGE);
    if (!Number.isInteger(parallel) || parallel < 1) return usageError("--parallel needs a whole number of at least 1", USAGE);
    if (!teardown && !selection.stack && !selection.stackFile) return usageError("name a stack (e.g. dev) or give --stack-file FILE", USAGE);

    const problems = machineProblems();
    if (problems.length) {
        console.error(`the rehearsal cannot run on this machine:\n  ${problems.join("\n  ")}`);
        return 2;
    }
    if (teardown) return teardownCommand(teardown, cacheDir);
    const report = await rehearse({ ...selection, keep: flags.has("--keep"), runDir, cacheDir, parallel, handleSignals: true });
    return report.exitCode;
}

exitWith(main(process.argv.slice(2)), [StackFileError, TestHostError, RehearsalError, RehearsalStackError]);
