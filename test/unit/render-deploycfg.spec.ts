// deploy.cfg: what each host's buildout is told, checked with zc.buildout's own parser and our
// check that every ${section:option} it references is defined.
import { expect } from "chai";
import { deployCfgFile, generatedParts, renderDeployCfg } from "../../components/render/app/deployCfg";
import { DEPLOY_USER, PATHS } from "../../components/topology/ports";
import { allStacks, contextOf, repoStack, VARIANTS, variantSpec } from "../helpers/appStacks";
import { buildoutPython, lines, option, parseBuildout, unresolvedReferences } from "../helpers/buildout";
import { runsBuild } from "../../components/layers";

/**
 * The blob directory on the shared mount, the same everywhere: plone-blobs makes it, the NFS
 * server exports it, zodbpack packs it (as the cookbook's blobstorage on the mount).
 */
const SHARED_BLOB_DIR = `${PATHS.sharedBlobsMount}/blobstorage`;

describe("deploy.cfg", function () {
    before(function () {
        if (!buildoutPython()) {
            if (process.env.CI) throw new Error("python3-zc.buildout is missing");
            this.skip();
        }
    });

    describe("prod (RelStorage on RDS, gluster blobs, memcached, db_packing on app-1)", function () {
        const { ctx, host } = repoStack("prod");
        const app1 = parseBuildout(renderDeployCfg(ctx, host("app-1")));
        const app2 = parseBuildout(renderDeployCfg(ctx, host("app-2")));

        it("gives app-1 client1..8 on ports 8081..8088", function () {
            const clients = lines(option(app1, "buildout", "parts")).filter((p) => /^client\d+$/.test(p));
            expect(clients).to.deep.equal(["client1", "client2", "client3", "client4", "client5", "client6", "client7", "client8"]);
            clients.forEach((c, i) => expect(option(app1, c, "http-address"), c).to.equal(`0.0.0.0:${8081 + i}`));
            expect(app1.client2["<"]).to.equal("client1");
        });

        it("puts the two-stage packing parts on app-1 only", function () {
            const parts1 = lines(option(app1, "buildout", "parts"));
            expect(parts1.slice(0, 3)).to.deep.equal(["pack-config", "zodbpack-prepack", "zodbpack-pack"]);
            expect(option(app1, "zodbpack", "pack-days")).to.equal("7");
            expect(option(app1, "pack-config", "enable-gc")).to.equal("true");
            expect(lines(option(app2, "buildout", "parts")).filter((p) => !/^client\d+$/.test(p))).to.deep.equal([]);
            expect(app2.zodbpack).to.equal(undefined);
        });

        it("writes [relstorage] with the RDS host and port, and a dsn that carries the port", function () {
            expect(ctx.database).to.not.equal(undefined);
            for (const cfg of [app1, app2]) {
                expect(cfg.relstorage.host).to.equal(ctx.database!.address);
                expect(cfg.relstorage.port).to.equal("5432");
                expect(cfg.relstorage.dbname).to.equal("plone");
                expect(cfg.relstorage.password).to.equal(ctx.secrets.dbPassword);
                expect(cfg.relstorage.dsn).to.include(`host='${ctx.database!.address}' port='5432'`);
                expect(lines(option(cfg, "buildout", "eggs"))).to.deep.equal(["psycopg2", "pylibmc"]);
                expect(lines(option(cfg, "buildout", "extends"))).to.deep.equal(["cfg/base.cfg", "cfg/relstorage.cfg", "cfg/production.cfg"]);
            }
        });

        it("installs the build dependencies of the driver eggs it adds (psycopg2, pylibmc)", function () {
            for (const name of ["app-1", "app-2"]) expect(host(name).packages).to.include.members(["libpq-dev", "libmemcached-dev"]);
            expect(contextOf(VARIANTS.efs()).host("app-1").packages).to.not.include("libmemcached-dev");
        });

        it("points memcached at cache-1 and RelStorage at the blob directory on the gluster mount", function () {
            expect(app1.memcached.servers).to.equal(`${ctx.addresses["cache-1"]}:11211`);
            const rs = lines(option(app1, "client1", "rel-storage"));
            expect(rs).to.include.members([
                "type postgresql",
                "dsn ${relstorage:dsn}",
                "shared-blob-dir true",
                `blob-dir ${SHARED_BLOB_DIR}`,
                "cache-local-mb 512",
                "cache-servers ${memcached:servers}",
            ]);
            expect(option(app1, "client1", "zeo-client")).to.equal(undefined);
        });

        it("passes the app environment to the clients", function () {
            expect(lines(option(app1, "client1", "environment-vars"))).to.deep.equal(["PLONE_ENV production"]);
            expect(option(app1, "client1", "threads")).to.equal("2");
            expect(option(app1, "client1", "http-fast-listen")).to.equal("off");
        });
    });

    describe("dev (one host: clients, ZEO server, local blobs)", function () {
        const { ctx, host } = repoStack("dev");
        const cfg = parseBuildout(renderDeployCfg(ctx, host("dev-1")));

        it("finds the ZEO server at its own address and has no RelStorage", function () {
            expect(cfg["zeo-host"].address).to.equal(`${ctx.addresses["dev-1"]}:8001`);
            expect(option(cfg, "zeoserver", "address")).to.equal("${zeo-host:address}");
            expect(cfg.relstorage).to.equal(undefined);
            expect(option(cfg, "buildout", "eggs")).to.equal(undefined);
            expect(lines(option(cfg, "buildout", "extends"))).to.deep.equal(["cfg/base.cfg"]);
        });

        it("runs the ZEO server with backups, and two clients sharing its blob directory", function () {
            expect(lines(option(cfg, "buildout", "parts"))).to.deep.equal(["zeoserver", "backup", "client1", "client2"]);
            // The private address the clients are given, not every interface.
            expect(option(cfg, "zeoserver", "zeo-address")).to.equal(`${ctx.addresses["dev-1"]}:8001`);
            expect(option(cfg, "zeoserver", "zeo-address")).to.equal(cfg["zeo-host"].address);
            expect(option(cfg, "zeoserver", "file-storage")).to.equal(`${PATHS.filestorage}/Data.fs`);
            expect(option(cfg, "zeoserver", "blob-storage")).to.equal(PATHS.localBlobs);
            expect(option(cfg, "client1", "shared-blob")).to.equal("on");
            expect(option(cfg, "client1", "blob-storage")).to.equal(PATHS.localBlobs);
            expect(option(cfg, "client1", "zeo-address")).to.equal("${zeo-host:address}");
            expect(option(cfg, "client1", "zeo-client-client")).to.equal("zeoclient-1");
            expect(option(cfg, "client2", "zeo-client-client")).to.equal("zeoclient-2");
            expect(option(cfg, "backup", "location")).to.equal(`${PATHS.backups}/filestorage`);
            expect(option(cfg, "backup", "keep")).to.equal("2");
        });

        it("is a secret file readable by the deploy user only", function () {
            const file = deployCfgFile(ctx, host("dev-1"));
            expect(file).to.include({ path: "/etc/plone-aws/plone/deploy.cfg", mode: "0600", owner: DEPLOY_USER, secret: true });
        });
    });

    describe("variants", function () {
        it("celery: a celery part and the broker on every app host, beat host or not; none on the ZEO host", function () {
            const { ctx, host } = contextOf(VARIANTS.celery());
            for (const name of ["app-1", "app-2"]) {
                const cfg = parseBuildout(renderDeployCfg(ctx, host(name)));
                expect(lines(option(cfg, "buildout", "parts"))).to.include("celery");
                expect(cfg["celery-broker"]).to.deep.include({ host: ctx.addresses["zeo-1"], port: "6379" });
                expect(cfg.celery["broker-host"]).to.equal("${celery-broker:host}");
                expect(option(cfg, "client1", "shared-blob")).to.equal("off");
                expect(option(cfg, "client1", "blob-storage")).to.equal("${buildout:directory}/var/blobcache");
            }
            const zeo = parseBuildout(renderDeployCfg(ctx, host("zeo-1")));
            expect(lines(option(zeo, "buildout", "parts"))).to.deep.equal(["zeoserver", "backup"]);
            expect(zeo["celery-broker"]).to.equal(undefined);
            expect(option(zeo, "zeoserver", "blob-storage")).to.equal(PATHS.localBlobs);
        });

        it("solr: [solr-host] on the app host, the Solr parts and data directory on the solr host only", function () {
            const { ctx, host } = contextOf(VARIANTS.solr());
            const app = parseBuildout(renderDeployCfg(ctx, host("app-1")));
            expect(app["solr-host"]).to.deep.equal({ host: ctx.addresses["solr-1"], port: "8984" });
            expect(lines(option(app, "buildout", "parts"))).to.not.include("solr-instance");
            const solr = parseBuildout(renderDeployCfg(ctx, host("solr-1")));
            expect(lines(option(solr, "buildout", "parts"))).to.deep.equal(["solr-download", "solr-instance"]);
            expect(solr["solr-instance"].vardir).to.equal(PATHS.solrData);
            expect(solr["solr-host"].host).to.equal(ctx.addresses["solr-1"]);
        });

        it("nfs: clients and the ZEO server share the blob directory on the NFS mount; syslog for both", function () {
            const { ctx, host } = contextOf(VARIANTS.nfs());
            const app = parseBuildout(renderDeployCfg(ctx, host("app-2")));
            expect(option(app, "client1", "shared-blob")).to.equal("on");
            expect(option(app, "client1", "blob-storage")).to.equal(SHARED_BLOB_DIR);
            expect(option(app, "client3", "http-address")).to.equal("0.0.0.0:8083");
            expect(option(app, "client1", "event-log-handler")).to.equal("logging.handlers.SysLogHandler");
            expect(option(app, "client1", "event-log-args")).to.equal('("/dev/log", "local1")');
            expect(option(app, "client1", "event-log-level")).to.equal("WARNING");
            expect(app["zeo-host"].address).to.equal(`${ctx.addresses["zeo-1"]}:8001`);
            const zeo = parseBuildout(renderDeployCfg(ctx, host("zeo-1")));
            expect(option(zeo, "zeoserver", "blob-storage")).to.equal(SHARED_BLOB_DIR);
            expect(option(zeo, "backup", "blob_storage")).to.equal(SHARED_BLOB_DIR);
            expect(option(zeo, "zeoserver", "zeo-log-custom")).to.include("facility local2");
            expect(option(zeo, "zeoserver", "address")).to.equal(undefined);
        });

        it("efs: RelStorage keeps blobs in the shared EFS directory", function () {
            const { ctx, host } = contextOf(VARIANTS.efs());
            const cfg = parseBuildout(renderDeployCfg(ctx, host("app-2")));
            expect(lines(option(cfg, "client1", "rel-storage"))).to.include.members(["shared-blob-dir true", `blob-dir ${SHARED_BLOB_DIR}`]);
            expect(lines(option(cfg, "buildout", "eggs"))).to.deep.equal(["psycopg2"]);
            expect(cfg.memcached).to.equal(undefined);
        });

        it("database blobs: a bounded blob cache per host, history-free, packing without gc", function () {
            const { ctx, host } = contextOf(VARIANTS.databaseBlobs());
            const cfg = parseBuildout(renderDeployCfg(ctx, host("app-1")));
            expect(lines(option(cfg, "client1", "rel-storage"))).to.include.members([
                "shared-blob-dir false",
                "blob-dir ${buildout:directory}/var/blobcache",
                "blob-cache-size 4gb",
            ]);
            expect(cfg.relstorage["keep-history"]).to.equal("false");
            expect(cfg["pack-config"]["enable-gc"]).to.equal("false");
            expect(lines(option(cfg, "buildout", "parts"))).to.deep.equal(["pack-config", "zodbpack", "client1", "client2"]);
        });

        it("external database: its host, port, name and user; memcached from the layer and cacheServers", function () {
            const { ctx, host } = contextOf(VARIANTS.externalDatabase());
            const cfg = parseBuildout(renderDeployCfg(ctx, host("app-1")));
            expect(cfg.relstorage).to.deep.include({ host: "pg.example.net", port: "6432", dbname: "site", user: "zope" });
            expect(cfg.relstorage.dsn).to.match(/^dbname='site' user='zope' host='pg.example.net' port='6432' password='/);
            expect(cfg.memcached.servers).to.equal(`${ctx.addresses["cache-1"]}:11211 cache.example.net:11211`);
            expect(lines(option(cfg, "buildout", "parts"))).to.include("zodb-clear-refs");
        });
    });

    describe("every host of every stack", function () {
        for (const [stack, { ctx }] of allStacks()) {
            for (const host of ctx.topology.hosts.filter(runsBuild)) {
                it(`${stack} ${host.name}: parses, and every \${section:option} it uses is defined`, function () {
                    const cfg = parseBuildout(renderDeployCfg(ctx, host));
                    expect(unresolvedReferences(cfg)).to.deep.equal([]);
                    expect(lines(option(cfg, "buildout", "parts"))).to.deep.equal(generatedParts(ctx, host));
                    for (const c of host.clients) expect(option(cfg, c.name, "http-address"), c.name).to.equal(`0.0.0.0:${c.port}`);
                });
            }
        }
    });

    describe("app settings", function () {
        const hosts = [
            { name: "web-1", layers: ["frontend"] },
            { name: "app-1", layers: ["plone_instances", "zeoserver"] },
        ];

        it("inheritParts false replaces the base's parts, and partsToInclude come after the generated ones", function () {
            const { ctx, host } = contextOf(
                variantSpec(hosts, {
                    app: { inheritParts: false, partsToInclude: ["zopepy"], buildoutExtends: ["cfg/sources.cfg"] },
                    plone: { clientCount: 1 },
                }),
            );
            const cfg = parseBuildout(renderDeployCfg(ctx, host("app-1")));
            expect(cfg.buildout["parts +"]).to.equal(undefined);
            expect(lines(cfg.buildout.parts)).to.deep.equal(["zeoserver", "backup", "client1", "zopepy"]);
            expect(lines(cfg.buildout.extends)).to.deep.equal(["cfg/base.cfg", "cfg/sources.cfg"]);
        });

        it("appends rawBuildoutConfig last, so it can override a generated option", function () {
            const additional = "[client1]\nthreads = 4\n\n[instance-debug]\n<= client1\nhttp-address = 8099\n";
            const { ctx, host } = contextOf(variantSpec(hosts, { app: { rawBuildoutConfig: additional } }));
            const text = renderDeployCfg(ctx, host("app-1"));
            const cfg = parseBuildout(text);
            expect(option(cfg, "client1", "threads")).to.equal("4");
            expect(option(cfg, "instance-debug", "http-address")).to.equal("8099");
            expect(text.trimEnd().endsWith("http-address = 8099")).to.equal(true);
        });

        it("sets zodb-cache-size when configured and no persistent cache names when it is off", function () {
            const { ctx, host } = contextOf(variantSpec(hosts, { plone: { zodbCacheSize: 50000, persistentCache: false, zserverThreads: 3 } }));
            const cfg = parseBuildout(renderDeployCfg(ctx, host("app-1")));
            expect(option(cfg, "client1", "zodb-cache-size")).to.equal("50000");
            expect(option(cfg, "client1", "threads")).to.equal("3");
            expect(option(cfg, "client2", "zeo-client-client")).to.equal(undefined);
        });

        it("quotes the database password for libpq and refuses one buildout would substitute", function () {
            const r = contextOf(VARIANTS.databaseBlobs());
            const ctx = { ...r.ctx, secrets: { ...r.ctx.secrets, dbPassword: "it's a \\ pass$word" } };
            const cfg = parseBuildout(renderDeployCfg(ctx, r.host("app-1")));
            expect(cfg.relstorage.password).to.equal("it's a \\ pass$word");
            // zope.conf reads the dsn through ZConfig, which reads $$ as $.
            expect(cfg.relstorage.dsn).to.include("password='it\\'s a \\\\ pass$$word'");
            const bad = { ...r.ctx, secrets: { ...r.ctx.secrets, dbPassword: "a${b:c}" } };
            expect(() => renderDeployCfg(bad, r.host("app-1"))).to.throw(/substitution/);
        });
    });
});
