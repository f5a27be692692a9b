// Suites that need root: they run what runs as root on a host (daemons that drop privileges or bind
// port 80, supervisord switching users, the host scripts that refuse to run otherwise, namespaces
// and mounts). Such a suite is declared with describeAsRoot: its title carries ROOT_TAG, so that
// `npm test` (scripts/test.sh), when not run as root, runs everything else as the user and then
// these suites alone under passwordless sudo. Where there is neither root nor such a sudo, each of
// them says why it does not run: a skip outside CI, a failure in CI (where every tier must run).

/** The tag in the title of every suite that needs root; scripts/test.sh selects them with `--grep`. */
export const ROOT_TAG = "@root";

/** Why a suite cannot run as this user, or undefined when it can (the effective user is root). */
export function lackOfRoot(why: string): string | undefined {
    if (process.geteuid?.() === 0) return undefined;
    return `needs root (${why}). npm test runs these suites under sudo when sudo needs no password; ` + `otherwise run npm test as root`;
}

/** Skips the calling suite or test when not root, saying why; in CI, fails it saying why. */
export function requireRoot(ctx: Mocha.Context, why: string): void {
    const reason = lackOfRoot(why);
    if (!reason) return;
    if (process.env.CI) throw new Error(`this test ${reason}`);
    console.log(`      (skipped: ${reason})`);
    ctx.skip();
}

/**
 * A suite that needs root: the title gets ROOT_TAG, and a first `before` hook skips (or, in CI,
 * fails) the whole suite with `why` when the process is not root.
 */
export function describeAsRoot(title: string, why: string, body: (this: Mocha.Suite) => void): Mocha.Suite {
    return describe(`${title} ${ROOT_TAG}`, function () {
        before(function () {
            requireRoot(this, why);
        });
        body.call(this);
    });
}
