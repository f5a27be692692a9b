// What the rehearsal benchmarks (bench:deploy, bench:scale) share: their arguments, the machine
// check, the rehearsal's start, Ctrl-C, and the test hosts kept (--keep) or removed at the end.
import { takeOption, usageError } from "../cli";
import { parseStackArgs } from "../offline/loadStack";
import { InvalidStackError, Rehearsal } from ".";
import { machineProblems } from "./machine";
import { DEFAULT_CACHE_DIR } from "./runs";

/** A benchmark's rehearsal, started. */
export interface BenchRun {
    rehearsal: Rehearsal;
    /** wrk's connections (--connections, default 16). */
    connections: number;
    /** --keep: the test hosts stay after the run. */
    keep: boolean;
    /** When the benchmark started (Date.now()). */
    started: number;
}

function benchUsage(name: string): string {
    return `usage: npm run ${name} -- [<stack> | --stack-file FILE] [--connections N] [--keep] [--cache-dir DIR]`;
}

/**
 * Parses `[<stack> | --stack-file FILE] [--connections N] [--keep] [--cache-dir DIR]` (the stack
 * file defaults to defaultStackFile), checks that this machine runs test hosts and starts the
 * rehearsal with Ctrl-C handling. A number is the exit code to end with (usage, machine, stack).
 */
export async function startBench(name: string, argv: string[], defaultStackFile: string): Promise<BenchRun | number> {
    const usage = benchUsage(name);
    const cache = takeOption(argv, "--cache-dir");
    const conns = takeOption(cache.rest, "--connections");
    if (cache.missing || conns.missing) return usageError("--cache-dir and --connections need a value", usage);
    const { selection, flags, rest } = parseStackArgs(conns.rest, ["--keep", "--help"]);
    if (flags.has("--help")) {
        console.log(usage);
        return 0;
    }
    if (rest.length) return usageError(`unknown argument ${rest[0]}`, usage);
    const connections = Number(conns.value ?? 16);
    if (!Number.isInteger(connections) || connections < 2) return usageError("--connections needs a whole number of at least 2", usage);
    if (!selection.stack && !selection.stackFile) selection.stackFile = defaultStackFile;
    const problems = machineProblems();
    if (problems.length) {
        console.error(`${name} rehearses the stack on test hosts, which this machine cannot run:\n  ${problems.join("\n  ")}`);
        return 2;
    }

    const started = Date.now();
    let rehearsal: Rehearsal;
    try {
        rehearsal = await Rehearsal.start({ ...selection, cacheDir: cache.value ?? DEFAULT_CACHE_DIR });
    } catch (e) {
        if (e instanceof InvalidStackError) {
            console.error(e.message);
            return 1;
        }
        throw e;
    }
    const keep = flags.has("--keep");
    // Ctrl-C: the test hosts go (or stay, with --keep) before the process ends.
    const onSignal = (signal: NodeJS.Signals) => {
        rehearsal.print(`\n${signal}: stopping; ${keep ? "keeping" : "removing"} the test hosts of ${rehearsal.hosts.runId}`);
        if (keep) {
            rehearsal.print(rehearsal.hosts.keep().join("\n"));
            process.exit(130);
        }
        void rehearsal.hosts.teardown().then(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    return { rehearsal, connections, keep, started };
}

/** The end of a benchmark: its test hosts kept (--keep, with how to reach them) or removed. */
export async function endBench(run: BenchRun): Promise<void> {
    const { rehearsal } = run;
    if (run.keep) rehearsal.print(rehearsal.hosts.keep().join("\n"));
    else {
        const { leftovers } = await rehearsal.hosts.teardown();
        for (const l of leftovers) rehearsal.print(`warning: teardown left ${l}`);
    }
}
