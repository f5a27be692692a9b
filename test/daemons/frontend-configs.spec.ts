// The rendered front-end files, checked by the real programs: haproxy -c, varnishd -C, nginx -t,
// shellcheck and python3. Every path of the rendered files is moved under a temporary root so
// the checks read nothing from the machine's own configuration.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderFrontendFiles } from "../../components/render/frontend";
import type { FrontendLayout } from "../../components/render/frontend/layout";
import type { RenderContext } from "../../components/render/context";
import type { HostPlan } from "../../components/topology";
import { haproxyAgentFile } from "../../components/render/app/haproxyAgent";
import { NGINX_TLS_SERVERS, NGINX_TLS_SWITCH, nginxTlsEnabledDir } from "../../components/render/frontend/nginx";
import { VARNISH_DEFAULTS, VARNISH_DROP_IN, varnishdArgs } from "../../components/render/frontend/varnish";
import { albContext, firstFrontend, frontendsOf, repoContext, variantContext } from "../helpers/frontend";
import { voltoHostsContext, voltoOnFrontendContext } from "../helpers/voltoStack";
import { prepareDebianFiles, rootedLayout, selfSignedCertificate, writeFiles } from "../helpers/frontendDaemons";
import { requireBinaries, run, tempDir } from "../helpers/system";
import { describeAsRoot } from "../helpers/privileges";

interface Case {
    name: string;
    ctx: () => RenderContext;
    frontend?: (ctx: RenderContext) => HostPlan;
    /** certbot: also check with HTTPS switched on (a self-signed certificate where certbot puts it). */
    tlsOn?: boolean;
}

const certbot = {
    domain: "www.example.org",
    aliases: ["example.org"],
    subsites: { "docs.example.org": "docs" },
    rawSubsiteServer: { "docs.example.org": "location = /robots.txt { return 200 'docs'; }" },
    tls: { mode: "certbot", email: "ops@example.org" },
    nginx: {
        enableSsi: true,
        rawHttp: "server {\n    listen 127.0.0.1:8099;\n    return 204;\n}",
        rawServer: "add_header X-Additional yes;",
        rawSslServer: "add_header X-Additional-Ssl yes;",
        rawDefaultServer: "location = /default-only {\n    return 204;\n}",
    },
};

const CASES: Case[] = [
    { name: "dev", ctx: () => repoContext("dev") },
    { name: "prod, web-1", ctx: () => repoContext("prod") },
    { name: "prod, web-2", ctx: () => repoContext("prod"), frontend: (ctx) => frontendsOf(ctx)[1] },
    { name: "ALB without TLS, 3 app hosts, sticky sessions", ctx: () => albContext(3, { plone: { stickySessions: true } }) },
    { name: "certbot, sub-sites, operator text (HTTPS off)", ctx: () => variantContext({ frontend: certbot }) },
    { name: "certbot, sub-sites, operator text (HTTPS on)", ctx: () => variantContext({ frontend: certbot }), tlsOn: true },
    { name: "Volto on the front end, certbot, sub-sites, operator text (HTTPS on)", ctx: () => voltoOnFrontendContext({ frontend: certbot }), tlsOn: true },
    { name: "Volto hosts behind two front ends and an ALB, web-2", ctx: () => voltoHostsContext(), frontend: (ctx) => frontendsOf(ctx)[1] },
    {
        name: "Volto hosts, ALB with TLS, sticky sessions",
        ctx: () =>
            voltoHostsContext({
                plone: { stickySessions: true },
                frontend: { tls: { mode: "acm", certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555" } },
            }),
    },
    {
        name: "a stats password full of quoting characters",
        ctx: () => {
            const ctx = variantContext({ frontend: { haproxy: { statsUser: "ops.stats" } } });
            return { ...ctx, secrets: { ...ctx.secrets, haproxyStatsPassword: `p@ss'w"o$rd #1 \\x {}` } };
        },
    },
];

describeAsRoot("front-end configs accepted by the real daemons", "varnishd checks its parameters in its jail and nginx -t binds port 80", function () {
    before(function () {
        requireBinaries(this, "haproxy", "varnishd", "nginx", "openssl");
    });

    for (const c of CASES) {
        describe(c.name, () => {
            let tmp: { dir: string; cleanup: () => void };
            let layout: FrontendLayout;
            let written: Record<string, string>;
            let ctx: RenderContext;

            before(() => {
                tmp = tempDir("frontend-configs");
                // varnishd and nginx read their files as their own users.
                fs.chmodSync(tmp.dir, 0o755);
                layout = rootedLayout(tmp.dir);
                ctx = c.ctx();
                const fe = c.frontend ? c.frontend(ctx) : firstFrontend(ctx);
                prepareDebianFiles(layout);
                written = writeFiles(tmp.dir, renderFrontendFiles(ctx, fe, layout));
                if (c.tlsOn) {
                    selfSignedCertificate(layout, ctx.spec.frontend.domain);
                    const enabled = nginxTlsEnabledDir(layout);
                    fs.mkdirSync(enabled, { recursive: true });
                    for (const f of [NGINX_TLS_SERVERS, NGINX_TLS_SWITCH]) fs.symlinkSync(`../${f}`, path.join(enabled, f));
                }
            });
            after(() => tmp?.cleanup());

            it("haproxy -c", () => {
                const r = run("haproxy", ["-c", "-f", layout.paths.haproxyConfig]);
                expect(r.status, r.stdout + r.stderr).to.equal(0);
                expect(r.stdout + r.stderr).not.to.include("[ALERT]");
            });

            it("varnishd -C on the VCL", () => {
                const r = run("varnishd", ["-C", "-n", path.join(tmp.dir, "varnish-n"), "-f", layout.paths.varnishVcl]);
                expect(
                    r.status,
                    r.stderr
                        .split("\n")
                        .filter((l) => !l.startsWith("#") && l.trim())
                        .slice(-15)
                        .join("\n"),
                ).to.equal(0);
            });

            it("varnishd accepts its parameters (drop-in and /etc/default/varnish agree)", () => {
                const fe = c.frontend ? c.frontend(ctx) : firstFrontend(ctx);
                const args = varnishdArgs(ctx, fe, layout);
                const dropIn = fs.readFileSync(written[VARNISH_DROP_IN], "utf8");
                expect(dropIn).to.include(`ExecStart=/usr/sbin/varnishd -F ${args.join(" ")}\n`);
                // The init script sources the file with sh: read DAEMON_OPTS back the same way.
                const sourced = run("sh", ["-c", `. "${written[VARNISH_DEFAULTS]}" && printf '%s\\n' $DAEMON_OPTS`]);
                expect(sourced.status).to.equal(0);
                expect(sourced.stdout.trim().split("\n")).to.deep.equal(args);
                // -C binds the listen addresses: check the rest with an ephemeral loopback one.
                const local: string[] = [];
                for (let i = 0; i < args.length; i++) {
                    if (args[i] === "-a") i++;
                    else local.push(args[i]);
                }
                const r = run("varnishd", ["-C", "-n", path.join(tmp.dir, "varnish-n"), "-a", "127.0.0.1:0", ...local]);
                expect(
                    r.status,
                    r.stderr
                        .split("\n")
                        .filter((l) => !l.startsWith("#") && l.trim())
                        .slice(-10)
                        .join("\n"),
                ).to.equal(0);
            });

            it("nginx -t on nginx.conf with the site", () => {
                const r = run("nginx", ["-t", "-c", `${layout.paths.nginxDir}/nginx.conf`]);
                expect(r.status, r.stderr).to.equal(0);
                expect(r.stderr).not.to.include("[warn]");
                const dump = run("nginx", ["-T", "-c", `${layout.paths.nginxDir}/nginx.conf`]).stdout;
                if (c.tlsOn) {
                    expect(dump).to.include("ssl_certificate ");
                    expect(dump).to.include("set $plone_https_redirect 1;");
                } else {
                    expect(dump).not.to.match(/listen \S*443/);
                }
            });

            it("shellcheck and python3 accept the scripts", function () {
                requireBinaries(this, "shellcheck", "python3");
                const scripts = Object.values(written).filter((p) => fs.readFileSync(p, "utf8").startsWith("#!/"));
                const shells = scripts.filter((p) => /^#!\/(usr\/bin\/env bash|bin\/sh)/.test(fs.readFileSync(p, "utf8")));
                expect(shells.length).to.be.at.least(1);
                const sc = run("shellcheck", ["-x", ...shells]);
                expect(sc.status, sc.stdout).to.equal(0);
                for (const p of shells) expect(run("bash", ["-n", p]).status).to.equal(0);
            });
        });
    }

    it("python3 compiles the haproxy agent", function () {
        requireBinaries(this, "python3");
        const tmp = tempDir("agent-compile");
        try {
            const file = path.join(tmp.dir, "plone-haproxy-agent");
            fs.writeFileSync(file, haproxyAgentFile().content);
            const r = run("python3", ["-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())", file]);
            expect(r.status, r.stderr).to.equal(0);
        } finally {
            tmp.cleanup();
        }
    });
});
