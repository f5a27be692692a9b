// deploy.env: the settings plone-deploy, plone-rollback and plone-restart read on one host
// (/etc/plone-aws/<app>/deploy.env). bash syntax, sourced: every value single-quoted, lists as
// bash arrays, so nothing in the stack configuration can run as a command.
import type { HostPlan } from "../../topology";
import { DEPLOY_USER, HAPROXY_AGENT_INTERVAL_SECONDS, PATHS, PORTS } from "../../topology/ports";
import { appLayout, BUILDOUT_SHARED_DIRS, NODE_ROOT, PIP_CACHE_DIR, PIP_INSTANCES_DIR, PIP_VENV_DIR } from "./layout";
import { hostStorage } from "./storage";
import { addressOf, resolveEndpoint, type RenderContext } from "../context";
import type { StackSpec } from "../../config/spec";
import { haproxyCheckIntervals } from "../frontend/haproxy";
import { shellAssignments } from "../shell";
import { supervisorPrograms } from "./supervisor";
import { newRelicEnvironment } from "../monitoring/newRelic";
import { restartConcurrencyOf, voltoRestartConcurrencyOf } from "../../topology/restarts";
import { runsBuild } from "../../layers";
import { voltoApiFrontend } from "../../topology";

/** NAME=value of every variable plone-app-env adds to the app's programs (besides the secrets). */
function appEnvironmentOf(ctx: RenderContext, host: HostPlan): string[] {
    const env = { ...brokerEnvironment(ctx, host), ...ctx.spec.app.environment, ...newRelicEnvironment(ctx, host) };
    return Object.keys(env)
        .sort()
        .map((k) => `${k}=${env[k]}`);
}

/**
 * The broker the topology names, for celery (its worker, beat, and the clients that queue tasks):
 * celery reads CELERY_BROKER_URL before any configuration, so the programs reach the redis layer's
 * private address (or plone.celery.brokerHost) whatever the buildout's own celery settings say.
 * app.environment may still set it.
 */
function brokerEnvironment(ctx: RenderContext, host: HostPlan): Record<string, string> {
    const broker = ctx.topology.endpoints.broker;
    if (!broker || !host.layers.includes("plone_instances")) return {};
    const { address, port } = resolveEndpoint(broker, ctx.addresses);
    return { CELERY_BROKER_URL: `redis://${address}:${port}/0` };
}

/** Seconds after draining a client before its connections are counted: one agent check plus a margin. */
export const DRAIN_GRACE_SECONDS = HAPROXY_AGENT_INTERVAL_SECONDS + 2;
/**
 * Seconds a rolling restart waits after a client went back into rotation, before it drains the
 * next one: every front end must have taken the client back, through the agent's next answer and,
 * when its health checks marked it DOWN while it restarted (a Zope that takes longer to start
 * than `fall` checks at fastinter), through `rise` checks at downinter. Draining the next client
 * sooner can leave haproxy without a usable client: it then answers 503.
 */
export function readyGraceSeconds(spec: Pick<StackSpec, "frontend">): number {
    return HAPROXY_AGENT_INTERVAL_SECONDS + Math.ceil((spec.frontend.haproxy.rise * haproxyCheckIntervals(spec).downinter) / 1000) + 1;
}
/** Seconds each warm-up request may take (a cold Plone page renders slowly). */
export const WARMUP_TIMEOUT_SECONDS = 120;

/** What plone-deploy's pip build reads (render/hostScripts/pipBuild.ts). */
function pipVariables(ctx: RenderContext) {
    const { pip, backendPath } = ctx.spec.app;
    return {
        // The release's backend folder ("": the repository's root) and what the build makes in it.
        BACKEND_PATH: backendPath ?? "",
        VENV_DIR: PIP_VENV_DIR,
        INSTANCES_DIR: PIP_INSTANCES_DIR,
        PIP_CACHE: PIP_CACHE_DIR,
        PIP_TOOLS: pip.tools,
        REQUIREMENTS: pip.requirements,
        CONSTRAINTS: pip.constraints,
        INSTANCE_CONFIG: pip.instanceConfig,
        INSTANCE_TEMPLATE: pip.instanceTemplate,
        INSTANCE_TEMPLATE_REVISION: pip.instanceTemplateRevision,
    };
}

/** Volto's public API path (RAZZLE_API_PATH): the site's address, as browsers reach it. */
export function voltoApiPath(spec: Pick<StackSpec, "frontend">): string {
    return `${spec.frontend.tls.mode === "none" ? "http" : "https"}://${spec.frontend.domain}`;
}

/**
 * Volto's internal API path on a host (RAZZLE_INTERNAL_API_PATH): the Plone site through a front
 * end's haproxy, which balances the Zope clients and knows which are in rotation: the host's own
 * haproxy by loopback when it is a front end, else one in its availability zone.
 */
export function voltoInternalApiPath(ctx: Pick<RenderContext, "spec" | "topology" | "addresses">, host: HostPlan): string {
    const api = voltoApiFrontend(ctx.topology, host.name);
    const address = api.loopback ? "127.0.0.1" : addressOf(api.host, ctx.addresses);
    return `http://${address}:${PORTS.haproxy}/${ctx.spec.plone.siteId}`;
}

/** What plone-deploy's Volto build, plone-restart and plone-volto read (render/hostScripts/voltoBuild.ts, voltoProcess.ts). */
function voltoVariables(ctx: RenderContext, host: HostPlan) {
    const { volto, app } = ctx.spec;
    const layout = appLayout(ctx.spec).volto;
    return {
        // What the host deploys: the backend (its build) and the Volto frontend.
        BACKEND_BUILD: runsBuild(host),
        VOLTO_DEPLOY_TO: layout.deployTo,
        // name:port of each Volto process on this host; the supervisor program is $APP-<name>.
        VOLTO_PROCESSES: host.voltoProcesses.map((p) => `${p.name}:${p.port}`),
        // voltoN listens on VOLTO_PORT_BASE + N (to drain a process this host no longer runs).
        VOLTO_PORT_BASE: PORTS.voltoBase,
        VOLTO_REPOSITORY: volto.repository ?? app.repository,
        VOLTO_REVISION: volto.revision ?? app.revision,
        VOLTO_PATH: volto.path,
        VOLTO_BUILD_COMMAND: volto.buildCommand,
        VOLTO_START_COMMAND: volto.startCommand,
        VOLTO_HEALTH_PATH: volto.healthPath,
        VOLTO_START_TIMEOUT: volto.startTimeout,
        // Volto processes of this host restarted at once: plone.maxUnavailable over the stack's Volto processes, shared in its wave.
        VOLTO_RESTART_CONCURRENCY: voltoRestartConcurrencyOf(ctx.topology.restarts, host.name),
        VOLTO_API_PATH: voltoApiPath(ctx.spec),
        VOLTO_INTERNAL_API_PATH: voltoInternalApiPath(ctx, host),
        // NAME=value of volto.environment, for the build and the processes.
        VOLTO_ENVIRONMENT: Object.keys(volto.environment)
            .sort()
            .map((k) => `${k}=${volto.environment[k]}`),
        NODE_VERSION: volto.node.version,
        NODE_MIRROR: volto.node.mirror.replace(/\/+$/, ""),
        // The keys SHASUMS256.txt.sig is checked against (volto.node.releaseKeys, or Node.js's releasers').
        NODE_RELEASE_KEYS: appLayout(ctx.spec).nodeReleaseKeys,
        NODE_ROOT,
        NPM_REGISTRY: volto.npmRegistry,
        COREPACK_HOME: layout.corepackHome,
        PNPM_STORE: layout.pnpmStore,
    };
}

export function renderDeployEnv(ctx: RenderContext, host: HostPlan): string {
    const { app, plone } = ctx.spec;
    const layout = appLayout(ctx.spec);
    const storage = hostStorage(ctx, host);
    const programs = supervisorPrograms(ctx, host);
    const servers = programs.filter((p) => p.role === "server");
    const workers = programs.filter((p) => p.role === "worker");
    const pip = app.builder === "pip";
    // A buildout release links eggs, downloads, extends and var into shared/; a pip release keeps its
    // environment to itself and writes only to shared/var (the clients' homes and logs).
    const sharedDirs: readonly string[] = pip ? [] : BUILDOUT_SHARED_DIRS;
    const links = Object.entries({ ...Object.fromEntries(sharedDirs.map((d) => [d, d])), ...app.symlinkBeforeMigrate });
    const unique = (xs: string[]) => [...new Set(xs)];
    const sharedVarDirs = pip ? [PIP_CACHE_DIR, "var/log", ...host.clients.map((c) => `var/${c.name}`)] : BUILDOUT_SHARED_DIRS;

    const vars = {
        APP: app.name,
        HOST: host.name,
        DEPLOY_TO: layout.deployTo,
        CONFIG_DIR: layout.configDir,
        RUNTIME_DIR: PATHS.runtimeDir,
        // Empty: supervisorctl's default configuration (Debian's /etc/supervisor/supervisord.conf).
        SUPERVISOR_CONF: "",
        REPOSITORY: app.repository,
        REVISION: app.revision,
        KEEP_RELEASES: app.keepReleases,
        DEPLOY_USER,
        PYTHON: app.python,
        PIP_PACKAGES: app.pipPackages,
        BOOTSTRAP_COMMAND: app.bootstrapCommand,
        BUILD_COMMAND: app.buildCommand,
        BUILDOUT_FLAGS: app.buildoutFlags,
        ALWAYS_BUILD: app.alwaysBuildOnDeploy,
        // shared/<SYMLINK_FROM[i]> is linked at <release>/<SYMLINK_TO[i]>.
        SYMLINK_FROM: links.map(([from]) => from),
        SYMLINK_TO: links.map(([, to]) => to),
        PURGE_BEFORE_SYMLINK: unique([...sharedDirs, ...app.purgeBeforeSymlink]),
        CREATE_DIRS_BEFORE_SYMLINK: unique([...sharedVarDirs, ...app.createDirsBeforeSymlink]),
        CACHE_ARCHIVE_URLS: app.cacheArchives.map((a) => a.url),
        CACHE_ARCHIVE_PATHS: app.cacheArchives.map((a) => a.path),
        CACHE_ARCHIVE_USERS: app.cacheArchives.map((a) => a.user ?? ""),
        CACHE_ARCHIVE_PURGE: app.cacheArchives.map((a) => String(a.purge)),
        // app.environment (and the New Relic agent's settings file), which plone-app-env adds to the programs.
        APP_ENVIRONMENT: appEnvironmentOf(ctx, host),
        GLOBAL_TMP: plone.globalTmp,
        BLOB_MOUNT: storage.requiredMount ?? "",
        DATA_DIRS: storage.dataDirs,
        SITE_ID: plone.siteId,
        // name:port of each Zope client on this host; the supervisor program is $APP-<name>.
        CLIENTS: host.clients.map((c) => `${c.name}:${c.port}`),
        // clientN listens on CLIENT_PORT_BASE + N (to drain a client this host no longer runs).
        CLIENT_PORT_BASE: PORTS.clientBase,
        HEALTH_PATH: plone.healthCheckPath,
        WARMUP_PATHS: plone.warmupPaths,
        WARMUP_TIMEOUT: WARMUP_TIMEOUT_SECONDS,
        RESTART_DELAY: plone.restartDelay,
        // Clients of this host restarted at once: plone.maxUnavailable shared in its restart wave.
        RESTART_CONCURRENCY: restartConcurrencyOf(ctx.topology.restarts, host.name),
        DRAIN_GRACE: DRAIN_GRACE_SECONDS,
        READY_GRACE: readyGraceSeconds(ctx.spec),
        DRAIN_TIMEOUT: plone.drainTimeout,
        START_TIMEOUT: plone.startTimeout,
        WORKER_PROGRAMS: workers.map((p) => p.name),
        // Seconds to wait before restarting each worker (app.initCommands delay).
        WORKER_DELAYS: workers.map((p) => String(p.delay ?? 0)),
        SERVER_PROGRAMS: servers.map((p) => p.name),
        // Space-separated release paths whose content decides whether a deploy restarts the server.
        SERVER_FINGERPRINTS: servers.map((p) => p.server!.fingerprint.join(" ")),
        SERVER_PORTS: servers.map((p) => String(p.server!.port ?? "")),
        AGENT_PROGRAM: programs.find((p) => p.role === "agent")?.name ?? "",
        ...(pip ? pipVariables(ctx) : {}),
        // Only on volto hosts (common.sh reads their absence as a backend-only host): an unchanged
        // deploy.env on the others restarts nothing at the next `pulumi up`.
        ...(host.voltoProcesses.length > 0 ? voltoVariables(ctx, host) : {}),
    };
    return [
        `# Deploy settings of app ${app.name} on host ${host.name} (stack ${ctx.spec.stackName}), read by`,
        "# plone-deploy, plone-rollback and plone-restart. Written by plone-aws on every `pulumi up`.",
        "# Commands are kept unexpanded ($VENV is set when they run); the scripts use the variables.",
        "# shellcheck shell=bash disable=SC2016,SC2034",
        shellAssignments(vars),
        "",
    ].join("\n");
}
