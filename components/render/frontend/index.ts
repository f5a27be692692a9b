// Every file a front-end host gets (nginx -> varnish -> haproxy, the error page, the service
// helper, TLS with certbot), the files to remove, and how each daemon is validated and reloaded.
import type { HostPlan } from "../../topology";
import type { RenderContext, RenderedFile } from "../context";
import { CERTBOT_RENEW_HOOK, certbotFiles, TLS_CRON_FILE, tlsEnableScriptPath } from "./certbot";
import { DEFAULT_FRONTEND_LAYOUT, FrontendLayout, assertFrontend } from "./layout";
import { frontendServiceScriptPath, renderFrontendServiceScript } from "./service";
import { renderHaproxyConfig } from "./haproxy";
import {
    ERROR_PAGE_FILE,
    NGINX_TLS_SERVERS,
    NGINX_TLS_SWITCH,
    nginxMode,
    nginxPloneDir,
    nginxSitePath,
    nginxTlsEnabledDir,
    renderErrorPage,
    renderNginxMainConf,
    renderNginxSite,
    renderNginxTlsServers,
    renderNginxTlsSwitch,
} from "./nginx";
import { renderVarnishServiceFiles, renderVarnishVcl, VARNISH_DEFAULTS, VARNISH_DROP_IN } from "./varnish";

const root = { owner: "root", group: "root" } as const;

export function renderFrontendFiles(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): RenderedFile[] {
    assertFrontend(frontend);
    const p = layout.paths;
    const files: RenderedFile[] = [
        // The statistics password is in it: readable by haproxy's group only, delivered as a secret.
        { path: p.haproxyConfig, content: renderHaproxyConfig(ctx, frontend, layout), mode: "0640", owner: "root", group: "haproxy", secret: true },
        { path: p.varnishVcl, content: renderVarnishVcl(ctx, frontend, layout), mode: "0644", ...root },
        ...renderVarnishServiceFiles(ctx, frontend, layout),
        { path: `${p.nginxDir}/nginx.conf`, content: renderNginxMainConf(ctx, frontend, layout), mode: "0644", ...root },
        { path: nginxSitePath(layout), content: renderNginxSite(ctx, frontend, layout), mode: "0644", ...root },
        { path: `${p.errorPages}/${ERROR_PAGE_FILE}`, content: renderErrorPage(ctx), mode: "0644", ...root },
        { path: frontendServiceScriptPath(layout), content: renderFrontendServiceScript(layout), mode: "0755", ...root },
    ];
    if (nginxMode(ctx).hostTls) {
        files.push(
            { path: `${nginxPloneDir(layout)}/${NGINX_TLS_SERVERS}`, content: renderNginxTlsServers(ctx, frontend, layout), mode: "0644", ...root },
            { path: `${nginxPloneDir(layout)}/${NGINX_TLS_SWITCH}`, content: renderNginxTlsSwitch(), mode: "0644", ...root },
            ...certbotFiles(ctx, frontend, layout),
        );
    }
    return files;
}

/**
 * Files the configure step deletes (when present) after writing renderFrontendFiles: Debian's
 * default site (it also wants port 80 as default_server) and, when the host does not terminate
 * TLS (any more), the certbot pieces, so an old HTTPS server is not left switched on.
 */
export function frontendRemovedFiles(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string[] {
    assertFrontend(frontend);
    const removed = [`${layout.paths.nginxDir}/sites-enabled/default`];
    if (!nginxMode(ctx).hostTls) {
        removed.push(
            `${nginxTlsEnabledDir(layout)}/${NGINX_TLS_SERVERS}`,
            `${nginxTlsEnabledDir(layout)}/${NGINX_TLS_SWITCH}`,
            `${nginxPloneDir(layout)}/${NGINX_TLS_SERVERS}`,
            `${nginxPloneDir(layout)}/${NGINX_TLS_SWITCH}`,
            tlsEnableScriptPath(layout),
            CERTBOT_RENEW_HOOK,
            TLS_CRON_FILE,
        );
    }
    return removed;
}

export interface FrontendService {
    service: "haproxy" | "varnish" | "nginx";
    /** Exits 0 when the configuration on disk is valid; prints the validator's message otherwise. */
    check: string;
    /** Validates, then reloads without dropping requests (starts the daemon when it is not running). */
    reload: string;
    /** Validates, then restarts: only for changes a reload cannot apply (varnishd's parameters). */
    restart: string;
    /** A change to any of these files needs `reload`. */
    reloadOn: string[];
    /** A change to any of these files needs `restart` instead of `reload` (restart loads the new config too). */
    restartOn: string[];
}

function service(name: FrontendService["service"], reloadOn: string[], restartOn: string[] = []): FrontendService {
    const cmd = frontendServiceScriptPath();
    return { service: name, check: `${cmd} check ${name}`, reload: `${cmd} reload ${name}`, restart: `${cmd} restart ${name}`, reloadOn, restartOn };
}

const L = DEFAULT_FRONTEND_LAYOUT.paths;

/**
 * In the order to apply them: the backend side first, so that each daemon's upstream already has
 * its new configuration. The commands come from plone-frontend-service (in renderFrontendFiles),
 * so write the files first. Removing sites-enabled/default also needs the nginx reload.
 * After nginx, with tls mode certbot, run `TLS_ENABLE_COMMAND` (it is idempotent).
 */
export const FRONTEND_SERVICES: readonly FrontendService[] = [
    service("haproxy", [L.haproxyConfig]),
    service("varnish", [L.varnishVcl], [VARNISH_DROP_IN, VARNISH_DEFAULTS]),
    service("nginx", [
        `${L.nginxDir}/nginx.conf`,
        nginxSitePath(),
        `${nginxPloneDir()}/${NGINX_TLS_SERVERS}`,
        `${nginxPloneDir()}/${NGINX_TLS_SWITCH}`,
        `${L.nginxDir}/sites-enabled/default`,
    ]),
];

/** With tls mode certbot, after the nginx reload: gets the certificate (or retries later) and turns HTTPS on. */
export const TLS_ENABLE_COMMAND = tlsEnableScriptPath();
