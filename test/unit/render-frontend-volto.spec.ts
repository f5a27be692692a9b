// The front end's files in stacks with volto hosts: haproxy's Volto frontend and backend, nginx's
// routing (Volto, /++api++, volto.backendPaths), and nothing of it in stacks without volto hosts.
import { expect } from "chai";
import { renderFrontendFiles } from "../../components/render/frontend";
import { renderHaproxyConfig, VOLTO_MAXCONN } from "../../components/render/frontend/haproxy";
import { voltoServers } from "../../components/render/frontend/layout";
import { backendPathRegex, renderNginxSite, renderNginxTlsServers } from "../../components/render/frontend/nginx";
import { UnencodableValueError } from "../../components/render/encode";
import type { RenderContext } from "../../components/render/context";
import { PATHS, PORTS } from "../../components/topology";
import { block, firstFrontend, frontendsOf, linesMatching, repoContext, serverBlocks } from "../helpers/frontend";
import { VOLTO_BACKEND_PATHS, voltoHostsContext, voltoOnFrontendContext } from "../helpers/voltoStack";

const section = (cfg: string, header: string) => {
    const lines = cfg.split("\n");
    const start = lines.indexOf(header);
    if (start < 0) throw new Error(`no section ${header}`);
    const end = lines.findIndex((l, i) => i > start && /^\S/.test(l));
    return lines.slice(start, end < 0 ? undefined : end).join("\n");
};

const ACM = { tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555" } };

/** The context with spec.volto changed: what a renderer gets when a value bypasses the schema. */
function withVolto(ctx: RenderContext, volto: Partial<RenderContext["spec"]["volto"]>): RenderContext {
    return { ...ctx, spec: { ...ctx.spec, volto: { ...ctx.spec.volto, ...volto } } };
}

describe("front end with Volto", () => {
    describe("stacks without volto hosts", () => {
        for (const stack of ["dev", "prod"] as const) {
            it(`${stack}: no Volto frontend, backend or upstream`, () => {
                const ctx = repoContext(stack);
                for (const fe of frontendsOf(ctx)) {
                    const cfg = renderHaproxyConfig(ctx, fe);
                    expect(cfg).not.to.match(/volto|api_chain/);
                    expect(linesMatching(cfg, /^\s+bind .*:8080$/)).to.deep.equal(["    bind 127.0.0.1:8080"]);
                    const site = renderNginxSite(ctx, fe);
                    expect(site).not.to.match(/volto|\+\+api\+\+/);
                }
            });
        }
    });

    describe("haproxy", () => {
        it("balances every process of every volto host, with the health path, the agent and maxconn", () => {
            const ctx = voltoHostsContext();
            const cfg = renderHaproxyConfig(ctx, firstFrontend(ctx));
            const backend = section(cfg, "backend volto");
            const servers = linesMatching(backend, /^\s+server /);
            expect(servers).to.have.length(4);
            const expected = voltoServers(ctx);
            expect(expected.map((s) => s.name)).to.deep.equal(["volto-1-volto1", "volto-1-volto2", "volto-2-volto1", "volto-2-volto2"]);
            for (const [i, s] of expected.entries()) {
                expect(s.address).to.equal(ctx.addresses[s.host]);
                expect(servers[i]).to.equal(
                    `    server ${s.name} ${s.address}:${PORTS.voltoBase + (i % 2) + 1} maxconn ${VOLTO_MAXCONN} agent-check agent-port ${PORTS.haproxyAgent} agent-inter 2s agent-send "${s.process}\\n"`,
                );
            }
            expect(backend).to.include("http-check send meth GET uri '/ok' ver HTTP/1.1");
            expect(backend).to.include("option redispatch 1");
            expect(backend).to.include("retries 3");
            expect(backend).to.include("retry-on conn-failure empty-response");
            expect(backend).to.include("http-request disable-l7-retry unless METH_GET");
            expect(backend).to.include("option http-server-close");
            expect(backend).to.include("http-reuse never");
            expect(backend).not.to.include("cookie ");
        });

        it("listens for nginx on loopback only, and answers the health URL from both chains", () => {
            const ctx = voltoOnFrontendContext();
            const cfg = renderHaproxyConfig(ctx, firstFrontend(ctx));
            const frontend = section(cfg, "frontend volto");
            expect(linesMatching(frontend, /^\s+bind /)).to.deep.equal([`    bind 127.0.0.1:${PORTS.haproxyVolto}`]);
            expect(frontend).to.include(`monitor-uri ${PATHS.frontDoorHealth}`);
            expect(frontend).to.include("monitor fail if { nbsrv(volto) lt 1 } || { nbsrv(api_chain) lt 1 }");
            expect(section(cfg, "backend api_chain")).to.include(`server varnish 127.0.0.1:${PORTS.varnish} check`);
        });

        it("opens the REST API on the private address only when a volto host is not a front end", () => {
            const own = voltoOnFrontendContext();
            expect(linesMatching(section(renderHaproxyConfig(own, firstFrontend(own)), "frontend plone"), /^\s+bind /)).to.deep.equal([
                `    bind 127.0.0.1:${PORTS.haproxy}`,
            ]);
            const apart = voltoHostsContext();
            for (const fe of frontendsOf(apart)) {
                const binds = linesMatching(section(renderHaproxyConfig(apart, fe), "frontend plone"), /^\s+bind /);
                expect(binds).to.deep.equal([`    bind 127.0.0.1:${PORTS.haproxy}`, `    bind ${apart.addresses[fe.name]}:${PORTS.haproxy}`]);
            }
        });

        it("quotes the health path as one haproxy word, and refuses a line break", () => {
            const ctx = voltoOnFrontendContext();
            const fe = firstFrontend(ctx);
            const cfg = renderHaproxyConfig(withVolto(ctx, { healthPath: "/ok?x='1' #y" }), fe);
            expect(cfg).to.include(`http-check send meth GET uri '/ok?x='\\''1'\\'' #y' ver HTTP/1.1`);
            expect(() => renderHaproxyConfig(withVolto(ctx, { healthPath: "/ok\n    server evil 203.0.113.66:80" }), fe)).to.throw(UnencodableValueError);
        });
    });

    describe("nginx", () => {
        it("sends /++api++ to varnish with Volto's rewrite, backendPaths with the classic one, the rest to Volto", () => {
            const ctx = voltoHostsContext({ frontend: ACM });
            const site = renderNginxSite(ctx, firstFrontend(ctx));
            expect(site).to.include("upstream plone_volto {\n    server 127.0.0.1:8070;");
            const main = serverBlocks(site).find((b) => b.includes(`server_name ${ctx.spec.frontend.domain};`))!;
            expect(block(main, "location ~ ^/\\+\\+api\\+\\+(/|$) {")).to.include(
                "rewrite ^/\\+\\+api\\+\\+/?(.*)$ /VirtualHostBase/$plone_scheme/$host:$plone_port/Plone/++api++/VirtualHostRoot/$1 break;",
            );
            for (const p of VOLTO_BACKEND_PATHS) {
                const loc = block(main, `location ~ ${backendPathRegex(p)} {`);
                expect(loc).to.include("rewrite ^/(.*)$ /VirtualHostBase/$plone_scheme/$host:$plone_port/Plone/VirtualHostRoot/$1 break;");
                expect(loc).to.include("proxy_pass http://plone_varnish;");
                expect(loc, "plain HTTP is redirected there too").to.include("return 301 https://$host$request_uri;");
            }
            const root = block(main, "location / {");
            expect(root).to.include("proxy_pass http://plone_volto;");
            expect(root).not.to.include("rewrite");
            expect(block(main, `location = ${PATHS.frontDoorHealth} {`)).to.include("proxy_pass http://plone_volto;");
        });

        it("makes the catch-all server's requests to Volto carry the site's name", () => {
            const ctx = voltoOnFrontendContext();
            const site = renderNginxSite(ctx, firstFrontend(ctx));
            const catchAll = serverBlocks(site).find((b) => b.includes("server_name _;"))!;
            const root = block(catchAll, "location / {");
            expect(root).to.include(`proxy_set_header Host ${ctx.spec.frontend.domain};`);
            // nginx inherits no proxy_set_header into a location that sets one: all of them are there.
            for (const h of ["Connection", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto", "Accept-Encoding"]) {
                expect(root).to.include(`proxy_set_header ${h} `);
            }
            expect(block(catchAll, "location ~ ^/\\+\\+api\\+\\+(/|$) {")).to.include(
                `/VirtualHostBase/$scheme/${ctx.spec.frontend.domain}:$server_port/Plone/++api++/VirtualHostRoot/$1`,
            );
        });

        it("keeps sub-sites on the backend (Classic UI), and routes the HTTPS servers of certbot like the HTTP ones", () => {
            const ctx = voltoOnFrontendContext({ frontend: { subsites: { "docs.example.org": "docs" }, tls: { mode: "certbot", email: "ops@example.org" } } });
            const fe = firstFrontend(ctx);
            const sub = serverBlocks(renderNginxSite(ctx, fe)).find((b) => b.includes("server_name docs.example.org;"))!;
            expect(sub).not.to.match(/plone_volto|\+\+api\+\+/);
            expect(block(sub, "location / {")).to.include("/Plone/docs/VirtualHostRoot/$1 break;");
            const tls = serverBlocks(renderNginxTlsServers(ctx, fe)).find((b) => b.includes(`server_name ${ctx.spec.frontend.domain};`))!;
            expect(block(tls, "location ~ ^/\\+\\+api\\+\\+(/|$) {")).to.include("/VirtualHostBase/https/$host:$server_port/Plone/++api++/VirtualHostRoot/$1");
            expect(block(tls, "location / {")).to.include("proxy_pass http://plone_volto;");
        });

        it("writes each backend path once, as an escaped regex, and refuses what its kind refuses", () => {
            expect(backendPathRegex("/++resource++plone.app")).to.equal('"^/\\+\\+resource\\+\\+plone\\.app"');
            expect(backendPathRegex("/@@a_b~c-d")).to.equal('"^/\\@\\@a\\_b\\~c\\-d"');
            for (const hostile of ['/x"; return 200 "', "/x { }", "/x$host", "/x\n    location / { return 200; }", "/x;", "/x y", "/(x)", "/x\\", "x"]) {
                expect(() => backendPathRegex(hostile), JSON.stringify(hostile)).to.throw(UnencodableValueError);
            }
            const ctx = voltoOnFrontendContext({ volto: { backendPaths: ["/@@search", "/@@search", "/_plone_errors/", "/.well-known/acme-challenge/"] } });
            const site = renderNginxSite(ctx, firstFrontend(ctx));
            const main = serverBlocks(site).find((b) => b.includes(`server_name ${ctx.spec.frontend.domain};`))!;
            expect(linesMatching(main, /^\s+location ~ "\^\/\\@\\@search"/)).to.have.length(1);
            // The server's own ^~ locations stay first for their paths (a regex cannot collide with them).
            expect(linesMatching(main, /^\s+location \^~ \/_plone_errors\/ \{$/)).to.have.length(1);
        });

        it("renders every file of every front end of a stack with volto hosts", () => {
            const ctx = voltoHostsContext({ frontend: ACM, plone: { stickySessions: true } });
            for (const fe of frontendsOf(ctx)) {
                const files = renderFrontendFiles(ctx, fe);
                expect(files.map((f) => f.path)).to.include("/etc/haproxy/haproxy.cfg");
            }
        });
    });
});
