// The order of a stack's rolling restarts (the deploy's activate steps, `ops restart`, rebuild,
// rollback): waves of hosts that restart side by side, and how many clients each host restarts at
// once, so that no more than plone.maxUnavailable clients of the stack are out of rotation at any
// moment, and never all of them. The Volto processes of the volto hosts are a pool of their own
// behind haproxy's volto backend: the same limit holds for them separately (never more than
// plone.maxUnavailable of them out at once, and never all). Pure: no Pulumi, no I/O.
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
    /** Its Volto processes (volto layer); absent on a host without any. */
    volto?: number;
    /** Volto processes of this host restarted at the same time (at least 1); absent on a host without any. */
    voltoConcurrency?: number;
}

export interface RestartPlan {
    /** The stack's limit, resolved: clients out of rotation at the same moment, across the stack. */
    maxUnavailable: number;
    /** The same limit over the stack's Volto processes (1 when there are none). */
    voltoMaxUnavailable: number;
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

/** A host of the rolling order: its clients and Volto processes. */
export interface RollingHost {
    name: string;
    clients: number;
    volto?: number;
}

/**
 * The fewest rounds r such that the hosts' ceil(count / r) add up to at most `limit`, and each
 * host's count at once in that many rounds: the limit shared so that the pool restarts soonest.
 */
function shareLimit(counts: number[], limit: number): number[] {
    const most = Math.max(...counts);
    let rounds = most;
    for (let r = most; r >= 1; r--) {
        if (counts.reduce((sum, n) => sum + Math.ceil(n / r), 0) > limit) break;
        rounds = r;
    }
    return counts.map((n) => Math.ceil(n / rounds));
}

/**
 * Waves for `hosts` (release hosts in rolling order, with their client and Volto process counts)
 * under a limit of `maxUnavailable` clients and `voltoMaxUnavailable` Volto processes:
 * - no more hosts of either pool than its limit allows: every rolling host in one wave, and each
 *   pool's limit shared among its hosts so that the wave ends soonest (shareLimit);
 * - else: each wave takes, in rolling order, every remaining host that keeps both pools within
 *   their limits (a wave of client hosts and volto hosts side by side), one client and one Volto
 *   process at a time each.
 * Hosts with neither (ZEO, Solr servers) come first, each a wave of its own.
 */
export function restartWaves(hosts: RollingHost[], maxUnavailable: number, voltoMaxUnavailable = 1): RestartPlan {
    for (const [what, limit] of [
        ["maxUnavailable", maxUnavailable],
        ["voltoMaxUnavailable", voltoMaxUnavailable],
    ] as const) {
        if (!Number.isInteger(limit) || limit < 1) throw new Error(`${what} must be a whole number of at least 1, not ${limit}`);
    }
    const volto = (h: RollingHost) => h.volto ?? 0;
    const servers = hosts.filter((h) => h.clients === 0 && volto(h) === 0);
    const rolling = hosts.filter((h) => h.clients > 0 || volto(h) > 0);
    const clientHosts = rolling.filter((h) => h.clients > 0);
    const voltoHosts = rolling.filter((h) => volto(h) > 0);
    const plain = ({ volto: _v, ...h }: RollingHost) => h;
    const waves: RestartingHost[][] = servers.map((h) => [{ ...plain(h), concurrency: 1 }]);
    if (rolling.length > 0 && clientHosts.length <= maxUnavailable && voltoHosts.length <= voltoMaxUnavailable) {
        const clientShare = clientHosts.length
            ? shareLimit(
                  clientHosts.map((h) => h.clients),
                  maxUnavailable,
              )
            : [];
        const voltoShare = voltoHosts.length ? shareLimit(voltoHosts.map(volto), voltoMaxUnavailable) : [];
        waves.push(
            rolling.map((h) => ({
                ...plain(h),
                concurrency: h.clients > 0 ? clientShare[clientHosts.indexOf(h)] : 1,
                ...(volto(h) > 0 ? { volto: volto(h), voltoConcurrency: voltoShare[voltoHosts.indexOf(h)] } : {}),
            })),
        );
    } else {
        // Each wave takes, in rolling order, every remaining host that keeps both pools within their limits.
        let remaining = rolling;
        while (remaining.length > 0) {
            const wave: RestartingHost[] = [];
            for (const h of remaining) {
                const clients = wave.filter((w) => w.clients > 0).length + (h.clients > 0 ? 1 : 0);
                const voltos = wave.filter((w) => (w.volto ?? 0) > 0).length + (volto(h) > 0 ? 1 : 0);
                if (wave.length > 0 && (clients > maxUnavailable || voltos > voltoMaxUnavailable)) continue;
                wave.push({ ...plain(h), concurrency: 1, ...(volto(h) > 0 ? { volto: volto(h), voltoConcurrency: 1 } : {}) });
            }
            waves.push(wave);
            remaining = remaining.filter((h) => !wave.some((w) => w.name === h.name));
        }
    }
    return { maxUnavailable, voltoMaxUnavailable, waves };
}

/**
 * The stack's restart plan: plone.maxUnavailable over its release hosts (`releaseHosts`, in
 * rolling order), resolved once against the clients and once against the Volto processes.
 */
export function restartPlan(spec: Pick<StackSpec, "plone">, releaseHosts: RollingHost[]): RestartPlan {
    const limit = parseMaxUnavailable(spec.plone.maxUnavailable);
    const resolve = (count: (h: RollingHost) => number) => {
        const carrying = releaseHosts.filter((h) => count(h) > 0);
        return resolveMaxUnavailable(
            limit,
            carrying.reduce((sum, h) => sum + count(h), 0),
            carrying.length,
        );
    };
    return restartWaves(
        releaseHosts,
        resolve((h) => h.clients),
        resolve((h) => h.volto ?? 0),
    );
}

/** How many clients `host` restarts at once under the plan (1 for a host it does not name). */
export function restartConcurrencyOf(plan: RestartPlan, host: string): number {
    return plan.waves.flat().find((h) => h.name === host)?.concurrency ?? 1;
}

/** How many Volto processes `host` restarts at once under the plan (1 for a host it does not name). */
export function voltoRestartConcurrencyOf(plan: RestartPlan, host: string): number {
    return plan.waves.flat().find((h) => h.name === host)?.voltoConcurrency ?? 1;
}
