// Shared command-line plumbing: expected failures print one clear line and exit 1; only a bug
// in plone-aws itself prints a stack trace.
import { inspect } from "util";

export function usageError(message: string, usage: string): number {
    console.error(`${message}\n${usage}`);
    return 1;
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * Where a command writes, and the directory its default and relative paths start from: the
 * process's own (processIo), or a test's, which calls the command in-process and reads what it said.
 */
export interface CommandIo {
    /** Writes text and a newline to standard output. */
    out(text: string): void;
    /** Writes text and a newline to standard error. */
    err(text: string): void;
    /** The working directory. */
    cwd: string;
    /** The environment the command reads (PLONE_AWS_SSH) and gives the programs it starts. */
    env: NodeJS.ProcessEnv;
    /** Whether out and err are this process's own stdout and stderr, which a program it starts may then write to directly. */
    ownStdio: boolean;
}

/** The process's own standard output, standard error, working directory and environment. */
export function processIo(): CommandIo {
    return { out: (text) => console.log(text), err: (text) => console.error(text), cwd: process.cwd(), env: process.env, ownStdio: true };
}

/**
 * A command's exit status: its own; 1 with the message alone for an error of the expected classes;
 * 70 with the trace for anything else, a bug in plone-aws.
 */
export function commandStatus(status: Promise<number>, expected: ErrorClass[] = [], io: CommandIo = processIo()): Promise<number> {
    return status.catch((e: unknown) => {
        if (e instanceof Error && expected.some((cls) => e instanceof cls)) {
            io.err(`error: ${e.message}`);
            return 1;
        }
        io.err("plone-aws failed unexpectedly (a bug; please report it with this trace):");
        io.err(inspect(e));
        return 70;
    });
}

/**
 * Exits once stdout and stderr have been handed over: process.exit drops what a pipe has not taken
 * yet, which cut a large `--json` plan piped into another program at 64 KiB.
 */
function exitWhenFlushed(code: number): void {
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

/** Awaits a command's exit status, then exits with it (errors of the expected classes print their message only). */
export function exitWith(status: Promise<number>, expected: ErrorClass[] = []): void {
    void commandStatus(status, expected).then(exitWhenFlushed);
}

/** Takes `--name VALUE` (or `--name=VALUE`) out of the arguments. */
export function takeOption(argv: string[], name: string): { value?: string; rest: string[]; missing: boolean } {
    const rest: string[] = [];
    let value: string | undefined;
    let missing = false;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === name) {
            value = argv[i + 1];
            missing = value === undefined || value.startsWith("--");
            i++;
        } else if (argv[i].startsWith(`${name}=`)) {
            value = argv[i].slice(name.length + 1);
        } else {
            rest.push(argv[i]);
        }
    }
    return { value, rest, missing };
}
