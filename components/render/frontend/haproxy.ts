// haproxy.cfg of a front end (HAProxy 2.4+; Debian 12 ships 2.6): one backend server per Zope
// client on every plone_instances host, Plone's queueing model (maxconn = threads), health checks,
// the agent check the app hosts use to take a client out of rotation, stats, and the front-door
// health URL.
import { HAPROXY_AGENT_INTERVAL_SECONDS } from "../../topology/ports";
import type { HostPlan } from "../../topology";
import { addressOf, RenderContext } from "../context";
import {
    assertFrontend,
    backendServers,
    DEFAULT_FRONTEND_LAYOUT,
    formatDuration,
    FrontendLayout,
    HAPROXY_BACKEND,
    HAPROXY_VOLTO,
    managedHeader,
    serverTemplates,
    type ServerTemplate,
    STICKY_COOKIE,
    unique,
    voltoServers,
} from "./layout";
import { haproxyServesVoltoHosts, PATHS } from "../../topology";
import type { StackSpec } from "../../config/spec";
import { haproxyWord } from "../encode";

/** The agent-check settings of every server line; the app host's agent answers ready/drain/maint. */
export function agentCheck(layout: FrontendLayout, client: string): string {
    return `agent-check agent-port ${layout.ports.haproxyAgent} agent-inter ${HAPROXY_AGENT_INTERVAL_SECONDS}s agent-send "${client}\\n"`;
}

/**
 * The health-check intervals of every server, in ms. As the cookbook derived them: checks ten
 * times as often while a server changes state, twice as often while it is down (it comes back
 * quickly after a restart).
 */
export function haproxyCheckIntervals(spec: Pick<StackSpec, "frontend">): { inter: number; fastinter: number; downinter: number } {
    const inter = spec.frontend.haproxy.checkInterval;
    return { inter, fastinter: Math.max(1000, Math.round(inter / 10)), downinter: Math.max(1000, Math.round(inter / 2)) };
}

/** The name of haproxy's resolvers section (the VPC's DNS). */
export const RESOLVERS = "vpc";

export function renderHaproxyConfig(ctx: RenderContext, frontend: HostPlan, layout: FrontendLayout = DEFAULT_FRONTEND_LAYOUT): string {
    assertFrontend(frontend);
    const { haproxy } = ctx.spec.frontend;
    const { plone } = ctx.spec;
    const { ports, paths } = layout;
    const servers = backendServers(ctx);
    if (servers.length === 0) throw new Error("no Zope clients: the stack has no plone_instances host with clients");
    const privateIp = addressOf(frontend.name, ctx.addresses);
    const volto = voltoServers(ctx);

    const { inter, fastinter, downinter } = haproxyCheckIntervals(ctx.spec);
    const cookie = plone.stickySessions;
    const templates = serverTemplates(ctx);
    const clientTemplates = serverTemplates(ctx, "client");
    const resolver = layout.dnsResolver ?? ctx.topology.discovery?.resolver;
    if (templates.length > 0 && !resolver) throw new Error("scaled groups need topology.discovery: the resolver of their SRV records");

    const lines: string[] = [];
    const add = (...l: string[]) => lines.push(...l);
    add(
        managedHeader(
            ctx,
            frontend,
            volto.length > 0
                ? "haproxy: balances the Zope clients of every app host for varnish, and Volto's processes for nginx."
                : "haproxy: balances the Zope clients of every app host for varnish.",
        ),
        "# It holds the statistics password: mode 0640, root:haproxy.",
        "",
        "global",
        `    log ${paths.syslogSocket} local0`,
        `    chroot ${paths.haproxyChroot}`,
        "    user haproxy",
        "    group haproxy",
        "    daemon",
        `    maxconn ${haproxy.maxConnections}`,
        "    # haproxy raises its file limit to what maxconn needs; where the hard limit is lower (hosts",
        "    # without systemd), start anyway with a warning instead of not at all.",
        "    no strict-limits",
        "    # The runtime API for operators (socat stdio unix-connect:<socket>): show stat, show servers",
        "    # state, show info. expose-fd lets a reload hand the listening sockets over without a gap.",
        `    stats socket ${paths.haproxySocket} mode 660 level admin expose-fd listeners`,
        "    stats timeout 30s",
        "    # plone-frontend-service saves the servers' states here before every reload and the new",
        "    # process starts from them, so a reload neither revives a client that is down nor forgets",
        "    # one the agent took out of rotation.",
        `    server-state-file ${paths.haproxyStateFile}`,
        "    # An old process still finishing long requests after a reload is stopped after this.",
        "    hard-stop-after 30m",
        "",
        "defaults",
        "    log global",
        "    mode http",
        `    maxconn ${haproxy.maxConnections}`,
        `    timeout connect ${haproxy.connectTimeout}`,
        `    timeout client ${haproxy.clientTimeout}`,
        `    timeout server ${haproxy.serverTimeout}`,
        "    # Requests wait here, not inside a busy Zope, until a client has a free thread.",
        `    timeout queue ${haproxy.queueTimeout}`,
        `    timeout http-request ${haproxy.httpRequestTimeout}`,
        "    # Longer than varnish's backend_idle_timeout (60 s), so varnish closes idle connections first",
        "    # and never sends a request on one haproxy is closing.",
        "    timeout http-keep-alive 75s",
        "    load-server-state-from-file global",
        "",
        ...(templates.length > 0 && resolver
            ? [
                  "# The scaled app hosts (plone-aws:scaling) register their clients in AWS Cloud Map, which",
                  "# answers their SRV records through the VPC's resolver: haproxy fills and empties the",
                  "# server-template slots below from them at run time, without a reload or a new file.",
                  `resolvers ${RESOLVERS}`,
                  `    nameserver vpc ${resolver.address}:${resolver.port}`,
                  "    accepted_payload_size 8192",
                  "    resolve_retries 3",
                  "    timeout resolve 1s",
                  "    timeout retry 1s",
                  "    # A record that is gone frees its slot after 10 s; a failed lookup keeps the last answer.",
                  "    hold valid 10s",
                  "    hold obsolete 10s",
                  "    hold nx 10s",
                  "    hold other 30s",
                  "    hold refused 30s",
                  "    hold timeout 30s",
                  "",
              ]
            : []),
        `frontend ${HAPROXY_BACKEND}`,
        ...apiBinds(ctx, privateIp, layout),
        ...(volto.length > 0
            ? [
                  "    # The REST API's health URL (varnish's probe; the Volto frontend's, through varnish):",
                  "    # 200 while at least one Zope client is usable, 503 when none is.",
              ]
            : [
                  "    # The front-door health URL (the ALB's check, varnish's probe, nginx's health location):",
                  "    # 200 while at least one Zope client is usable, 503 when none is.",
              ]),
        `    monitor-uri ${PATHS.frontDoorHealth}`,
        `    monitor fail if { nbsrv(${HAPROXY_BACKEND}) lt 1 }`,
        "    option httplog",
        "    option dontlognull",
        "    option forwardfor if-none",
        `    default_backend ${HAPROXY_BACKEND}`,
        "",
        `backend ${HAPROXY_BACKEND}`,
        `    balance ${haproxy.balance}`,
        "    # A request whose connection to a client fails is sent to another one (connection failures",
        "    # only: a request a client has started is never replayed).",
        "    option redispatch",
        `    retries ${haproxy.retries}`,
        "    # Drop queued requests whose visitor has gone away instead of making Zope render them.",
        "    option abortonclose",
        "    # One connection per request to the clients, closed after the response: the app host's",
        "    # rolling restart counts the established connections on a drained client's port and",
        "    # restarts it at zero, and that count is only the in-flight requests without idle reuse.",
        "    option http-server-close",
        "    http-reuse never",
        "    # Health check on Plone's ok view at the Zope root. It is registered for every context, so",
        "    # it answers before the site exists, needs no site traversal or catalog, does not depend",
        "    # on the site id, and sends no-cache headers. Each check still takes a Zope thread, hence",
        "    # the long interval; observe layer7 catches a failing client between checks.",
        "    option httpchk",
        `    http-check send meth GET uri ${plone.healthCheckPath} ver HTTP/1.1 hdr Host localhost hdr User-Agent haproxy-check`,
        "    http-check expect status 200",
    );
    if (cookie) {
        add(
            "    # Sticky sessions: the cookie names the server (unique across hosts). postonly: it is set",
            "    # only on responses to POST (a login, a form), so cacheable anonymous pages never carry a",
            "    # Set-Cookie and varnish can still cache them; indirect: Zope never sees it.",
            `    cookie ${STICKY_COOKIE} insert indirect postonly httponly${clientTemplates.length > 0 ? " dynamic" : ""}`,
            // The slots of the scaled clients get a cookie from their address and this key.
            ...(clientTemplates.length > 0 ? [`    dynamic-cookie-key ${haproxyWord(ctx.spec.stackName, "the stack name")}`] : []),
        );
    }
    add(
        `    default-server check inter ${formatDuration(inter)} fastinter ${formatDuration(fastinter)} downinter ${formatDuration(downinter)} rise ${haproxy.rise} fall ${haproxy.fall} slowstart ${haproxy.slowstart} observe layer7 error-limit 10 on-error fastinter`,
        "    # Errors seen in live traffic only speed up the health checks (fastinter): a page that fails",
        "    # on every client (a crawler on a broken page) must not mark them all down; /ok decides.",
        `    # maxconn = the client's threads (plone.zserverThreads): Zope accepts connections even when`,
        "    # every thread is busy, so haproxy queues the excess and hands it to the first free client.",
        '    # Taking a client out of rotation: the agent on its app host answers "drain" or "maint"',
        '    # (the rolling restart writes <runtime dir>/rotation/<client>) and "ready" otherwise. An',
        "    # agent check rather than the runtime API, because every front end asks the app host",
        "    # itself: one file on the app host drains the client on all front ends at once, including",
        "    # one that is added or reloaded meanwhile, and the app host needs no access to the front",
        "    # ends' admin sockets. The agent re-asserts its answer every 2 s, so a state set through the",
        "    # runtime API on these servers lasts only until the next agent check: use the rotation file.",
        "    # An agent that does not answer changes nothing (the health check decides up and down).",
    );
    for (const s of servers) {
        add(`    server ${s.name} ${s.address}:${s.port} maxconn ${plone.zserverThreads}${cookie ? ` cookie ${s.name}` : ""} ${agentCheck(layout, s.client)}`);
    }
    for (const t of clientTemplates) add(...serverTemplateLines(t, plone.zserverThreads, layout));
    if (volto.length > 0) add("", ...voltoSections(ctx, layout));
    add(
        "",
        "listen stats",
        "    # On the private address only; the security group admits the admin sources (or the bastion).",
        `    bind ${privateIp}:${ports.haproxyStats}`,
        "    stats enable",
        "    stats uri /",
        "    stats refresh 10s",
        "    stats show-legends",
        `    stats auth ${haproxyWord(`${haproxy.statsUser}:${ctx.secrets.haproxyStatsPassword}`, "the statistics user and password")}`,
        "    no log",
        "",
    );
    return lines.join("\n");
}

/** The slots of one process index of a scaled group, filled from its SRV records at run time. */
function serverTemplateLines(t: ServerTemplate, maxconn: number, layout: FrontendLayout): string[] {
    return [
        `    # ${t.process} of every instance of the scaled group: slots filled from ${t.srvName} (SRV), empty until an instance registers.`,
        `    server-template ${t.prefix} ${t.slots} ${t.srvName} resolvers ${RESOLVERS} resolve-prefer ipv4 init-addr none maxconn ${maxconn} ${agentCheck(layout, t.process)}`,
    ];
}

/**
 * Connections haproxy sends to one Volto process at a time. Node renders one page at a time on its
 * core, but a render mostly waits on the REST API, so a few in flight keep the core busy; more would
 * only queue inside Node, where haproxy can neither hand them to an idle process nor retry them on
 * another one when the process stops. The excess waits in haproxy's queue (timeout queue).
 */
export const VOLTO_MAXCONN = 8;

/** The backend whose one server is this front end's varnish, checked with the front-door health URL: the REST API path nginx uses. */
export const HAPROXY_API_CHAIN = "api_chain";

/** The bind lines of the REST API frontend (varnish's backend), and the private address when volto hosts elsewhere need it. */
function apiBinds(ctx: RenderContext, privateIp: string, layout: FrontendLayout): string[] {
    const port = layout.ports.haproxy;
    if (!haproxyServesVoltoHosts(ctx.topology)) {
        return ["    # Varnish is the only client; operators reach Zope (and the ZMI) through an SSH tunnel to this port.", `    bind 127.0.0.1:${port}`];
    }
    return [
        "    # Varnish, and the Volto processes of the volto hosts that are not front ends: their server-side",
        "    # rendering fetches the REST API here (Volto's internal API path), on the private address, which",
        "    # the security group opens to the volto hosts only. Operators reach Zope (and the ZMI) through an",
        "    # SSH tunnel to this port.",
        ...unique(["127.0.0.1", privateIp]).map((a) => `    bind ${a}:${port}`),
    ];
}

/**
 * The Volto frontend and backend (stacks with volto hosts): nginx sends every page that is not the
 * backend's to 127.0.0.1:<haproxyVolto>; haproxy balances it over every Volto process of every volto
 * host, with the health check, the agent check of the rolling restart, and retries on another
 * process when one stops, so that a drained or restarting process drops no request.
 */
function voltoSections(ctx: RenderContext, layout: FrontendLayout): string[] {
    const { haproxy } = ctx.spec.frontend;
    const { volto } = ctx.spec;
    const { ports } = layout;
    const { inter, fastinter, downinter } = haproxyCheckIntervals(ctx.spec);
    const check = (path: string) =>
        `    http-check send meth GET uri ${haproxyWord(path, "the health check path")} ver HTTP/1.1 hdr Host localhost hdr User-Agent haproxy-check`;
    return [
        `frontend ${HAPROXY_VOLTO}`,
        "    # nginx is the only client: every request that is neither the REST API nor one of volto.backendPaths.",
        `    bind 127.0.0.1:${ports.haproxyVolto}`,
        "    # The front-door health URL with Volto (nginx's health location, the ALB's check): 200 while this",
        "    # front end can serve the site, that is while a Volto process is usable and the REST API answers",
        `    # through varnish (backend ${HAPROXY_API_CHAIN}: varnish -> haproxy -> a usable Zope client); 503 otherwise.`,
        `    monitor-uri ${PATHS.frontDoorHealth}`,
        `    monitor fail if { nbsrv(${HAPROXY_VOLTO}) lt 1 } || { nbsrv(${HAPROXY_API_CHAIN}) lt 1 }`,
        "    option httplog",
        "    option dontlognull",
        "    option forwardfor if-none",
        `    default_backend ${HAPROXY_VOLTO}`,
        "",
        `backend ${HAPROXY_VOLTO}`,
        `    balance ${haproxy.balance}`,
        "    # Server-side rendering holds no session: a request may go to any process. A connection that",
        "    # fails goes to another process at once (redispatch on every retry), and so does a GET or HEAD",
        "    # whose process closed the connection without answering (one stopped mid-request): nothing a",
        "    # restart or a crash interrupts reaches the visitor as an error. Other methods are not replayed.",
        "    option redispatch 1",
        `    retries ${haproxy.retries}`,
        "    retry-on conn-failure empty-response",
        "    http-request disable-l7-retry unless METH_GET",
        "    option abortonclose",
        "    # One connection per request, closed after the response, as for the Zope clients: the volto",
        "    # host's rolling restart counts the established connections on a drained process's port.",
        "    option http-server-close",
        "    http-reuse never",
        "    # Volto's health view (volto.healthPath) answers without the backend: a process is judged on itself.",
        "    option httpchk",
        check(volto.healthPath),
        "    http-check expect status 200",
        `    default-server check inter ${formatDuration(inter)} fastinter ${formatDuration(fastinter)} downinter ${formatDuration(downinter)} rise ${haproxy.rise} fall ${haproxy.fall} slowstart ${haproxy.slowstart} observe layer4 error-limit 1 on-error mark-down`,
        "    # A refused connection means the process is gone (stopped, crashed): it is marked down at once",
        "    # instead of at the next health check, and the health check brings it back.",
        `    # maxconn ${VOLTO_MAXCONN}: Node renders one page at a time; the excess waits in haproxy's queue.`,
        '    # Out of rotation: the agent on the volto host answers "drain" or "maint" for voltoN while',
        "    # <runtime dir>/rotation/voltoN exists (the rolling restart writes it), as for the Zope clients.",
        ...voltoServers(ctx).map((s) => `    server ${s.name} ${s.address}:${s.port} maxconn ${VOLTO_MAXCONN} ${agentCheck(layout, s.process)}`),
        ...serverTemplates(ctx, "volto").flatMap((t) => serverTemplateLines(t, VOLTO_MAXCONN, layout)),
        "",
        `backend ${HAPROXY_API_CHAIN}`,
        "    # No traffic: its one server is this front end's varnish, asked for the front-door health URL, which",
        "    # varnish passes to haproxy's monitor (a usable Zope client). The Volto frontend's monitor reads it.",
        "    option httpchk",
        check(PATHS.frontDoorHealth),
        "    http-check expect status 200",
        `    server varnish 127.0.0.1:${ports.varnish} check inter 2s fall 2 rise 1`,
    ];
}
