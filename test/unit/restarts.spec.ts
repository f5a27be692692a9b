// The restart waves (components/topology/restarts.ts): plone.maxUnavailable resolved against the
// stack's clients, the hosts grouped into waves, the clients per host at once; and the schema's
// check of the key.
import { expect } from "chai";
import { buildTopology } from "../../components/topology";
import { parseMaxUnavailable, resolveMaxUnavailable, RestartPlan, restartWaves } from "../../components/topology/restarts";
import { VARIANTS } from "../helpers/appStacks";
import { loadRepoStack, minimalConfig, parseObjects } from "../helpers/stacks";

/** "host:clients/at once" per host, waves separated by " | ". */
function shape(plan: RestartPlan): string {
    return plan.waves.map((w) => w.map((h) => `${h.name}:${h.clients}/${h.concurrency}`).join(" ")).join(" | ");
}

/** The most clients out of rotation at once: the sum over the largest wave. */
function peak(plan: RestartPlan): number {
    return Math.max(...plan.waves.map((w) => w.reduce((n, h) => n + h.concurrency, 0)));
}

/** Restart rounds (each a start plus warm-up of one client per slot), summed over the waves. */
function rounds(plan: RestartPlan): number {
    return plan.waves.reduce((n, w) => n + Math.max(...w.map((h) => Math.ceil(h.clients / h.concurrency))), 0);
}

function prodWith(maxUnavailable?: number | string) {
    const spec = loadRepoStack("prod").spec;
    return buildTopology(maxUnavailable === undefined ? spec : { ...spec, plone: { ...spec.plone, maxUnavailable } }).restarts;
}

const apps = (...counts: number[]) => counts.map((clients, i) => ({ name: `app-${i + 1}`, clients }));

describe("restart waves (plone.maxUnavailable)", () => {
    it("prod by default: one client per app host, both app hosts in one wave, 8 rounds instead of 16", () => {
        const plan = prodWith();
        expect(plan.maxUnavailable).to.equal(2);
        expect(shape(plan)).to.equal("app-1:8/1 app-2:8/1");
        expect(rounds(plan)).to.equal(8);
        expect(shape(prodWith(1))).to.equal("app-1:8/1 | app-2:8/1");
        expect(rounds(prodWith(1))).to.equal(16);
    });

    it("prod with a larger limit shares it between its hosts: 4 clients (25%) is 2 per host, 4 rounds", () => {
        expect(prodWith("25%").maxUnavailable).to.equal(4);
        expect(shape(prodWith("25%"))).to.equal("app-1:8/2 app-2:8/2");
        expect(rounds(prodWith("25%"))).to.equal(4);
        expect(shape(prodWith(5))).to.equal("app-1:8/2 app-2:8/2"); // a fifth slot would not end the wave sooner
        expect(shape(prodWith(6))).to.equal("app-1:8/3 app-2:8/3");
        expect(shape(prodWith("2 per host"))).to.equal("app-1:8/2 app-2:8/2");
    });

    it("dev (one host, two clients): one client at a time, as before; never both", () => {
        const dev = buildTopology(loadRepoStack("dev").spec).restarts;
        expect(shape(dev)).to.equal("dev-1:2/1");
        const all = buildTopology({ ...loadRepoStack("dev").spec, plone: { ...loadRepoStack("dev").spec.plone, maxUnavailable: "100%" } }).restarts;
        expect(all.maxUnavailable).to.equal(1);
        expect(shape(all)).to.equal("dev-1:2/1");
    });

    it("a stack of one client restarts it (limit 1): there is no other to serve meanwhile", () => {
        expect(resolveMaxUnavailable(parseMaxUnavailable("1 per host"), 1, 1)).to.equal(1);
        expect(resolveMaxUnavailable(parseMaxUnavailable("100%"), 1, 1)).to.equal(1);
        expect(shape(restartWaves(apps(1), 1))).to.equal("app-1:1/1");
    });

    it("rounds a share down, at least one client, and never all clients of the stack", () => {
        const share = (percent: number, total: number) => resolveMaxUnavailable({ kind: "share", percent }, total, 2);
        expect(share(25, 16)).to.equal(4);
        expect(share(30, 16)).to.equal(4); // 4.8
        expect(share(1, 16)).to.equal(1); // 0.16: at least one
        expect(share(50, 3)).to.equal(1); // 1.5
        expect(share(100, 16)).to.equal(15);
        expect(resolveMaxUnavailable({ kind: "count", count: 40 }, 16, 2)).to.equal(15);
        expect(resolveMaxUnavailable({ kind: "perHost", count: 3 }, 16, 2)).to.equal(6);
    });

    it("with fewer slots than app hosts: waves of that many hosts, one client at a time each", () => {
        const plan = restartWaves(apps(4, 4, 4, 4, 4), 2);
        expect(shape(plan)).to.equal("app-1:4/1 app-2:4/1 | app-3:4/1 app-4:4/1 | app-5:4/1");
        expect(peak(plan)).to.equal(2);
    });

    it("hosts of unequal size: the larger restarts more at once, so that both end together", () => {
        const plan = restartWaves(apps(8, 4), 3);
        expect(shape(plan)).to.equal("app-1:8/2 app-2:4/1");
        expect(rounds(plan)).to.equal(4);
    });

    it("servers without clients (ZEO, Solr) first, each alone; the limit holds in every wave", () => {
        const plan = restartWaves([{ name: "zeo-1", clients: 0 }, ...apps(2, 2)], 2);
        expect(shape(plan)).to.equal("zeo-1:0/1 | app-1:2/1 app-2:2/1");
        for (const [hosts, limit] of [
            [apps(8, 8), 1],
            [apps(8, 8), 2],
            [apps(8, 8), 7],
            [apps(3, 5, 2), 4],
            [apps(1, 1, 1, 1), 3],
            [apps(16), 15],
        ] as const) {
            const p = restartWaves([...hosts], limit);
            expect(peak(p), `${hosts.map((h) => h.clients)} within ${limit}`).to.be.at.most(limit);
            for (const h of p.waves.flat()) expect(h.concurrency).to.be.within(1, Math.max(1, h.clients));
            expect(
                p.waves.flat().map((h) => h.name),
                "every host once, in order",
            ).to.deep.equal(hosts.map((h) => h.name));
        }
    });

    it("a celery stack's ZEO host restarts alone before its two app hosts, which go together", () => {
        const spec = VARIANTS.celery();
        expect(shape(buildTopology(spec).restarts)).to.equal("zeo-1:0/1 | app-1:4/1 app-2:4/1");
    });

    it("the schema: a count >= 1, a share of 1-100%, a count per host; anything else is refused, naming the key", () => {
        const parse = (maxUnavailable: unknown) => {
            const c = minimalConfig() as Record<string, Record<string, unknown>>;
            return parseObjects({ ...c, "plone-aws:plone": { ...(c["plone-aws:plone"] ?? {}), maxUnavailable } });
        };
        expect(parseObjects(minimalConfig()).spec!.plone.maxUnavailable).to.equal("1 per host");
        for (const ok of [1, 3, "1%", "25%", "100%", "2 per host"]) expect(parse(ok).spec?.plone.maxUnavailable, String(ok)).to.equal(ok);
        for (const bad of [0, -2, 1.5, "0%", "101%", "25 %", "-1", "0 per host", "all"]) {
            expect(parse(bad).errors, JSON.stringify(bad)).to.deep.equal([
                {
                    path: "plone-aws:plone.maxUnavailable",
                    message: 'must be a count of clients of at least 1 (2), a share of them from 1% to 100% ("25%"), or a count per app host ("1 per host")',
                },
            ]);
        }
    });
});
