// deploy.cfg: the buildout configuration plone-aws writes for one host. It extends the app's own
// buildout and fills in what only the stack knows: the parts this host runs, the client ports,
// where the database, the ZEO server, the blobs, memcached, the broker and Solr are.
//
// ## The buildout contract
//
// The app's buildout repository (app.repository) must provide, for Python 3 / Plone 6:
//
// - **Files**: `app.baseConfig` (default `cfg/base.cfg`) and, with RelStorage,
//   `plone.relstorage.config` (default `cfg/relstorage.cfg`); any `app.buildoutExtends` files.
//   deploy.cfg extends them in that order and is itself the top file, so its values win.
// - **Bootstrap**: whatever `app.bootstrapCommand` needs; by default a `requirements.txt` that
//   installs zc.buildout (and setuptools/pip pins) into the app's virtualenv, which then
//   creates `bin/buildout` with `buildout bootstrap`.
// - **Parts it defines (recipe, eggs) but does not list in its own `parts`**: deploy.cfg adds
//   to `parts` exactly the ones each host runs, after the base's own parts (`parts +=`, or
//   `parts =` with `app.inheritParts: false`), then `app.partsToInclude`:
//   - `client1`: a `plone.recipe.zope2instance` part (WSGI). deploy.cfg makes `client2..N`
//     with `<= client1` and sets on client1 `http-address`, `http-fast-listen = off`, `threads`,
//     `zodb-cache-size`, `environment-vars`, the event-log handler (syslog) and the storage:
//     ZEO (`zeo-client`, `zeo-address`, `shared-blob`, `blob-storage`, `zeo-client-client`) or
//     RelStorage (`rel-storage`, complete: type, dsn with the port, keep-history, blob and
//     cache settings). Its `eggs` must include `${buildout:eggs}` (deploy.cfg adds the
//     PostgreSQL driver `psycopg2` and, with memcached, `pylibmc` there); with RelStorage the
//     base or the RelStorage config adds the `RelStorage` egg.
//   - `zeoserver` (`plone.recipe.zeoserver`) and `backup` (`collective.recipe.backup`) on the
//     ZEO server; deploy.cfg sets `zeo-address`, `file-storage`, `blob-storage`, `pack-days`
//     and the backup locations, `keep`, `keep_blob_days`, `datafs`, `blob_storage`.
//   - With RelStorage packing, on the db_packing host: `pack-config` and `zodbpack` (or, with
//     `plone.pack.twoStage`, `zodbpack-prepack` and `zodbpack-pack`), plus `zodb-clear-refs`
//     with `plone.pack.truncateRefs`. They read `[relstorage]`, `[zodbpack] pack-days` and
//     `[pack-config] enable-gc`, and must produce `bin/zodbpack` (the stack's cron runs it).
//   - `celery` when a broker exists (collective.celery), producing `bin/celery`; it reads
//     `[celery-broker] host/port/url` (or the BBB `[celery] broker-host/broker-port`).
//   - `solr-download` and `solr-instance` on the solr host, producing `bin/solr-instance`
//     (run as `bin/solr-instance fg`); deploy.cfg sets `[solr-instance] vardir` to the Solr
//     data volume. Clients read `[solr-host] host/port`.
// - **Sections deploy.cfg provides for the buildout to read** with `${section:option}`:
//   `[zeo-host] address`, BBB `[zeoserver] address`, `[relstorage] type/dbname/host/port/user/
//   password/dsn/keep-history`, `[memcached] servers`, `[zodbpack] pack-days`, `[pack-config]
//   enable-gc`, `[celery-broker] host/port/url`, `[celery] broker-host/broker-port`,
//   `[solr-host] host/port`, and with plone-aws:mail `[plone-mail] smtp-host/smtp-port/
//   email-from-address/email-from-name` (Plone's registry settings plone.smtp_host, ...: the
//   buildout applies them, e.g. in a GenericSetup profile or its instance's environment).
// - **Scripts** the supervisor programs run from the release: `bin/client1..N` (`console`),
//   `bin/zeoserver` (`fg`), `bin/celery` (`worker`, `beat`), `bin/solr-instance` (`fg`), and
//   those of `app.initCommands`.
// - **Layout**: `eggs`, `downloads`, `extends`, `var` and `parts` are links into the app's
//   shared/ directory (deploy.cfg points `eggs-directory`, `download-cache` and `extends-cache`
//   at them); `bin/`, `develop-eggs/`, `src/` and `.installed.cfg` belong to each release.
// - `app.additionalConfig` is appended last, so it may override any generated option.
//
// The file holds the database password: it is installed mode 0600, owned by the deploy user.
import type { HostPlan } from "../../topology";
import { BACKUP_LOCATIONS, DEPLOY_USER, PATHS, PORTS } from "../../topology/ports";
import { appLayout } from "./layout";
import { ClientBlobs, hostStorage } from "./storage";
import { addressOf, RenderContext, RenderedFile, resolveEndpoint } from "../context";
import { buildoutValue, libpqValue, zconfigValue } from "../encode";
import { ploneMailSettings } from "./mail";

type Value = string | string[];

/** Sections in order of first use; a section named twice gets the options of both. */
class BuildoutConfig {
    private readonly sections = new Map<string, { comment?: string; options: [string, Value][] }>();

    private section(name: string) {
        let s = this.sections.get(name);
        if (!s) this.sections.set(name, (s = { options: [] }));
        return s;
    }

    set(section: string, option: string, value: Value | undefined): this {
        if (value === undefined) return this;
        const { options } = this.section(section);
        const i = options.findIndex(([name]) => name === option);
        if (i >= 0) options[i] = [option, value];
        else options.push([option, value]);
        return this;
    }

    /** A comment line printed above the section (why it is there). */
    comment(section: string, text: string): this {
        this.section(section).comment = text;
        return this;
    }

    render(): string {
        const out: string[] = [];
        for (const [name, { comment, options }] of this.sections) {
            if (options.length === 0) continue;
            if (comment) out.push(`# ${comment}`);
            out.push(`[${name}]`);
            for (const [option, value] of options) {
                // "parts +" -> "parts +=", "<" -> "<=" (buildout wants the operator next to "=").
                const lhs = /[+\-<]$/.test(option) ? `${option}=` : `${option} =`;
                const lines = Array.isArray(value) ? value : value.split("\n");
                if (Array.isArray(value) || lines.length > 1) out.push(lhs, ...lines.map((l) => (l ? `    ${l}` : "")));
                else out.push(`${lhs} ${value}`);
            }
            out.push("");
        }
        return out.join("\n");
    }
}

/** RelStorage's libpq connection string (before the ZConfig escaping of zope.conf): the pip builder's instance configuration uses it too. */
export function relstorageDsn(db: { address: string; port: number }, database: { name: string; user: string }, password: string): string {
    return [
        `dbname=${libpqValue(database.name)}`,
        `user=${libpqValue(database.user)}`,
        `host=${libpqValue(db.address)}`,
        `port=${libpqValue(String(db.port))}`,
        `password=${libpqValue(password)}`,
    ].join(" ");
}

/** The parts deploy.cfg adds for a host, in the order buildout installs them. */
export function generatedParts(ctx: RenderContext, host: HostPlan): string[] {
    const { plone } = ctx.spec;
    const { endpoints } = ctx.topology;
    const parts: string[] = [];
    if (host.layers.includes("zeoserver")) {
        parts.push("zeoserver");
        if (plone.backups.enabled) parts.push("backup");
    }
    if (isPackingHost(ctx, host)) {
        parts.push("pack-config", ...(plone.pack.twoStage ? ["zodbpack-prepack", "zodbpack-pack"] : ["zodbpack"]));
        if (plone.pack.truncateRefs && plone.pack.gc) parts.push("zodb-clear-refs");
    }
    parts.push(...host.clients.map((c) => c.name));
    if (endpoints.broker && host.layers.includes("plone_instances")) parts.push("celery");
    if (host.layers.includes("solr")) parts.push("solr-download", "solr-instance");
    return parts;
}

/** This host runs zodbpack for RelStorage. */
export function isPackingHost(ctx: RenderContext, host: HostPlan): boolean {
    const { plone } = ctx.spec;
    return plone.storage === "relstorage" && plone.pack.enabled && ctx.topology.endpoints.packingHost === host.name;
}

export function renderDeployCfg(ctx: RenderContext, host: HostPlan): string {
    const { spec, topology } = ctx;
    const { app, plone } = spec;
    const { endpoints } = topology;
    const storage = hostStorage(ctx, host);
    const cfg = new BuildoutConfig();
    const isClientHost = host.clients.length > 0;
    const packing = isPackingHost(ctx, host);
    const relstorage = plone.storage === "relstorage" && (isClientHost || packing);

    const extendsFiles = [app.baseConfig, ...(plone.storage === "relstorage" ? [plone.relstorage.config] : []), ...app.buildoutExtends];
    const parts = [...generatedParts(ctx, host), ...app.partsToInclude];
    cfg.set("buildout", "extends", extendsFiles)
        // The release's eggs, downloads and extends are links into shared/: every release reuses them.
        .set("buildout", "extends-cache", "extends")
        .set("buildout", "eggs-directory", "eggs")
        .set("buildout", "download-cache", "downloads")
        .set("buildout", app.inheritParts ? "parts +" : "parts", parts);
    if (relstorage) {
        cfg.set("buildout", "eggs +", ["psycopg2", ...(endpoints.memcached.length > 0 ? ["pylibmc"] : [])]);
    }

    if (endpoints.zeo && (isClientHost || host.layers.includes("zeoserver"))) {
        const zeo = resolveEndpoint(endpoints.zeo, ctx.addresses);
        cfg.comment("zeo-host", `The ZEO server: ${"host" in endpoints.zeo ? endpoints.zeo.host : zeo.address}`).set(
            "zeo-host",
            "address",
            `${zeo.address}:${zeo.port}`,
        );
        if (isClientHost) cfg.set("zeoserver", "address", "${zeo-host:address}");
    }
    if (host.layers.includes("zeoserver")) renderZeoServer(ctx, host, cfg, storage.zeoServerBlobs);

    if (relstorage) {
        const db = ctx.database;
        const database = spec.database;
        if (!db || !database) throw new Error("RelStorage needs the database address (RenderContext.database) and plone-aws:database");
        const password = ctx.secrets.dbPassword;
        if (password === undefined) throw new Error("RelStorage needs the database password (RenderContext.secrets.dbPassword)");
        const dsn = relstorageDsn(db, database, password);
        cfg.comment("relstorage", `PostgreSQL for RelStorage: ${endpoints.database?.kind === "external" ? "the external server" : "RDS"}`)
            .set("relstorage", "type", "postgresql")
            .set("relstorage", "dbname", database.name)
            .set("relstorage", "host", db.address)
            .set("relstorage", "port", String(db.port))
            .set("relstorage", "user", database.user)
            // The dsn passes through zope.conf (ZConfig), which reads $$ as $; buildout keeps $$ as it is.
            .set("relstorage", "password", buildoutValue(password, "plone-aws:dbPassword"))
            .set("relstorage", "dsn", buildoutValue(zconfigValue(dsn, "the database connection string"), "the database connection string"))
            .set("relstorage", "keep-history", String(plone.relstorage.keepHistory));
        if (endpoints.memcached.length > 0) {
            const servers = endpoints.memcached.map((e) => resolveEndpoint(e, ctx.addresses)).map((e) => `${e.address}:${e.port}`);
            cfg.comment("memcached", "RelStorage's shared cache").set("memcached", "servers", servers.join(" "));
        }
    }
    if (packing) {
        cfg.comment("zodbpack", "RelStorage packing runs on this host (db_packing)")
            .set("zodbpack", "pack-days", String(plone.pack.days))
            .set("pack-config", "enable-gc", String(plone.pack.gc));
    }

    if (endpoints.broker && host.layers.includes("plone_instances")) {
        const broker = resolveEndpoint(endpoints.broker, ctx.addresses);
        cfg.comment("celery-broker", "The celery broker (Redis)")
            .set("celery-broker", "host", broker.address)
            .set("celery-broker", "port", String(broker.port))
            .set("celery-broker", "url", "redis://${celery-broker:host}:${celery-broker:port}/0")
            .set("celery", "broker-host", "${celery-broker:host}")
            .set("celery", "broker-port", "${celery-broker:port}");
    }

    const solrHere = host.layers.includes("solr");
    if (endpoints.solr && (host.layers.includes("plone_instances") || solrHere)) {
        const solr = solrHere ? { address: addressOf(host.name, ctx.addresses), port: endpoints.solr.port } : resolveEndpoint(endpoints.solr, ctx.addresses);
        cfg.comment("solr-host", "Solr").set("solr-host", "host", solr.address).set("solr-host", "port", String(solr.port));
    }
    if (solrHere) cfg.set("solr-instance", "vardir", PATHS.solrData);

    const mail = ploneMailSettings(spec);
    if (mail && ctx.topology.roles.mailRelays.includes(host.name)) {
        cfg.comment("plone-mail", "Plone's mail settings: MailHost sends to the relay on this host (plone-aws:mail)")
            .set("plone-mail", "smtp-host", mail.smtpHost)
            .set("plone-mail", "smtp-port", String(mail.smtpPort))
            .set("plone-mail", "email-from-address", buildoutValue(mail.emailFromAddress, "mail.senderAddress"))
            .set("plone-mail", "email-from-name", buildoutValue(mail.emailFromName, "mail.senderName"));
    }

    if (isClientHost) renderClients(ctx, host, cfg, storage.clientBlobs!);

    const header = [
        `# deploy.cfg of app ${app.name} on host ${host.name} (stack ${spec.stackName}).`,
        "# Written by plone-aws on every `pulumi up`: change the stack configuration instead of this file.",
        "# It holds the database password: mode 0600, owned by the deploy user.",
        "",
    ];
    const additional = app.rawBuildoutConfig.trim()
        ? ["# app.rawBuildoutConfig (last, so it can override anything above)", app.rawBuildoutConfig.trimEnd(), ""]
        : [];
    return [...header, cfg.render(), ...additional].join("\n");
}

function renderZeoServer(ctx: RenderContext, host: HostPlan, cfg: BuildoutConfig, blobDir: string | undefined): void {
    const { plone } = ctx.spec;
    // The private address, where every client connects (those on this host too: [zeo-host]); not 0.0.0.0.
    cfg.comment("zeoserver", "The ZEO server on this host")
        .set("zeoserver", "zeo-address", `${addressOf(host.name, ctx.addresses)}:${PORTS.zeo}`)
        .set("zeoserver", "file-storage", `${PATHS.filestorage}/Data.fs`)
        .set("zeoserver", "blob-storage", blobDir)
        .set("zeoserver", "pack-days", String(plone.pack.days));
    const syslog = plone.zeoSyslog;
    if (syslog.facility) {
        cfg.set("zeoserver", "zeo-log-custom", [
            "<logfile>",
            "    path ${buildout:directory}/var/log/${:_buildout_section_name_}.log",
            "    format %(asctime)s %(message)s",
            "</logfile>",
            "<syslog>",
            "    address /dev/log",
            `    facility ${syslog.facility}`,
            "    format ${:_buildout_section_name_}: %(message)s",
            `    level ${syslog.level}`,
            "</syslog>",
        ]);
    }
    if (plone.backups.enabled) {
        cfg.comment("backup", "repozo backups (collective.recipe.backup) on the backups volume");
        for (const [option, dir] of Object.entries(BACKUP_LOCATIONS)) cfg.set("backup", option, dir);
        cfg.set("backup", "keep", String(plone.backups.keep))
            .set("backup", "keep_blob_days", String(plone.backups.keepBlobDays))
            .set("backup", "datafs", `${PATHS.filestorage}/Data.fs`)
            .set("backup", "blob_storage", blobDir);
    }
}

function renderClients(ctx: RenderContext, host: HostPlan, cfg: BuildoutConfig, blobs: ClientBlobs): void {
    const { app, plone } = ctx.spec;
    const [first, ...rest] = host.clients;
    const c1 = first.name;
    cfg.comment(c1, `Zope clients on ${host.name}: ${host.clients.map((c) => `${c.name}:${c.port}`).join(" ")}`)
        .set(c1, "http-address", `0.0.0.0:${first.port}`)
        // Open the port only once Zope is ready, so haproxy's checks do not pass too early.
        .set(c1, "http-fast-listen", "off")
        .set(c1, "threads", String(plone.zserverThreads))
        .set(c1, "zodb-cache-size", plone.zodbCacheSize === undefined ? undefined : String(plone.zodbCacheSize));

    if (plone.storage === "zeo") {
        cfg.set(c1, "zeo-client", "on")
            .set(c1, "zeo-address", "${zeo-host:address}")
            .set(c1, "shared-blob", blobs.shared ? "on" : "off")
            .set(c1, "blob-storage", blobs.dir)
            .set(c1, "zeo-client-client", plone.persistentCache ? `zeoclient-${first.index}` : undefined);
    } else {
        const rs = plone.relstorage;
        const lines = [
            "type postgresql",
            "dsn ${relstorage:dsn}",
            "keep-history ${relstorage:keep-history}",
            `shared-blob-dir ${blobs.shared}`,
            `blob-dir ${blobs.dir}`,
            ...(blobs.shared ? [] : [`blob-cache-size ${rs.blobCacheSize}`]),
            `cache-local-mb ${rs.cacheLocalMb}`,
            ...(rs.cacheLocalDir ? [`cache-local-dir ${buildoutValue(rs.cacheLocalDir, "plone.relstorage.cacheLocalDir")}`] : []),
            ...(ctx.topology.endpoints.memcached.length > 0 ? ["cache-servers ${memcached:servers}"] : []),
        ];
        cfg.set(c1, "rel-storage", lines);
    }

    const env = Object.keys(app.environment)
        .sort()
        // environment-vars end up in zope.conf: escaped for ZConfig, then for buildout.
        .map((k) => `${k} ${buildoutValue(zconfigValue(app.environment[k], `app.environment.${k}`), `app.environment.${k}`)}`);
    if (env.length > 0) cfg.set(c1, "environment-vars", env);

    const syslog = plone.clientSyslog;
    if (syslog.facility) {
        // WSGI logging: the event log goes to the local syslog instead of var/log/clientN.log.
        cfg.set(c1, "event-log-handler", "logging.handlers.SysLogHandler")
            .set(c1, "event-log-args", `("/dev/log", "${syslog.facility}")`)
            .set(c1, "event-log-level", syslog.level);
    }

    for (const client of rest) {
        cfg.set(client.name, "<", "client1")
            .set(client.name, "http-address", `0.0.0.0:${client.port}`)
            .set(client.name, "zeo-client-client", plone.storage === "zeo" && plone.persistentCache ? `zeoclient-${client.index}` : undefined);
    }
}

/** deploy.cfg as installed in the app's config directory: secret, readable by the deploy user only. */
export function deployCfgFile(ctx: RenderContext, host: HostPlan): RenderedFile {
    return {
        path: appLayout(ctx.spec).deployCfg,
        content: renderDeployCfg(ctx, host),
        mode: "0600",
        owner: DEPLOY_USER,
        group: DEPLOY_USER,
        secret: true,
    };
}
