// The app's supervisor programs on one host (/etc/supervisor/conf.d/<app>.conf): the Zope
// clients, the ZEO server, Solr, the celery worker and beat, the app's own init commands and event
// listeners, the Volto processes, and the haproxy agent. Commands run from <deployRoot>/<app>/current
// (the Volto processes from <deployRoot>/<app>/frontend/current), so switching `current` and
// restarting a program picks up the new release.
import type { InitCommand } from "../../config/schema";
import type { HostPlan } from "../../topology";
import { DEPLOY_USER, PORTS } from "../../topology/ports";
import { appLayout, type AppLayout, PIP_INSTANCES_DIR, PIP_VENV_DIR, pipReleasePath, programName } from "./layout";
import type { StackSpec } from "../../config/spec";
import { addressOf, type RenderContext } from "../context";
import { supervisorValue } from "../encode";
import { HAPROXY_AGENT, haproxyAgentFile } from "./haproxyAgent";
import { APP_ENV_PROGRAM, DEPLOY_ENV_VARIABLE } from "../hostScripts/appEnv";
import { VOLTO_PROGRAM } from "../hostScripts/voltoProcess";

/**
 * How plone-restart treats a program: clients roll one at a time behind haproxy; servers (ZEO,
 * Solr) restart only when their build changed; workers restart after the clients; Volto processes
 * roll behind haproxy like the clients, when the frontend changed; the agent is never restarted
 * by a deploy.
 */
export type ProgramRole = "client" | "server" | "worker" | "volto" | "agent";

export interface SupervisorProgram {
    /** The supervisor name, e.g. plone-client1. */
    name: string;
    role: ProgramRole;
    /** Command line (already absolute). */
    command: string;
    /** [eventlistener:x] instead of [program:x], with these events. */
    events?: string[];
    /** Runs as the deploy user; undefined: as root (event listeners, to reach supervisor's socket). */
    user?: string;
    /** Client: its buildout part (client1) and port; Volto process: its name (volto1) and port. */
    client?: { name: string; port: number };
    /** Worker: seconds to wait before restarting it (app.initCommands delay). */
    delay?: number;
    /** Server: release-relative paths whose content decides whether a deploy restarts it, and the port it listens on. */
    server?: { fingerprint: string[]; port?: number };
    priority: number;
    environment: Record<string, string>;
}

/** Seconds supervisor waits after SIGTERM before SIGKILL: Zope finishes its requests and closes the database. */
export const STOP_WAIT_SECONDS = 60;
/** A program that exits within this many seconds of starting counts as failed to start. */
export const START_SECONDS = 3;

export function supervisorPrograms(ctx: Pick<RenderContext, "spec" | "topology">, host: HostPlan): SupervisorProgram[] {
    const { app, plone } = ctx.spec;
    const { endpoints } = ctx.topology;
    const layout = appLayout(ctx.spec);
    // The app's programs start through plone-app-env, which adds app.environment and appSecrets:
    // supervisor's environment= carries only the path of deploy.env.
    const bin = (cmd: string, args = "") => [APP_ENV_PROGRAM, `${layout.current}/${cmd}`, args].filter((s) => s.trim()).join(" ");
    const env = { [DEPLOY_ENV_VARIABLE]: layout.deployEnv };
    const programs: SupervisorProgram[] = [];
    const add = (p: Omit<SupervisorProgram, "environment" | "user">) => programs.push({ ...p, user: DEPLOY_USER, environment: env });

    // The pip builder: the release's own virtual environment and generated instances (render/app/instanceConfig.ts).
    const pip = app.builder === "pip" ? pipPrograms(ctx.spec, layout) : undefined;
    if (host.layers.includes("zeoserver")) {
        add({
            name: programName(app.name, "zeoserver"),
            role: "server",
            command: pip ? bin(pip.runzeo, `-C ${pip.zeoConf}`) : bin("bin/zeoserver", "fg"),
            server: pip ? { fingerprint: pip.zeoFingerprint, port: PORTS.zeo } : { fingerprint: ["bin/zeoserver", "parts/zeoserver/etc"], port: PORTS.zeo },
            priority: 100,
        });
    }
    if (host.layers.includes("solr")) {
        add({
            name: programName(app.name, "solr"),
            role: "server",
            command: bin("bin/solr-instance", "fg"),
            server: { fingerprint: ["bin/solr-instance", "parts/solr-instance/etc"], port: plone.solr.port },
            priority: 100,
        });
    }
    for (const client of host.clients) {
        add({
            name: programName(app.name, client.name),
            role: "client",
            command: pip ? bin(pip.runwsgi, pip.zopeIni(client.name)) : bin(`bin/${client.name}`, "console"),
            client: { name: client.name, port: client.port },
            priority: 500,
        });
    }
    if (host.layers.includes("plone_instances")) {
        if (endpoints.broker) {
            add({ name: programName(app.name, "celery"), role: "worker", command: bin("bin/celery", `worker ${plone.celery.workerArgs}`), priority: 600 });
            if (endpoints.celerybeatHost === host.name) {
                add({ name: programName(app.name, "celerybeat"), role: "worker", command: bin("bin/celery", `beat ${plone.celery.beatArgs}`), priority: 600 });
            }
        }
        programs.push(...app.initCommands.map((c) => initCommandProgram(ctx, c)));
    }
    // Volto's server-side rendering: plone-volto runs volto.startCommand from the frontend's release.
    for (const p of host.voltoProcesses) {
        add({
            name: programName(app.name, p.name),
            role: "volto",
            command: `${VOLTO_PROGRAM} ${p.port}`,
            client: { name: p.name, port: p.port },
            priority: 500,
        });
    }
    if (host.clients.length > 0 || host.voltoProcesses.length > 0 || host.layers.includes("plone_instances")) {
        // One agent answers for the clients and the Volto processes of the host (one rotation directory).
        programs.push({
            name: HAPROXY_AGENT,
            role: "agent",
            command: haproxyAgentFile().path,
            user: DEPLOY_USER,
            priority: 50,
            environment: { [DEPLOY_ENV_VARIABLE]: layout.deployEnv },
        });
    }
    return programs;
}

/**
 * What the programs of a pip release run, relative to `current`: runwsgi of each client's own
 * instance (instances/<client>/etc/zope.ini), runzeo with the zeo.conf plone-deploy copied into the
 * release. The ZEO server restarts when its script or its configuration changed.
 */
function pipPrograms(spec: Pick<StackSpec, "app">, layout: AppLayout) {
    const runzeo = pipReleasePath(spec, `${PIP_VENV_DIR}/bin/runzeo`);
    return {
        runwsgi: pipReleasePath(spec, `${PIP_VENV_DIR}/bin/runwsgi`),
        runzeo,
        zopeIni: (client: string) => `${layout.pip.instances}/${client}/etc/zope.ini`,
        zeoConf: `${layout.pip.instances}/zeoserver/zeo.conf`,
        zeoFingerprint: [runzeo, pipReleasePath(spec, `${PIP_INSTANCES_DIR}/zeoserver`)],
    };
}

/** app.initCommands (the cookbook's buildout_init_commands): programs, or event listeners run as root. */
function initCommandProgram(ctx: Pick<RenderContext, "spec">, c: InitCommand): SupervisorProgram {
    const layout = appLayout(ctx.spec);
    return {
        name: programName(ctx.spec.app.name, c.name),
        role: "worker",
        // Event listeners run as root, outside the app's environment.
        command: [c.eventListener ? "" : APP_ENV_PROGRAM, `${layout.current}/${c.cmd}`, c.args].filter((s) => s.trim()).join(" "),
        events: c.eventListener?.events,
        delay: c.delay,
        user: c.eventListener ? undefined : DEPLOY_USER,
        priority: 700,
        environment: c.eventListener ? {} : { [DEPLOY_ENV_VARIABLE]: layout.deployEnv },
    };
}

/**
 * environment=K="v". supervisor's parser has no escapes inside quotes and strips quote characters
 * at either end of a value, so only plone-aws's own paths go here (see plone-app-env).
 */
function supervisorEnvironment(env: Record<string, string>): string {
    return Object.keys(env)
        .sort()
        .map((k) => {
            if (!/^[A-Za-z0-9_./-]*$/.test(env[k])) throw new Error(`${k}: only plone-aws's own paths go into supervisor's environment=`);
            return `${k}="${supervisorValue(env[k], k)}"`;
        })
        .join(",");
}

export function renderSupervisorPrograms(ctx: RenderContext, host: HostPlan): string {
    const layout = appLayout(ctx.spec);
    const out = [
        `; Supervisor programs of app ${layout.app} on host ${host.name} (stack ${ctx.spec.stackName}).`,
        "; Written by plone-aws on every `pulumi up`: change the stack configuration instead of this file.",
        `; They run from ${layout.current}: plone-deploy switches it to a new release, and`,
        "; plone-restart restarts the clients one at a time behind haproxy (never `supervisorctl restart all`).",
        // Only on volto hosts: an unchanged file on the others restarts nothing at the next `pulumi up`.
        ...(host.voltoProcesses.length > 0 ? [`; The Volto processes run from ${layout.volto.current} (plone-volto), restarted the same way.`] : []),
        "",
    ];
    for (const p of supervisorPrograms(ctx, host)) {
        const log = (stream: string) => `${layout.supervisorLogDir}/${p.name}-${stream}.log`;
        // The agent listens on the private address, where the front ends ask (one on this host too): not every interface.
        const command = p.role === "agent" ? `${p.command} --bind ${addressOf(host.name, ctx.addresses)}` : p.command;
        const lines: [string, string | number | boolean | undefined][] = [
            ["command", supervisorValue(command, `the command of ${p.name}`)],
            // plone-volto changes to the frontend's release itself (where `current` points when it starts).
            ["directory", p.role === "agent" || p.role === "volto" ? "/" : ctx.spec.app.builder === "pip" ? layout.pip.backend : layout.current],
            ["user", p.user],
            ["environment", Object.keys(p.environment).length > 0 ? supervisorEnvironment(p.environment) : undefined],
            ["events", p.events?.join(",")],
            ["autostart", true],
            ["autorestart", true],
            ["startsecs", p.events ? 1 : START_SECONDS],
            ["startretries", 3],
            ["stopsignal", "TERM"],
            ["stopwaitsecs", p.role === "agent" || p.events ? 10 : STOP_WAIT_SECONDS],
            // Kill what the program started too (celery pool workers, Solr's JVM under its wrapper,
            // the node server pnpm starts for a Volto process).
            ["stopasgroup", true],
            ["killasgroup", true],
            ["priority", p.priority],
            // An event listener's stdout is its protocol channel with supervisord: only stderr is logged.
            ["stdout_logfile", p.events ? undefined : log("stdout")],
            ["stdout_logfile_maxbytes", p.events ? undefined : "50MB"],
            ["stdout_logfile_backups", p.events ? undefined : 10],
            ["stderr_logfile", log("stderr")],
            ["stderr_logfile_maxbytes", "50MB"],
            ["stderr_logfile_backups", 10],
        ];
        if (p.client) out.push(`; ${p.client.name}: port ${p.client.port}`);
        out.push(`[${p.events ? "eventlistener" : "program"}:${p.name}]`);
        for (const [k, v] of lines) if (v !== undefined) out.push(`${k}=${v}`);
        out.push("");
    }
    return out.join("\n");
}
