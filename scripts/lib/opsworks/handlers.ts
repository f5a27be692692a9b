// The keys of an OpsWorks Custom JSON that are not a plain copy to their plone-aws key: each handler
// converts a value, records the facts the final stack is derived from, and says what it became.
import { keyPath, NAMESPACE } from "../../../components/config/issues";
import { Layer } from "../../../components/config/schema";
import { displayValue, jqUrlSecret, secretEnvReason, splitUrlCredentials } from "./credentials";
import { BUILTIN_LINKS, Conversion, Facts, Handler, Json, displayPath, isObject, jqPath } from "./conversion";

export const bool = (v: Json) => v === true || v === "true";
const str = (v: Json) => (typeof v === "string" ? v : v === null ? undefined : String(v));

export function list(v: Json): string[] {
    if (Array.isArray(v)) return v.map((x) => String(x));
    if (typeof v === "string") return v.split(/\s+/).filter(Boolean);
    return [];
}

/** haproxy timeouts: '900s' stays, a number of milliseconds becomes '900000ms'. */
function duration(v: Json): Json {
    return typeof v === "number" ? `${v}ms` : v;
}

/** libpq DSN `dbname='x' user=y host=z port=5432 password=p`. */
function parseDsn(dsn: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of dsn.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) out[m[1]] = m[2].replace(/^'|'$/g, "").replace(/\\(.)/g, "$1");
    return out;
}

/** The layer-name keys: they only name layers of the --instances file. */
function layerName(layer: Layer): Handler {
    return (v, at, c) =>
        c.became(
            at,
            c.o.instances
                ? `the OpsWorks layer ${JSON.stringify(str(v))} is plone-aws's ${layer} layer in ${c.o.instances.file}`
                : "not used: no --instances file names layers",
        );
}

/** A database key: read now, described by finishDatabase (which database the cookbook used). */
function databaseKey(which: "db" | "appDb", field: "name" | "host" | "user"): Handler {
    return (v, at, c) => {
        c.facts[which][field] = str(v);
        c.facts[which].from.push(at);
    };
}

export const HANDLERS: Readonly<Record<string, Handler>> = {
    "plone_instances.shared_blobs": (v, _at, c) => {
        c.facts.blobs.shared = bool(v);
    },
    "plone_instances.nfs_blobs": (v, at, c) => {
        if (bool(v)) c.facts.blobs.nfs.push(at);
    },
    "plone_instances.gluster_blobs": (v, at, c) => {
        if (bool(v)) c.facts.blobs.gluster.push(at);
    },
    "plone_zeoserver.nfs_blobs": (v, at, c) => {
        if (bool(v)) c.facts.blobs.zeoNfs.push(at);
    },
    "plone_zeoserver.gluster_blobs": (v, at, c) => {
        if (bool(v)) c.facts.blobs.zeoGluster.push(at);
    },
    "plone_blobs.blob_dir": (v, _at, c) => {
        c.facts.blobs.dir = str(v);
    },
    "s3fs_fuse.mounts": (v, at, c) => {
        c.facts.blobs.s3fsAt = at;
        if (Array.isArray(v)) for (const m of v) if (isObject(m) && typeof m.path === "string") c.facts.blobs.s3fsPaths.push(m.path.replace(/\/+$/, ""));
    },
    "plone_instances.enable_relstorage": (v, at, c) => {
        c.facts.relstorage = bool(v);
        if (bool(v)) c.set("plone.storage", "relstorage", at);
        else c.became(at, `${c.keyName("plone.storage")} "zeo" (the default: ZEO, no RelStorage)`);
    },
    "plone_instances.relstorage.db.type": (v, at, c) => {
        c.facts.db.type = str(v);
        c.facts.db.from.push(at);
    },
    "plone_instances.relstorage.db.dsn": (v, at, c) => {
        if (typeof v !== "string") return;
        const dsn = parseDsn(v);
        const db = c.facts.db;
        db.name = db.name ?? dsn.dbname;
        db.host = db.host ?? dsn.host;
        db.user = db.user ?? dsn.user;
        db.port = db.port ?? (dsn.port ? Number(dsn.port) : undefined);
        db.from.push(at);
        if (dsn.password) {
            c.sawSecret(dsn.password);
            // The cookbook used the DSN instead of the discrete fields: its password is the one.
            db.password = { at, inDsn: true };
        }
    },
    "plone_instances.relstorage.db.name": databaseKey("db", "name"),
    "plone_instances.relstorage.db.host": databaseKey("db", "host"),
    "plone_instances.relstorage.db.user": databaseKey("db", "user"),
    "plone_instances.relstorage.db.port": (v, at, c) => {
        if (v !== null) c.facts.db.port = Number(v);
        c.facts.db.from.push(at);
    },
    "plone_instances.relstorage.db.password": (v, at, c) => {
        if (v === "") return c.became(at, "empty: no password");
        if (!c.facts.db.password?.inDsn) c.facts.db.password = { at, inDsn: false };
    },
    "plone_instances.relstorage.enable_cache": (v, _at, c) => {
        c.facts.enableCache = bool(v);
    },
    "plone_instances.relstorage.cache_servers": (v, at, c) => {
        const servers = list(v);
        if (servers.length > 0) {
            c.facts.cacheServers = servers;
            c.set("plone.relstorage.cacheServers", servers, at);
        } else c.became(at, "no static servers: the memcached layer serves the cache, as in the cookbook");
    },
    "plone_instances.relstorage.enable_pack": (v, _at, c) => {
        c.facts.enablePack = bool(v);
    },
    "plone_instances.zeo_layer": layerName("zeoserver"),
    "plone_instances.broker_layer": layerName("redis"),
    "plone_instances.solr_layer": layerName("solr"),
    "plone_blobs.layer": layerName("shared_blobs"),
    "plone_instances.celerybeat": (v, _at, c) => {
        c.facts.celerybeat = bool(v);
    },
    // OpsWorks documents max_connections as a string ('4096').
    "memcached.max_connections": (v, at, c) => c.set("plone.memcached.maxConnections", typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v, at),
    "plone_instances.broker.host": (v, at, c) => {
        if (v !== null) c.set("plone.celery.brokerHost", str(v), at);
    },
    "plone_instances.solr_host": (v, at, c) => {
        if (v !== null) c.set("plone.solr.host", str(v), at);
    },
    "plone_instances.syslog_level": (v, at, c) => c.set("plone.clientSyslog.level", String(v).toUpperCase(), at),
    "plone_zeoserver.syslog_level": (v, at, c) => c.set("plone.zeoSyslog.level", String(v).toUpperCase(), at),
    "tmpdir.tmpfs": (v, at, c) => {
        c.facts.tmpfs = bool(v);
        if (!bool(v)) c.became(at, "no tmpfs (plone-aws's default)");
    },
    "tmpdir.tmpfs_size": (v, _at, c) => {
        c.facts.tmpfsSize = str(v);
    },
    "system.timezone": (v, at, c) => {
        c.facts.timezone = str(v);
        c.set("plone.timezone", v, at);
    },
    "ebs_snapshots.keep": (v, at, c) => {
        c.facts.snapshot.keep = v;
        c.facts.snapshot.from.push(at);
    },
    "ebs_snapshots.hour": (v, at, c) => {
        c.facts.snapshot.hour = v;
        c.facts.snapshot.from.push(at);
    },
    "ebs_snapshots.minute": (v, at, c) => {
        c.facts.snapshot.minute = v;
        c.facts.snapshot.from.push(at);
    },
    "ebs_snapshots.weekday": (v, at, c) => {
        c.facts.snapshot.weekday = v;
        c.facts.snapshot.from.push(at);
    },
    "nginx_plone.client_max_body_size": (v, at, c) => c.set("frontend.nginx.clientMaxBodySize", typeof v === "string" ? v.toLowerCase() : v, at),
    "varnish.storage_size": (v, at, c) => c.set("frontend.varnish.storage", `malloc,${String(v).toLowerCase()}`, at),
    varnish_purge_urls: (v, at, c) => c.set("frontend.varnish.purgeUrls", typeof v === "string" ? [v] : v, at),
    "haproxy.check_interval": (v, at, c) =>
        c.set("frontend.haproxy.checkInterval", typeof v === "string" && /^\d+s$/.test(v) ? Number(v.slice(0, -1)) * 1000 : v, at),
    "haproxy.server_timeout": (v, at, c) => c.set("frontend.haproxy.serverTimeout", duration(v), at),
    "haproxy.client_timeout": (v, at, c) => c.set("frontend.haproxy.clientTimeout", duration(v), at),
    "haproxy.queue_timeout": (v, at, c) => c.set("frontend.haproxy.queueTimeout", duration(v), at),
    "haproxy.connect_timeout": (v, at, c) => c.set("frontend.haproxy.connectTimeout", duration(v), at),
    "haproxy.http_request_timeout": (v, at, c) => c.set("frontend.haproxy.httpRequestTimeout", duration(v), at),
    "haproxy.global_max_connections": (v, at, c) => {
        if (c.facts.maxConnections && !c.facts.maxConnections.global) c.became(c.facts.maxConnections.at, `not used: haproxy.global_max_connections wins`);
        c.facts.maxConnections = { value: v, at, global: true };
    },
    "haproxy.default_max_connections": (v, at, c) => {
        if (c.facts.maxConnections?.global) return c.became(at, "not used: haproxy.global_max_connections wins");
        c.facts.maxConnections = { value: v, at, global: false };
    },
    "haproxy.stats_password": (v, at, c) => {
        if (v === "STATSPASSWORD" || v === "STATS PASSWORD") {
            c.note(`${at} is the CloudFormation template's placeholder: choose a real password for plone-aws:haproxyStatsPassword`);
            c.became(at, "not carried over: the CloudFormation template's placeholder; choose a real password for plone-aws:haproxyStatsPassword");
        } else if (v === "") c.became(at, "empty: choose a password for plone-aws:haproxyStatsPassword");
        else c.secret("haproxyStatsPassword", pathParts(at));
    },
    certbot_domains: (v, _at, c) => {
        c.facts.certbotDomains = list(v);
    },
    certbot_email: (v, _at, c) => {
        c.facts.certbotEmail = str(v);
    },
    "newrelic.license": (v, at, c) => {
        if (v) c.secret("newRelicLicenseKey", pathParts(at));
        else c.became(at, "empty: no license key");
    },
    "deploy_python.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy_python.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy_python.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
    "deploy_buildout.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy_buildout.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy_buildout.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
    "deploy.<app>.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy.<app>.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy.<app>.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
    "deploy_python.packages": (v, _at, c) => {
        c.facts.pipPackages = { ...c.facts.pipPackages, global: v };
    },
    "deploy.<app>.packages": (v, _at, c) => {
        c.facts.pipPackages = { ...c.facts.pipPackages, app: v };
    },
    "deploy_python.os_packages": (v, _at, c) => {
        c.facts.osPackages = { ...c.facts.osPackages, global: v };
    },
    "deploy.<app>.os_packages": (v, _at, c) => {
        c.facts.osPackages = { ...c.facts.osPackages, app: v };
    },
    "deploy_buildout.cache_archives": fallback("buildout_cache_archives"),
    "deploy_buildout.flags": fallback("buildout_flags"),
    "deploy_buildout.inherit_parts": fallback("buildout_inherit_parts"),
    "deploy_buildout.parts_to_include": fallback("buildout_parts_to_include"),
    "deploy_buildout.additional_config": fallback("buildout_additional_config"),
    "deploy_buildout.init_commands": fallback("buildout_init_commands"),
    "deploy_buildout.init_type": fallback("buildout_init_type"),
    "deploy.<app>.buildout_init_type": (v, at, c) => initType(v, at, c),
    "deploy.<app>.buildout_parts_to_include": (v, at, c) => partsToInclude(v, at, c),
    "deploy.<app>.buildout_init_commands": (v, at, c) => initCommands(v, at, c),
    "deploy.<app>.buildout_cache_archives": (v, at, c) => cacheArchives(v, at, c),
    "deploy.<app>.environment": (v, at, c) => environment(v, at, c),
    "deploy.<app>.environment_variables": (v, at, c) => environment(v, at, c),
    "deploy.<app>.scm.scm_type": (v, _at, c) => {
        c.facts.scm.type = str(v);
    },
    "deploy.<app>.scm.repository": (v, _at, c) => {
        c.facts.scm.repository = str(v);
    },
    "deploy.<app>.scm.user": (v, _at, c) => {
        c.facts.scm.user = str(v);
    },
    "deploy.<app>.scm.password": (v, at, c) => {
        if (v) c.facts.scm.passwordAt = at;
        else c.became(at, "empty: no password");
    },
    "deploy.<app>.scm.ssh_key": (v, at, c) => {
        if (v) c.secret("deployKey", pathParts(at));
        else c.became(at, "empty: no deploy key");
    },
    "deploy.<app>.database.host": databaseKey("appDb", "host"),
    "deploy.<app>.database.port": (v, at, c) => {
        if (v !== null) c.facts.appDb.port = Number(v);
        c.facts.appDb.from.push(at);
    },
    "deploy.<app>.database.adapter": (v, at, c) => {
        c.facts.appDb.adapter = str(v);
        c.facts.appDb.from.push(at);
    },
    "deploy.<app>.database.username": databaseKey("appDb", "user"),
    "deploy.<app>.database.database": databaseKey("appDb", "name"),
    "deploy.<app>.database.password": (v, at, c) => {
        if (v) c.facts.appDb.password = { at, inDsn: false };
        else c.became(at, "empty: no password");
    },
    "deploy.<app>.domains": (v, _at, c) => {
        c.facts.appDomains = list(v);
    },
    "deploy.<app>.ssl_support": (v, at, c) => {
        if (!bool(v)) return c.became(at, "no certificate of the app's own: TLS comes from certbot_domains or --certificate-arn");
        c.note(`${at}: the app's own certificate is not carried over: import it into ACM (--certificate-arn) or use certbot (--certbot-email)`);
        c.became(at, "the app's own certificate is not carried over: import it into ACM (--certificate-arn) or use certbot (--certbot-email)");
    },
};

/** Split a display path back into parts (keys with dots come from bracketed segments). */
export function pathParts(at: string): (string | number)[] {
    const parts: (string | number)[] = [];
    for (const m of at.matchAll(/\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|([^.[\]]+)/g)) {
        if (m[1] !== undefined) parts.push(Number(m[1]));
        else if (m[2] !== undefined) parts.push(JSON.parse(`"${m[2]}"`) as string);
        else parts.push(m[3]);
    }
    return parts;
}

/** deploy_buildout.X: used when the Plone app has no buildout_X of its own. */
function fallback(appKey: string): Handler {
    return (value, at, c) => {
        c.facts.fallbacks[appKey] = { value, at };
    };
}

function mergeLinks(c: Conversion, v: Json, kind: Exclude<keyof Facts["links"], "from">, at: string): void {
    const links = c.facts.links;
    links.from.push(at);
    if (kind === "symlinkBeforeMigrate") {
        if (isObject(v)) for (const [k, x] of Object.entries(v)) if (!BUILTIN_LINKS.includes(k) || x !== k) links.symlinkBeforeMigrate[k] = String(x);
    } else {
        for (const d of list(v)) if (!BUILTIN_LINKS.includes(d) && !links[kind].includes(d)) links[kind].push(d);
    }
}

export function initType(v: Json, at: string, c: Conversion): void {
    if (v === "supervisor" || v === null) c.became(at, "supervisor: plone-aws runs every program under supervisor");
    else c.reclassify(at, "unsupported", "plone-aws runs the programs under supervisor");
}

export function partsToInclude(v: Json, at: string, c: Conversion): void {
    const parts = list(v);
    const zeo = parts.includes("zeoserver");
    if (zeo) {
        c.facts.zeoOnAppHost = at;
        c.note(`${at} builds the zeoserver part with the clients (a single-host stack): the zeoserver layer on the app host does that in plone-aws`);
    }
    const kept = parts.filter((p) => p !== "zeoserver");
    c.set("app.partsToInclude", kept, at);
    c.became(
        at,
        () =>
            `${c.keyName("app.partsToInclude")} ${displayValue(c.values.get("app.partsToInclude")?.value ?? [])}${zeo ? "; the zeoserver part -> the zeoserver layer on the app host" : ""}`,
    );
}

export function initCommands(v: Json, at: string, c: Conversion): void {
    if (!Array.isArray(v)) return c.set("app.initCommands", v, at);
    const out: Record<string, unknown>[] = [];
    const replaced: string[] = [];
    v.forEach((cmd, i) => {
        if (!isObject(cmd)) return void out.push({ name: cmd });
        if (cmd.name === "zeoserver" && typeof cmd.cmd === "string" && cmd.cmd.endsWith("bin/zeoserver")) {
            c.facts.zeoOnAppHost = c.facts.zeoOnAppHost ?? `${at}[${i}]`;
            c.note(`${at}[${i}] runs bin/zeoserver with the clients: the zeoserver layer's own program replaces it`);
            replaced.push(`[${i}] zeoserver -> the zeoserver layer's own program`);
            return;
        }
        const entry: Record<string, unknown> = { name: cmd.name, cmd: cmd.cmd };
        if (cmd.args !== undefined && cmd.args !== "") entry.args = cmd.args;
        if (cmd.delay !== undefined && cmd.delay !== 0) entry.delay = cmd.delay;
        if (bool(cmd.eventlistener ?? false)) entry.eventListener = { events: list(cmd.eventlistener_events ?? []) };
        for (const k of Object.keys(cmd)) {
            if (!["name", "cmd", "args", "delay", "eventlistener", "eventlistener_events", "init_type"].includes(k)) {
                c.line([...pathParts(at), i, k], "unknown", "not a key of an init command: not carried over", cmd[k]);
            }
        }
        out.push(entry);
    });
    c.set("app.initCommands", out, at);
    const names = out.map((e) => String(e.name));
    c.became(at, [`${c.keyName("app.initCommands")} ${names.length ? names.join(", ") : "(none)"}`, ...replaced].join("; "));
}

export function cacheArchives(v: Json, at: string, c: Conversion): void {
    if (!Array.isArray(v)) return c.set("app.cacheArchives", v, at);
    const passwords = new Set<string>();
    const fromUrls: string[] = [];
    const out = v.map((a, i) => {
        if (!isObject(a)) return a;
        const entry: Record<string, unknown> = { url: a.url, path: a.path };
        // user:password@ in the URL is the cookbook's basic auth written out: the same user and password.
        const inUrl = typeof a.url === "string" ? splitUrlCredentials(a.url) : undefined;
        if (inUrl) {
            entry.url = inUrl.user ? inUrl.url.replace(`://${inUrl.user}@`, "://") : inUrl.url;
            c.sawSecret(inUrl.secret);
            if (inUrl.user && !a.user) entry.user = inUrl.user;
            if (inUrl.place === "user" && !a.user) {
                c.warnings.push({
                    path: keyPath(["app", "cacheArchives", String(i), "user"]),
                    message: `the URL at ${at}[${i}].url had a token as its user name: it is plone-aws:cacheArchivePassword now; give the archive the user name its server expects with that token`,
                });
            }
            if (!a.password) {
                passwords.add(inUrl.secret);
                const jq = jqPath([...pathParts(at), i, "url"]);
                const extract = jqUrlSecret(inUrl);
                c.secret("cacheArchivePassword", [...pathParts(at), i, "url"], jq && extract ? `${jq}${extract}` : false);
                fromUrls.push(`[${i}]`);
            }
        }
        if (a.user) entry.user = a.user;
        if (bool(a.purge ?? false)) entry.purge = true;
        if (a.password) {
            passwords.add(String(a.password));
            c.secret("cacheArchivePassword", [...pathParts(at), i, "password"]);
        }
        return entry;
    });
    if (passwords.size > 1) {
        c.issue(
            keyPath(["cacheArchivePassword"]),
            `the cache archives at ${at} have ${passwords.size} different passwords, and plone-aws has one (plone-aws:cacheArchivePassword): give them one user and password`,
        );
    }
    c.set("app.cacheArchives", out, at);
    const secret = passwords.size
        ? `; ${passwords.size === 1 ? "the password" : "passwords"}${fromUrls.length ? ` (in the URL of ${fromUrls.join(", ")})` : ""} -> secret plone-aws:cacheArchivePassword (not written)`
        : "";
    c.became(at, `${c.keyName("app.cacheArchives")} (${out.length} archive${out.length === 1 ? "" : "s"})${secret}`);
}

/**
 * deploy.<app>.environment and the OpsWorks app's environment_variables: plain variables go to
 * app.environment; a variable whose name or value says it is a secret goes to plone-aws:appSecrets
 * (its set command is printed; the value is never written). The Custom JSON's environment wins
 * over the app's environment_variables, as OpsWorks merged them.
 */
function environment(v: Json, at: string, c: Conversion): void {
    if (!isObject(v)) return c.set("app.environment", v, at);
    const env = c.facts.environment;
    const fromVariables = at.endsWith(".environment_variables");
    for (const [k, x] of Object.entries(v)) {
        const parts = [...pathParts(at), k];
        const value = x === null ? "" : typeof x === "string" ? x : JSON.stringify(x);
        const earlier = env.from[k];
        if (earlier !== undefined) {
            const wins = `deploy.${c.appName}.environment sets ${k} too, and wins (as OpsWorks merged them)`;
            if (fromVariables) {
                c.line(parts, "dropped", wins, x);
                continue;
            }
            // environment_variables came first: this value replaces it.
            c.reclassify(displayPath([...pathParts(earlier), k]), "dropped", wins);
            delete env.plain[k];
            c.appSecrets.delete(k);
        }
        env.from[k] = at;
        if (/^(RUBY|RAILS|RACK)/.test(k)) {
            c.line(parts, "dropped", "the cookbook removed Ruby/Rails variables from the environment", x);
            continue;
        }
        if (k === "NEW_RELIC_LICENSE_KEY") {
            c.sawSecret(value);
            c.line(parts, "secret", "", x);
            c.secret("newRelicLicenseKey", parts);
            continue;
        }
        const why = secretEnvReason(k, value);
        if (why && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
            c.sawSecret(value);
            c.line(
                parts,
                "refused",
                "a secret under a name that is no environment variable name: not written; set it under a valid name with pulumi config set --secret --path 'plone-aws:appSecrets.NAME'",
                x,
            );
        } else if (why) {
            c.sawSecret(value);
            c.line(parts, "secret", "", x);
            c.appSecret(k, parts, why);
            c.became(displayPath(parts), `secret ${NAMESPACE}:appSecrets.${k} (not written: ${why}; set it with the command printed below)`);
        } else env.plain[k] = value;
    }
    c.set("app.environment", { ...env.plain }, at);
    // Said at the end: a later environment map may still win over this one's variables.
    const names = Object.keys(v);
    c.became(at, () => {
        const here = names.filter((k) => env.from[k] === at);
        const plain = here.filter((k) => k in env.plain);
        const secret = here.filter((k) => c.appSecrets.has(k) || k === "NEW_RELIC_LICENSE_KEY");
        const lost = names.filter((k) => env.from[k] !== at);
        return (
            [
                plain.length ? `${c.keyName("app.environment")} ${plain.join(", ")}` : "",
                secret.length ? `${secret.join(", ")} -> secrets (not written: their commands are printed below)` : "",
                lost.length ? `${lost.join(", ")} -> not used: deploy.${c.appName}.environment sets ${lost.length === 1 ? "it" : "them"} too, and wins` : "",
            ]
                .filter(Boolean)
                .join("; ") || "no variables"
        );
    });
}
