// The pip builder's instance configuration (app.builder pip): what the stack knows about each Zope
// client of a host, in cookiecutter-zope-instance's vocabulary (github:plone/cookiecutter-zope-instance,
// cookiecutter.json). plone-deploy merges it over the project's own instance.yaml (the stack wins
// for the keys below, the project keeps everything else: its zcml, its environment, its initial
// user, ...) and runs cookiecutter-zope-instance once per client into instances/<client>/, which
// then holds etc/zope.conf, etc/zope.ini and etc/site.zcml; the client runs `runwsgi` on its own.
// The ZEO server of a pip stack gets a zeo.conf of its own (renderZeoConf): runzeo from the same
// virtual environment reads it.
//
// The file may hold the database password (RelStorage): installed 0600, owned by the deploy user.
import { stringify } from "yaml";
import type { HostPlan } from "../../topology";
import { DEPLOY_USER, PATHS, PORTS } from "../../topology/ports";
import { appLayout } from "./layout";
import { hostStorage } from "./storage";
import { addressOf, resolveEndpoint, type RenderContext, type RenderedFile } from "../context";
import { commentName, cookiecutterValue, zconfigValue } from "../encode";
import { relstorageDsn } from "./deployCfg";

type Context = Record<string, string | boolean>;

/** A client's home (cookiecutter-zope-instance's location_clienthome: caches, its blob cache) in shared/var, kept across releases. */
function clientHome(ctx: RenderContext, client: string): string {
    return `${appLayout(ctx.spec).sharedVar}/${client}`;
}

/** RelStorage's blob cache size ("1gb") in bytes, as cookiecutter-zope-instance's db_blob_cache_size takes it. */
export function sizeInBytes(size: string): number {
    const m = /^(\d+)(kb|mb|gb)$/i.exec(size);
    if (!m) throw new Error(`${size} is not a size such as 1gb or 500mb`);
    const unit = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[m[2].toLowerCase() as "kb" | "mb" | "gb"];
    return Number(m[1]) * unit;
}

/** The keys every instance of this host gets, whatever the project's instance.yaml says. */
function commonContext(ctx: RenderContext, host: HostPlan): Context {
    const { plone } = ctx.spec;
    const { endpoints } = ctx.topology;
    const layout = appLayout(ctx.spec);
    const out: Context = {
        wsgi_threads: String(plone.zserverThreads),
        // haproxy, varnish and nginx sit in front: the client sees their forwarded headers.
        wsgi_clear_untrusted_proxy_headers: false,
        debug_mode: false,
        verbose_security: false,
        location_log: layout.logDir,
    };
    if (plone.zodbCacheSize !== undefined) out.db_cache_size = String(plone.zodbCacheSize);
    const blobs = hostStorage(ctx, host).clientBlobs;
    if (plone.storage === "zeo") {
        if (!endpoints.zeo) throw new Error("a ZEO stack without a ZEO endpoint");
        const zeo = resolveEndpoint(endpoints.zeo, ctx.addresses);
        out.db_storage = "zeo";
        out.db_zeo_server = `${zeo.address}:${zeo.port}`;
    } else {
        const db = ctx.database;
        const database = ctx.spec.database;
        const password = ctx.secrets.dbPassword;
        if (!db || !database || password === undefined) throw new Error("RelStorage needs the database address, plone-aws:database and plone-aws:dbPassword");
        const dsn = relstorageDsn(db, database, password);
        const rs = plone.relstorage;
        out.db_storage = "relstorage";
        out.db_relstorage = "postgresql";
        out.db_relstorage_postgresql_driver = "psycopg2";
        // zope.conf is read by ZConfig ($ substitutions), after cookiecutter (Jinja) wrote it.
        out.db_relstorage_postgresql_dsn = cookiecutterValue(zconfigValue(dsn, "the database connection string"), "the database connection string");
        out.db_relstorage_keep_history = rs.keepHistory;
        out.db_relstorage_cache_local_mb = String(rs.cacheLocalMb);
        if (rs.cacheLocalDir) out.db_relstorage_cache_local_dir = cookiecutterValue(rs.cacheLocalDir, "plone.relstorage.cacheLocalDir");
        if (!blobs?.shared) out.db_blob_cache_size = String(sizeInBytes(rs.blobCacheSize));
    }
    if (blobs?.shared) {
        out.db_blob_mode = "shared";
        out.db_blob_location = cookiecutterValue(blobs.dir, "the blob directory");
    } else {
        out.db_blob_mode = "cache";
    }
    return out;
}

/** The keys of one client: its target folder, its port, its client home (logs, caches), its blob cache. */
function clientContext(ctx: RenderContext, host: HostPlan, client: HostPlan["clients"][number]): Context {
    const { plone } = ctx.spec;
    const home = clientHome(ctx, client.name);
    const blobs = hostStorage(ctx, host).clientBlobs;
    const out: Context = {
        target: client.name,
        // Every interface: the front ends' haproxy reaches the client on the host's private address.
        wsgi_listen: `0.0.0.0:${client.port}`,
        location_clienthome: home,
    };
    if (!blobs?.shared) out.db_blob_location = `${home}/blobcache`;
    if (plone.storage === "zeo" && plone.persistentCache) out.db_zeo_client = `zeoclient-${client.index}`;
    return out;
}

/** The stack's part of the instance configuration of every client on this host. */
export function renderStackInstanceConfig(ctx: RenderContext, host: HostPlan): string {
    const instances = Object.fromEntries(host.clients.map((c) => [c.name, clientContext(ctx, host, c)]));
    const header = [
        `# The stack's part of the instance configuration of app ${commentName(ctx.spec.app.name)} on host ${commentName(host.name)} (stack ${commentName(ctx.spec.stackName)}).`,
        "# Written by plone-aws on every `pulumi up`. plone-deploy merges default_context and each instance's",
        "# keys over the default_context of the project's instance.yaml (these win) and runs",
        "# cookiecutter-zope-instance once per instance into instances/<name>. Strings with '{' are Jinja",
        "# string literals, since cookiecutter renders every value as a template.",
        "",
    ];
    return header.join("\n") + stringify({ default_context: commonContext(ctx, host), instances }, { lineWidth: 0 });
}

/**
 * zeo.conf of the ZEO server of a pip stack (runzeo -C): the private address, where every client
 * connects; Data.fs and the blobs on the data volumes, as the buildout's zeoserver part has them.
 */
export function renderZeoConf(ctx: RenderContext, host: HostPlan): string {
    const blobDir = hostStorage(ctx, host).zeoServerBlobs;
    const layout = appLayout(ctx.spec);
    return [
        `# ZEO server of app ${commentName(ctx.spec.app.name)} on host ${commentName(host.name)} (stack ${commentName(ctx.spec.stackName)}), read by runzeo -C.`,
        "# Written by plone-aws on every `pulumi up`; plone-deploy copies it into each release.",
        "<zeo>",
        `  address ${addressOf(host.name, ctx.addresses)}:${PORTS.zeo}`,
        "  read-only false",
        "  invalidation-queue-size 100",
        "  pid-filename " + zconfigValue(`${layout.sharedVar}/zeoserver.pid`, "the pid file"),
        "</zeo>",
        "<filestorage 1>",
        `  path ${zconfigValue(`${PATHS.filestorage}/Data.fs`, "the Data.fs path")}`,
        ...(blobDir ? [`  blob-dir ${zconfigValue(blobDir, "the blob directory")}`] : []),
        `  pack-gc ${ctx.spec.plone.pack.gc ? "true" : "false"}`,
        "</filestorage>",
        "<eventlog>",
        "  level INFO",
        "  <logfile>",
        `    path ${zconfigValue(`${layout.logDir}/zeoserver.log`, "the log path")}`,
        "    format %(asctime)s %(message)s",
        "  </logfile>",
        "</eventlog>",
        "",
    ].join("\n");
}

/** The pip builder's files of a host: the stack's instance configuration (client hosts), zeo.conf (the ZEO server). */
export function pipBuildFiles(ctx: RenderContext, host: HostPlan): RenderedFile[] {
    if (ctx.spec.app.builder !== "pip") return [];
    const { pip } = appLayout(ctx.spec);
    const files: RenderedFile[] = [];
    if (host.clients.length > 0) {
        const file: RenderedFile = {
            path: pip.stackInstanceConfig,
            content: renderStackInstanceConfig(ctx, host),
            mode: "0600",
            owner: DEPLOY_USER,
            group: DEPLOY_USER,
        };
        // The RelStorage DSN holds the database password.
        files.push(ctx.spec.plone.storage === "relstorage" ? { ...file, secret: true } : file);
    }
    if (host.layers.includes("zeoserver")) {
        files.push({ path: pip.zeoConf, content: renderZeoConf(ctx, host), mode: "0644", owner: "root", group: "root" });
    }
    return files;
}
