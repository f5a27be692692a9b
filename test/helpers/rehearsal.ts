// Rehearsal tests start real test hosts: they need root, debootstrap (about 1.5-4 min the first
// time, for the base root) and network namespaces. They are opt-in: PLONE_AWS_REHEARSAL=1.
import * as fs from "fs";
import * as path from "path";
import { machineProblems } from "../../scripts/lib/rehearsal/machine";
import { runLeftovers } from "../../scripts/lib/rehearsal/runs";
import { REPO } from "./stacks";

/** The cache the rehearsal CLI uses in this checkout: the base root is built once for both. */
export const REHEARSAL_CACHE = path.join(REPO, ".rehearsal");

/** Skips the suite unless PLONE_AWS_REHEARSAL=1; fails it when asked for on a machine that cannot. */
export function requireRehearsal(ctx: Mocha.Context): void {
    if (process.env.PLONE_AWS_REHEARSAL !== "1") {
        console.log("      (skipped: rehearsal tests run with PLONE_AWS_REHEARSAL=1, as root)");
        ctx.skip();
    }
    const problems = machineProblems();
    if (problems.length) throw new Error(`PLONE_AWS_REHEARSAL=1, but this machine cannot run test hosts:\n  ${problems.join("\n  ")}`);
}

/** Every trace of a run on the machine, for assertions that there is none. */
export function traces(
    runId: string,
    runDir: string,
    pidfiles: number[],
): { netns: string[]; links: string[]; mounts: string[]; processes: number[]; loops: string[]; pidfileProcesses: number[] } {
    const left = runLeftovers(runId, runDir);
    const alive = (pid: number) => {
        try {
            // A zombie (its parent never reaps it) is dead: it holds no namespace, mount or memory.
            return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
            return false;
        }
    };
    return { ...left, pidfileProcesses: pidfiles.filter(alive) };
}
