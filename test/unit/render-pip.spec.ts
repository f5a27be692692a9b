// The pip builder's files (app.builder pip): the stack's instance configuration in
// cookiecutter-zope-instance's vocabulary, zeo.conf, the supervisor programs (runwsgi of each
// client's own instance, runzeo), deploy.env, zodbpack from the release's environment, the rules of
// what it does not build, and the encoding of the values cookiecutter renders as Jinja templates,
// checked with Debian's Jinja (python3-jinja2) as cookiecutter's environment sets it up.
import { expect } from "chai";
import { parse } from "yaml";
import { cookiecutterValue } from "../../components/render/encode";
import { renderAppFiles } from "../../components/render/app";
import { renderStackInstanceConfig } from "../../components/render/app/instanceConfig";
import { renderCronFiles } from "../../components/render/operations/cron";
import { contextOf, variantConfig, VARIANTS } from "../helpers/appStacks";
import { parseObjects } from "../helpers/stacks";
import * as fs from "fs";
import * as path from "path";
import { renderOperationsFiles } from "../../components/render/operations";
import { BACKUP_LOCATIONS } from "../../components/topology/ports";
import { run, tempDir } from "../helpers/system";

/** What Jinja (cookiecutter's StrictEnvironment: StrictUndefined) renders each template to. */
function jinjaRender(templates: string[]): string[] | undefined {
    const script = [
        "import json, sys",
        "from jinja2 import Environment, StrictUndefined",
        "env = Environment(keep_trailing_newline=True, undefined=StrictUndefined)",
        "print(json.dumps([env.from_string(t).render(cookiecutter={}) for t in json.load(sys.stdin)]))",
    ].join("\n");
    const r = run("/usr/bin/python3", ["-c", script], { input: JSON.stringify(templates) });
    if (r.status !== 0) {
        if (r.stderr.includes("No module named 'jinja2'")) return undefined;
        throw new Error(r.stderr);
    }
    return JSON.parse(r.stdout) as string[];
}

const HOSTILE = [
    "{{ 7 * 7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# a comment #}",
    "{{ cycler.__init__.__globals__.os.system('touch /tmp/pwned') }}",
    "' }}{{ 1 }}{{ '",
    "back\\slash and \\x41 and \\n",
    "dbname='plone' password='p@ss w$$rd {%' ",
    "unicode é ☃ 𝄞",
    "{% raw %}x{% endraw %}",
];

describe("the pip builder's files", function () {
    it("a value with Jinja syntax reaches the generated file unchanged (real Jinja)", function () {
        const rendered = jinjaRender(HOSTILE.map((v) => cookiecutterValue(v)));
        if (!rendered) this.skip(); // python3-jinja2 (scripts/ensure-test-packages.sh installs it)
        expect(rendered).to.deep.equal(HOSTILE);
        expect(cookiecutterValue("10.0.0.5:8001")).to.equal("10.0.0.5:8001");
        expect(() => cookiecutterValue("a\nb")).to.throw(/line break/);
    });

    it("a ZEO client host: instance.yaml (no deploy.cfg) with the stack's keys, one instance per client", function () {
        const { ctx, host } = contextOf(VARIANTS.pipZeo());
        const files = renderAppFiles(ctx, host("app-1"));
        expect(files.map((f) => f.path)).to.not.include("/etc/plone-aws/plone/deploy.cfg");
        const file = files.find((f) => f.path === "/etc/plone-aws/plone/instance.yaml")!;
        expect(file).to.include({ mode: "0600", owner: "plone" });
        expect(file.secret).to.equal(undefined);
        const config = parse(file.content) as { default_context: Record<string, unknown>; instances: Record<string, Record<string, unknown>> };
        expect(config.default_context).to.include({
            db_storage: "zeo",
            db_zeo_server: `${ctx.addresses["zeo-1"]}:8001`,
            db_blob_mode: "shared",
            wsgi_threads: "2",
            db_cache_size: "50000",
            debug_mode: false,
            wsgi_clear_untrusted_proxy_headers: false,
            location_log: "/srv/www/plone/shared/var/log",
        });
        expect(config.default_context.db_blob_location).to.match(/^\/srv\/shared-blobs\//);
        expect(Object.keys(config.instances)).to.deep.equal(["client1", "client2"]);
        expect(config.instances.client2).to.deep.equal({
            target: "client2",
            wsgi_listen: "0.0.0.0:8082",
            location_clienthome: "/srv/www/plone/shared/var/client2",
            db_zeo_client: "zeoclient-2",
        });
        expect(ctx.topology.hosts.find((h) => h.name === "app-1")!.packages).to.include("python3-yaml");
    });

    it("the supervisor programs run each client's own instance with runwsgi, and runzeo, from the release's environment", function () {
        const { ctx, host } = contextOf(VARIANTS.pipZeo());
        const conf = (name: string) => renderAppFiles(ctx, host(name)).find((f) => f.path === "/etc/supervisor/conf.d/plone.conf")!.content;
        expect(conf("app-1")).to.include(
            "command=/usr/local/sbin/plone-app-env /srv/www/plone/current/backend/.venv/bin/runwsgi /srv/www/plone/current/backend/instances/client1/etc/zope.ini\ndirectory=/srv/www/plone/current/backend\n",
        );
        expect(conf("zeo-1")).to.include(
            "command=/usr/local/sbin/plone-app-env /srv/www/plone/current/backend/.venv/bin/runzeo -C /srv/www/plone/current/backend/instances/zeoserver/zeo.conf\n",
        );
        const zeoConf = renderAppFiles(ctx, host("zeo-1")).find((f) => f.path === "/etc/plone-aws/plone/zeo.conf")!.content;
        expect(zeoConf).to.include(`  address ${ctx.addresses["zeo-1"]}:8001\n`).and.include("  path /srv/data/filestorage/Data.fs\n");
        const env = renderAppFiles(ctx, host("zeo-1")).find((f) => f.path.endsWith("/deploy.env"))!.content;
        expect(env).to.include("BACKEND_PATH=backend\n").and.include("SERVER_FINGERPRINTS=('backend/.venv/bin/runzeo backend/instances/zeoserver')");
        // A pip release links nothing of the buildout's into shared/; pip's cache lives there.
        expect(env).to.include("SYMLINK_FROM=()").and.include("CREATE_DIRS_BEFORE_SYMLINK=(pip-cache var/log)").and.include("PIP_CACHE=pip-cache\n");
    });

    it("RelStorage: the DSN with the password is a secret file, encoded for ZConfig and Jinja; zodbpack runs from the environment", function () {
        const { ctx, host } = contextOf(VARIANTS.pipRelstorage());
        const app = host("app-1");
        const file = renderAppFiles(ctx, app).find((f) => f.path === "/etc/plone-aws/plone/instance.yaml")!;
        expect(file.secret).to.equal(true);
        const password = "p'a$s{{ 7*7 }}\\w";
        const config = parse(renderStackInstanceConfig({ ...ctx, secrets: { ...ctx.secrets, dbPassword: password } }, app)) as {
            default_context: Record<string, unknown>;
        };
        expect(config.default_context).to.include({ db_storage: "relstorage", db_blob_mode: "cache", db_relstorage_keep_history: true });
        expect(config.default_context.db_blob_cache_size).to.equal(String(1024 ** 3));
        const [dsn] = jinjaRender([String(config.default_context.db_relstorage_postgresql_dsn)]) ?? [undefined];
        if (dsn !== undefined) expect(dsn).to.include(`password='p\\'a$$s{{ 7*7 }}\\\\w'`);
        const zodbpack = renderCronFiles(ctx, app).find((f) => f.path.endsWith("plone-zodbpack"))!.content;
        expect(zodbpack).to.include(".venv/bin/zodbpack --days");
    });

    it("a ZEO server: zeopack and repozo from the release's environment; the backup keeps plone.backups.keep full backups", function () {
        const { ctx, host } = contextOf(VARIANTS.pipZeo());
        const zeo = host("zeo-1");
        const cron = renderCronFiles(ctx, zeo);
        expect(cron.find((f) => f.path.endsWith("/cron.d/plone-aws-plone"))?.content ?? cron[0].content).to.match(
            /plone-cron-job zeopack \/usr\/local\/sbin\/plone-zeopack$/m,
        );
        const zeopack = cron.find((f) => f.path === "/usr/local/sbin/plone-zeopack")!.content;
        expect(zeopack).to.include("ZEOPACK=backend/.venv/bin/zeopack\nCONF=backend/instances/zeoserver/zeo.conf\nDAYS=7\n");
        const env = renderOperationsFiles(ctx, zeo).find((f) => f.path.endsWith("/backup.env"))!.content;
        expect(env).to.include("REPOZO=backend/.venv/bin/repozo");
        const command = /^BACKUP_COMMAND=(.*)$/m.exec(env)![1]; // shell-quoted, as deploy.env is sourced

        // The command for real: a stand-in repozo that makes a full backup, three older full backups with their incrementals.
        const { dir, cleanup } = tempDir("pip-repozo");
        try {
            const backups = `${dir}${BACKUP_LOCATIONS.location}`;
            fs.mkdirSync(`${dir}/backend/.venv/bin`, { recursive: true });
            fs.mkdirSync(backups, { recursive: true });
            fs.writeFileSync(`${dir}/backend/.venv/bin/repozo`, `#!/bin/sh\n# stand-in repozo: a full backup now\ntouch "$4/2026-12-02-10-00-00.fsz"\n`, {
                mode: 0o755,
            });
            for (const name of [
                "2026-11-01-00-00-00.fsz",
                "2026-11-02-00-00-00.deltafsz",
                "2026-11-10-00-00-00.fsz",
                "2026-11-20-00-00-00.fsz",
                "2026-11-21-00-00-00.deltafsz",
            ])
                fs.writeFileSync(path.join(backups, name), "");
            fs.writeFileSync(`${dir}/backup.env`, `BACKUP_COMMAND=${command.replaceAll(BACKUP_LOCATIONS.location, backups)}\n`);
            const r = run("bash", ["-c", `source ./backup.env && bash -c "$BACKUP_COMMAND"`], { cwd: dir });
            expect(r.status, r.stderr).to.equal(0);
            // keep: 3 full backups, and the incrementals after the oldest of them.
            expect(fs.readdirSync(backups).sort()).to.deep.equal([
                "2026-11-10-00-00-00.fsz",
                "2026-11-20-00-00-00.fsz",
                "2026-11-21-00-00-00.deltafsz",
                "2026-12-02-10-00-00.fsz",
            ]);
        } finally {
            cleanup();
        }
    });

    it("refuses what it does not build, naming the key and what to do", function () {
        const errors = (sections: Record<string, Record<string, unknown>>, layers = ["plone_instances", "zeoserver"]) =>
            parseObjects(
                variantConfig(
                    [
                        { name: "web-1", layers: ["frontend"] },
                        { name: "app-1", layers },
                    ],
                    sections,
                ),
            ).errors.map((e) => `${e.path}: ${e.message}`);
        const pip = { builder: "pip" };
        expect(errors({ app: pip })).to.deep.equal([]);
        const ok = {};
        expect(errors({ app: { ...pip, rawBuildoutConfig: "[x]\ny = 1" }, plone: ok })).to.deep.equal([
            "plone-aws:app.rawBuildoutConfig: a buildout setting, and app.builder is pip: remove it (the pip builder's tools are app.pip.tools)",
        ]);
        expect(errors({ app: pip, plone: { ...ok, celery: { enabled: true } } }, ["plone_instances", "zeoserver", "redis"])[0]).to.match(
            /^plone-aws:plone.celery.enabled: the pip builder runs no celery programs/,
        );
        expect(errors({ app: { ...pip, backendPath: "../x" }, plone: ok })[0]).to.match(/^plone-aws:app.backendPath: /);
        // A scaled group builds from pip's cache, which the first fixed app host publishes (render/scaling/instance.ts).
        const scaling = { groups: [{ name: "auto", instanceTypes: ["c6i.large"], min: 1, max: 2 }] };
        expect(errors({ app: pip, plone: { storage: "zeo", blobs: "zeo" }, scaling })).to.deep.equal([]);
    });
});
