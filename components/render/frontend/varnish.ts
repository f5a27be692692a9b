// Varnish on a front end: the VCL (4.1, Varnish 6.6+/7) and the files that give varnishd its
// listen addresses, admin port and storage, with systemd (a drop-in for varnish.service) and
// without it (/etc/default/varnish, read by Debian's /etc/init.d/varnish).
import type { HostPlan } from "../../topology";
import { PATHS } from "../../topology";
import { addressOf, RenderContext, RenderedFile } from "../context";
import { vclString } from "../encode";
import {
    appHostAddresses,
    scaledAppSubnets,
    assertFrontend,
    backendChainSeconds,
    DEFAULT_FRONTEND_LAYOUT,
    FrontendLayout,
    managedHeader,
    STICKY_COOKIE,
    unique,
} from "./layout";

/**
 * Cookies Plone needs, as regular expressions of their names (the login cookie __ac and those of
 * PAS plugins, __ac_<name>; Volto's auth_token; the session; the clipboard; status messages; the
 * language); every other cookie (analytics and the like) is removed before the lookup.
 */
const PLONE_COOKIES = ["__ac(_[A-Za-z0-9]+)?", "auth_token", "_ZopeId", "__cp", "statusmessages", "I18N_LANGUAGE"];

/** A request carrying one of these (after the allow-list) is personal and never uses the cache. */
const PASS_COOKIE_RE = `(^|;\\s*)(${PLONE_COOKIES.join("|")})=`;

export const VARNISH_DROP_IN = "/etc/systemd/system/varnish.service.d/plone-aws.conf";
export const VARNISH_DEFAULTS = "/etc/default/varnish";

/** Listen addresses of varnishd: loopback for nginx, the private IP for the Zope clients' PURGEs. */
export function varnishListenAddresses(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string[] {
    return unique(["127.0.0.1", addressOf(frontend.name, ctx.addresses)]).map((a) => `${a}:${layout.ports.varnish}`);
}

/** varnishd's arguments (without -F or -P, which the service manager adds). */
export function varnishdArgs(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string[] {
    assertFrontend(frontend);
    return [
        "-j",
        "unix,user=vcache",
        ...varnishListenAddresses(ctx, frontend, layout).flatMap((a) => ["-a", a]),
        "-T",
        `127.0.0.1:${layout.ports.varnishAdmin}`,
        "-f",
        layout.paths.varnishVcl,
        "-S",
        layout.paths.varnishSecret,
        "-s",
        ctx.spec.frontend.varnish.storage,
    ];
}

/** The subnets of the scaled app hosts (their addresses are unknown at \`pulumi up\`), as ACL entries. */
function scaledPurgers(ctx: RenderContext): string {
    const subnets = scaledAppSubnets(ctx);
    if (subnets.length === 0) return "";
    return [
        "",
        "    # The scaled app hosts (plone-aws:scaling): the subnets they launch into.",
        ...subnets.map((cidr) => {
            const [address, prefix] = cidr.split("/");
            return `    ${vclString(address)}/${Number(prefix)};`;
        }),
    ].join("\n");
}

export function renderVarnishVcl(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    assertFrontend(frontend);
    const { varnish } = ctx.spec.frontend;
    const sticky = ctx.spec.plone.stickySessions;
    const purgers = unique(["127.0.0.1", "::1", ...appHostAddresses(ctx)]);
    // haproxy's sticky-session cookie is kept too: it does not make a request personal.
    const keepCookies = `^(${[...PLONE_COOKIES, ...(sticky ? [STICKY_COOKIE] : [])].join("|")})$`;
    const firstByte = backendChainSeconds(ctx.spec) + 5;
    // Objects are kept for the longer of the two graces; req.grace shortens it while healthy.
    const objectGrace = Math.max(varnish.grace, varnish.graceSick);
    const health = PATHS.frontDoorHealth;

    return `${managedHeader(ctx, frontend, "Varnish VCL: the anonymous cache between nginx and haproxy.", "#")}
# Validate with: varnishd -C -f ${layout.paths.varnishVcl}
vcl 4.1;

import std;
import cookie;

# haproxy on this host. The probe asks haproxy's monitor URL, which fails when no Zope client is
# usable: varnish then serves stale objects for up to ${varnish.graceSick} s (grace while sick).
backend haproxy {
    .host = "127.0.0.1";
    .port = "${layout.ports.haproxy}";
    .connect_timeout = 5s;
    # haproxy may queue a request (timeout queue) before a client works on it (timeout server).
    .first_byte_timeout = ${firstByte}s;
    .between_bytes_timeout = 100s;
    .probe = {
        .request = "GET ${health} HTTP/1.1"
            "Host: localhost"
            "User-Agent: varnish-probe"
            "Connection: close";
        .timeout = 3s;
        .interval = 2s;
        .window = 5;
        .threshold = 3;
        # Start healthy: a VCL loaded by a reload must not answer 503 before its first probe.
        .initial = 3;
    }
}

# Who may PURGE and BAN: this host, and the private IPs of the plone_instances hosts (Plone's
# caching add-on purges from the Zope clients). Re-rendered when the app hosts change.
acl plone_purgers {
${purgers.map((a) => `    ${vclString(a)};`).join("\n")}${scaledPurgers(ctx)}
}

sub vcl_recv {
    set req.backend_hint = haproxy;

    # The front-door health URL: always asked of haproxy, never cached.
    if (req.url == "${health}") {
        return (pass);
    }

    # Requests that came through nginx carry X-Real-IP (nginx always sets it), and nginx connects
    # from 127.0.0.1, which is in the ACL: so PURGE and BAN count only on direct connections.
    if (req.method == "PURGE") {
        if (req.http.X-Real-IP || client.ip !~ plone_purgers) {
            return (synth(405, "PURGE not allowed from " + client.ip));
        }
        return (purge);
    }
    # BAN with "X-Ban-Url: <regex>" bans every cached URL matching it (ops varnish-purge).
    if (req.method == "BAN") {
        if (req.http.X-Real-IP || client.ip !~ plone_purgers) {
            return (synth(405, "BAN not allowed from " + client.ip));
        }
        if (!req.http.X-Ban-Url) {
            return (synth(400, "BAN needs an X-Ban-Url header"));
        }
        if (std.ban("obj.http.x-url ~ " + req.http.X-Ban-Url)) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }

    if (req.method != "GET" && req.method != "HEAD" && req.method != "POST" && req.method != "PUT" &&
        req.method != "DELETE" && req.method != "OPTIONS" && req.method != "PATCH" && req.method != "TRACE") {
        # Unknown methods (WebDAV and the like) go straight through.
        return (pipe);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }

    # nginx sends no Accept-Encoding; varnish asks the backend for gzip itself and unzips for
    # clients that cannot take it, so there is one object per URL.
    unset req.http.Accept-Encoding;

    # Cookie allow-list: Plone's own cookies${sticky ? " and haproxy's sticky-session cookie" : ""}; the rest are dropped.
    if (req.http.Cookie) {
        cookie.parse(req.http.Cookie);
        cookie.keep_re("${keepCookies}");
        set req.http.Cookie = regsub(cookie.get_string(), ";\\s*$", "");
        if (req.http.Cookie == "") {
            unset req.http.Cookie;
        }
    }

    # Authenticated or personal requests are never answered from, nor stored in, the cache:
    # Basic/Bearer Authorization, the login cookies, Volto's auth_token, a session, the clipboard,
    # a pending status message, a chosen language.
    if (req.http.Authorization || req.http.Cookie ~ "${PASS_COOKIE_RE}") {
        return (pass);
    }
    # Forms that must be fresh for everyone.
    if (req.url ~ "/(@@)?(login|login_form|require_login|logout|logged_out)([/?]|$)" || req.url ~ "/(createObject|@@captcha)") {
        return (pass);
    }

    # Stale objects: up to ${varnish.grace} s while the backend is healthy. The object's own grace
    # (${objectGrace} s) applies while it is sick, and on the retry after a failed fetch (vcl_synth).
    if (req.restarts == 0 && std.healthy(req.backend_hint)) {
        set req.grace = ${varnish.grace}s;
    }
    return (hash);
}

# The URL nginx sends already names the public scheme, host and port (/VirtualHostBase/...), so
# the Host header is left out of the hash: a PURGE from Plone, which sends its own Host header,
# then finds the object.
sub vcl_hash {
    hash_data(req.url);
    return (lookup);
}

sub vcl_pipe {
    set bereq.http.Connection = "close";
    return (pipe);
}

sub vcl_backend_response {
    # For bans the ban lurker can evaluate in the background (removed again in vcl_deliver).
    set beresp.http.x-url = bereq.url;

    if (beresp.status >= 500) {
        # Never cache an error. A background refresh that fails keeps the stale object.
        if (bereq.is_bgfetch) {
            return (abandon);
        }
        # No Zope client answered (haproxy's 503, a 502). Storing this answer would replace the
        # stale copy of the page, and the probe may not have noticed yet that the backend is sick:
        # give the fetch up instead, and vcl_synth retries the request once allowing any stale copy.
        # (haproxy's queue timeout is a 503 too: without a stale copy, such a request waits twice.)
        if ((beresp.status == 502 || beresp.status == 503) && !bereq.uncacheable) {
            return (abandon);
        }
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (bereq.uncacheable) {
        return (deliver);
    }
    if (beresp.http.Set-Cookie ||
        beresp.http.Cache-Control ~ "(?i)(private|no-cache|no-store)" ||
        beresp.http.Surrogate-Control ~ "(?i)no-store" ||
        beresp.http.Vary == "*") {
        # Personal or explicitly uncacheable: remember that for 120 s (hit-for-miss) so requests
        # for it go straight to the backend instead of waiting for each other.
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (!beresp.http.Cache-Control && !beresp.http.Expires && !beresp.http.Surrogate-Control) {
        # An anonymous response that says nothing about caching (the cookbook's default_ttl).
        set beresp.ttl = ${varnish.defaultTtl}s;
    }
    if (beresp.ttl <= 0s) {
        set beresp.ttl = 120s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    set beresp.grace = ${objectGrace}s;
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.x-url;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    # s-maxage and proxy-revalidate are meant for this cache, not for browsers or other proxies.
    if (resp.http.Cache-Control ~ "(?i)(s-maxage|proxy-revalidate)") {
        set resp.http.Cache-Control = regsuball(resp.http.Cache-Control, "(?i)(s-maxage\\s*=\\s*\\d+|proxy-revalidate)\\s*(,\\s*)?", "");
        set resp.http.Cache-Control = regsub(resp.http.Cache-Control, "\\s*,\\s*$", "");
        if (resp.http.Cache-Control ~ "^\\s*$") {
            unset resp.http.Cache-Control;
        }
    }
    return (deliver);
}

sub vcl_backend_error {
    # haproxy did not answer at all. As above: keep any stale copy, vcl_synth retries once.
    if (bereq.is_bgfetch || !bereq.uncacheable) {
        return (abandon);
    }
    set beresp.http.Content-Type = "text/html; charset=utf-8";
    set beresp.http.Retry-After = "5";
    set beresp.http.Cache-Control = "no-store";
    synthetic(${synthPage("The site is temporarily unavailable", "Please try again in a minute.")});
    return (deliver);
}

sub vcl_synth {
    # A fetch given up above: once more, now accepting a stale copy of any age within its grace.
    if (resp.status == 503 && req.restarts == 0 && (req.method == "GET" || req.method == "HEAD")) {
        return (restart);
    }
    set resp.http.Content-Type = "text/html; charset=utf-8";
    set resp.http.Cache-Control = "no-store";
    if (resp.status == 503) {
        set resp.http.Retry-After = "5";
    }
    synthetic(${synthPage('" + resp.status + " " + resp.reason + "', "")});
    return (deliver);
}
`;
}

/**
 * The command that bans every cached URL matching `urlRegex` (what `ops varnish-purge` runs for
 * each of frontend.varnish.purgeUrls), on the front end itself or from an app host (`host` = the
 * front end's private IP). The regex matches the URL varnish sees: /VirtualHostBase/<scheme>/...
 */
export function varnishBanCommand(urlRegex: string, host = "127.0.0.1", layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    if (/[\r\n]/.test(urlRegex)) throw new Error("a ban regex is one line");
    const quoted = `'X-Ban-Url: ${urlRegex.replace(/'/g, `'\\''`)}'`;
    return `curl -fsS -X BAN -H ${quoted} http://${host}:${layout.ports.varnish}/`;
}

/** A small synthetic page as a VCL long string ({" ... "}); title may splice VCL expressions in. */
function synthPage(title: string, text: string): string {
    const body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${text ? `<p>${text}</p>` : ""}</body></html>`;
    // Long strings end at "}: split the expression parts (between '" + ' and ' + "') out of them.
    const parts = body.split(/" \+ (.*?) \+ "/);
    return parts.map((p, i) => (i % 2 === 0 ? `{"${p}"}` : p)).join(" + ");
}

/** The files that give varnishd its parameters, for systemd and for the init script. */
export function renderVarnishServiceFiles(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): RenderedFile[] {
    const args = varnishdArgs(ctx, frontend, layout);
    const shellArgs = args.join(" ");
    const header = managedHeader(ctx, frontend, "varnishd parameters (listen addresses, admin port, storage).");
    const dropIn = `${header}
# A drop-in for Debian's varnish.service. Changing it needs systemctl daemon-reload and a restart
# (which empties the cache); a VCL change needs only a reload (varnishreload keeps the cache).
[Unit]
# The private address must exist before varnishd binds it.
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=
ExecStart=/usr/sbin/varnishd -F ${shellArgs}
`;
    const defaults = `${header}
# Read by /etc/init.d/varnish on hosts without systemd (systemd uses ${VARNISH_DROP_IN}).
NFILES=131072
# KiB of locked memory for the shared memory log (ulimit -l).
MEMLOCK=82000
DAEMON_OPTS="${shellArgs}"
`;
    return [
        { path: VARNISH_DROP_IN, content: dropIn, mode: "0644", owner: "root", group: "root" },
        { path: VARNISH_DEFAULTS, content: defaults, mode: "0644", owner: "root", group: "root" },
    ];
}
