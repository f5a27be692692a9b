// Rehearsal tests start real test hosts: they need root, debootstrap (about 1.5-4 min the first
// time, for the base root) and network namespaces. They are opt-in: PLONE_AWS_REHEARSAL=1.
import * as fs from "fs";
import * as path from "path";
import { machineProblems } from "../../scripts/lib/rehearsal/machine";
import { runLeftovers } from "../../scripts/lib/rehearsal/runs";
import type { Rehearsal } from "../../scripts/lib/rehearsal";
import { everyClientUsesItsServices, type SmokeResult } from "../../scripts/lib/rehearsal/smokeChecks";
import type { TestHostRun } from "../../scripts/lib/rehearsal/testHosts";
import { expect } from "chai";
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

/** What traces() finds once a run is gone. */
export const NO_TRACES = { netns: [], links: [], mounts: [], processes: [], loops: [], pidfileProcesses: [] };

/** Tears a rehearsal's test hosts down and asserts nothing of them is left on the machine. */
export async function tearDownLeavingNothing(hosts: TestHostRun): Promise<void> {
    const pids = [...hosts.hosts.values()].map((h) => Number(fs.readFileSync(h.pidfile, "utf8")));
    const { leftovers } = await hosts.teardown();
    expect(leftovers).to.deep.equal([]);
    expect(traces(hosts.runId, hosts.runDir, pids)).to.deep.equal(NO_TRACES);
}

/**
 * Runs the smoke checks and asserts every one green (the end of the run's output as the message);
 * `wiring` is the wiring check's detail: which services the clients used.
 */
export async function greenSmoke(rehearsal: Rehearsal, lines: string[]): Promise<{ results: SmokeResult[]; wiring: string }> {
    const results = await rehearsal.smoke();
    expect(
        results.filter((s) => !s.ok),
        lines.slice(-14).join("\n"),
    ).to.deep.equal([]);
    return { results, wiring: results.find((s) => s.name === everyClientUsesItsServices.name)?.detail ?? "" };
}

/** The release `current` points at in a release tree of a host (the backend's by default), and the commit it was built from. */
export async function currentRelease(rehearsal: Rehearsal, host: string, tree = "/srv/www/plone"): Promise<{ release: string; commit: string }> {
    const out = await rehearsal.root(host, `d=$(readlink -f ${tree}/current); basename "$d"; sed -n 's/^commit=//p' "$d/.plone-aws-release"`);
    const [release, commit] = out.trim().split("\n");
    return { release, commit };
}
