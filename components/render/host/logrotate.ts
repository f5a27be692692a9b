// logrotate for what plone-aws hosts write: supervisor's program logs where a release runs (the
// build hosts and the volto hosts), the app's logs on the build hosts, and the host scripts' and scheduled jobs' logs everywhere.
import { deploysRelease, DEPLOY_USER, PATHS, type HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { rootFile } from "../scriptKit";
import { appLayout, SUPERVISOR_LOG_DIR } from "../app/layout";
import { runsBuild } from "../../layers";
import { DEFAULT_FRONTEND_LAYOUT } from "../frontend/layout";

function stanza(paths: string[], directives: string[]): string {
    return [`${paths.join(" ")} {`, ...directives.map((d) => `    ${d}`), "}"].join("\n");
}

/** Replaces the supervisor package's own file (one stanza per log, or logrotate refuses duplicates). */
export function renderSupervisorLogrotate(): string {
    return [
        "# supervisor's program logs (plone-aws): daily, 7 kept, as the cookbook did.",
        stanza([`${SUPERVISOR_LOG_DIR}/*.log`], ["daily", "rotate 7", "compress", "delaycompress", "missingok", "notifempty", "copytruncate"]),
        "",
    ].join("\n");
}

/** The app's logs (event and access logs of the clients, the ZEO server): daily, 30 kept. */
export function renderAppLogrotate(ctx: RenderContext): string {
    return [
        `# Logs of ${ctx.spec.app.name} (plone-aws). copytruncate: Zope keeps its log files open.`,
        stanza(
            [`${appLayout(ctx.spec).logDir}/*.log`],
            ["daily", "rotate 30", "compress", "delaycompress", "missingok", "notifempty", "copytruncate", `su ${DEPLOY_USER} ${DEPLOY_USER}`],
        ),
        "",
    ].join("\n");
}

/** Logs of the host scripts and scheduled jobs; the directory is group-writable for the deploy user. */
export function renderPloneAwsLogrotate(): string {
    return [
        "# Logs of the plone-aws host scripts and scheduled jobs (backup, pack).",
        stanza([`${PATHS.logDir}/*.log`], ["weekly", "rotate 12", "compress", "delaycompress", "missingok", "notifempty", `su root ${DEPLOY_USER}`]),
        "",
    ].join("\n");
}

/**
 * Replaces the nginx package's own file: daily, frontend.nginx.logRetentionDays kept (the cookbook
 * edited Debian's file to the same). Otherwise Debian's: reopened through the init script.
 */
export function renderNginxLogrotate(ctx: RenderContext): string {
    const days = ctx.spec.frontend.nginx.logRetentionDays;
    return [
        `# nginx's logs (plone-aws): daily, ${days} kept (frontend.nginx.logRetentionDays).`,
        stanza(
            [`${DEFAULT_FRONTEND_LAYOUT.paths.nginxLogDir}/*.log`],
            [
                "daily",
                "missingok",
                `rotate ${days}`,
                "compress",
                "delaycompress",
                "notifempty",
                "create 0640 www-data adm",
                "sharedscripts",
                "postrotate",
                "    invoke-rc.d nginx rotate >/dev/null 2>&1 || true",
                "endscript",
            ],
        ),
        "",
    ].join("\n");
}

export function renderLogrotateFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    const files = [rootFile("/etc/logrotate.d/plone-aws", renderPloneAwsLogrotate())];
    if (host.layers.includes("frontend")) files.push(rootFile("/etc/logrotate.d/nginx", renderNginxLogrotate(ctx)));
    // supervisor runs the app's programs where a release is deployed: the build hosts and the volto hosts.
    if (deploysRelease(host)) files.push(rootFile("/etc/logrotate.d/supervisor", renderSupervisorLogrotate()));
    if (runsBuild(host)) files.push(rootFile(`/etc/logrotate.d/plone-aws-${ctx.spec.app.name}`, renderAppLogrotate(ctx)));
    return files;
}
