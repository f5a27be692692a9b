// The reduced prod-like stack rehearsed for real (PLONE_AWS_REHEARSAL=1, root): two front ends,
// two app hosts, a ZEO server, two GlusterFS peers and the bastion as test hosts, provisioned by
// the commands `pulumi up` would send, from scratch to green smoke checks; then, on the same hosts,
// what operators do next, each under load through the front doors that must not fail a request:
// a second run (changes and restarts nothing), a deploy of a new revision, a deploy whose build
// fails on one app host (activates nothing), rollbacks, and bench:deploy's restart comparison.
//
// The Plone buildout cannot be built here (no PyPI): the fixture buildout's stand-in build makes
// the clients and the ZEO server small python3 HTTP apps (scripts/lib/rehearsal/standin.ts). Everything
// else is real.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { benchRestarts, formatBenchTable, LoadResult, underLoad } from "../../scripts/lib/rehearsal/benchDeploy";
import { Rehearsal, secondRun } from "../../scripts/lib/rehearsal";
import type { RunnerResult } from "../../scripts/lib/rehearsal/runner";
import { frontDoorGet, PASS_COOKIE } from "../../scripts/lib/rehearsal/smokeChecks";
import { REPO } from "../helpers/stacks";
import { REHEARSAL_CACHE, requireRehearsal, traces } from "../helpers/rehearsal";

export const PRODLIKE = path.join(REPO, "test", "fixtures", "stacks", "Pulumi.prodlike.yaml");

/** The release `current` points at on a host, and the commit it was built from. */
async function currentRelease(rehearsal: Rehearsal, host: string): Promise<{ release: string; commit: string }> {
    const out = await rehearsal.root(host, 'd=$(readlink -f /srv/www/plone/current); basename "$d"; sed -n \'s/^commit=//p\' "$d/.plone-aws-release"');
    const [release, commit] = out.trim().split("\n");
    return { release, commit };
}

/** Host -> release of the answers to `n` passed requests through each front end. */
async function servedReleases(rehearsal: Rehearsal, n = 12): Promise<Map<string, Set<string>>> {
    const byHost = new Map<string, Set<string>>();
    const hostOf = new Map([...rehearsal.hosts.hosts.values()].map((h) => [h.hostname, h.name]));
    for (const fe of rehearsal.frontendHosts) {
        for (let i = 0; i < n; i++) {
            const a = await frontDoorGet(rehearsal.hosts, rehearsal.addresses[fe], rehearsal.spec, `/which-release?${i}`, { cookie: PASS_COOKIE });
            expect(a.status, `${fe}: ${a.body}`).to.equal(200);
            const [hostname, , release] = (a.headers["x-standin"] ?? "").split(" ");
            const host = hostOf.get(hostname) ?? hostname;
            byHost.set(host, new Set([...(byHost.get(host) ?? []), release]));
        }
    }
    return byHost;
}

const describeLoad = (l: LoadResult) =>
    `${l.requests} requests, ${l.failed} failed, p50 ${l.p50Ms.toFixed(1)}ms, p99 ${l.p99Ms.toFixed(1)}ms over ${l.durationSeconds.toFixed(1)}s`;

describe("rehearsal of the reduced prod-like stack (2 front ends, 2 app hosts, ZEO, 2 GlusterFS peers)", function () {
    let rehearsal: Rehearsal;
    let first: RunnerResult;
    const lines: string[] = [];
    const commits: Record<string, string> = {};

    before(async function () {
        requireRehearsal(this);
        rehearsal = await Rehearsal.start({ stackFile: PRODLIKE, cacheDir: REHEARSAL_CACHE, print: (l) => lines.push(l) });
        await rehearsal.startHosts();
        commits.v1 = rehearsal.repo.git("rev-parse", "HEAD");
    });

    after(async function () {
        if (!rehearsal) return;
        const pids = [...rehearsal.hosts.hosts.values()].map((h) => Number(fs.readFileSync(h.pidfile, "utf8")));
        const { leftovers } = await rehearsal.hosts.teardown();
        expect(leftovers).to.deep.equal([]);
        expect(traces(rehearsal.hosts.runId, rehearsal.hosts.runDir, pids)).to.deep.equal({
            netns: [],
            links: [],
            mounts: [],
            processes: [],
            loops: [],
            pidfileProcesses: [],
        });
    });

    it("provisions the hosts from scratch, in dependency order, to green smoke checks", async () => {
        first = await rehearsal.provision();
        expect(first.ok, lines.join("\n")).to.equal(true);
        const at = (host: string, step: string) => first.results.find((r) => r.host === host && r.step === step)!;
        // GlusterFS: the replica's setup before the primary's, the primary's before its clients'.
        expect(at("blobs-2", "setup").finishedAt!).to.be.at.most(at("blobs-1", "setup").startedAt!);
        for (const client of ["app-1", "app-2", "zeo-1"]) expect(at("blobs-1", "setup").finishedAt!).to.be.at.most(at(client, "setup").startedAt!);
        // The ZEO server's activation first, after every build; then both app hosts side by side (one
        // restart wave: plone.maxUnavailable's default, one client per app host at a time).
        const lastBuild = Math.max(...["app-1", "app-2", "zeo-1"].map((h) => at(h, "build").finishedAt!));
        expect(lastBuild).to.be.at.most(at("zeo-1", "activate").startedAt!);
        expect(at("zeo-1", "activate").finishedAt!).to.be.at.most(at("app-1", "activate").startedAt!);
        expect(at("zeo-1", "activate").finishedAt!).to.be.at.most(at("app-2", "activate").startedAt!);

        const smoke = await rehearsal.smoke();
        expect(
            smoke.filter((s) => !s.ok),
            lines.slice(-12).join("\n"),
        ).to.deep.equal([]);
        expect(smoke.map((s) => s.name)).to.include("a blob file written on one host is visible on the others");
        console.log(`      first provisioning: ${first.seconds.toFixed(1)}s; smoke checks: ${smoke.map((s) => `${s.detail}`).join(" | ")}`);
    });

    it("provisions the same hosts again changing nothing, restarting no daemon, in a fraction of the time", async () => {
        const second = await secondRun(rehearsal);
        expect(second.result.ok).to.equal(true);
        expect(second.daemonChanges).to.deep.equal([]);
        expect(second.problems).to.deep.equal([]);
        expect(second.daemons).to.be.at.least(30);
        expect(second.result.seconds).to.be.below(first.seconds / 4);
        console.log(
            `      second provisioning: ${second.result.seconds.toFixed(1)}s vs ${first.seconds.toFixed(1)}s the first time ` +
                `(${((100 * second.result.seconds) / first.seconds).toFixed(0)}%); ${second.daemons} daemons, none restarted`,
        );
    });

    it("deploys a new revision under load, one app host at a time, without failing a request", async () => {
        commits.v2 = rehearsal.repo.commit("v2: a new feature", (dir) => fs.writeFileSync(path.join(dir, "feature.txt"), "v2\n"));
        rehearsal.repo.tag("v2");
        await rehearsal.plan({ revision: "v2" });
        const { load, value: result } = await underLoad(rehearsal, () => rehearsal.provision());
        expect(result.ok, lines.slice(-30).join("\n")).to.equal(true);
        for (const host of ["app-1", "app-2", "zeo-1"]) expect((await currentRelease(rehearsal, host)).commit, host).to.equal(commits.v2);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!]).to.deep.equal([(await currentRelease(rehearsal, host)).release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      deploy of v2 in ${result.seconds.toFixed(1)}s under load: ${describeLoad(load)}`);
    });

    it("a build that fails on one app host activates nothing anywhere: the site keeps serving the previous release", async () => {
        const app2 = rehearsal.hosts.host("app-2").hostname;
        const before = { "app-1": await currentRelease(rehearsal, "app-1"), "app-2": await currentRelease(rehearsal, "app-2") };
        commits.v3 = rehearsal.repo.commit("v3: builds everywhere but on app-2", (dir) => fs.writeFileSync(path.join(dir, "FAIL_BUILD_ON"), `${app2}\n`));
        rehearsal.repo.tag("v3");
        await rehearsal.plan({ revision: "v3" });
        const { load, value: result } = await underLoad(rehearsal, () => rehearsal.provision());
        expect(result.ok).to.equal(false);
        expect(result.failed).to.include({ host: "app-2", step: "build" });
        expect(result.failed!.tail!.join("\n")).to.contain(`stand-in build: FAIL_BUILD_ON names ${app2}, failing`);
        const status = Object.fromEntries(result.results.map((r) => [`${r.host}/${r.step}`, r.status]));
        expect(status["app-1/build"]).to.equal("ok");
        for (const host of ["zeo-1", "app-1", "app-2"]) expect(status[`${host}/activate`], host).to.equal("not-run");
        for (const host of ["app-1", "app-2"] as const) expect(await currentRelease(rehearsal, host), host).to.deep.equal(before[host]);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!], host).to.deep.equal([before[host as "app-1" | "app-2"].release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      failed build of v3 on app-2 under load: ${describeLoad(load)}; current stays at v2 on every app host`);
    });

    it("plone-rollback on each app host in turn restores the previous release everywhere, without failing a request", async () => {
        const { load } = await underLoad(rehearsal, async () => {
            for (const host of rehearsal.appHosts) await rehearsal.root(host, "plone-rollback", 600_000);
        });
        for (const host of rehearsal.appHosts) expect((await currentRelease(rehearsal, host)).commit, host).to.equal(commits.v1);
        const served = await servedReleases(rehearsal);
        for (const host of rehearsal.appHosts) expect([...served.get(host)!]).to.deep.equal([(await currentRelease(rehearsal, host)).release]);
        expect(load.failed, JSON.stringify(load.statuses)).to.equal(0);
        console.log(`      rollback of app-1 then app-2 to v1 under load: ${describeLoad(load)}`);
    });

    it("bench:deploy: the rolling restart of every client drops no request; all at once does", async () => {
        const { rolling, naive } = await benchRestarts(rehearsal, { print: (l) => lines.push(l) });
        console.log(
            formatBenchTable([rolling, naive])
                .split("\n")
                .map((l) => `      ${l}`)
                .join("\n"),
        );
        expect(rolling.load.failed, JSON.stringify(rolling.load.statuses)).to.equal(0);
        expect(rolling.load.requests).to.be.above(1000);
        // The load reaches the clients: restarting them all at once fails requests.
        expect(naive.load.failed).to.be.above(0);
    });
});
