// Volto on its hosts, as rendered: which hosts deploy releases and restart in which waves (the
// Volto processes within plone.maxUnavailable of their own), the provisioning steps of a volto
// host, its supervisor programs, and its deploy.env, sourced by bash with hostile values of every
// volto key that reaches it.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import { renderDeployEnv, voltoApiPath } from "../../components/render/app/deployEnv";
import { renderSupervisorPrograms } from "../../components/render/app/supervisor";
import { crossHostDependencies, hostFiles, hostStepNames, renderHostStep } from "../../components/render/hostSteps";
import { restartPlan, restartWaves, type RestartPlan } from "../../components/topology/restarts";
import { contextOf, variantSpec } from "../helpers/appStacks";
import { run, tempDir } from "../helpers/system";

/** "host:clients/at once+volto/at once" per host, waves separated by " | ". */
function shape(plan: RestartPlan): string {
    return plan.waves
        .map((w) => w.map((h) => `${h.name}:${h.clients}/${h.concurrency}${h.volto ? `+${h.volto}/${h.voltoConcurrency}` : ""}`).join(" "))
        .join(" | ");
}

/** The most Volto processes out of rotation at once: the sum over the largest wave. */
const voltoPeak = (plan: RestartPlan) => Math.max(...plan.waves.map((w) => w.reduce((n, h) => n + (h.voltoConcurrency ?? 0), 0)));

const HOSTS = [
    { name: "zeo-1", layers: ["zeoserver"] },
    { name: "app-1", layers: ["plone_instances"] },
    { name: "web-1", layers: ["frontend", "volto"] },
    { name: "web-2", layers: ["frontend", "volto"], az: 1 },
];

/** Hostile values of every volto key that reaches deploy.env, the scripts or the processes. */
const HOSTILE = {
    path: "apps/volto_site-2.x@v+1",
    revision: "release/2026.12+build@1",
    buildCommand: `pnpm install --frozen-lockfile && echo "it's \`done\`" ; printf '%s %%s\\n' "a|b" > "out file" # not a comment to bash -c`,
    startCommand: `exec node build/server.js --title='It'"'"'s "Volto"' # %(here)s`,
    healthPath: "/ok?probe=plone-aws&x=(1);y=a,b*c!d@e:f+g~h",
    environment: {
        RAZZLE_GREETING: `it's "quoted" \`touch /tmp/pwned\` ; touch /tmp/pwned & | < > * ? (a) {b} [c] ~ # %(x)s 100%`,
        VOLTO_ROBOTSTXT: "User-agent: * Disallow: /private/",
    },
    node: { version: "22.23.5", mirror: "https://mirror.example.org/node/dist/?token=a&b=c;d(e)*f" },
    npmRegistry: "https://npm.example.org/repository/npm-group/?a=b&c=(d)*e;f",
};

describe("Volto on its hosts", function () {
    describe("restart waves", function () {
        it("keep the Volto processes within plone.maxUnavailable of their own, never all of them", function () {
            const hosts = [
                { name: "app-1", clients: 4 },
                { name: "app-2", clients: 4 },
                { name: "web-1", clients: 0, volto: 2 },
                { name: "web-2", clients: 0, volto: 2 },
            ];
            // 2 clients and 2 Volto processes: every host at once, one of each kind per host.
            expect(shape(restartWaves(hosts, 2, 2))).to.equal("app-1:4/1 app-2:4/1 web-1:0/1+2/1 web-2:0/1+2/1");
            // 1 of each: waves of one client host and one volto host.
            const one = restartWaves(hosts, 1, 1);
            expect(shape(one)).to.equal("app-1:4/1 web-1:0/1+2/1 | app-2:4/1 web-2:0/1+2/1");
            expect(voltoPeak(one)).to.equal(1);
            // 3 Volto processes at once among two hosts: the fewest rounds, 2 + 1 (or 2 each when 4 are allowed, but 3 of 4 is the limit).
            expect(voltoPeak(restartWaves(hosts, 2, 3))).to.be.at.most(3);
        });

        it("resolve plone.maxUnavailable against the Volto processes as against the clients: '50%' of 4 is 2, never all 4", function () {
            const hosts = [
                { name: "both-1", clients: 2, volto: 2 },
                { name: "both-2", clients: 2, volto: 2 },
            ];
            const plan = restartPlan({ plone: { maxUnavailable: "50%" } } as Parameters<typeof restartPlan>[0], hosts);
            expect(plan.voltoMaxUnavailable).to.equal(2);
            expect(shape(plan)).to.equal("both-1:2/1+2/1 both-2:2/1+2/1");
            const all = restartPlan({ plone: { maxUnavailable: "100%" } } as Parameters<typeof restartPlan>[0], hosts);
            expect(all.voltoMaxUnavailable).to.equal(3);
            expect(voltoPeak(all)).to.be.at.most(3);
        });

        it("a stack without Volto keeps its waves as they were (no Volto fields)", function () {
            const plan = restartWaves(
                [
                    { name: "a", clients: 2 },
                    { name: "b", clients: 2 },
                ],
                1,
            );
            expect(plan.waves).to.deep.equal([[{ name: "a", clients: 2, concurrency: 1 }], [{ name: "b", clients: 2, concurrency: 1 }]]);
        });
    });

    describe("the provisioning of a volto host", function () {
        const { ctx, host } = contextOf(variantSpec(HOSTS, { volto: { processCount: 2 }, plone: { blobs: "zeo" } }));

        it("volto hosts deploy releases: build and activate steps, after the build hosts in the rolling order, in the restart waves", function () {
            expect(ctx.topology.roles.releaseHosts).to.deep.equal(["zeo-1", "app-1", "web-1", "web-2"]);
            expect(ctx.topology.roles.buildHosts).to.deep.equal(["zeo-1", "app-1"]);
            expect(hostStepNames(host("web-1"))).to.deep.equal(["ready", "setup", "configure", "build", "activate"]);
            expect(shape(ctx.topology.restarts)).to.equal("zeo-1:0/1 | app-1:4/1 web-1:0/1+2/1 web-2:0/1+2/1");
            // No host activates before every host (the volto hosts too) has built.
            const deps = crossHostDependencies(ctx);
            expect(deps.get("zeo-1/activate")).to.deep.include({ host: "web-2", step: "build" });
            expect(deps.get("web-1/activate")).to.deep.equal([{ host: "zeo-1", step: "activate" }]);
        });

        it("a volto-only host gets deploy.env, the programs, the scripts and plone-volto, no deploy.cfg; the agent", function () {
            const paths = renderAppFiles(ctx, host("web-1")).map((f) => f.path);
            expect(paths).to.include.members([
                "/etc/plone-aws/plone/deploy.env",
                "/etc/supervisor/conf.d/plone.conf",
                "/usr/local/sbin/plone-deploy",
                "/usr/local/sbin/plone-volto",
            ]);
            expect(paths).not.to.include("/etc/plone-aws/plone/deploy.cfg");
            expect(hostFiles(ctx, host("web-1")).map((f) => f.path)).to.include("/usr/local/sbin/plone-haproxy-agent");
            // Hosts without Volto: no plone-volto, no Volto settings.
            expect(renderAppFiles(ctx, host("app-1")).map((f) => f.path)).not.to.include("/usr/local/sbin/plone-volto");
            expect(renderDeployEnv(ctx, host("app-1"))).not.to.match(/VOLTO_|BACKEND_BUILD/);
        });

        it("runs <app>-volto1..N through plone-volto on their ports, killing the process group (pnpm forks node), and the agent", function () {
            const conf = renderSupervisorPrograms(ctx, host("web-1"));
            expect(conf).to.include(
                [
                    "; volto1: port 3001",
                    "[program:plone-volto1]",
                    "command=/usr/local/sbin/plone-volto 3001",
                    "directory=/",
                    "user=plone",
                    'environment=PLONE_DEPLOY_ENV="/etc/plone-aws/plone/deploy.env"',
                ].join("\n"),
            );
            expect(conf).to.include("[program:plone-volto2]\ncommand=/usr/local/sbin/plone-volto 3002");
            expect(conf.match(/^stopasgroup=true$/gm)).to.have.length(3);
            expect(conf.match(/^killasgroup=true$/gm)).to.have.length(3);
            expect(conf).to.include("[program:plone-haproxy-agent]");
            expect(conf).not.to.include("client1");
        });

        it("the activate step restarts when either current changed (the backend's, the frontend's)", function () {
            const both = contextOf(
                variantSpec(
                    [
                        { name: "zeo-1", layers: ["zeoserver"] },
                        { name: "both-1", layers: ["frontend", "plone_instances", "volto"] },
                    ],
                    { plone: { blobs: "zeo" } },
                ),
            );
            const step = renderHostStep(both.ctx, both.host("both-1"), "activate", {});
            expect(step).to.include("before=$(readlink -f /srv/www/plone/current /srv/www/plone/frontend/current 2>/dev/null || true)");
            expect(renderHostStep(ctx, host("web-1"), "activate", {})).to.include("before=$(readlink -f /srv/www/plone/frontend/current 2>/dev/null || true)");
            expect(renderHostStep(ctx, host("app-1"), "activate", {})).to.include("before=$(readlink -f /srv/www/plone/current 2>/dev/null || true)");
        });

        it("takes the REST API from its own haproxy on a front end, else from a front end in its zone", function () {
            const env = (name: string) => renderDeployEnv(ctx, host(name));
            expect(env("web-1")).to.include("VOLTO_INTERNAL_API_PATH=http://127.0.0.1:8080/Plone");
            const apart = contextOf(
                variantSpec(
                    [
                        { name: "app-1", layers: ["plone_instances", "zeoserver"] },
                        { name: "fe-1", layers: ["frontend"] },
                        { name: "fe-2", layers: ["frontend"], az: 1 },
                        { name: "volto-2", layers: ["volto"], az: 1 },
                    ],
                    { plone: { blobs: "zeo" } },
                ),
            );
            const address = apart.ctx.addresses["fe-2"];
            expect(renderDeployEnv(apart.ctx, apart.host("volto-2"))).to.include(`VOLTO_INTERNAL_API_PATH=http://${address}:8080/Plone`);
            expect(voltoApiPath(ctx.spec)).to.equal("http://www.example.org");
            expect(voltoApiPath({ frontend: { ...ctx.spec.frontend, tls: { mode: "certbot", email: "ops@example.org" } } })).to.equal(
                "https://www.example.org",
            );
        });
    });

    describe("hostile values", function () {
        const hostile = contextOf(
            variantSpec(HOSTS, {
                volto: { ...HOSTILE, repository: "https://git.example.org/volto-frontend.git", processCount: 2 },
                plone: { blobs: "zeo" },
            }),
        );

        it("reach deploy.env as data: bash reads back exactly the configured values", function () {
            const { dir, cleanup } = tempDir("volto-env");
            try {
                const file = path.join(dir, "deploy.env");
                fs.writeFileSync(file, renderDeployEnv(hostile.ctx, hostile.host("web-1")));
                const r = run("bash", [
                    "-c",
                    `set -euo pipefail; source "$1"; printf '%s\\0' "$VOLTO_PATH" "$VOLTO_REVISION" "$VOLTO_BUILD_COMMAND" "$VOLTO_START_COMMAND" "$VOLTO_HEALTH_PATH" "$NODE_VERSION" "$NODE_MIRROR" "$NPM_REGISTRY" "\${VOLTO_ENVIRONMENT[@]}"`,
                    "read",
                    file,
                ]);
                expect(r.stderr).to.equal("");
                expect(r.status).to.equal(0);
                expect(r.stdout.split("\0").slice(0, -1)).to.deep.equal([
                    HOSTILE.path,
                    HOSTILE.revision,
                    HOSTILE.buildCommand,
                    HOSTILE.startCommand,
                    HOSTILE.healthPath,
                    HOSTILE.node.version,
                    HOSTILE.node.mirror,
                    HOSTILE.npmRegistry,
                    `RAZZLE_GREETING=${HOSTILE.environment.RAZZLE_GREETING}`,
                    `VOLTO_ROBOTSTXT=${HOSTILE.environment.VOLTO_ROBOTSTXT}`,
                ]);
                expect(fs.existsSync("/tmp/pwned")).to.equal(false);
            } finally {
                cleanup();
            }
        });

        it("never reach the supervisor file: its programs name only plone-volto and a port", function () {
            const conf = renderSupervisorPrograms(hostile.ctx, hostile.host("web-1"));
            for (const value of [HOSTILE.path, HOSTILE.startCommand, HOSTILE.environment.RAZZLE_GREETING, HOSTILE.healthPath])
                expect(conf).not.to.include(value);
        });

        it("are refused by the schema where a kind does not allow them", function () {
            const invalid = (volto: Record<string, unknown>) => {
                try {
                    variantSpec(HOSTS, { volto, plone: { blobs: "zeo" } });
                    return "";
                } catch (e) {
                    return String(e);
                }
            };
            expect(invalid({ path: "../etc" })).to.include("plone-aws:volto.path");
            expect(invalid({ node: { version: "22; rm -rf /" } })).to.include("plone-aws:volto.node.version");
            expect(invalid({ environment: { GREETING: "a\nb" } })).to.include("plone-aws:volto.environment.GREETING");
            expect(invalid({ environment: { GREETING: "$(id)" } })).to.include("plone-aws:volto.environment.GREETING");
            expect(invalid({ healthPath: "/ok now" })).to.include("plone-aws:volto.healthPath");
            expect(invalid({ buildCommand: "pnpm build\nrm -rf /" })).to.include("plone-aws:volto.buildCommand");
        });
    });
});
