// Shared command-line plumbing: expected failures print one clear line and exit 1; only a bug
// in plone-aws itself prints a stack trace.

export function usageError(message: string, usage: string): number {
    console.error(`${message}\n${usage}`);
    return 1;
}

type ErrorClass = new (...args: never[]) => Error;

/**
 * Exits once stdout and stderr have been handed over: process.exit drops what a pipe has not taken
 * yet, which cut a large `--json` plan piped into another program at 64 KiB.
 */
function exitWhenFlushed(code: number): void {
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

/** Awaits a command's exit status; errors of the expected classes print their message only. */
export function exitWith(status: Promise<number>, expected: ErrorClass[] = []): void {
    status.then(
        (code) => exitWhenFlushed(code),
        (e: unknown) => {
            if (e instanceof Error && expected.some((cls) => e instanceof cls)) {
                console.error(`error: ${e.message}`);
                exitWhenFlushed(1);
                return;
            }
            console.error("plone-aws failed unexpectedly (a bug; please report it with this trace):");
            console.error(e);
            exitWhenFlushed(70);
        },
    );
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
