// The order of a stack's rolling restarts (the deploy's activate steps, `ops restart`, rebuild,
// rollback): waves of hosts that restart side by side, and how many clients each host restarts at
// once, so that no more than plone.maxUnavailable clients of the stack are out of rotation at any
// moment, and never all of them. Pure: no Pulumi, no I/O.
//
// Why waves plus a per-host count, and not one stack-wide pool: the restart of a host's clients is
// driven on the host (plone-restart, holding the app's lock), and hosts cannot see each other's
// rotation files. A wave bounds the hosts that run at once (its hosts' counts add up to at most
// the limit), and the host script bounds its own clients: each bound holds without the hosts
// talking to each other, under `pulumi up` (dependsOn between activate steps) and `npm run ops`
// (a wave's SSH sessions in parallel) alike.
import type { StackSpec } from "../config/spec";
import { MAX_UNAVAILABLE_PATTERN } from "../config/schema";

/** A host that restarts in a wave, and how many of its clients go out of rotation at once. */
export interface RestartingHost {
    name: string;
    /** Its Zope clients (0 for a host that runs only servers: ZEO, Solr). */
    clients: number;
    /** Clients of this host restarted at the same time (at least 1). */
    concurrency: number;
}

export interface RestartPlan {
    /** The stack's limit, resolved: clients out of rotation at the same moment, across the stack. */
    maxUnavailable: number;
    /**
     * Build hosts in rolling order, grouped: every host of a wave restarts at once, and a wave
     * starts when the one before it has finished. Hosts without clients (ZEO, Solr servers) come
     * first, each a wave of its own, as they did before the limit existed.
     */
    waves: RestartingHost[][];
}

/** What plone.maxUnavailable says, before it meets the stack's clients. */
export type MaxUnavailable = { kind: "count"; count: number } | { kind: "share"; percent: number } | { kind: "perHost"; count: number };

/** Reads plone.maxUnavailable (the schema has checked its form). */
export function parseMaxUnavailable(value: number | string): MaxUnavailable {
    if (typeof value === "number") return { kind: "count", count: value };
    const m = MAX_UNAVAILABLE_PATTERN.exec(value);
    if (!m) throw new Error(`plone.maxUnavailable: ${JSON.stringify(value)} is not a count, a share ("25%") or a count per host ("1 per host")`);
    return m[1] !== undefined ? { kind: "share", percent: Number(m[1]) } : { kind: "perHost", count: Number(m[2]) };
}

/**
 * The limit in clients for a stack of `totalClients` clients on `appHosts` hosts: a share rounds
 * down (at least one client, as Kubernetes' maxUnavailable does), and the limit stays below the
 * whole stack so that some client always serves. A stack of one client has no such client: its
 * one client goes out of rotation while it restarts (limit 1), and the front ends answer with
 * their error page meanwhile, as they always did.
 */
export function resolveMaxUnavailable(limit: MaxUnavailable, totalClients: number, appHosts: number): number {
    const asked = limit.kind === "count" ? limit.count : limit.kind === "perHost" ? limit.count * appHosts : Math.floor((totalClients * limit.percent) / 100);
    return Math.max(1, Math.min(asked, totalClients - 1));
}

/**
 * Waves for `hosts` (build hosts in rolling order, with their client counts) under a limit of
 * `maxUnavailable` clients:
 * - fewer app hosts than the limit allows: every app host in one wave, and the limit shared among
 *   them so that the wave ends soonest: the fewest rounds r such that the hosts' ceil(clients / r)
 *   add up to the limit; each host then restarts ceil(clients / r) clients at once;
 * - more app hosts than the limit: waves of `maxUnavailable` hosts, one client at a time each.
 */
export function restartWaves(hosts: { name: string; clients: number }[], maxUnavailable: number): RestartPlan {
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) throw new Error(`maxUnavailable must be a whole number of at least 1, not ${maxUnavailable}`);
    const servers = hosts.filter((h) => h.clients === 0);
    const apps = hosts.filter((h) => h.clients > 0);
    const waves: RestartingHost[][] = servers.map((h) => [{ ...h, concurrency: 1 }]);
    if (apps.length > 0 && apps.length <= maxUnavailable) {
        const most = Math.max(...apps.map((h) => h.clients));
        let rounds = most;
        for (let r = most; r >= 1; r--) {
            if (apps.reduce((sum, h) => sum + Math.ceil(h.clients / r), 0) > maxUnavailable) break;
            rounds = r;
        }
        waves.push(apps.map((h) => ({ ...h, concurrency: Math.ceil(h.clients / rounds) })));
    } else {
        for (let i = 0; i < apps.length; i += maxUnavailable) waves.push(apps.slice(i, i + maxUnavailable).map((h) => ({ ...h, concurrency: 1 })));
    }
    return { maxUnavailable, waves };
}

/** The stack's restart plan: plone.maxUnavailable over its build hosts (`buildHosts`, in rolling order). */
export function restartPlan(spec: Pick<StackSpec, "plone">, buildHosts: { name: string; clients: number }[]): RestartPlan {
    const apps = buildHosts.filter((h) => h.clients > 0);
    const total = apps.reduce((sum, h) => sum + h.clients, 0);
    const limit = resolveMaxUnavailable(parseMaxUnavailable(spec.plone.maxUnavailable), total, apps.length);
    return restartWaves(buildHosts, limit);
}

/** How many clients `host` restarts at once under the plan (1 for a host it does not name). */
export function restartConcurrencyOf(plan: RestartPlan, host: string): number {
    return plan.waves.flat().find((h) => h.name === host)?.concurrency ?? 1;
}
