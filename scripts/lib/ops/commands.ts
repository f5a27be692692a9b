// What `npm run ops` does, as a plan: for each command, the hosts it runs on, in order, and the
// host script each runs (the scripts the configure step installs, components/render/operations).
// Pure: the runner (opsRun.ts) connects over SSH and runs the plan.
import type { Layer } from "../../../components/config/schema";
import type { StackSpec } from "../../../components/config/spec";
import { keepsBackups, restoresBackups } from "../../../components/render/operations/backup";
import { OPS_SCRIPTS } from "../../../components/render/operations/scripts";
import { databaseDumpHost, zeoHostOf } from "../../../components/topology/offsite";
import { dumpsDatabase, restoresDumps } from "../../../components/render/operations/database";
import { packNowCommand } from "../../../components/render/operations/pack";
import { systemServices } from "../../../components/render/operations/services";
import { supervisorPrograms } from "../../../components/render/app/supervisor";
import { programName } from "../../../components/render/app/layout";
import { PATHS, type HostPlan, type Topology } from "../../../components/topology";
import { runsBuild } from "../../../components/layers";
import { ploneSchema } from "../../../components/config/schema";
import { restartPlan, type RestartPlan } from "../../../components/topology/restarts";

export const OPS_COMMANDS = ["status", "restart", "start", "stop", "rebuild", "develop-up", "rollback", "varnish-purge", "pack", "backup", "restore"] as const;
export type OpsCommand = (typeof OPS_COMMANDS)[number];

export class OpsError extends Error {}

/** One host script run on one host. */
export interface OpsStep {
    host: string;
    layers: Layer[];
    /** What it does, for the operator. */
    what: string;
    /** The command line on the host (run as root). */
    command: string[];
    /**
     * Steps of one wave (consecutive in the plan) run at the same time, and the next step starts
     * when all of them ended: the restart waves of topology.restarts. Without one, a step runs alone.
     */
    wave?: number;
}

export interface OpsPlan {
    steps: OpsStep[];
    /** Read-only commands visit every host and report all that failed (status). */
    continueOnFailure: boolean;
    /** Run when a step fails (best effort), e.g. start the clients again after a failed restore. */
    recover: OpsStep[];
    /** Rolling commands: the most clients of the stack out of rotation at once. */
    maxUnavailable?: number;
}

export interface OpsOptions {
    /** --host: only these hosts. */
    hosts: string[];
    /** --layer: only hosts carrying these layers. */
    layers: string[];
    /** What follows the command: a service name, regexes, ... */
    args: string[];
    /** restart --servers. */
    servers: boolean;
    /** restart --max-unavailable: instead of plone.maxUnavailable (same forms: 2, "25%", "1 per host"). */
    maxUnavailable?: string;
    /** restore --from DATE. */
    from?: string;
    /** restore --force. */
    force: boolean;
    /** restore: whose backups (the source stack). */
    source?: string;
    /** restore --database NAME (RelStorage): into this database of the target's server instead of the stack's own. */
    database?: string;
}

interface StackView {
    spec: StackSpec;
    topology: Topology;
}

const sbin = (name: string) => `${PATHS.sbinDir}/${name}`;

/** The hosts of some role, as plans. */
function plans(topology: Topology, names: string[]): HostPlan[] {
    return names.map((n) => topology.hosts.find((h) => h.name === n)!);
}

/**
 * Hosts that deploy releases in the deploy's order: those that run the build (servers such as ZEO
 * and Solr first, then the client hosts), then the volto hosts that build nothing else (their
 * Volto frontend has releases of its own). The same order as the topology's restart waves.
 */
export function rollingOrder(topology: Topology): HostPlan[] {
    return plans(topology, topology.roles.releaseHosts);
}

/**
 * What of a host's release restart and rollback may be limited to (`ops restart volto`): the
 * backend (the app's build: clients, servers, workers) or the Volto frontend (its processes).
 * plone-rollback and plone-restart take it as `option` (render/hostScripts: --backend, --frontend);
 * without it they cover every part of the host.
 */
const RELEASE_PARTS = {
    backend: { carries: (h: HostPlan) => runsBuild(h), what: "the backend's programs (clients, workers)", option: "--backend" },
    volto: { carries: (h: HostPlan) => h.voltoProcesses.length > 0, what: "the Volto processes", option: "--frontend" },
} as const;
type ReleasePart = keyof typeof RELEASE_PARTS;

/** restart's and rollback's argument: a part of the release, or none (every part of each host). */
function releasePart(command: string, args: string[]): ReleasePart | undefined {
    if (args.length === 0) return undefined;
    const names = Object.keys(RELEASE_PARTS);
    if (args.length > 1 || !names.includes(args[0]))
        throw new OpsError(`${command} takes one of ${names.join(", ")}, or nothing for both (not ${args.join(" ")})`);
    return args[0] as ReleasePart;
}

function step(host: HostPlan, what: string, command: string[]): OpsStep {
    return { host: host.name, layers: host.layers, what, command };
}

/** --max-unavailable, checked as the schema checks plone.maxUnavailable. */
function maxUnavailableOption(value: string): number | string {
    const parsed = ploneSchema.shape.maxUnavailable.safeParse(/^[0-9]+$/.test(value) ? Number(value) : value);
    if (!parsed.success) throw new OpsError(`--max-unavailable ${value}: ${parsed.error.issues[0].message}`);
    return parsed.data;
}

/**
 * The rolling commands in restart waves: the stack's (topology.restarts) or, with
 * --max-unavailable, waves for that limit; the selected hosts only (a wave left empty is dropped).
 * Each step carries its wave; `command` gets the host's clients at once.
 */
function inWaves(
    view: StackView,
    hosts: HostPlan[],
    options: OpsOptions,
    command: (host: HostPlan, concurrency: number, voltoConcurrency: number) => OpsStep,
): { steps: OpsStep[]; maxUnavailable: number } {
    const { spec, topology } = view;
    const plan: RestartPlan =
        options.maxUnavailable === undefined
            ? topology.restarts
            : restartPlan(
                  { plone: { ...spec.plone, maxUnavailable: maxUnavailableOption(options.maxUnavailable) } },
                  rollingOrder(topology).map((h) => ({ name: h.name, clients: h.clients.length, volto: h.voltoProcesses.length })),
              );
    const chosen = new Set(hosts.map((h) => h.name));
    // A host the plan has no wave for restarts alone, after the others: the safe order for any host.
    const planned = new Set(plan.waves.flat().map((h) => h.name));
    const alone = hosts.filter((h) => !planned.has(h.name)).map((h) => [{ name: h.name, clients: h.clients.length, concurrency: 1, voltoConcurrency: 1 }]);
    const steps = [...plan.waves, ...alone]
        .map((wave) => wave.filter((h) => chosen.has(h.name)))
        .filter((wave) => wave.length > 0)
        .flatMap((wave, i) =>
            wave.map((h) => ({
                ...command(
                    hosts.find((x) => x.name === h.name)!,
                    h.concurrency,
                    "voltoConcurrency" in h ? (h.voltoConcurrency ?? 1) : 1,
                ),
                wave: i + 1,
            })),
        );
    return { steps, maxUnavailable: plan.maxUnavailable };
}

/** The hosts a command may run on, narrowed by --host and --layer (every name checked). */
function select(view: StackView, candidates: HostPlan[], options: OpsOptions, what: string): HostPlan[] {
    const names = view.topology.hosts.map((h) => h.name);
    for (const h of options.hosts) if (!names.includes(h)) throw new OpsError(`--host ${h}: the stack has no such host (its hosts: ${names.join(", ")})`);
    const known = new Set(view.topology.hosts.flatMap((h) => h.layers));
    for (const l of options.layers)
        if (!known.has(l as Layer)) throw new OpsError(`--layer ${l}: no host of the stack carries it (its layers: ${[...known].join(", ")})`);
    const chosen = candidates.filter(
        (h) =>
            (options.hosts.length === 0 || options.hosts.includes(h.name)) &&
            (options.layers.length === 0 || options.layers.some((l) => h.layers.includes(l as Layer))),
    );
    if (chosen.length === 0) {
        const among = candidates.length ? `it runs on ${candidates.map((h) => h.name).join(", ")}` : "no host of the stack runs it";
        throw new OpsError(`${what}: no selected host runs it (${among})`);
    }
    return chosen;
}

/** The hosts that run an app program target of plone-program (clients, workers, app, clientN, a program). */
function programHosts(view: StackView, target: string): HostPlan[] {
    const app = view.spec.app.name;
    return view.topology.hosts.filter((h) => {
        const volto = h.voltoProcesses.map((p) => programName(app, p.name));
        if (!runsBuild(h) && volto.length === 0) return false;
        const programs = supervisorPrograms(view, h);
        const name = target.startsWith(`${app}-`) ? target : `${app}-${target}`;
        switch (target) {
            case "clients":
                return h.clients.length > 0;
            case "volto":
                return volto.length > 0;
            case "workers":
                return programs.some((p) => p.role === "worker");
            case "app":
                return programs.some((p) => p.role === "client" || p.role === "worker");
            default:
                return volto.includes(name) || programs.some((p) => p.name === name && p.role !== "agent");
        }
    });
}

export function planOps(view: StackView, command: OpsCommand, options: OpsOptions): OpsPlan {
    const { spec, topology } = view;
    const plan = (steps: OpsStep[], continueOnFailure = false, recover: OpsStep[] = []): OpsPlan => ({ steps, continueOnFailure, recover });
    const rolling = ({ steps, maxUnavailable }: { steps: OpsStep[]; maxUnavailable: number }): OpsPlan => ({ ...plan(steps), maxUnavailable });
    const noArgs = () => {
        if (options.args.length) throw new OpsError(`${command} takes no argument (${options.args.join(" ")})`);
    };
    // rebuild and rollback restart with the hosts' RESTART_CONCURRENCY (deploy.env, from plone.maxUnavailable).
    if (options.database !== undefined && command !== "restore") throw new OpsError("--database applies to restore only");
    if (options.maxUnavailable !== undefined && command !== "restart")
        throw new OpsError(`--max-unavailable applies to restart only (rebuild and rollback restart as plone.maxUnavailable says: set it and pulumi up)`);
    switch (command) {
        case "status":
            noArgs();
            return plan(
                select(view, topology.hosts, options, command).map((h) => step(h, "status", [OPS_SCRIPTS.status])),
                true,
            );
        case "restart": {
            const part = releasePart(command, options.args);
            if (part === "volto" && options.servers) throw new OpsError("--servers restarts the ZEO server and Solr: it does not apply to restart volto");
            const candidates = rollingOrder(topology).filter((h) => !part || RELEASE_PARTS[part].carries(h));
            const hosts = select(view, candidates, options, part ? `${command} ${part}` : command);
            const args = [...(options.servers ? ["--servers"] : []), ...(part ? [RELEASE_PARTS[part].option] : [])];
            const what = (h: HostPlan) =>
                part
                    ? RELEASE_PARTS[part].what
                    : !runsBuild(h)
                      ? "the Volto processes"
                      : `the app's programs${h.voltoProcesses.length > 0 ? " and Volto processes" : ""}`;
            return rolling(
                inWaves(view, hosts, options, (h, concurrency, voltoConcurrency) =>
                    step(h, `rolling restart of ${what(h)}${options.servers ? ", ZEO/Solr servers too" : ""}`, [
                        sbin("plone-restart"),
                        ...args,
                        ...(h.clients.length > 0 && part !== "volto" ? ["--concurrency", String(concurrency)] : []),
                        ...(h.voltoProcesses.length > 0 && part !== "backend" ? ["--volto-concurrency", String(voltoConcurrency)] : []),
                    ]),
                ),
            );
        }
        case "rebuild":
            noArgs();
            return rolling(
                inWaves(view, select(view, rollingOrder(topology), options, command), options, (h) =>
                    step(h, "build again from the current release's commit, then activate (rolling)", [sbin("plone-deploy"), "rebuild"]),
                ),
            );
        case "develop-up":
            noArgs();
            // mr.developer's bin/develop is a buildout's; the pip builder runs mxdev in every build.
            if (spec.app.builder === "pip")
                throw new OpsError(
                    "develop-up updates mr.developer checkouts of a buildout; the pip builder checks mx.ini's sources out in every build: ops rebuild",
                );
            return plan(
                select(view, plans(topology, topology.roles.buildHosts), options, command).map((h) =>
                    step(h, "bin/develop up in the current release (no restart)", [sbin("plone-deploy"), "develop-up"]),
                ),
            );
        case "rollback": {
            // Every part of each host: the backend's release and the Volto frontend's (plone-rollback).
            const part = releasePart(command, options.args);
            const candidates = rollingOrder(topology).filter((h) => !part || RELEASE_PARTS[part].carries(h));
            const what = part === "volto" ? "the Volto frontend" : part === "backend" ? "the backend" : "every part";
            return rolling(
                inWaves(view, select(view, candidates, options, part ? `${command} ${part}` : command), options, (h) =>
                    step(h, `${what} back to its previous release (rolling)`, [sbin("plone-rollback"), ...(part ? [RELEASE_PARTS[part].option] : [])]),
                ),
            );
        }
        case "start":
        case "stop": {
            if (options.args.length !== 1)
                throw new OpsError(
                    `${command} needs one service or program: ${command} nginx | varnish | haproxy | clients | client2 | volto | volto2 | zeoserver | ...`,
                );
            const target = options.args[0];
            const system = topology.hosts.filter((h) => systemServices(view, h).some((s) => s.name === target));
            if (system.length > 0) {
                return plan(
                    select(view, system, options, `${command} ${target}`).map((h) => step(h, `${command} ${target}`, [OPS_SCRIPTS.service, command, target])),
                );
            }
            const hosts = programHosts(view, target);
            if (hosts.length === 0) {
                const services = [...new Set(topology.hosts.flatMap((h) => systemServices(view, h).map((s) => s.name)))];
                throw new OpsError(
                    `${command} ${target}: no host runs a service or program of that name (services: ${services.join(", ")}; programs: clients, workers, app, clientN, volto, voltoN, zeoserver, ...)`,
                );
            }
            const ordered = rollingOrder(topology).filter((h) => hosts.includes(h));
            // Clients stop before the servers they use, and start after them.
            const ordering = command === "stop" ? [...ordered].reverse() : ordered;
            return plan(
                select(view, ordering, options, `${command} ${target}`).map((h) => step(h, `${command} ${target}`, [OPS_SCRIPTS.program, command, target])),
            );
        }
        case "varnish-purge": {
            const frontends = plans(topology, topology.roles.frontends);
            const regexes = options.args.length ? options.args : spec.frontend.varnish.purgeUrls;
            return plan(select(view, frontends, options, command).map((h) => step(h, `ban ${regexes.join(" ")}`, [OPS_SCRIPTS.varnishPurge, ...options.args])));
        }
        case "pack": {
            noArgs();
            const hosts = topology.hosts.filter((h) => packNowCommand(view, h) !== undefined);
            if (hosts.length === 0) throw new OpsError("pack: packing is off (plone.pack.enabled), so no host packs");
            return plan(
                select(view, hosts, options, command).map((h) => step(h, `pack now (${packNowCommand(view, h)!.command.join(" ")})`, [OPS_SCRIPTS.pack])),
            );
        }
        case "backup": {
            noArgs();
            // The database dump first: the blobs copied after it hold every blob it names.
            const hosts = topology.hosts.filter((h) => dumpsDatabase(view, h) || keepsBackups(view, h));
            if (hosts.length === 0)
                throw new OpsError(
                    "backup: this stack keeps no backups on a host (RelStorage without database.dump and with blobs in the database: RDS's automated backups and snapshots cover it)",
                );
            return plan(
                select(view, hosts, options, command).flatMap((h) => [
                    ...(dumpsDatabase(view, h) ? [step(h, "dump the database now (pg_dump -Fc), and copy it to S3", [OPS_SCRIPTS.pgdump])] : []),
                    ...(keepsBackups(view, h) ? [step(h, "back up now, and copy to S3", [OPS_SCRIPTS.backup])] : []),
                ]),
            );
        }
        case "restore":
            noArgs();
            return planRestore(view, options);
    }
}

/**
 * restore onto the target stack (view): check the backup and the filestorage on its ZEO server,
 * stop the clients and workers on every app host (clearing their ZEO caches), restore, start them.
 * A failure after the clients stopped starts them again on whatever database the ZEO server has
 * (plone-restore puts the old one back when it fails).
 */
function planRestore(view: StackView, options: OpsOptions): OpsPlan {
    const { spec, topology } = view;
    if (!options.from) throw new OpsError("restore needs --from DATE (YYYY-MM-DD, YYYY-MM-DD-HH-MM-SS in UTC, or latest)");
    if (options.hosts.length || options.layers.length)
        throw new OpsError("restore runs on the target stack's ZEO server and app hosts: --host and --layer do not apply");
    if (spec.plone.storage !== "zeo") return planDumpRestore(view, options);
    if (options.database) throw new OpsError(`--database applies to RelStorage stacks; ${spec.stackName} uses ZEO`);
    const zeoName = zeoHostOf(topology);
    const zeo = topology.hosts.find((h) => h.name === zeoName);
    if (!zeo || !restoresBackups(view, zeo)) {
        throw new OpsError(
            `${spec.stackName} reads no off-site backups: set plone-aws:offsiteBackups.enabled, or list the source stack in offsiteBackups.restoreFrom`,
        );
    }
    const source = options.source ?? spec.stackName;
    if (source !== spec.stackName && !spec.offsiteBackups.restoreFrom.includes(source)) {
        throw new OpsError(
            `${spec.stackName} may not read ${source}'s backups: add ${source} to plone-aws:offsiteBackups.restoreFrom of ${spec.stackName} (and pulumi up)`,
        );
    }
    const restore = [OPS_SCRIPTS.restore, "--from", options.from, "--source", source, ...(options.force ? ["--force"] : [])];
    const appHosts = plans(topology, topology.roles.appHosts);
    const start = appHosts.map((h) => step(h, "start the clients and workers", [OPS_SCRIPTS.program, "start", "app"]));
    return {
        steps: [
            step(zeo, `check ${source}'s backup of ${options.from} and the filestorage`, [...restore, "--check"]),
            ...[...appHosts]
                .reverse()
                .map((h) => step(h, "stop the clients (drained) and workers, remove their ZEO caches", [OPS_SCRIPTS.program, "stop", "app", "--clear-cache"])),
            step(zeo, `restore ${source}'s backup of ${options.from}`, restore),
            ...start,
        ],
        continueOnFailure: false,
        recover: start,
    };
}

/**
 * restore of a RelStorage stack (view is the target): a dump of the source stack into a database on
 * the target's server, from the target's dump host. Into the stack's own database: check first
 * (the refusal of a database that holds data comes before anything stops), stop the clients and
 * workers on every app host and memcached (RelStorage's shared cache would serve the old state),
 * restore, start them again. Into another database (--database): nothing stops.
 */
function planDumpRestore(view: StackView, options: OpsOptions): OpsPlan {
    const { spec, topology } = view;
    const hostName = databaseDumpHost(view);
    const host = topology.hosts.find((h) => h.name === hostName);
    if (!host || !restoresDumps(view, host)) {
        throw new OpsError(
            `${spec.stackName} reads no off-site database dumps: set plone-aws:offsiteBackups.enabled, or list the source stack in offsiteBackups.restoreFrom (docs/operations.md, "Restore a RelStorage stack", for RDS point-in-time recovery)`,
        );
    }
    const source = options.source ?? spec.stackName;
    if (source !== spec.stackName && !spec.offsiteBackups.restoreFrom.includes(source)) {
        throw new OpsError(
            `${spec.stackName} may not read ${source}'s dumps: add ${source} to plone-aws:offsiteBackups.restoreFrom of ${spec.stackName} (and pulumi up)`,
        );
    }
    const own = spec.database!.name;
    const database = options.database ?? own;
    const restore = [
        OPS_SCRIPTS.restore,
        "--from",
        options.from!,
        "--source",
        source,
        ...(options.database ? ["--database", options.database] : []),
        ...(options.force ? ["--force"] : []),
    ];
    const check = step(host, `check ${source}'s dump of ${options.from} and the database "${database}"`, [...restore, "--check"]);
    const restoreStep = step(host, `restore ${source}'s dump of ${options.from} into the database "${database}"`, restore);
    if (database !== own) return { steps: [check, restoreStep], continueOnFailure: false, recover: [] };
    const appHosts = plans(topology, topology.roles.appHosts);
    const caches = topology.hosts.filter((h) => h.layers.includes("memcached"));
    const start = [
        ...caches.map((h) => step(h, "start memcached (empty)", [OPS_SCRIPTS.service, "start", "memcached"])),
        ...appHosts.map((h) => step(h, "start the clients and workers", [OPS_SCRIPTS.program, "start", "app"])),
    ];
    return {
        steps: [
            check,
            ...[...appHosts].reverse().map((h) => step(h, "stop the clients (drained) and workers", [OPS_SCRIPTS.program, "stop", "app"])),
            ...caches.map((h) => step(h, "stop memcached (RelStorage's shared cache of the old database)", [OPS_SCRIPTS.service, "stop", "memcached"])),
            restoreStep,
            ...start,
        ],
        continueOnFailure: false,
        recover: start,
    };
}
