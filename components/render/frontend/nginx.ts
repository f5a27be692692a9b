// nginx on a front end: the main nginx.conf, the Plone site (Zope virtual hosting, sub-sites,
// the health URL, the error page, TLS with certbot or behind the ALB) and the page shown when no
// backend answers.
//
// Server blocks of the site (port 80, and 443 when the host terminates TLS):
//   catch-all (default_server): requests for unknown host names, the ALB's health checks (which
//     send the target's IP as Host), stub_status for local monitoring. It serves the main site
//     under the configured domain, never under the Host header it was sent: a forged Host must
//     not end up in the URLs Plone generates (password-reset mails, cached pages).
//   main: frontend.domain and frontend.aliases, virtual-hosted under the name asked for.
//   one per sub-site: frontend.subsites host -> a path below the site.
//
// With volto hosts (the volto layer), the catch-all and main servers send Volto's pages to haproxy's
// Volto frontend, and only the REST API (/++api++) and volto.backendPaths to varnish and the backend.
// Sub-sites stay Classic UI: a Volto build serves one site, at the public URL its API path names.
import type { HostPlan } from "../../topology";
import { PATHS } from "../../topology";
import type { RenderContext } from "../context";
import { htmlText, UnencodableValueError } from "../encode";
import {
    assertFrontend,
    DEFAULT_FRONTEND_LAYOUT,
    FrontendLayout,
    indent,
    managedHeader,
    loadBalancerIdleTimeoutSeconds,
    nginxProxyTimeoutSeconds,
} from "./layout";

/** The site file: a regular file in sites-enabled (no symlink needed). */
export function nginxSitePath(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${layout.paths.nginxDir}/sites-enabled/plone.conf`;
}
/** plone-aws's own nginx directory: the TLS servers and the switch that turns them on. */
export function nginxPloneDir(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${layout.paths.nginxDir}/plone-aws`;
}
/** Where plone-tls-enable links the TLS files once the certificate exists. */
export function nginxTlsEnabledDir(layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    return `${nginxPloneDir(layout)}/tls-enabled`;
}
export const NGINX_TLS_SERVERS = "plone-tls.conf";
export const NGINX_TLS_SWITCH = "plone-tls.redirect";
export const ERROR_PAGE_FILE = "unavailable.html";
const ERROR_LOCATION = "/_plone_errors/";
const HSTS = "max-age=15768000";

/** Mozilla's "intermediate" TLS 1.2 ciphers (ECDHE only: no dhparam file needed); TLS 1.3 has its own. */
export const TLS_CIPHERS = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export const GZIP_TYPES = [
    "text/plain",
    "text/css",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/ld+json",
    "application/xml",
    "application/rss+xml",
    "application/atom+xml",
    "application/xhtml+xml",
    "image/svg+xml",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "font/ttf",
    "font/otf",
    "application/vnd.ms-fontobject",
];

/** How this front end receives its traffic. */
export interface NginxMode {
    /** Behind the ALB: X-Forwarded-Proto is trusted (only the ALB can reach port 80). */
    behindAlb: boolean;
    /** The ALB terminates TLS (acm): plain-HTTP requests are redirected, HSTS on HTTPS. */
    albTls: boolean;
    /** This host terminates TLS (certbot). */
    hostTls: boolean;
}

export function nginxMode(ctx: RenderContext): NginxMode {
    const behindAlb = ctx.topology.frontDoor.kind === "alb";
    const mode = ctx.spec.frontend.tls.mode;
    return { behindAlb, albTls: behindAlb && mode === "acm", hostTls: mode === "certbot" };
}

/** The names certbot asks a certificate for (wildcards need DNS validation: not with a webroot). */
export function certificateDomains(ctx: RenderContext): string[] {
    const f = ctx.spec.frontend;
    return [...new Set([f.domain, ...f.aliases, ...Object.keys(f.subsites)])].filter((d) => !d.startsWith("*."));
}

interface SiteServer {
    kind: "catch-all" | "main" | "subsite";
    names: string[];
    /** Host name in the virtual-hosting URL: $host, or the domain for the catch-all. */
    vhHost: string;
    /** Zope path of what this server publishes: /<siteId> or /<siteId>/<sub-path>. */
    zopePath: string;
    /** Operator text for this server's blocks, HTTP and TLS (raw keys: nginx -t validates it before it goes live). */
    raw: string[];
    /** Operator text for this server's TLS block only. */
    rawTls: string[];
    /** Volto renders its pages (the stack has volto hosts; not for sub-sites). */
    volto: boolean;
}

/** Whether the stack runs Volto: nginx then sends the pages that are not the backend's to haproxy's Volto frontend. */
function servesVolto(ctx: RenderContext): boolean {
    return ctx.topology.roles.voltoHosts.length > 0;
}

/**
 * The location regex of one of volto.backendPaths (quoted): paths that start with it. A regex, not a
 * prefix location, so that no prefix can collide with one of the server's own locations (nginx
 * refuses a duplicate), and those stay first: the exact ones (health, status) and the ^~ ones (the
 * error pages, ACME challenges) win over any regex, and the refusals (ZMI, virtual-hosting names)
 * come before these. The kind of the key admits letters, digits and @ + . _ ~ - /; each character
 * that is not a letter, digit or '/' is escaped for PCRE, and anything else is refused.
 */
export function backendPathRegex(prefix: string): string {
    if (!/^\/[A-Za-z0-9@+._~/-]*$/.test(prefix)) {
        throw new UnencodableValueError(`volto.backendPaths entry ${JSON.stringify(prefix)} is not a URL path prefix of letters, digits and @ + . _ ~ - /`);
    }
    return `"^${prefix.replace(/[^A-Za-z0-9/]/g, "\\$&")}"`;
}

function siteServers(ctx: RenderContext): SiteServer[] {
    const f = ctx.spec.frontend;
    const siteId = ctx.spec.plone.siteId;
    const rawFor = (names: string[]) => names.map((n) => f.rawSubsiteServer[n]).filter((t): t is string => !!t);
    const mainNames = [f.domain, ...f.aliases];
    const { rawDefaultServer, rawDefaultSslServer, rawServer, rawSslServer } = f.nginx;
    const servers: SiteServer[] = [
        {
            kind: "catch-all",
            names: ["_"],
            vhHost: f.domain,
            zopePath: `/${siteId}`,
            raw: [rawDefaultServer, rawServer],
            rawTls: [rawDefaultSslServer, rawSslServer],
            volto: servesVolto(ctx),
        },
        {
            kind: "main",
            names: mainNames,
            vhHost: "$host",
            zopePath: `/${siteId}`,
            raw: [rawDefaultServer, rawServer, ...rawFor(mainNames)],
            rawTls: [rawDefaultSslServer, rawSslServer],
            volto: servesVolto(ctx),
        },
    ];
    for (const [host, path] of Object.entries(f.subsites)) {
        servers.push({
            kind: "subsite",
            names: [host],
            vhHost: "$host",
            zopePath: `/${siteId}/${path.replace(/^\/+|\/+$/g, "")}`,
            raw: [rawServer, ...rawFor([host])],
            rawTls: [rawSslServer],
            volto: false,
        });
    }
    return servers;
}

function listen(layout: FrontendLayout, port: number, extra: string): string {
    const address = layout.nginxBind ? `${layout.nginxBind}:${port}` : `${port}`;
    return `listen ${address}${extra};`;
}

/** https://<host>[:port] for redirects. */
function httpsBase(host: string, port: number): string {
    return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/** The settings every site server shares. */
function commonServerSettings(ctx: RenderContext, mode: NginxMode, tls: boolean): string[] {
    const f = ctx.spec.frontend;
    const timeout = nginxProxyTimeoutSeconds(ctx.spec);
    const scheme = mode.behindAlb ? "$plone_scheme" : "$scheme";
    const lines = [`client_max_body_size ${f.nginx.clientMaxBodySize};`, "large_client_header_buffers 4 16k;"];
    if (mode.behindAlb) {
        const idle = loadBalancerIdleTimeoutSeconds(ctx.spec);
        lines.push(
            `# Longer than the ALB's idle timeout (${idle} s): the ALB, not nginx, closes idle connections,`,
            "# so it never sends a request on a connection nginx is closing (a 502).",
            `keepalive_timeout ${idle + 5}s;`,
        );
    }
    lines.push(
        "",
        "# PURGE and BAN come only from the Zope clients, straight to varnish, never from the internet.",
        "if ($request_method ~ ^(PURGE|BAN)$) {",
        "    return 405;",
        "}",
        "# No HTTP Basic auth on the public side (the ZMI is reached through an SSH tunnel to haproxy).",
        "# Bearer tokens (plone.restapi) pass.",
        'if ($http_authorization ~* "^\\s*basic\\s") {',
        "    return 403;",
        "}",
        "",
        "proxy_http_version 1.1;",
        ...proxyHeaders("$host", scheme),
        "proxy_connect_timeout 10s;",
        `proxy_send_timeout ${timeout}s;`,
        `proxy_read_timeout ${timeout}s;`,
        "proxy_buffer_size 32k;",
        "proxy_buffers 32 32k;",
        "proxy_busy_buffers_size 64k;",
        "",
        "# When no backend answers (nginx's own 502/504, haproxy's or varnish's 503): the static page.",
        "# Plone's own error pages (404, 500) pass through.",
        "proxy_intercept_errors on;",
        `error_page 502 503 504 ${ERROR_LOCATION}${ERROR_PAGE_FILE};`,
        "",
        ...responseHeaders(mode, tls),
    );
    return lines;
}

/** The request headers of every proxied request; repeated whole in a location that sets one of its own (nginx then inherits none). */
function proxyHeaders(host: string, scheme: string, comments = true): string[] {
    return [
        'proxy_set_header Connection "";',
        `proxy_set_header Host ${host};`,
        ...(comments ? ["# Also tells varnish the request came through nginx (PURGE/BAN are refused then)."] : []),
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        `proxy_set_header X-Forwarded-Proto ${scheme};`,
        ...(comments ? ["# nginx compresses; varnish keeps one object per URL."] : []),
        'proxy_set_header Accept-Encoding "";',
    ];
}

/** add_header lines of a server; repeated in locations that add headers of their own. */
function responseHeaders(mode: NginxMode, tls: boolean): string[] {
    const lines = ["# Fonts used from a sub-site's host name need CORS.", "add_header Access-Control-Allow-Origin $plone_font_cors;"];
    if (tls) lines.push(`add_header Strict-Transport-Security "${HSTS}" always;`);
    else if (mode.albTls) lines.push("add_header Strict-Transport-Security $plone_hsts always;");
    return lines;
}

function siteLocations(ctx: RenderContext, layout: FrontendLayout, mode: NginxMode, server: SiteServer, opts: { tls: boolean; redirect?: string }): string[] {
    const f = ctx.spec.frontend;
    const scheme = opts.tls ? "https" : mode.behindAlb ? "$plone_scheme" : "$scheme";
    const port = opts.tls ? "$server_port" : mode.behindAlb ? "$plone_port" : "$server_port";
    const vhm = `/VirtualHostBase/${scheme}/${server.vhHost}:${port}${server.zopePath}/VirtualHostRoot/$1`;
    const lines: string[] = [];
    if (mode.hostTls && !opts.tls) {
        lines.push(
            "# Let's Encrypt HTTP-01 challenges (issuance and renewals): never redirected, never proxied.",
            "location ^~ /.well-known/acme-challenge/ {",
            `    root ${layout.paths.acmeWebroot};`,
            "    default_type text/plain;",
            "    try_files $uri =404;",
            "}",
        );
    }
    if (server.volto) {
        lines.push(
            "# Front-door health (the ALB's target health check): 200 while this front end can serve the",
            "# site, else 503. haproxy's Volto frontend answers it: a usable Volto process, and the REST API",
            "# answering through varnish and haproxy (a usable Zope client); so it fails when any daemon of",
            "# either chain is down.",
            `location = ${PATHS.frontDoorHealth} {`,
            "    access_log off;",
            "    proxy_intercept_errors off;",
            "    proxy_pass http://plone_volto;",
            "}",
        );
    } else {
        lines.push(
            "# Front-door health (the ALB's target health check): 200 while haproxy has a usable Zope",
            "# client, else 503. Through varnish (which passes it) to haproxy's monitor URL, so it fails",
            "# when any daemon of the chain is down.",
            `location = ${PATHS.frontDoorHealth} {`,
            "    access_log off;",
            "    proxy_intercept_errors off;",
            "    proxy_pass http://plone_varnish;",
            "}",
        );
    }
    if (server.kind === "catch-all" && !opts.tls) {
        lines.push("location = /nginx_status {", "    stub_status;", "    access_log off;", "    allow 127.0.0.1;", "    allow ::1;", "    deny all;", "}");
    }
    lines.push(
        "# The ZMI (manage, manage_*) is not published; operators use an SSH tunnel to haproxy.",
        'location ~ "(^|/)manage(_|/|$)" {',
        "    return 403;",
        "}",
        "# Virtual-hosting names are nginx's to write, not the visitor's.",
        'location ~ "(^|/)(VirtualHostBase|VirtualHostRoot|_vh_)" {',
        "    return 403;",
        "}",
        `location ^~ ${ERROR_LOCATION} {`,
        "    internal;",
        `    alias ${layout.paths.errorPages}/;`,
        '    add_header Cache-Control "no-store" always;',
        "    add_header Retry-After 30 always;",
        ...responseHeaders(mode, opts.tls).map((l) => `    ${l}`),
        "}",
    );
    const redirect = opts.redirect ? ["    if ($plone_https_redirect) {", `        return 301 ${opts.redirect}$request_uri;`, "    }"] : [];
    const classic = [`    rewrite ^/(.*)$ ${vhm} break;`, "    proxy_pass http://plone_varnish;", ...(f.nginx.enableSsi ? ["    ssi on;"] : [])];
    if (!server.volto) {
        lines.push("location / {", ...redirect, ...classic, "}");
        return lines;
    }
    // Volto's documented rewrite: the API's URLs are the site's own, below /++api++.
    const api = `/VirtualHostBase/${scheme}/${server.vhHost}:${port}${server.zopePath}/++api++/VirtualHostRoot/$1`;
    lines.push(
        "# The REST API (/++api++ and below): to the backend through varnish, virtual-hosted so that the",
        "# URLs Plone writes are the site's own, below /++api++.",
        "location ~ ^/\\+\\+api\\+\\+(/|$) {",
        ...redirect,
        `    rewrite ^/\\+\\+api\\+\\+/?(.*)$ ${api} break;`,
        "    proxy_pass http://plone_varnish;",
        "}",
    );
    const prefixes = [...new Set(ctx.spec.volto.backendPaths)];
    if (prefixes.length > 0) {
        lines.push("# volto.backendPaths: Classic views and resources the backend serves under the site, through varnish.");
        for (const prefix of prefixes) lines.push(`location ~ ${backendPathRegex(prefix)} {`, ...redirect, ...classic, "}");
    }
    lines.push(
        "# Every other page: Volto's server-side rendering, through haproxy (which balances the Volto",
        "# processes of every volto host). Not through varnish, whose rules are the backend's.",
        "location / {",
        ...redirect,
    );
    if (server.kind === "catch-all") {
        lines.push(
            "    # Volto builds its links from Host and X-Forwarded-Proto: this server answers for any name, so",
            "    # Volto hears the site's. (A location that sets one request header must set them all.)",
            ...proxyHeaders(server.vhHost, mode.behindAlb ? "$plone_scheme" : "$scheme", false).map((l) => `    ${l}`),
        );
    }
    lines.push("    proxy_pass http://plone_volto;", "}");
    return lines;
}

function rawBlock(texts: string[]): string[] {
    const present = texts.map((t) => t.trim()).filter((t) => t !== "");
    if (present.length === 0) return [];
    return ["", "# --- from the stack configuration (frontend.nginx.raw* / frontend.rawSubsiteServer) ---", ...present.flatMap((t) => t.split("\n"))];
}

function serverBlock(comment: string, body: string[]): string {
    return [`# ${comment}`, "server {", indent(body.join("\n"), "    "), "}"].join("\n");
}

function httpServer(ctx: RenderContext, layout: FrontendLayout, mode: NginxMode, server: SiteServer): string {
    const f = ctx.spec.frontend;
    const body: string[] = [
        listen(layout, layout.ports.http, server.kind === "catch-all" ? " default_server" : ""),
        `server_name ${server.names.join(" ")};`,
        ...commonServerSettings(ctx, mode, false),
    ];
    let redirect: string | undefined;
    if (mode.hostTls) {
        body.push(
            "",
            "# HTTPS is switched on by plone-tls-enable once the certificate exists (it links the file",
            "# that sets this to 1); until then the site is served over HTTP.",
            'set $plone_https_redirect "";',
            `include ${nginxTlsEnabledDir(layout)}/*.redirect;`,
        );
        redirect = httpsBase(server.kind === "catch-all" ? f.domain : "$host", layout.ports.https);
    } else if (mode.albTls) {
        redirect = server.kind === "catch-all" ? `https://${f.domain}` : "https://$host";
    }
    body.push("", ...siteLocations(ctx, layout, mode, server, { tls: false, redirect }), ...rawBlock(server.raw));
    const what =
        server.kind === "catch-all"
            ? "Any other host name (and the ALB's health checks)"
            : server.kind === "main"
              ? "The site"
              : `Sub-site ${server.names[0]} -> ${server.zopePath}`;
    return serverBlock(`${what}, HTTP.`, body);
}

function tlsServer(ctx: RenderContext, layout: FrontendLayout, mode: NginxMode, server: SiteServer): string {
    const f = ctx.spec.frontend;
    const live = `${layout.paths.letsencryptLive}/${f.domain}`;
    const body: string[] = [
        listen(layout, layout.ports.https, ` ssl http2${server.kind === "catch-all" ? " default_server" : ""}`),
        `server_name ${server.names.join(" ")};`,
        `ssl_certificate ${live}/fullchain.pem;`,
        `ssl_certificate_key ${live}/privkey.pem;`,
        "ssl_protocols TLSv1.2 TLSv1.3;",
        `ssl_ciphers ${TLS_CIPHERS};`,
        "ssl_prefer_server_ciphers off;",
        "ssl_session_timeout 1d;",
        "ssl_session_cache shared:PloneTLS:10m;",
        "ssl_session_tickets off;",
        ...commonServerSettings(ctx, mode, true),
        "",
        ...siteLocations(ctx, layout, mode, server, { tls: true }),
        ...rawBlock([...server.raw, ...server.rawTls]),
    ];
    const what =
        server.kind === "catch-all" ? "Any other host name" : server.kind === "main" ? "The site" : `Sub-site ${server.names[0]} -> ${server.zopePath}`;
    return serverBlock(`${what}, HTTPS.`, body);
}

export function renderNginxSite(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    assertFrontend(frontend);
    const f = ctx.spec.frontend;
    const mode = nginxMode(ctx);
    const http: string[] = [
        managedHeader(
            ctx,
            frontend,
            servesVolto(ctx)
                ? `nginx site: ${f.domain} -> haproxy -> Volto; /++api++ -> varnish -> haproxy -> Zope.`
                : `nginx site: ${f.domain} -> varnish -> haproxy -> Zope.`,
        ),
        "",
        "upstream plone_varnish {",
        `    server 127.0.0.1:${layout.ports.varnish};`,
        "    keepalive 32;",
        "    # Shorter than varnish's timeout_idle (5 s): nginx drops an idle connection before varnish does.",
        "    keepalive_timeout 3s;",
        "}",
        "",
    ];
    if (servesVolto(ctx)) {
        http.push(
            "# haproxy's Volto frontend: it balances the Volto processes of every volto host.",
            "upstream plone_volto {",
            `    server 127.0.0.1:${layout.ports.haproxyVolto};`,
            "    keepalive 32;",
            "    # haproxy keeps an idle connection 75 s: nginx drops it first.",
            "    keepalive_timeout 3s;",
            "}",
            "",
        );
    }
    if (mode.behindAlb) {
        http.push(
            "# Behind the ALB, which alone can reach port 80 (security group): its X-Forwarded-Proto says",
            "# whether the visitor used HTTPS. Requests without it (the ALB's health checks) are plain HTTP.",
            "map $http_x_forwarded_proto $plone_scheme {",
            "    default $scheme;",
            "    https https;",
            "    http http;",
            "}",
            "map $http_x_forwarded_proto $plone_port {",
            "    default $server_port;",
            "    https 443;",
            "    http 80;",
            "}",
        );
        if (mode.albTls) {
            http.push(
                "map $http_x_forwarded_proto $plone_https_redirect {",
                '    default "";',
                "    http 1;",
                "}",
                "map $http_x_forwarded_proto $plone_hsts {",
                '    default "";',
                `    https "${HSTS}";`,
                "}",
            );
        }
        http.push(
            "# Log the visitor's address, not the ALB's.",
            `set_real_ip_from ${ctx.topology.vpcCidr};`,
            "real_ip_header X-Forwarded-For;",
            "real_ip_recursive on;",
        );
    } else {
        http.push("# On its own public address: X-Forwarded-Proto is not trusted; the scheme and port are nginx's own.");
    }
    http.push("map $uri $plone_font_cors {", '    default "";', '    "~*\\.(eot|otf|ttf|woff2?)$" "*";', "}", "");
    const servers = siteServers(ctx);
    const blocks = servers.map((s) => httpServer(ctx, layout, mode, s));
    if (mode.hostTls) {
        blocks.push(
            [
                "# The HTTPS servers (plone-tls.conf), once plone-tls-enable has the certificate and links them.",
                `include ${nginxTlsEnabledDir(layout)}/*.conf;`,
            ].join("\n"),
        );
    }
    const additional = f.nginx.rawHttp.trim();
    if (additional) blocks.push(["# --- frontend.nginx.rawHttp ---", additional].join("\n"));
    return http.join("\n") + "\n" + blocks.join("\n\n") + "\n";
}

/** The HTTPS server blocks (tls mode certbot), linked into tls-enabled once the certificate exists. */
export function renderNginxTlsServers(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    assertFrontend(frontend);
    const mode = nginxMode(ctx);
    if (!mode.hostTls) throw new Error("the host terminates TLS only with frontend.tls.mode certbot");
    const header = managedHeader(ctx, frontend, `nginx HTTPS servers for ${ctx.spec.frontend.domain} (certificate from Let's Encrypt).`);
    return [header, ...siteServers(ctx).map((s) => tlsServer(ctx, layout, mode, s))].join("\n\n") + "\n";
}

/** The switch plone-tls-enable links next to the TLS servers: port 80 then redirects to HTTPS. */
export function renderNginxTlsSwitch(): string {
    return "# Linked by plone-tls-enable once the certificate exists: plain HTTP redirects to HTTPS.\nset $plone_https_redirect 1;\n";
}

/** /etc/nginx/nginx.conf: workers, connection limits, TLS and gzip defaults, logs. */
export function renderNginxMainConf(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    assertFrontend(frontend);
    const { nginx } = ctx.spec.frontend;
    const dir = layout.paths.nginxDir;
    const logs = layout.paths.nginxLogDir;
    return `${managedHeader(ctx, frontend, "nginx main configuration.")}
user www-data;
worker_processes ${nginx.workerProcesses};
# Each proxied request holds two connections (visitor and varnish).
worker_rlimit_nofile 65536;
pid ${layout.paths.nginxPidFile};
error_log ${logs}/error.log;
include ${dir}/modules-enabled/*.conf;

events {
    worker_connections 8192;
}

http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    server_tokens off;
    server_names_hash_bucket_size 128;

    include ${dir}/mime.types;
    default_type application/octet-stream;

    # Debian's default still allows TLS 1.0 and 1.1.
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ${TLS_CIPHERS};
    ssl_prefer_server_ciphers off;

    log_format plone '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
                     '"$http_referer" "$http_user_agent" rt=$request_time urt=$upstream_response_time';
    access_log ${logs}/access.log plone;

    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_comp_level 5;
    gzip_min_length 1024;
    gzip_types ${GZIP_TYPES.join(" ")};

    include ${dir}/conf.d/*.conf;
    include ${dir}/sites-enabled/*;
}
`;
}

/** The page nginx shows when no Zope client answers: self-contained, no external assets. */
export function renderErrorPage(ctx: RenderContext): string {
    const domain = htmlText(ctx.spec.frontend.domain);
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${domain} is temporarily unavailable</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; background: #f5f6f7; color: #222; }
main { max-width: 36rem; margin: 15vh auto; padding: 2rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.1); }
h1 { font-size: 1.5rem; margin-top: 0; }
</style>
</head>
<body>
<main>
<h1>${domain} is temporarily unavailable</h1>
<p>The site is being updated or is under heavy load. Please try again in a minute.</p>
</main>
</body>
</html>
`;
}
