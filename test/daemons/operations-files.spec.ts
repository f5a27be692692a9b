// The operations and monitoring files every host gets, checked by the programs that read them:
// shellcheck on the scripts (following their sources as on a host), rsyslogd -N1 on the remote
// syslog configuration, JSON for the CloudWatch agent; and which host gets which file.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { renderAppFiles } from "../../components/render/app";
import { renderDeployEnv } from "../../components/render/app/deployEnv";
import type { RenderContext, RenderedFile } from "../../components/render/context";
import { hostFiles, renderHostStep } from "../../components/render/hostSteps";
import { monitoringSetupFiles } from "../../components/render/monitoring";
import { renderNewRelicFiles } from "../../components/render/monitoring/newRelic";
import { REMOTE_SYSLOG_CONF, renderRemoteSyslogConf } from "../../components/render/monitoring/remoteSyslog";
import { renderOperationsFiles } from "../../components/render/operations";
import { renderSupervisorPrograms } from "../../components/render/app/supervisor";
import type { HostPlan } from "../../components/topology";
import { allStacks, BASE_CONFIG, contextOf, variantSpec } from "../helpers/appStacks";
import { parseObjects } from "../helpers/stacks";
import { assignedNames, shellcheckLaidOut } from "../helpers/shellcheck";
import { requireBinaries, run, tempDir } from "../helpers/system";

const SHELL = /\/(common\.sh|operations\.sh|backup\.env|deploy\.env|plone-[a-z-]+)$/;

/** shellcheck's findings on files laid out as on a host (test/helpers/shellcheck.ts). */
function shellcheck(files: RenderedFile[], sourcesOnly: RenderedFile[] = []): string {
    return shellcheckLaidOut(files, sourcesOnly).output;
}

/** One host with every monitoring integration on (and the New Relic license set). */
function monitoredSpec() {
    const result = parseObjects(
        {
            ...BASE_CONFIG,
            "plone-aws:newRelicLicenseKey": "0123456789abcdef0123456789abcdefNRAL",
            "plone-aws:hosts": [{ name: "app-1", instanceType: "t3.large", layers: ["frontend", "plone_instances", "zeoserver"] }],
            "plone-aws:monitoring": {
                alarmEmail: "ops@example.org",
                remoteSyslog: {
                    host: "logs7.papertrailapp.com",
                    port: 12345,
                    permittedPeer: "*.papertrailapp.com",
                    files: { "/var/log/custom.log": "custom" },
                },
                newRelic: { infrastructure: true, pythonAgent: true },
            },
        },
        "variant",
    );
    if (!result.spec) throw new Error(JSON.stringify(result.errors));
    return result.spec;
}

/** Volto on a front end, beside the clients, and on a host of its own. */
function voltoSpec() {
    return variantSpec(
        [
            { name: "web-1", layers: ["frontend", "volto"] },
            { name: "app-1", layers: ["plone_instances", "zeoserver", "volto"] },
            { name: "volto-1", layers: ["volto"] },
        ],
        { plone: { storage: "zeo", blobs: "zeo" }, monitoring: { remoteSyslog: { host: "logs.example.org", port: 6514 } } },
    );
}

describe("operations and monitoring files of every host", function () {
    const stacks: [string, { ctx: RenderContext; host: (n: string) => HostPlan }][] = [
        ...allStacks(),
        ["monitored", contextOf(monitoredSpec())],
        ["volto", contextOf(voltoSpec())],
    ];

    it("pass shellcheck, with the scripts' sources (common.sh, operations.sh, deploy.env, backup.env) on every host of every stack", function () {
        requireBinaries(this, "shellcheck");
        // Each distinct script is checked once, beside the sources of a host that has it: its verdict
        // depends on its own text, on common.sh and operations.sh, and on which variables the settings
        // files (deploy.env, backup.env) assign, not on their values (every settings file is checked
        // itself, last). plone-deploy, plone-rollback and plone-restart have their own shellcheck
        // spec, and so has common.sh (the same on every host): here it is only a source.
        const batches = new Map<string, { sources: RenderedFile[]; scripts: Map<string, RenderedFile> }[]>();
        const checked = new Set<string>();
        const settings: RenderedFile[] = [];
        let scriptsSeen = 0;
        for (const [stack, { ctx }] of stacks) {
            for (const host of ctx.topology.hosts) {
                let app = renderAppFiles(ctx, host).filter((f) => /\/(common\.sh|deploy\.env)$/.test(f.path));
                // A volto host's plone-program sources the host scripts' common.sh: a build host's until
                // the volto hosts get their own (render/app, the Volto host branch).
                const buildHost = ctx.topology.hosts.find((h) => h.layers.includes("plone_instances"));
                if (app.length === 0 && host.voltoProcesses.length > 0 && buildHost)
                    app = renderAppFiles(ctx, buildHost).filter((f) => /\/(common\.sh|deploy\.env)$/.test(f.path));
                const files = [...renderOperationsFiles(ctx, host), ...monitoringSetupFiles(ctx), ...app].filter((f) => SHELL.test(f.path));
                const envs = files.filter((f) => f.path.endsWith(".env"));
                settings.push(...envs.map((f) => ({ ...f, path: `/${stack}-${host.name}-${path.basename(f.path)}` })));
                const libraries = files.filter((f) => /\/(common|operations)\.sh$/.test(f.path));
                const sourcesKey = [...libraries.map((f) => `${f.path}\0${f.content}`), ...envs.map((f) => `${f.path}\0${assignedNames(f.content)}`)].join(
                    "\0",
                );
                const hostBatches = batches.get(sourcesKey) ?? [];
                batches.set(sourcesKey, hostBatches);
                for (const script of files.filter((f) => !f.path.endsWith(".env") && !f.path.endsWith("/common.sh"))) {
                    scriptsSeen++;
                    const key = `${sourcesKey}\0${script.path}\0${script.content}`;
                    if (checked.has(key)) continue;
                    checked.add(key);
                    // Two versions of one script (its name is its path on the host) go to two shellcheck runs, each laid out in a directory of its own.
                    let batch = hostBatches.find((b) => !b.scripts.has(script.path));
                    if (!batch) hostBatches.push((batch = { sources: [...libraries, ...envs], scripts: new Map() }));
                    batch.scripts.set(script.path, script);
                }
            }
        }
        const runs = [...batches.values()].flat().filter((b) => b.scripts.size > 0);
        // Fewer checks than scripts: the same script on many hosts is checked once.
        expect(runs.length).to.be.greaterThan(5);
        expect(checked.size).to.be.lessThan(scriptsSeen);
        for (const batch of runs) {
            const scripts = [...batch.scripts.values()];
            expect(
                shellcheck(
                    scripts,
                    batch.sources.filter((f) => !batch.scripts.has(f.path)),
                ),
                scripts.map((f) => path.basename(f.path)).join(" "),
            ).to.equal("");
        }
        expect(shellcheck(settings), "every host's deploy.env and backup.env").to.equal("");
    });

    it("the setup step stays shellcheck-clean and the configure step valid bash with the monitoring additions", function () {
        requireBinaries(this, "shellcheck");
        const { ctx, host } = contextOf(monitoredSpec());
        const h = host("app-1");
        const ids = Object.fromEntries(h.volumes.map((v) => [v.mountPoint, "vol-0123456789abcdef0"]));
        const setup = renderHostStep(ctx, h, "setup", ids);
        expect(setup).to.include("/usr/local/sbin/plone-cloudwatch-agent install\n/usr/local/sbin/plone-newrelic-infra install\n");
        expect(shellcheck([{ path: "/tmp/setup.sh", content: setup, mode: "0755", owner: "root", group: "root" }])).to.equal("");
        const configure = renderHostStep(ctx, h, "configure", ids);
        expect(run("bash", ["-n"], { input: configure }).status).to.equal(0);
        expect(configure).to.include("reloading the CloudWatch agent");
    });

    it("gives each host the scripts of what it runs", function () {
        const names = (ctx: RenderContext, host: HostPlan) =>
            renderOperationsFiles(ctx, host)
                .map((f) => path.basename(f.path))
                .sort();
        const prod = stacks.find(([n]) => n === "prod")![1];
        expect(names(prod.ctx, prod.host("web-1"))).to.deep.equal(["plone-service", "plone-status", "plone-varnish-purge"]);
        expect(names(prod.ctx, prod.host("app-1"))).to.deep.equal([
            "backup.env",
            "operations.sh",
            "pgdump.env",
            "pgpass",
            "plone-backup",
            "plone-pack",
            "plone-pgdump",
            "plone-program",
            "plone-restore",
            "plone-service",
            "plone-status",
        ]);
        expect(names(prod.ctx, prod.host("app-2"))).to.deep.equal(["operations.sh", "plone-program", "plone-service", "plone-status"]);
        expect(names(prod.ctx, prod.host("blobs-1"))).to.deep.equal(["plone-service", "plone-status"]);
        // plone-program starts and stops the Volto processes where supervisor runs them.
        const volto = stacks.find(([n]) => n === "volto")![1];
        expect(names(volto.ctx, volto.host("volto-1"))).to.deep.equal(["operations.sh", "plone-program", "plone-service", "plone-status"]);
        expect(names(volto.ctx, volto.host("web-1"))).to.deep.equal(["operations.sh", "plone-program", "plone-service", "plone-status", "plone-varnish-purge"]);
        const dev = stacks.find(([n]) => n === "dev")![1];
        expect(names(dev.ctx, dev.host("dev-1"))).to.deep.equal([
            "backup.env",
            "operations.sh",
            "plone-backup",
            "plone-pack",
            "plone-program",
            "plone-restore",
            "plone-service",
            "plone-status",
            "plone-varnish-purge",
        ]);
    });

    it("installs every file once per host (no two renderers write the same path)", function () {
        for (const [stack, { ctx }] of stacks) {
            for (const host of ctx.topology.hosts) {
                const paths = hostFiles(ctx, host).map((f) => f.path);
                expect(
                    paths.filter((p, i) => paths.indexOf(p) !== i),
                    `${stack} ${host.name}`,
                ).to.deep.equal([]);
            }
        }
    });

    it("forwards the logs to the remote syslog over TLS, in a configuration rsyslogd accepts", function () {
        const { ctx, host } = contextOf(monitoredSpec());
        const conf = renderRemoteSyslogConf(ctx, host("app-1"))!;
        expect(conf).to.include('action(type="omfwd" target="logs7.papertrailapp.com" port="12345" protocol="tcp"');
        expect(conf).to.include('StreamDriverPermittedPeers="*.papertrailapp.com"');
        expect(conf).to.include('input(type="imfile" File="/var/log/custom.log" Tag="custom:"');
        expect(conf).to.include('File="/var/log/supervisor/plone-client1-stderr.log"');
        expect(conf).to.not.include("nginx/access.log");
        expect(hostFiles(ctx, host("app-1")).map((f) => f.path)).to.include(REMOTE_SYSLOG_CONF);
        requireBinaries(this, "rsyslogd");
        const { dir, cleanup } = tempDir("rsyslog");
        try {
            fs.mkdirSync(path.join(dir, "rsyslog.d"));
            const file = path.join(dir, "rsyslog.d", "60-plone-aws-remote.conf");
            fs.writeFileSync(file, conf);
            // What Debian's /etc/rsyslog.conf sets before it includes /etc/rsyslog.d.
            fs.writeFileSync(
                path.join(dir, "rsyslog.conf"),
                `global(workDirectory="${dir}")\nmodule(load="imuxsock")\n$IncludeConfig ${dir}/rsyslog.d/*.conf\n*.* /dev/null\n`,
            );
            const ok = run("rsyslogd", ["-N1", "-f", path.join(dir, "rsyslog.conf")]);
            expect(ok.status, ok.stderr).to.equal(0);
            fs.writeFileSync(file, conf.replace("protocol=", "protocl="));
            expect(run("rsyslogd", ["-N1", "-f", path.join(dir, "rsyslog.conf")]).status, "a broken file is refused").to.not.equal(0);
        } finally {
            cleanup();
        }
    });

    it("keeps the New Relic license in 0600/0640 files, never on a command line, and points the clients at it", function () {
        const { ctx, host } = contextOf(monitoredSpec());
        const real = { ...ctx, secrets: { ...ctx.secrets, newRelicLicenseKey: "0123456789abcdef0123456789abcdefNRAL" } };
        const files = renderNewRelicFiles(real, host("app-1"));
        expect(files.map((f) => [f.path, f.mode, f.owner, f.group, f.secret])).to.deep.equal([
            ["/etc/newrelic-infra.yml", "0600", "root", "root", true],
            ["/etc/plone-aws/plone/newrelic.ini", "0640", "root", "plone", true],
        ]);
        expect(files[0].content).to.include('license_key: "0123456789abcdef0123456789abcdefNRAL"');
        expect(files[1].content).to.include("license_key = 0123456789abcdef0123456789abcdefNRAL");
        expect(files[1].content).to.include("app_name = variant: plone");
        // The clients get it from plone-app-env (deploy.env's APP_ENVIRONMENT), not from supervisor's environment=.
        expect(renderDeployEnv(real, host("app-1"))).to.match(/^APP_ENVIRONMENT=\((.* )?NEW_RELIC_CONFIG_FILE=\/etc\/plone-aws\/plone\/newrelic\.ini[ )]/m);
        expect(renderSupervisorPrograms(real, host("app-1"))).to.not.include("NEW_RELIC_CONFIG_FILE");
        expect(renderSupervisorPrograms(real, host("app-1"))).to.include("/usr/local/sbin/plone-app-env /srv/www/plone/current/bin/client1 console");
        // Nowhere else: not in the setup step, the supervisor programs or the scripts.
        const ids = Object.fromEntries(host("app-1").volumes.map((v) => [v.mountPoint, "vol-1"]));
        expect(renderHostStep(real, host("app-1"), "setup", ids)).to.not.include("NRAL");
        for (const f of hostFiles(real, host("app-1")).filter((x) => !x.secret)) expect(f.content, f.path).to.not.include("NRAL");
    });
});
