import { expect } from "chai";
import {
    certificateDomains,
    GZIP_TYPES,
    renderErrorPage,
    renderNginxMainConf,
    renderNginxSite,
    renderNginxTlsServers,
} from "../../components/render/frontend/nginx";
import { renderHaproxyConfig } from "../../components/render/frontend/haproxy";
import { renderVarnishVcl } from "../../components/render/frontend/varnish";
import { frontendRemovedFiles, renderFrontendFiles, FRONTEND_SERVICES, TLS_ENABLE_COMMAND } from "../../components/render/frontend";
import { PATHS, PORTS } from "../../components/topology";
import { albContext, block, firstFrontend, frontendsOf, repoContext, serverBlocks, variantContext } from "../helpers/frontend";

const named = (blocks: string[], name: string) => {
    const found = blocks.find((b) => new RegExp(`server_name [^;]*\\b${name.replace(/[.*]/g, "\\$&")}\\b`).test(b));
    if (!found) throw new Error(`no server block for ${name}`);
    return found;
};

describe("renderNginxSite", () => {
    describe("dev stack (Elastic IP, no TLS)", () => {
        const ctx = repoContext("dev");
        const site = renderNginxSite(ctx, firstFrontend(ctx));
        const servers = serverBlocks(site);
        const main = named(servers, "dev.plone.example.org");
        const catchAll = named(servers, "_");

        it("has a catch-all default server and the site's server, both on port 80", () => {
            expect(servers).to.have.length(2);
            expect(catchAll).to.include(`listen ${PORTS.http} default_server;`);
            expect(main).to.include(`listen ${PORTS.http};`);
            expect(site).not.to.include("listen 443");
        });

        it("rewrites to the Zope virtual host of the site with nginx's own scheme and port", () => {
            expect(main).to.include("rewrite ^/(.*)$ /VirtualHostBase/$scheme/$host:$server_port/Plone/VirtualHostRoot/$1 break;");
            expect(main).to.include("proxy_pass http://plone_varnish;");
            expect(site).to.include(`server 127.0.0.1:${PORTS.varnish};`);
        });

        it("never trusts X-Forwarded-Proto without a load balancer", () => {
            expect(site).not.to.include("$http_x_forwarded_proto");
            expect(site).not.to.include("set_real_ip_from");
        });

        it("serves unknown host names as the configured domain, never as the Host they sent", () => {
            expect(catchAll).to.include("/VirtualHostBase/$scheme/dev.plone.example.org:$server_port/Plone/VirtualHostRoot/$1");
            expect(catchAll).not.to.include("/VirtualHostBase/$scheme/$host");
        });

        it("refuses the ZMI, virtual-hosting names, Basic auth and PURGE/BAN on the public side", () => {
            for (const s of servers) {
                expect(s).to.include('location ~ "(^|/)manage(_|/|$)" {\n        return 403;');
                expect(s).to.include('location ~ "(^|/)(VirtualHostBase|VirtualHostRoot|_vh_)" {');
                expect(s).to.include('if ($http_authorization ~* "^\\s*basic\\s") {\n        return 403;');
                expect(s).to.include("if ($request_method ~ ^(PURGE|BAN)$) {\n        return 405;");
            }
        });

        it("serves the static error page when no backend answers", () => {
            for (const s of servers) {
                expect(s).to.include("proxy_intercept_errors on;");
                expect(s).to.include("error_page 502 503 504 /_plone_errors/unavailable.html;");
                expect(block(s, "location ^~ /_plone_errors/ {")).to.include(`alias ${PATHS.errorPages}/;`);
                expect(block(s, "location ^~ /_plone_errors/ {")).to.include("internal;");
            }
        });

        it("passes the health URL to varnish and haproxy uncached, and stub_status on localhost", () => {
            const health = block(main, `location = ${PATHS.frontDoorHealth} {`);
            expect(health).to.include("proxy_pass http://plone_varnish;");
            expect(health).not.to.include("rewrite");
            const status = block(catchAll, "location = /nginx_status {");
            expect(status).to.include("stub_status;");
            expect(status).to.include("allow 127.0.0.1;");
            expect(status).to.include("deny all;");
            expect(main).not.to.include("stub_status");
        });

        it("takes the body size from the stack and waits 900 s (the ALB idle timeout is 960 s)", () => {
            expect(main).to.include("client_max_body_size 128m;");
            expect(main).to.include("proxy_read_timeout 900s;");
            expect(main).to.include("proxy_send_timeout 900s;");
        });

        it("sets the X-Real-IP that tells varnish the request is not a purge from an app host", () => {
            expect(main).to.include("proxy_set_header X-Real-IP $remote_addr;");
            expect(main).to.include('proxy_set_header Accept-Encoding "";');
        });
    });

    describe("prod stack (ALB with an ACM certificate)", () => {
        const ctx = repoContext("prod");
        const site = renderNginxSite(ctx, firstFrontend(ctx));
        const servers = serverBlocks(site);
        const main = named(servers, "www.plone.example.org");

        it("serves the domain and its aliases", () => {
            expect(main).to.include("server_name www.plone.example.org plone.example.org;");
        });

        it("takes scheme and port from the ALB's X-Forwarded-Proto", () => {
            expect(block(site, "map $http_x_forwarded_proto $plone_scheme {")).to.include("https https;");
            expect(block(site, "map $http_x_forwarded_proto $plone_port {")).to.include("https 443;");
            expect(main).to.include("rewrite ^/(.*)$ /VirtualHostBase/$plone_scheme/$host:$plone_port/Plone/VirtualHostRoot/$1 break;");
            expect(main).to.include("proxy_set_header X-Forwarded-Proto $plone_scheme;");
        });

        it("redirects plain-HTTP visitors to HTTPS and sends HSTS on HTTPS", () => {
            expect(block(site, "map $http_x_forwarded_proto $plone_https_redirect {")).to.include("http 1;");
            expect(block(main, "location / {")).to.include("if ($plone_https_redirect) {\n            return 301 https://$host$request_uri;");
            expect(block(site, "map $http_x_forwarded_proto $plone_hsts {")).to.include('https "max-age=15768000";');
            expect(main).to.include("add_header Strict-Transport-Security $plone_hsts always;");
        });

        it("keeps connections open longer than the ALB and logs the visitor's address", () => {
            expect(main).to.include("keepalive_timeout 965s;");
            expect(site).to.include(`set_real_ip_from ${ctx.topology.vpcCidr};`);
        });

        it("does not terminate TLS on the host", () => {
            expect(site).not.to.match(/listen \S*443/);
            expect(site).not.to.include("ssl_certificate");
        });

        it("is the same on both front ends", () => {
            const [web1, web2] = frontendsOf(ctx);
            const strip = (t: string) => t.replace(/host web-\d/, "host <fe>");
            expect(strip(renderNginxSite(ctx, web2))).to.equal(strip(renderNginxSite(ctx, web1)));
        });
    });

    it("ALB without TLS: trusts X-Forwarded-Proto but does not redirect", () => {
        const ctx = albContext(2);
        const site = renderNginxSite(ctx, firstFrontend(ctx));
        expect(site).to.include("map $http_x_forwarded_proto $plone_scheme {");
        expect(site).not.to.include("$plone_https_redirect");
        expect(site).not.to.include("Strict-Transport-Security");
    });

    describe("certbot, aliases, sub-sites and operator text", () => {
        const ctx = variantContext({
            frontend: {
                domain: "www.example.org",
                aliases: ["example.org", "*.legacy.example.org"],
                subsites: { "docs.example.org": "docs", "intranet.example.org": "/staff/intranet/" },
                rawSubsiteServer: { "docs.example.org": "location = /robots.txt { return 200 'docs'; }" },
                tls: { mode: "certbot", email: "ops@example.org" },
                nginx: {
                    clientMaxBodySize: "512m",
                    enableSsi: true,
                    rawHttp: "server { listen 8099; return 204; }",
                    rawServer: "add_header X-Additional yes;",
                    rawSslServer: "add_header X-Additional-Ssl yes;",
                    rawDefaultServer: "location = /default-only { return 204; }",
                    rawDefaultSslServer: "location = /default-ssl-only { return 204; }",
                },
            },
        });
        const fe = firstFrontend(ctx);
        const site = renderNginxSite(ctx, fe);
        // The one-line server of rawHttp aside.
        const http = serverBlocks(site).filter((s) => s.includes("server_name"));
        const tls = serverBlocks(renderNginxTlsServers(ctx, fe));

        it("has a server per sub-site with its path below the site", () => {
            expect(named(http, "docs.example.org")).to.include("/VirtualHostBase/$scheme/$host:$server_port/Plone/docs/VirtualHostRoot/$1");
            expect(named(http, "intranet.example.org")).to.include("/Plone/staff/intranet/VirtualHostRoot/$1");
            expect(named(tls, "docs.example.org")).to.include("/VirtualHostBase/https/$host:$server_port/Plone/docs/VirtualHostRoot/$1");
        });

        it("puts the operator's text where it belongs", () => {
            expect(site).to.include("server { listen 8099; return 204; }");
            for (const s of [...http, ...tls]) expect(s).to.include("add_header X-Additional yes;");
            for (const s of tls) expect(s).to.include("add_header X-Additional-Ssl yes;");
            for (const s of http) expect(s).not.to.include("X-Additional-Ssl");
            expect(named(http, "docs.example.org")).to.include("location = /robots.txt { return 200 'docs'; }");
            expect(named(http, "intranet.example.org")).not.to.include("robots.txt");
            expect(named(http, "www.example.org")).to.include("/default-only");
            // rawDefaultSslServer: only in the TLS blocks of the site and the catch-all (it did nothing before).
            expect(named(tls, "www.example.org")).to.include("/default-ssl-only");
            for (const s of http) expect(s).not.to.include("/default-ssl-only");
            expect(named(tls, "docs.example.org")).not.to.include("/default-ssl-only");
            expect(named(http, "docs.example.org")).not.to.include("/default-only");
            for (const s of http) expect(s).to.include("ssi on;");
            expect(named(http, "www.example.org")).to.include("client_max_body_size 512m;");
        });

        it("keeps the ACME webroot reachable on port 80 and redirects the rest once HTTPS is on", () => {
            for (const s of http) {
                expect(block(s, "location ^~ /.well-known/acme-challenge/ {")).to.include("root /var/www/letsencrypt;");
                expect(s).to.include('set $plone_https_redirect "";\n    include /etc/nginx/plone-aws/tls-enabled/*.redirect;');
            }
            expect(block(named(http, "www.example.org"), "location / {")).to.include("return 301 https://$host$request_uri;");
            expect(block(named(http, "_"), "location / {")).to.include("return 301 https://www.example.org$request_uri;");
            expect(site).to.include("include /etc/nginx/plone-aws/tls-enabled/*.conf;");
        });

        it("terminates TLS 1.2+ with the Let's Encrypt certificate and HSTS", () => {
            expect(tls).to.have.length(4);
            for (const s of tls) {
                expect(s).to.match(/listen 443 ssl http2( default_server)?;/);
                expect(s).to.include("ssl_certificate /etc/letsencrypt/live/www.example.org/fullchain.pem;");
                expect(s).to.include("ssl_certificate_key /etc/letsencrypt/live/www.example.org/privkey.pem;");
                expect(s).to.include("ssl_protocols TLSv1.2 TLSv1.3;");
                expect(s).not.to.match(/TLSv1(\.1)?[ ;]/);
                expect(s).to.include('add_header Strict-Transport-Security "max-age=15768000" always;');
                expect(s).not.to.include("acme-challenge");
            }
        });

        it("asks for a certificate covering every name but the wildcards", () => {
            expect(certificateDomains(ctx)).to.deep.equal(["www.example.org", "example.org", "docs.example.org", "intranet.example.org"]);
        });
    });

    it("does not change when an app host is added (haproxy and the VCL do)", () => {
        const two = albContext(2);
        const three = albContext(3);
        const [fe2, fe3] = [firstFrontend(two), firstFrontend(three)];
        expect(renderNginxSite(three, fe3)).to.equal(renderNginxSite(two, fe2));
        expect(renderNginxMainConf(three, fe3)).to.equal(renderNginxMainConf(two, fe2));
        expect(renderHaproxyConfig(three, fe3)).not.to.equal(renderHaproxyConfig(two, fe2));
        expect(renderVarnishVcl(three, fe3)).not.to.equal(renderVarnishVcl(two, fe2));
    });
});

describe("renderNginxMainConf", () => {
    const ctx = variantContext({ frontend: { nginx: { workerProcesses: 3 } } });
    const conf = renderNginxMainConf(ctx, firstFrontend(ctx));

    it("takes the worker count from the stack and allows many connections", () => {
        expect(conf).to.include("worker_processes 3;");
        expect(conf).to.include("worker_connections 8192;");
    });

    it("compresses an explicit list of types, and drops Debian's TLS 1.0/1.1 default", () => {
        expect(conf).to.include("gzip on;");
        expect(conf).to.include(`gzip_types ${GZIP_TYPES.join(" ")};`);
        expect(GZIP_TYPES).to.include("application/javascript").and.to.include("text/css").and.not.to.include("image/png");
        expect(conf).to.include("ssl_protocols TLSv1.2 TLSv1.3;");
    });

    it("includes Debian's directories", () => {
        expect(conf).to.include("include /etc/nginx/mime.types;");
        expect(conf).to.include("include /etc/nginx/sites-enabled/*;");
        expect(conf).to.include("include /etc/nginx/modules-enabled/*.conf;");
    });
});

describe("renderErrorPage", () => {
    it("is a small self-contained page naming the site", () => {
        const ctx = repoContext("prod");
        const page = renderErrorPage(ctx);
        expect(page).to.match(/^<!DOCTYPE html>/);
        expect(page).to.include("www.plone.example.org is temporarily unavailable");
        expect(page).not.to.match(/(src|href)=|@import|url\(/);
        expect(page.length).to.be.below(2000);
    });
});

describe("renderFrontendFiles", () => {
    it("installs every front-end file at Debian's paths, the haproxy config as a secret", () => {
        const ctx = repoContext("prod");
        const files = renderFrontendFiles(ctx, firstFrontend(ctx));
        const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
        expect(Object.keys(byPath).sort()).to.deep.equal([
            "/etc/default/varnish",
            "/etc/haproxy/haproxy.cfg",
            "/etc/nginx/nginx.conf",
            "/etc/nginx/sites-enabled/plone.conf",
            "/etc/systemd/system/varnish.service.d/plone-aws.conf",
            "/etc/varnish/default.vcl",
            "/usr/local/sbin/plone-frontend-service",
            `${PATHS.errorPages}/unavailable.html`,
        ]);
        expect(byPath["/etc/haproxy/haproxy.cfg"]).to.include({ mode: "0640", owner: "root", group: "haproxy", secret: true });
        expect(byPath["/usr/local/sbin/plone-frontend-service"].mode).to.equal("0755");
        expect(files.filter((f) => f.secret).map((f) => f.path)).to.deep.equal(["/etc/haproxy/haproxy.cfg"]);
        for (const f of files.filter((f) => !f.secret)) expect(f.content).not.to.include(ctx.secrets.haproxyStatsPassword);
    });

    it("adds the certbot pieces with tls mode certbot and removes them otherwise", () => {
        const ctx = variantContext({ frontend: { tls: { mode: "certbot", email: "ops@example.org" } } });
        const paths = renderFrontendFiles(ctx, firstFrontend(ctx)).map((f) => f.path);
        expect(paths).to.include.members([
            "/etc/nginx/plone-aws/plone-tls.conf",
            "/etc/nginx/plone-aws/plone-tls.redirect",
            "/usr/local/sbin/plone-tls-enable",
            "/etc/letsencrypt/renewal-hooks/deploy/plone-aws-nginx",
            "/etc/cron.d/plone-aws-tls",
        ]);
        expect(frontendRemovedFiles(ctx, firstFrontend(ctx))).to.deep.equal(["/etc/nginx/sites-enabled/default"]);
        const dev = repoContext("dev");
        expect(frontendRemovedFiles(dev, firstFrontend(dev))).to.include.members([
            "/etc/nginx/sites-enabled/default",
            "/etc/nginx/plone-aws/tls-enabled/plone-tls.conf",
            "/etc/nginx/plone-aws/tls-enabled/plone-tls.redirect",
        ]);
        expect(TLS_ENABLE_COMMAND).to.equal("/usr/local/sbin/plone-tls-enable");
    });

    it("says how to check and reload each daemon, backend side first", () => {
        expect(FRONTEND_SERVICES.map((s) => s.service)).to.deep.equal(["haproxy", "varnish", "nginx"]);
        for (const s of FRONTEND_SERVICES) {
            expect(s.check).to.equal(`/usr/local/sbin/plone-frontend-service check ${s.service}`);
            expect(s.reload).to.equal(`/usr/local/sbin/plone-frontend-service reload ${s.service}`);
        }
        expect(FRONTEND_SERVICES[1].restartOn).to.deep.equal(["/etc/systemd/system/varnish.service.d/plone-aws.conf", "/etc/default/varnish"]);
        expect(FRONTEND_SERVICES[2].reloadOn).to.include("/etc/nginx/sites-enabled/plone.conf");
    });
});
