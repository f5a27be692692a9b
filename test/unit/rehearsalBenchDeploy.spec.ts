// bench:deploy's parts that need no test host (scripts/lib/rehearsal/benchDeploy.ts): the two
// orders of the rolling restart it compares (the ops plan's, in restart waves, and one client at a
// time), running waves, and the line that compares their durations.
import { expect } from "chai";
import { BenchRow, formatRatio, restartOrder, runWaves, type LoadResult } from "../../scripts/lib/rehearsal/benchDeploy";
import { loadRepoStack } from "../helpers/stacks";

const load = (failed = 0): LoadResult => ({
    requests: 20000,
    failed,
    statusErrors: failed,
    socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
    statuses: { "200": 20000 - failed, ...(failed ? { "503": failed } : {}) },
    p50Ms: 12,
    p99Ms: 40,
    maxMs: 90,
    durationSeconds: 100,
});
const row = (name: string, actionSeconds: number, failed = 0): BenchRow => ({ name, load: load(failed), actionSeconds });

describe("bench:deploy: the restart orders it compares", () => {
    const prod = loadRepoStack("prod").spec;

    it("prod in waves: both app hosts at once, one client each; one at a time: host after host", () => {
        expect(restartOrder(prod)).to.deep.equal({
            maxUnavailable: 2,
            waves: [
                [
                    { host: "app-1", command: "/usr/local/sbin/plone-restart --concurrency 1" },
                    { host: "app-2", command: "/usr/local/sbin/plone-restart --concurrency 1" },
                ],
            ],
        });
        expect(restartOrder(prod, "1")).to.deep.equal({
            maxUnavailable: 1,
            waves: [
                [{ host: "app-1", command: "/usr/local/sbin/plone-restart --concurrency 1" }],
                [{ host: "app-2", command: "/usr/local/sbin/plone-restart --concurrency 1" }],
            ],
        });
        expect(restartOrder({ ...prod, plone: { ...prod.plone, maxUnavailable: "25%" } }).waves[0].map((c) => c.command)).to.deep.equal([
            "/usr/local/sbin/plone-restart --concurrency 2",
            "/usr/local/sbin/plone-restart --concurrency 2",
        ]);
    });

    it("runs a wave's commands at the same time, and the next wave only after all of them ended", async () => {
        const log: string[] = [];
        const running = new Set<string>();
        let most = 0;
        // app-1 ends only after app-2 has (progress, not a timer): the wave must wait for its slowest command.
        let app2Ended: () => void = () => undefined;
        const app2Done = new Promise<void>((r) => (app2Ended = r));
        const run = async (host: string) => {
            running.add(host);
            most = Math.max(most, running.size);
            log.push(`${host} start`);
            if (host === "app-1") await app2Done;
            else await new Promise((r) => setImmediate(r));
            running.delete(host);
            log.push(`${host} end`);
            if (host === "app-2") app2Ended();
        };
        const wave = (...hosts: string[]) => hosts.map((host) => ({ host, command: "plone-restart" }));
        await runWaves([wave("app-1", "app-2"), wave("app-3")], run);
        expect(log).to.deep.equal(["app-1 start", "app-2 start", "app-2 end", "app-1 end", "app-3 start", "app-3 end"]);
        expect(most).to.equal(2);
    });

    it("a failure in a wave lets the rest of the wave finish, runs no later wave, and is thrown", async () => {
        const log: string[] = [];
        // app-2 finishes only after app-1 has failed (progress, not a timer): the wave waits for it.
        let app1Failed: () => void = () => undefined;
        const app1Done = new Promise<void>((r) => (app1Failed = r));
        const run = async (host: string) => {
            if (host === "app-2") await app1Done;
            else await new Promise((r) => setImmediate(r));
            log.push(host);
            if (host === "app-1") {
                app1Failed();
                throw new Error("app-1: exit 1");
            }
        };
        const wave = (...hosts: string[]) => hosts.map((host) => ({ host, command: "plone-restart" }));
        let error: Error | undefined;
        await runWaves([wave("app-1", "app-2"), wave("app-3")], run).catch((e: Error) => (error = e));
        expect(error?.message).to.equal("app-1: exit 1");
        expect(log).to.deep.equal(["app-1", "app-2"]);
    });

    it("compares the durations against the target: at most 60 % of one at a time, and 0 failed", () => {
        expect(formatRatio(row("one at a time", 400), row("in waves (maxUnavailable 1 per host)", 210))).to.equal(
            "in waves (maxUnavailable 1 per host) took 210.0s, 53% of one at a time (400.0s), with 0 failed request(s): within the target of 60% and 0 failed",
        );
        expect(formatRatio(row("one at a time", 400), row("in waves", 300))).to.match(/75% of one at a time .*: NOT within the target/);
        expect(formatRatio(row("one at a time", 400), row("in waves", 200, 3))).to.match(/50% of one at a time .* with 3 failed request\(s\): NOT within/);
    });
});
