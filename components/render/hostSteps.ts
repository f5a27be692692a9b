// The provisioning steps of one host, as the scripts the remote commands run: setup (packages,
// user, volumes, blob storage), configure (every rendered file, validated, then reloaded), and on
// the hosts that deploy releases (the buildout's, the Volto frontend's), build and activate (the
// release and the rolling restart).
// Pure: the Provisioner component sends these scripts; the rehearsal and the review render read them.
import * as crypto from "crypto";
import type { HostPlan } from "../topology";
import { deploysRelease, PATHS } from "../topology";
import { appRemovedFiles, renderAppFiles } from "./app";
import { appLayout } from "./app/layout";
import { renderStorageFiles } from "./storage/blobs";
import type { RenderContext, RenderedFile } from "./context";
import { FRONTEND_SERVICES, frontendRemovedFiles, renderFrontendFiles, TLS_ENABLE_COMMAND } from "./frontend";
import { haproxyAgentFile } from "./app/haproxyAgent";
import { renderInstallScript, ServiceReload } from "./host/install";
import { shellQuote } from "./shell";
import { renderSetupScript, renderSystemFiles } from "./host/system";
import { monitoringServices, renderMonitoringFiles } from "./monitoring";
import { renderOperationsFiles } from "./operations";
import { redactionFile, redactionTexts, redactStage, secretValues } from "./host/redaction";
import { runsBuild } from "../layers";
import { daemonServices, renderDaemonFiles } from "./daemons";
import { mailRelayServices, renderMailRelayFiles } from "./mail/relay";
import { publishBuildCacheLines, publishFrontendCacheLines } from "./scaling/instance";

export type StepName = "ready" | "setup" | "configure" | "build" | "activate";

/** Where a step's full output is kept on the host (steps that carry secrets log nothing to Pulumi). */
export function stepLogPath(step: StepName): string {
    return `${PATHS.logDir}/provision-${step}.log`;
}

/** The steps of a host, in order. "ready" waits for SSH and the end of the boot. */
export function hostStepNames(host: HostPlan): StepName[] {
    return deploysRelease(host) ? ["ready", "setup", "configure", "build", "activate"] : ["ready", "setup", "configure"];
}

/** Whether a step's script carries secrets, known before any value is (it decides the command's logging). */
export function stepCarriesSecrets(step: StepName): boolean {
    // The configure step writes haproxy.cfg (stats password), deploy.cfg (database password), the
    // deploy key, the packer's database credentials and the mail relay's SMTP password.
    return step === "configure";
}

/** Every file the configure step installs on a host. */
export function hostFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    return [
        ...renderSystemFiles(ctx, host),
        ...renderStorageFiles(ctx, host),
        ...(host.layers.includes("frontend") ? renderFrontendFiles(ctx, host) : []),
        ...renderAppFiles(ctx, host),
        // The agent answers for the Zope clients and the Volto processes alike.
        ...(host.layers.includes("plone_instances") || host.voltoProcesses.length > 0 ? [haproxyAgentFile()] : []),
        ...renderDaemonFiles(ctx, host),
        ...renderMailRelayFiles(ctx, host.name),
        ...renderOperationsFiles(ctx, host),
        ...renderMonitoringFiles(ctx, host),
        redactionFile(ctx.secrets),
    ];
}

/** A step of one host. */
export interface StepRef {
    host: string;
    step: StepName;
}

/**
 * What must finish on other hosts before a step starts, where the order is real: blob servers
 * before the hosts that mount them (GlusterFS replicas before the primary adds their bricks), and
 * the activations in the restart waves (ZEO and Solr servers first, then the app hosts as many at
 * once as plone.maxUnavailable allows), after every host has built, so a failed build anywhere
 * activates nothing. Keyed by "<host>/<step>".
 */
export function crossHostDependencies(ctx: Pick<RenderContext, "spec" | "topology">): Map<string, StepRef[]> {
    const deps = new Map<string, StepRef[]>();
    const add = (host: string, step: StepName, after: StepRef) => {
        if (host === after.host) return;
        const key = `${host}/${step}`;
        deps.set(key, [...(deps.get(key) ?? []), after]);
    };
    const blobs = ctx.topology.endpoints.blobs;
    const clients = ctx.topology.roles.blobUsers;
    if (blobs.mode === "nfs") {
        for (const h of clients) add(h, "setup", { host: blobs.server, step: "setup" });
    }
    if (blobs.mode === "gluster") {
        for (const r of blobs.replicas) add(blobs.primary, "setup", { host: r, step: "setup" });
        for (const h of clients) add(h, "setup", { host: blobs.primary, step: "setup" });
    }
    // Activations go in the restart waves (topology.restarts): the first wave after every build
    // (no host switches to a release another host could not build), each later wave after every
    // host of the wave before it, so that the clients out of rotation stay within maxUnavailable.
    const waves = ctx.topology.restarts.waves.map((w) => w.map((h) => h.name));
    waves.forEach((wave, i) => {
        for (const h of wave) {
            if (i === 0) for (const b of ctx.topology.hosts.filter((x) => deploysRelease(x))) add(h, "activate", { host: b.name, step: "build" });
            else for (const before of waves[i - 1]) add(h, "activate", { host: before, step: "activate" });
        }
    });
    return deps;
}

/** The marker a configure step leaves when the programs' settings changed: activate restarts them. */
export const RESTART_PENDING = `${PATHS.runtimeDir}/restart-pending`;

function hostServices(ctx: RenderContext, host: HostPlan): ServiceReload[] {
    const services: ServiceReload[] = [];
    if (host.layers.includes("frontend")) {
        for (const s of FRONTEND_SERVICES) {
            services.push({ name: s.service, paths: s.reloadOn, restartPaths: s.restartOn, validate: s.check, reload: s.reload, restart: s.restart });
        }
    }
    if (deploysRelease(host)) {
        // Never `supervisorctl update` here: it would restart every changed client at once. The
        // activate step rolls the change through the clients one at a time.
        const layout = appLayout(ctx.spec);
        services.push({
            name: "the app's programs (at the activate step)",
            paths: [layout.supervisorConf, layout.deployEnv],
            reload: `mkdir -p ${PATHS.runtimeDir} && touch ${RESTART_PENDING}`,
        });
    }
    services.push(...daemonServices(host));
    services.push(...mailRelayServices(ctx, host.name));
    services.push(...monitoringServices(ctx));
    return services;
}

function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/**
 * Keeps a step's whole output on the host, readable by root only: steps that carry secrets show
 * nothing in Pulumi's log, so this file is where a failure is read. The output (in the log, and in
 * the error a failing step gives `pulumi up`) has every secret of the stack blanked out: those of
 * the list the configure step installs, and `secrets`, which the step itself carries.
 */
function logged(step: StepName, body: string, secrets: string[] = []): string {
    const log = stepLogPath(step);
    return [
        "#!/bin/bash",
        `# plone-aws: the ${step} step of a host, run by \`pulumi up\` over SSH (the script comes on stdin).`,
        "set -uo pipefail",
        `case \${1:-} in -h | --help) echo "plone-aws: the ${step} step of a host, run by pulumi up over SSH (the script comes on stdin)"; exit 0 ;; esac`,
        `mkdir -p ${PATHS.logDir} && touch ${log} && chmod 0600 ${log}`,
        "{",
        `echo "== plone-aws ${step} $(date -u +%Y-%m-%dT%H:%M:%SZ)"`,
        body.endsWith("\n") ? body : `${body}\n`,
        `} 2>&1 | ${redactStage(secrets)} | tee -a ${log}`,
        "status=${PIPESTATUS[0]}",
        `if [ "$status" -ne 0 ]; then echo "plone-aws: the ${step} step failed (exit $status); its output is in ${log} on $(hostname)" >&2; fi`,
        'exit "$status"',
        "",
    ].join("\n");
}

function setupScript(ctx: RenderContext, host: HostPlan, volumeIds: Record<string, string>): string {
    const args = host.volumes.map((v) => {
        const id = volumeIds[v.mountPoint];
        if (!id) throw new Error(`no volume id for ${host.name}:${v.mountPoint}`);
        return shellQuote(`${v.mountPoint}=${id}`);
    });
    // The setup script takes the volumes as arguments; on stdin they are set before it runs.
    return logged("setup", `set -- ${args.join(" ")}\n${renderSetupScript(ctx, host)}`);
}

function configureScript(ctx: RenderContext, host: HostPlan, stagedSecret?: (file: RenderedFile) => string): string {
    const after = host.layers.includes("frontend") && ctx.spec.frontend.tls.mode === "certbot" ? [TLS_ENABLE_COMMAND] : [];
    const removed = [...(host.layers.includes("frontend") ? frontendRemovedFiles(ctx, host) : []), ...appRemovedFiles(ctx, host)];
    // Every secret the files hold is blanked out of a failing validator's message and of the step's output.
    const secrets = secretValues(ctx.secrets);
    return logged(
        "configure",
        renderInstallScript(hostFiles(ctx, host), hostServices(ctx, host), removed, after, redactionTexts(secrets), stagedSecret),
        secrets,
    );
}

/**
 * The steps of a scaled group's host, as its instances run them at boot (render/scaling): the
 * same setup, configure, build and activate as a fixed host's, rendered with the secrets masked;
 * the configure step reads each secret file from `stagedSecret` (fetched from SSM at boot).
 */
export function scaledHostSteps(
    masked: RenderContext,
    host: HostPlan,
    stagedSecret: (file: RenderedFile) => string,
): Record<Exclude<StepName, "ready">, string> {
    if (host.volumes.length > 0) throw new Error(`a scaled host has no data volume, but ${host.name} would get ${host.volumes.map((v) => v.kind).join(", ")}`);
    return {
        setup: setupScript(masked, host, {}),
        configure: configureScript(masked, host, stagedSecret),
        build: renderHostStep(masked, host, "build", {}),
        activate: renderHostStep(masked, host, "activate", {}),
    };
}

const DEPLOY = `${PATHS.sbinDir}/plone-deploy`;
const RESTART = `${PATHS.sbinDir}/plone-restart`;

function activateScript(ctx: RenderContext, host: HostPlan): string {
    const layout = appLayout(ctx.spec);
    // The backend's current and, on a volto host, the frontend's: a new release of either restarts.
    const currents = [...(runsBuild(host) ? [layout.current] : []), ...(host.voltoProcesses.length > 0 ? [layout.volto.current] : [])].join(" ");
    return logged(
        "activate",
        [
            `before=$(readlink -f ${currents} 2>/dev/null || true)`,
            `${DEPLOY} activate`,
            `after=$(readlink -f ${currents} 2>/dev/null || true)`,
            "# The programs' settings changed without a new release: roll them through the clients (and Volto processes).",
            `if [ "$before" = "$after" ] && [ -e ${RESTART_PENDING} ]; then ${RESTART}; fi`,
            `rm -f ${RESTART_PENDING}`,
        ].join("\n"),
    );
}

/**
 * The hosts whose addresses a host's steps read. A step depends on exactly these instances, not
 * on every host of the stack: a command that referenced all addresses would make the dependency
 * graph (and Pulumi's state) grow with the square of the number of hosts. Found by rendering the
 * steps once against addresses that record each read.
 */
export function addressesUsedBy(ctx: Omit<RenderContext, "addresses">, host: HostPlan): string[] {
    const used = new Set<string>();
    const placeholders: Record<string, string> = Object.fromEntries(ctx.topology.hosts.map((h) => [h.name, "192.0.2.1"]));
    const addresses = new Proxy(placeholders, {
        get(target, key) {
            if (typeof key === "string" && key in target) used.add(key);
            return Reflect.get(target, key);
        },
        ownKeys(target) {
            for (const k of Object.keys(target)) used.add(k);
            return Reflect.ownKeys(target);
        },
    });
    const recording: RenderContext = { ...ctx, addresses };
    const volumeIds = Object.fromEntries(host.volumes.map((v) => [v.mountPoint, "vol-0"]));
    for (const step of hostStepNames(host)) {
        if (step !== "ready") {
            renderHostStep(recording, host, step, volumeIds);
            hostStepTrigger(recording, host, step, volumeIds);
        }
    }
    return ctx.topology.hosts.map((h) => h.name).filter((n) => used.has(n));
}

/** What decides whether the buildout must be built again: the app's files, secrets masked. */
function appTrigger(masked: RenderContext, host: HostPlan): string {
    return sha256(
        renderAppFiles(masked, host)
            .map((f) => `${f.path}\0${f.content}`)
            .join("\0"),
    );
}

/** The script of one step ("ready" has none: it only waits for the host). */
export function renderHostStep(ctx: RenderContext, host: HostPlan, step: Exclude<StepName, "ready">, volumeIds: Record<string, string>): string {
    switch (step) {
        case "setup":
            return setupScript(ctx, host, volumeIds);
        case "configure":
            return configureScript(ctx, host);
        case "build": {
            const publish = [...publishBuildCacheLines(ctx, host), ...publishFrontendCacheLines(ctx, host)];
            return logged("build", publish.length ? [`${DEPLOY} build || exit $?`, ...publish].join("\n") : `${DEPLOY} build`);
        }
        case "activate":
            return activateScript(ctx, host);
    }
}

/**
 * The trigger of a step, from a context whose secrets are placeholders: a hash of a secret value
 * must not appear in the state. Secret changes still re-run the step through its (secret) stdin.
 */
export function hostStepTrigger(masked: RenderContext, host: HostPlan, step: Exclude<StepName, "ready">, volumeIds: Record<string, string>): string {
    return step === "build" || step === "activate" ? appTrigger(masked, host) : sha256(renderHostStep(masked, host, step, volumeIds));
}
