import { expect } from "chai";
import {
    renderVarnishServiceFiles,
    renderVarnishVcl,
    varnishBanCommand,
    varnishdArgs,
    VARNISH_DEFAULTS,
    VARNISH_DROP_IN,
} from "../../components/render/frontend/varnish";
import { PATHS, PORTS } from "../../components/topology";
import { albContext, block, firstFrontend, frontendsOf, repoContext, variantContext } from "../helpers/frontend";

const aclEntries = (vcl: string) =>
    block(vcl, "acl plone_purgers {")
        .split("\n")
        .slice(1, -1)
        .map((l) => /"([^"]+)"/.exec(l)?.[1])
        .filter((x): x is string => !!x);

describe("renderVarnishVcl", () => {
    describe("prod stack", () => {
        const ctx = repoContext("prod");
        const vcl = renderVarnishVcl(ctx, firstFrontend(ctx));
        const recv = block(vcl, "sub vcl_recv {");
        const fetch = block(vcl, "sub vcl_backend_response {");
        const deliver = block(vcl, "sub vcl_deliver {");

        it("is VCL 4.1 with the local haproxy as its backend, probed on the front-door health URL", () => {
            expect(vcl).to.match(/^vcl 4\.1;$/m);
            const backend = block(vcl, "backend haproxy {");
            expect(backend).to.include('.host = "127.0.0.1";');
            expect(backend).to.include(`.port = "${PORTS.haproxy}";`);
            expect(backend).to.include(`.request = "GET ${PATHS.frontDoorHealth} HTTP/1.1"`);
            expect(backend).to.include(".connect_timeout = 5s;");
            expect(backend).to.include(".between_bytes_timeout = 100s;");
            // haproxy's queue (60 s) + connect (5 s) + server (300 s) timeouts, and a margin.
            expect(backend).to.include(".first_byte_timeout = 370s;");
        });

        it("lets exactly this host and the app hosts purge", () => {
            expect(aclEntries(vcl)).to.deep.equal(["127.0.0.1", "::1", ctx.addresses["app-1"], ctx.addresses["app-2"]]);
        });

        it("purges and bans only for ACL addresses, and never for requests that came through nginx", () => {
            const purge = block(recv, 'if (req.method == "PURGE") {');
            expect(purge).to.include("if (req.http.X-Real-IP || client.ip !~ plone_purgers) {");
            expect(purge).to.include("return (synth(405,");
            expect(purge).to.include("return (purge);");
            const ban = block(recv, 'if (req.method == "BAN") {');
            expect(ban).to.include("client.ip !~ plone_purgers");
            expect(ban).to.include('std.ban("obj.http.x-url ~ " + req.http.X-Ban-Url)');
        });

        it("passes non-GET/HEAD and pipes unknown methods", () => {
            expect(recv).to.match(/return \(pipe\);/);
            expect(recv).to.include('if (req.method != "GET" && req.method != "HEAD") {\n        return (pass);');
        });

        it("never serves authenticated requests from the cache", () => {
            expect(recv).to.include(
                'if (req.http.Authorization || req.http.Cookie ~ "(^|;\\s*)(__ac(_[A-Za-z0-9]+)?|auth_token|_ZopeId|__cp|statusmessages|I18N_LANGUAGE)=") {\n        return (pass);',
            );
        });

        it("keeps only Plone's cookies", () => {
            expect(recv).to.include('cookie.keep_re("^(__ac(_[A-Za-z0-9]+)?|auth_token|_ZopeId|__cp|statusmessages|I18N_LANGUAGE)$");');
            expect(recv).not.to.include("SERVERID");
        });

        it("hashes the virtual-hosted URL only, so Plone's PURGE (with its own Host header) finds the object", () => {
            expect(block(vcl, "sub vcl_hash {")).to.include("hash_data(req.url);\n    return (lookup);");
        });

        it("never caches 5xx, Set-Cookie or private/no-cache/no-store responses", () => {
            expect(fetch).to.include("if (beresp.status >= 500) {");
            expect(fetch).to.match(/beresp\.http\.Set-Cookie \|\|\s+beresp\.http\.Cache-Control ~ "\(\?i\)\(private\|no-cache\|no-store\)"/);
            expect(fetch).to.include("set beresp.ttl = 120s;\n        set beresp.uncacheable = true;");
        });

        it("keeps the stale copy when no Zope client answers: gives the fetch up and retries once", () => {
            expect(fetch).to.include("if (bereq.is_bgfetch) {\n            return (abandon);");
            expect(fetch).to.include("if ((beresp.status == 502 || beresp.status == 503) && !bereq.uncacheable) {\n            return (abandon);");
            expect(block(vcl, "sub vcl_backend_error {")).to.include("return (abandon);");
            expect(block(vcl, "sub vcl_synth {")).to.include(
                'if (resp.status == 503 && req.restarts == 0 && (req.method == "GET" || req.method == "HEAD")) {\n        return (restart);',
            );
        });

        it("gives anonymous responses without Cache-Control the default TTL, and graces objects", () => {
            expect(fetch).to.include("set beresp.ttl = 300s;");
            expect(fetch).to.include("set beresp.grace = 600s;");
            expect(recv).to.include("if (req.restarts == 0 && std.healthy(req.backend_hint)) {\n        set req.grace = 60s;");
        });

        it("strips s-maxage and proxy-revalidate for browsers and says HIT or MISS", () => {
            expect(deliver).to.include("s-maxage");
            expect(deliver).to.include("proxy-revalidate");
            expect(deliver).to.include('set resp.http.X-Cache = "HIT";');
            expect(deliver).to.include('set resp.http.X-Cache = "MISS";');
            expect(deliver).to.include("unset resp.http.x-url;");
        });

        it("has a synthetic error page", () => {
            const error = block(vcl, "sub vcl_backend_error {");
            expect(error).to.include("synthetic(");
            expect(error).to.include("Retry-After");
        });

        it("is the same on both front ends", () => {
            const [web1, web2] = frontendsOf(ctx);
            const strip = (t: string) => t.replace(/host web-\d/, "host <fe>");
            expect(strip(renderVarnishVcl(ctx, web2))).to.equal(strip(renderVarnishVcl(ctx, web1)));
        });
    });

    it("dev: the ACL names the one host once", () => {
        const ctx = repoContext("dev");
        expect(aclEntries(renderVarnishVcl(ctx, firstFrontend(ctx)))).to.deep.equal(["127.0.0.1", "::1", ctx.addresses["dev-1"]]);
    });

    it("follows the app hosts: a third one joins the ACL", () => {
        const ctx = albContext(3);
        expect(aclEntries(renderVarnishVcl(ctx, firstFrontend(ctx)))).to.deep.equal([
            "127.0.0.1",
            "::1",
            ...["app-1", "app-2", "app-3"].map((h) => ctx.addresses[h]),
        ]);
    });

    it("keeps haproxy's sticky-session cookie without making the request personal", () => {
        const ctx = variantContext({ plone: { stickySessions: true } });
        const recv = block(renderVarnishVcl(ctx, firstFrontend(ctx)), "sub vcl_recv {");
        expect(recv).to.include("|I18N_LANGUAGE|SERVERID)$");
        expect(recv).to.match(/req\.http\.Cookie ~ "[^"]*"/);
        expect(/req\.http\.Cookie ~ "([^"]*)"/.exec(recv)![1]).not.to.include("SERVERID");
    });

    it("takes TTL and graces from the stack; a longer healthy grace is the object's grace", () => {
        const ctx = variantContext({ frontend: { varnish: { defaultTtl: 60, grace: 900, graceSick: 300 } } });
        const vcl = renderVarnishVcl(ctx, firstFrontend(ctx));
        expect(vcl).to.include("set beresp.ttl = 60s;");
        expect(vcl).to.include("set req.grace = 900s;");
        expect(vcl).to.include("set beresp.grace = 900s;");
    });

    it("waits for haproxy as long as haproxy may take", () => {
        const ctx = variantContext({ frontend: { haproxy: { queueTimeout: "120s", serverTimeout: "900s" } } });
        expect(renderVarnishVcl(ctx, firstFrontend(ctx))).to.include(".first_byte_timeout = 1030s;");
    });
});

describe("renderVarnishServiceFiles", () => {
    const ctx = repoContext("prod");
    const fe = firstFrontend(ctx);
    const files = renderVarnishServiceFiles(ctx, fe);
    const dropIn = files.find((f) => f.path === VARNISH_DROP_IN)!;
    const defaults = files.find((f) => f.path === VARNISH_DEFAULTS)!;
    const args = varnishdArgs(ctx, fe).join(" ");

    it("listens on loopback (nginx) and the private IP (PURGE from the app hosts), admin on loopback", () => {
        expect(args).to.include(`-a 127.0.0.1:${PORTS.varnish} -a ${ctx.addresses["web-1"]}:${PORTS.varnish}`);
        expect(args).to.include(`-T 127.0.0.1:${PORTS.varnishAdmin}`);
        expect(args).to.include("-s malloc,1g");
        expect(args).to.include("-f /etc/varnish/default.vcl");
        expect(args).not.to.match(/-a :|0\.0\.0\.0/);
    });

    it("overrides varnish.service's ExecStart in a drop-in, after the network is up", () => {
        expect(dropIn.content).to.include("[Service]\nExecStart=\nExecStart=/usr/sbin/varnishd -F " + args + "\n");
        expect(dropIn.content).to.include("After=network-online.target");
    });

    it("gives the init script the same arguments", () => {
        expect(defaults.content).to.include(`DAEMON_OPTS="${args}"`);
    });

    it("dev: loopback and the host's private IP", () => {
        const dev = repoContext("dev");
        expect(varnishdArgs(dev, firstFrontend(dev)).join(" ")).to.include(`-a 127.0.0.1:${PORTS.varnish} -a ${dev.addresses["dev-1"]}:${PORTS.varnish} `);
        expect(varnishdArgs(dev, firstFrontend(dev)).join(" ")).to.include("-s malloc,256m");
    });
});

describe("varnishBanCommand", () => {
    it("sends an HTTP BAN with the regex in X-Ban-Url, shell-quoted", () => {
        expect(varnishBanCommand(".*")).to.equal(`curl -fsS -X BAN -H 'X-Ban-Url: .*' http://127.0.0.1:${PORTS.varnish}/`);
        expect(varnishBanCommand("a'b", "10.40.128.10")).to.equal(`curl -fsS -X BAN -H 'X-Ban-Url: a'\\''b' http://10.40.128.10:${PORTS.varnish}/`);
        expect(() => varnishBanCommand("a\nb")).to.throw(/one line/);
    });
});
