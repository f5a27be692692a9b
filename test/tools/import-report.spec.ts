// Every line of the import's report states the value the Custom JSON held and what it became (or
// why it was not carried over): `enable_cache: true` no longer reads "false: no memcached layer",
// nor `gluster_blobs: false` "gluster".
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { displayValue, NOT_SHOWN } from "../../scripts/lib/opsworks/credentials";
import { importOpsWorks, ImportOptions, ImportResult, Json } from "../../scripts/lib/opsworks/convert";
import { REPO } from "../helpers/stacks";

const FIXTURES = path.join(REPO, "test", "fixtures", "opsworks");
const NOW = new Date("2026-01-15T12:00:00Z");

function convert(json: Json, over: Partial<ImportOptions> = {}): ImportResult {
    return importOpsWorks(json, { stack: "imported", jsonFile: "custom.json", adminCidrs: [], now: NOW, ...over });
}

function lineOf(r: ImportResult, at: string): { kind: string; message: string } {
    const line = r.report.find((l) => l.path === at);
    expect(line, `no report line for ${at}: ${r.report.map((l) => l.path).join(", ")}`).to.not.equal(undefined);
    return { kind: line!.kind, message: line!.message };
}

/** The value at a report line's path (`a.b[0]["odd key"]`) in the JSON. */
function valueAt(json: Json, at: string): { found: Json | undefined; name?: string } {
    let v: Json | undefined = json;
    let name: string | undefined;
    for (const m of at.matchAll(/\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|([^.[\]]+)/g)) {
        const key = m[1] !== undefined ? Number(m[1]) : m[2] !== undefined ? (JSON.parse(`"${m[2]}"`) as string) : m[3];
        if (typeof key === "string") name = key;
        v = v !== null && typeof v === "object" ? (v as Record<string | number, Json>)[key] : undefined;
    }
    return { found: v, name };
}

describe("import-opsworks report lines: the value found and what it became", function () {
    it("relstorage.enable_cache: true reads true and the memcached host; false reads false", function () {
        const on = convert({ plone_instances: { enable_relstorage: true, relstorage: { enable_cache: true } } });
        expect(lineOf(on, "plone_instances.relstorage.enable_cache")).to.deep.equal({ kind: "mapped", message: "true -> the memcached layer on cache-1" });
        const off = convert({ plone_instances: { enable_relstorage: true, relstorage: { enable_cache: false } } });
        expect(lineOf(off, "plone_instances.relstorage.enable_cache")).to.deep.equal({
            kind: "mapped",
            message: "false -> no memcached layer and no cache servers",
        });
    });

    it("gluster_blobs: false reads false and the blob storage the other keys chose", function () {
        const nfs = convert({ plone_instances: { nfs_blobs: true, gluster_blobs: false } });
        expect(lineOf(nfs, "plone_instances.gluster_blobs").message).to.equal(
            'false -> no Gluster blobs: plone-aws:plone.blobs "nfs" (from plone_instances.nfs_blobs)',
        );
        expect(lineOf(nfs, "plone_instances.nfs_blobs").message).to.equal('true -> plone-aws:plone.blobs "nfs"');
        const alone = convert({ plone_instances: { gluster_blobs: false } });
        expect(lineOf(alone, "plone_instances.gluster_blobs").message).to.equal(
            'false -> no Gluster blobs: plone-aws:plone.blobs "zeo" (no key asks for shared blobs)',
        );
        const on = convert({ plone_instances: { gluster_blobs: true } });
        expect(lineOf(on, "plone_instances.gluster_blobs").message).to.equal('true -> plone-aws:plone.blobs "gluster"');
    });

    const TABLE: { what: string; json: Json; over?: Partial<ImportOptions>; at: string; kind?: string; message: string }[] = [
        {
            what: "RelStorage off",
            json: { plone_instances: { enable_relstorage: false } },
            at: "plone_instances.enable_relstorage",
            message: 'false -> plone-aws:plone.storage "zeo" (the default: ZEO, no RelStorage)',
        },
        {
            what: "shared blobs off",
            json: { plone_instances: { shared_blobs: false } },
            at: "plone_instances.shared_blobs",
            message: 'false -> plone-aws:plone.blobs "zeo"',
        },
        {
            what: "shared blobs on, nothing says how",
            json: { plone_instances: { shared_blobs: true } },
            at: "plone_instances.shared_blobs",
            message: 'true -> plone-aws:plone.blobs "zeo": shared_blobs alone does not say how the blobs are shared (nfs_blobs, gluster_blobs or blob_dir)',
        },
        {
            what: "a blob dir that loses to NFS",
            json: { plone_instances: { nfs_blobs: true }, plone_blobs: { blob_dir: "/srv/blobs" } },
            at: "plone_blobs.blob_dir",
            message: '"/srv/blobs" -> not used: plone-aws:plone.blobs "nfs" comes from plone_instances.nfs_blobs',
        },
        { what: "tmpfs on", json: { tmpdir: { tmpfs: true } }, at: "tmpdir.tmpfs", message: 'true -> plone-aws:plone.tmpfsSize "1G"' },
        { what: "tmpfs off", json: { tmpdir: { tmpfs: false, tmpfs_size: "2G" } }, at: "tmpdir.tmpfs", message: "false -> no tmpfs (plone-aws's default)" },
        {
            what: "a tmpfs size without tmpfs",
            json: { tmpdir: { tmpfs: false, tmpfs_size: "2G" } },
            at: "tmpdir.tmpfs_size",
            message: '"2G" -> not used: tmpdir.tmpfs is not true, so there is no tmpfs',
        },
        {
            what: "celerybeat without celery",
            json: { plone_instances: { celerybeat: true } },
            at: "plone_instances.celerybeat",
            message: "true -> not used: plone_instances.enable_celery is not true, so there is no celery",
        },
        {
            what: "celerybeat with celery",
            json: { plone_instances: { enable_celery: true, celerybeat: true } },
            at: "plone_instances.celerybeat",
            message: "true -> the celerybeat layer on app-1",
        },
        {
            what: "celerybeat off",
            json: { plone_instances: { enable_celery: true, celerybeat: false } },
            at: "plone_instances.celerybeat",
            message: "false -> no celerybeat layer",
        },
        {
            what: "packing off, but plone-aws packs by default",
            json: { plone_instances: { enable_relstorage: true, relstorage: { enable_pack: false } } },
            at: "plone_instances.relstorage.enable_pack",
            message: "false -> the db_packing layer on app-1 (plone-aws packs RelStorage from one app host unless plone.pack.enabled is false)",
        },
        {
            what: "the losing max connections",
            json: { haproxy: { global_max_connections: 100, default_max_connections: 50 } },
            at: "haproxy.default_max_connections",
            message: "50 -> not used: haproxy.global_max_connections wins",
        },
        {
            what: "the winning max connections",
            json: { haproxy: { global_max_connections: "100" } },
            at: "haproxy.global_max_connections",
            message: '"100" -> plone-aws:frontend.haproxy.maxConnections 100',
        },
        {
            what: "a timeout in milliseconds",
            json: { haproxy: { server_timeout: 900 } },
            at: "haproxy.server_timeout",
            message: '900 -> plone-aws:frontend.haproxy.serverTimeout "900ms"',
        },
        {
            what: "a snapshot hour in the stack's time zone",
            json: { system: { timezone: "Europe/Berlin" }, ebs_snapshots: { hour: "3", minute: "0" } },
            at: "ebs_snapshots.hour",
            message: '"3" -> plone-aws:snapshots.time "02:00" (03:00 Europe/Berlin in UTC)',
        },
        {
            what: "weekday snapshots",
            json: { ebs_snapshots: { weekday: "1-5" } },
            at: "ebs_snapshots.weekday",
            kind: "unsupported",
            message: '"1-5": plone-aws snapshots daily',
        },
        {
            what: "two cron times",
            json: { ebs_snapshots: { hour: "3,15" } },
            at: "ebs_snapshots.hour",
            kind: "unsupported",
            message: '"3,15": the cron time 0 3,15 (minute hour) is not one daily time: plone-aws\'s default (08:00 UTC) applies',
        },
        {
            what: "global packages that lose to the app's",
            json: { deploy_python: { os_packages: ["wv"] }, deploy: { plone_instances: { os_packages: ["poppler-utils"] } } },
            at: "deploy_python.os_packages",
            message: '["wv"] -> not used: deploy.plone_instances.os_packages wins (the app\'s own)',
        },
        {
            what: "renamed packages",
            json: { deploy: { plone_instances: { os_packages: ["libtiff4-dev"] } } },
            at: "deploy.plone_instances.os_packages",
            message: '["libtiff4-dev"] -> plone-aws:app.osPackages ["libtiff-dev"] (1 change for Debian 12: see "Assumed or changed")',
        },
        {
            what: "only built-in links",
            json: { deploy_buildout: { symlink_before_migrate: { eggs: "eggs" } } },
            at: "deploy_buildout.symlink_before_migrate",
            message: '{"eggs":"eggs"} -> only built-in entries (plone-aws makes them itself): nothing to carry over',
        },
        {
            what: "a fallback the app overrides",
            json: { deploy_buildout: { flags: "-N" }, deploy: { plone_instances: { buildout_flags: "-v" } } },
            at: "deploy_buildout.flags",
            message: '"-N" -> not used: deploy.plone_instances.buildout_flags wins (the app\'s own)',
        },
        {
            what: "a fixed port (not needed)",
            json: { nginx_plone: { proxy_port: 6081 } },
            at: "nginx_plone.proxy_port",
            kind: "dropped",
            message: "6081: Varnish listens on 6081 on every front end",
        },
        {
            what: "null",
            json: { plone_instances: { site_id: null } },
            at: "plone_instances.site_id",
            kind: "dropped",
            message: "null: not set: plone-aws's default applies",
        },
        {
            what: "a key an option overrides",
            json: { deploy: { plone_instances: { scm: { revision: "prod" } } } },
            over: { revision: "v2" },
            at: "deploy.plone_instances.scm.revision",
            message: '"prod" -> not used: plone-aws:app.revision comes from --revision',
        },
        {
            what: "an upstart init type",
            json: { deploy: { plone_instances: { buildout_init_type: "upstart" } } },
            at: "deploy.plone_instances.buildout_init_type",
            kind: "unsupported",
            message: '"upstart": plone-aws runs the programs under supervisor',
        },
        {
            what: "database keys with ZEO storage",
            json: { plone_instances: { relstorage: { db: { host: "db.example.org" } } } },
            at: "plone_instances.relstorage.db.host",
            message: '"db.example.org" -> not used: plone-aws:plone.storage is zeo (plone_instances.enable_relstorage is not true)',
        },
        {
            what: "the app's database when relstorage.db.name is set",
            json: {
                plone_instances: { enable_relstorage: true, relstorage: { db: { name: "plone" } } },
                deploy: { plone_instances: { database: { host: "rds.example.org" } } },
            },
            at: "deploy.plone_instances.database.host",
            message: '"rds.example.org" -> not used: relstorage.db.name is set, so the cookbook used plone_instances.relstorage.db.*',
        },
        {
            what: "a MySQL database",
            json: { plone_instances: { enable_relstorage: true, relstorage: { db: { type: "mysql", name: "plone" } } } },
            at: "plone_instances.relstorage.db.type",
            message: '"mysql" -> not carried over: plone-aws\'s database is PostgreSQL (RDS); move the data with zodbconvert',
        },
        {
            what: "certbot names",
            json: { certbot_domains: ["www.example.org", "example.org"], certbot_email: "ops@example.org" },
            at: "certbot_domains",
            message:
                '["www.example.org","example.org"] -> plone-aws:frontend.domain "www.example.org"; plone-aws:frontend.aliases ["example.org"]; plone-aws:frontend.tls certbot',
        },
        {
            what: "an email --certbot-email overrides",
            json: { certbot_domains: ["www.example.org"], certbot_email: "ops@example.org" },
            over: { certbotEmail: "web@example.org" },
            at: "certbot_email",
            message: '"ops@example.org" -> not used: --certbot-email wins',
        },
        {
            what: "the app's domains when certbot names the site",
            json: { certbot_domains: ["www.example.org"], certbot_email: "ops@example.org", deploy: { plone_instances: { domains: ["old.example.org"] } } },
            at: "deploy.plone_instances.domains",
            message: '["old.example.org"] -> not used: certbot_domains names the site',
        },
        {
            what: "a layer name without an instances file",
            json: { plone_instances: { zeo_layer: "zeo" } },
            at: "plone_instances.zeo_layer",
            message: '"zeo" -> not used: no --instances file names layers',
        },
        {
            what: "a Subversion source",
            json: { deploy: { plone_instances: { scm: { scm_type: "svn", repository: "svn://svn.example.org/site" } } } },
            at: "deploy.plone_instances.scm.scm_type",
            kind: "unsupported",
            message: '"svn": plone-aws deploys from git; move the buildout into a git repository',
        },
        {
            what: "the app's scm user when --repository is given",
            json: { deploy: { plone_instances: { scm: { repository: "https://git.example.org/a.git", user: "deployer" } } } },
            over: { repository: "https://git.example.org/b.git" },
            at: "deploy.plone_instances.scm.user",
            message: '"deployer" -> not used: --repository wins',
        },
        {
            what: "the app's scm user without a password",
            json: { deploy: { plone_instances: { scm: { repository: "https://git.example.org/a.git", user: "deployer" } } } },
            at: "deploy.plone_instances.scm.user",
            message: '"deployer" -> not used: no password goes with it',
        },
        { what: "an unknown key", json: { mystery: 42 }, at: "mystery", kind: "unknown", message: "42: not a key of the OpsWorks cookbooks: not carried over" },
        {
            what: "a control character in a value",
            json: { plone_instances: { site_id: "Plone\nserver evil" } },
            at: "plone_instances.site_id",
            message: '"Plone\\nserver evil" -> plone-aws:plone.siteId "Plone\\nserver evil"',
        },
    ];

    for (const t of TABLE) {
        it(`${t.what}: ${t.at}`, function () {
            const r = convert(t.json, t.over);
            expect(lineOf(r, t.at)).to.deep.equal({ kind: t.kind ?? "mapped", message: t.message });
        });
    }

    it("every line of every fixture starts with the value found (never a secret); every carried key says what it became", function () {
        const files = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".json") && f !== "production-instances.json");
        let checked = 0;
        for (const file of files) {
            const json = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), "utf8")) as Json;
            const r = convert(
                json,
                file === "production-relstorage.json"
                    ? {
                          instances: {
                              json: JSON.parse(fs.readFileSync(path.join(FIXTURES, "production-instances.json"), "utf8")) as Json,
                              file: "production-instances.json",
                          },
                      }
                    : {},
            );
            for (const l of r.report) {
                const { found, name } = valueAt(json, l.path);
                const shown = l.kind === "secret" || l.kind === "refused" ? NOT_SHOWN : displayValue(found, name);
                expect(l.message.startsWith(`${shown}`), `${file}: ${l.path}: ${l.message}`).to.equal(true);
                if (l.kind === "mapped" || l.kind === "secret") {
                    expect(l.message, `${file}: ${l.path}`).to.match(/ -> \S/);
                    if (!l.message.includes("; not written: ")) expect(l.message, `${file}: ${l.path}`).not.to.include("-> not carried over");
                }
                checked++;
            }
        }
        expect(checked).to.be.greaterThan(100);
    });
});
