// Shared command-line plumbing: expected failures print one clear line and exit 1; only a bug
// in plone-aws itself prints a stack trace.

export function usageError(message: string, usage: string): number {
    console.error(`${message}\n${usage}`);
    return 1;
}

type ErrorClass = new (...args: never[]) => Error;

/** Awaits a command's exit status; errors of the expected classes print their message only. */
export function exitWith(status: Promise<number>, expected: ErrorClass[] = []): void {
    status.then(
        // Exit only once stdout has drained: a large --json report must not be cut off.
        (code) => process.stdout.write("", () => process.exit(code)),
        (e: unknown) => {
            if (e instanceof Error && expected.some((cls) => e instanceof cls)) {
                console.error(`error: ${e.message}`);
                process.exit(1);
            }
            console.error("plone-aws failed unexpectedly (a bug; please report it with this trace):");
            console.error(e);
            process.exit(70);
        },
    );
}
