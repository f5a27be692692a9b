// Deriving the stack from the facts the handlers recorded: storage and blobs, the app, the hosts,
// the front end, the database, the region, the snapshots; then the stack file is written.
import { keyPath } from "../../../components/config/issues";
import { BlobMode } from "../../../components/config/schema";
import { displayValue, jqUrlSecret, splitUrlCredentials } from "./credentials";
import { debianPackages } from "./packages";
import { pickRegion, REGION_RANK, RegionSource, regionSources } from "./regions";
import { writeStack } from "./write";
import { defaultHosts, describeLayerKeys, hostsFromInstances } from "./hosts";
import { bool, cacheArchives, initCommands, initType, list, partsToInclude, pathParts } from "./handlers";
import { BUILTIN_LINKS, Conversion, DatabaseFacts, Json, PLACEHOLDERS, displayPath, isObject, jqPath } from "./conversion";

export function finishConversion(c: Conversion): void {
    const o = c.o;
    const f = c.facts;

    // Storage and blobs.
    const storage = f.relstorage ? "relstorage" : "zeo";
    const blobs = blobMode(c, storage);
    c.set("plone.blobs", blobs.mode, blobs.from);
    describeBlobKeys(c, blobs.mode, blobs.from);
    if (f.tmpfs) c.set("plone.tmpfsSize", f.tmpfsSize ?? "1G", "tmpdir.tmpfs");
    if (f.tmpfsSize !== undefined)
        c.became(
            "tmpdir.tmpfs_size",
            f.tmpfs ? `${c.keyName("plone.tmpfsSize")} ${displayValue(f.tmpfsSize)}` : "not used: tmpdir.tmpfs is not true, so there is no tmpfs",
        );
    if (f.maxConnections) c.set("frontend.haproxy.maxConnections", Number(f.maxConnections.value), f.maxConnections.at);

    // The app: fallbacks, packages, links, repository.
    finishApp(c);

    // Hosts.
    const hosts = o.instances ? hostsFromInstances(c, storage, blobs.mode) : defaultHosts(c, storage, blobs.mode);
    if (!hosts) return;
    describeLayerKeys(c, hosts, storage);

    // The front end, the database, the region, snapshots.
    finishFrontend(c, hosts.filter((h) => h.layers.includes("frontend")).length);
    finishDatabase(c, storage);
    c.set("tier", o.tier ?? "production", o.tier ? "--tier" : "(assumed)");
    finishRegion(c);
    finishSnapshots(c);
    writeStack(c, hosts, blobs.mode);
}

function blobMode(c: Conversion, storage: "zeo" | "relstorage"): { mode: BlobMode; from: string } {
    const b = c.facts.blobs;
    const nfs = [...b.nfs, ...(b.nfs.length || b.gluster.length ? [] : b.zeoNfs)];
    const gluster = [...b.gluster, ...(b.nfs.length || b.gluster.length ? [] : b.zeoGluster)];
    for (const [flag, side] of [
        [b.nfs.length > 0 && b.gluster.length > 0, "plone_instances"],
        [b.zeoNfs.length > 0 && b.zeoGluster.length > 0, "plone_zeoserver"],
    ] as const) {
        if (flag)
            c.issue(
                keyPath(["plone", "blobs"]),
                `nfs and gluster blobs are exclusive: the Custom JSON sets both ${side}.nfs_blobs and ${side}.gluster_blobs to true; set one of them to false`,
            );
    }
    if ((b.zeoNfs.length && b.gluster.length) || (b.zeoGluster.length && b.nfs.length)) {
        c.issue(
            keyPath(["plone", "blobs"]),
            "nfs and gluster blobs are exclusive: plone_instances and plone_zeoserver mount different blob servers; use the same one for both",
        );
    }
    if (nfs.length) return { mode: "nfs", from: nfs[0] };
    if (gluster.length) return { mode: "gluster", from: gluster[0] };
    if (b.dir && b.s3fsPaths.includes(b.dir.replace(/\/+$/, ""))) {
        c.note(
            `blobs were in an S3 bucket mounted at ${b.dir} with s3fs: EFS is the shared file system now (plone.blobs efs); copy the bucket's blob files into it`,
        );
        return { mode: "efs", from: b.s3fsAt ?? "s3fs_fuse.mounts" };
    }
    if (b.shared === false) {
        c.note(
            storage === "relstorage"
                ? "shared_blobs false: blobs are kept in the database (plone.blobs database)"
                : "shared_blobs false: the ZEO server keeps the blobs and streams them to the clients (plone.blobs zeo)",
        );
        return { mode: storage === "relstorage" ? "database" : "zeo", from: "plone_instances.shared_blobs" };
    }
    if (b.dir) {
        c.note(`blobs in ${b.dir} on one host (plone_blobs.blob_dir): local blobs on the one app host`);
        return { mode: "local", from: "plone_blobs.blob_dir" };
    }
    const mode = storage === "relstorage" ? "database" : "zeo";
    c.note(`no blob storage is configured (no nfs_blobs, gluster_blobs or blob_dir): plone.blobs ${mode}, which works with several app hosts`);
    return { mode, from: "(assumed)" };
}

/** The keys that decide plone.blobs together, and what each says when it is not the one that decided. */
const BLOB_KEYS: Readonly<Record<string, { kind: string; flag: boolean }>> = {
    "plone_instances.shared_blobs": { kind: "shared", flag: true },
    "plone_instances.nfs_blobs": { kind: "NFS", flag: true },
    "plone_instances.gluster_blobs": { kind: "Gluster", flag: true },
    "plone_zeoserver.nfs_blobs": { kind: "NFS", flag: true },
    "plone_zeoserver.gluster_blobs": { kind: "Gluster", flag: true },
    "plone_blobs.blob_dir": { kind: "local", flag: false },
    "s3fs_fuse.mounts": { kind: "s3fs", flag: false },
};

/** What each blob key the JSON held became, given the blob mode the keys decided together. */
function describeBlobKeys(c: Conversion, mode: BlobMode, from: string): void {
    const result = `${c.keyName("plone.blobs")} ${displayValue(mode)}`;
    const why = from.startsWith("(") ? "no key asks for shared blobs" : `from ${from}`;
    for (const l of c.lines) {
        const key = BLOB_KEYS[l.path];
        if (!key || l.kind !== "mapped") continue;
        if (l.path === from) c.became(l.path, result);
        else if (!key.flag) c.became(l.path, `not used: ${result} comes ${from.startsWith("(") ? "from no key" : `from ${from}`}`);
        else if (bool(l.found ?? null) && key.kind === "shared" && from.startsWith("("))
            c.became(l.path, `${result}: shared_blobs alone does not say how the blobs are shared (nfs_blobs, gluster_blobs or blob_dir)`);
        else if (bool(l.found ?? null))
            c.became(l.path, `${result} (${why}${l.path.startsWith("plone_zeoserver.") ? "; the ZEO server mounts the same blobs" : ""})`);
        else c.became(l.path, `no ${key.kind} blobs: ${result} (${why})`);
    }
}

/** The entries of a links key beyond the built-in ones (those plone-aws always makes, and Rails' defaults). */
function ownLinkEntries(kind: string, found: Json | undefined): string[] {
    if (kind === "symlink_before_migrate")
        return isObject(found ?? null)
            ? Object.entries(found as Record<string, Json>)
                  .filter(([k, x]) => !BUILTIN_LINKS.includes(k) || x !== k)
                  .map(([k]) => k)
            : [];
    const builtIn = [...BUILTIN_LINKS, ...(kind === "purge_before_symlink" ? ["log", "tmp/pids", "public/system"] : ["public", "tmp", "config"])];
    return list(found ?? null).filter((d) => !builtIn.includes(d));
}

function finishApp(c: Conversion): void {
    const f = c.facts;
    const appKey = (key: string) => displayPath(["deploy", c.appName, key]);
    const fb = (key: string, plonePath: string, apply: (v: Json, at: string) => void = (v, at) => c.set(plonePath, v, at)) => {
        const g = f.fallbacks[key];
        if (!g) return;
        if (c.values.has(plonePath)) c.became(g.at, `not used: ${appKey(key)} wins (the app's own)`);
        else apply(g.value, g.at);
    };
    fb("buildout_cache_archives", "app.cacheArchives", (v, at) => cacheArchives(v, at, c));
    fb("buildout_flags", "app.buildoutFlags");
    fb("buildout_inherit_parts", "app.inheritParts");
    fb("buildout_parts_to_include", "app.partsToInclude", (v, at) => partsToInclude(v, at, c));
    fb("buildout_additional_config", "app.rawBuildoutConfig");
    fb("buildout_init_commands", "app.initCommands", (v, at) => initCommands(v, at, c));
    const initTypeFallback = f.fallbacks.buildout_init_type;
    if (initTypeFallback) {
        const own = c.lines.some((l) => l.path === appKey("buildout_init_type"));
        if (own) c.became(initTypeFallback.at, `not used: ${appKey("buildout_init_type")} wins (the app's own)`);
        else initType(initTypeFallback.value, initTypeFallback.at, c);
    }

    // Packages: the app's own list wins over deploy_python's.
    const packages = (
        facts: { app?: Json; global?: Json } | undefined,
        key: string,
        global: string,
        convert: (v: Json) => { packages: string[]; notes: string[] },
        target: string,
    ) => {
        if (!facts) return;
        const chosen = facts.app !== undefined ? facts.app : facts.global;
        const at = facts.app !== undefined ? appKey(key) : global;
        if (facts.app !== undefined && facts.global !== undefined) c.became(global, `not used: ${appKey(key)} wins (the app's own)`);
        if (chosen === undefined || chosen === null) return;
        const out = convert(chosen);
        c.set(target, out.packages, at);
        c.became(
            at,
            () =>
                `${c.keyName(target)} ${displayValue(c.values.get(target)?.value)}${out.notes.length ? ` (${out.notes.length} change${out.notes.length === 1 ? "" : "s"} for Debian 12: see "Assumed or changed")` : ""}`,
        );
        for (const n of out.notes) c.note(`${key}: ${n}`);
    };
    packages(
        f.osPackages,
        "os_packages",
        "deploy_python.os_packages",
        (os) =>
            debianPackages(
                Array.isArray(os) ? os.map(String) : isObject(os) ? Object.fromEntries(Object.entries(os).map(([k, v]) => [k, String(v ?? "")])) : list(os),
            ),
        "app.osPackages",
    );
    packages(
        f.pipPackages,
        "packages",
        "deploy_python.packages",
        (pip) => ({
            packages: Array.isArray(pip) ? pip.map(String) : isObject(pip) ? Object.entries(pip).map(([k, v]) => (v ? `${k}==${String(v)}` : k)) : list(pip),
            notes: [],
        }),
        "app.pipPackages",
    );

    // Links: merged from deploy_python, deploy_buildout and the app's own.
    const links = f.links;
    const linkTargets: Record<string, [string, unknown]> = {
        symlink_before_migrate: ["app.symlinkBeforeMigrate", links.symlinkBeforeMigrate],
        purge_before_symlink: ["app.purgeBeforeSymlink", links.purgeBeforeSymlink.filter((d) => !["log", "tmp/pids", "public/system"].includes(d))],
        create_dirs_before_symlink: ["app.createDirsBeforeSymlink", links.createDirsBeforeSymlink.filter((d) => !["public", "tmp", "config"].includes(d))],
    };
    for (const [kind, [target, value]] of Object.entries(linkTargets)) {
        const froms = links.from.filter((at) => at.endsWith(`.${kind}`));
        const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
        if (!empty) c.set(target, value, froms[0]);
        for (const at of froms) {
            const own = ownLinkEntries(kind, c.lines.find((l) => l.path === at)?.found);
            c.became(at, () =>
                own.length
                    ? `${c.keyName(target)} ${displayValue(c.values.get(target)?.value)}${froms.length > 1 ? " (merged)" : ""}`
                    : "only built-in entries (plone-aws makes them itself): nothing to carry over",
            );
        }
    }
    finishRepository(c);
    c.note("the cookbook built with Python 2.7; plone-aws builds the buildout with python3 (Plone 5.2 or later)");
}

/**
 * The repository: from --repository or deploy.<app>.scm. A secret in the URL (https://ci:TOKEN@...)
 * or the OpsWorks app's scm.password becomes plone-aws:repositoryToken; the URL keeps the user name.
 */
function finishRepository(c: Conversion): void {
    const o = c.o;
    const scm = c.facts.scm;
    const at = (key: string) => displayPath(["deploy", c.appName, "scm", key]);
    const gitScm = !scm.type || scm.type === "git";
    if (scm.type !== undefined) {
        if (gitScm) c.became(at("scm_type"), "git");
        else c.reclassify(at("scm_type"), "unsupported", "plone-aws deploys from git; move the buildout into a git repository");
    }
    // The OpsWorks app's user and password: say what became of them when nothing else does.
    const unused = (why: string) => {
        if (scm.user !== undefined) c.became(at("user"), `not used: ${why}`);
        if (scm.passwordAt) c.became(scm.passwordAt, `not used: ${why}`);
    };
    if (o.repository) {
        const found = splitUrlCredentials(o.repository);
        c.set("app.repository", found?.url ?? o.repository, "--repository");
        if (found) {
            c.sawSecret(found.secret);
            c.promptSecret("repositoryToken");
            c.note(
                `--repository: its ${found.place === "password" ? "password" : "token"} is not written; set it as plone-aws:repositoryToken (the command is printed)`,
            );
        }
        if (scm.repository !== undefined) c.became(at("repository"), "not used: --repository wins");
        unused("--repository wins");
    } else if (scm.repository !== undefined && !gitScm) {
        c.became(at("repository"), `not used: a ${scm.type} source (plone-aws deploys from git)`);
        unused(`a ${scm.type} source (plone-aws deploys from git)`);
    } else if (scm.repository !== undefined) {
        const found = splitUrlCredentials(scm.repository);
        let url = found?.url ?? scm.repository;
        if (found) {
            c.sawSecret(found.secret);
            const jq = jqPath(pathParts(at("repository")));
            const extract = jqUrlSecret(found);
            c.secret("repositoryToken", pathParts(at("repository")), jq && extract ? `${jq}${extract}` : false);
        }
        const https = /^https?:\/\//.test(url);
        const hasUser = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
        if (scm.user !== undefined) {
            if (https && !hasUser && scm.passwordAt) {
                url = url.replace("://", `://${encodeURIComponent(scm.user)}@`);
                c.became(at("user"), `the user name in ${c.keyName("app.repository")}`);
            } else
                c.became(
                    at("user"),
                    https
                        ? hasUser
                            ? "not used: the URL names its user"
                            : "not used: no password goes with it"
                        : "not used: an SSH repository authenticates with plone-aws:deployKey",
                );
        }
        if (scm.passwordAt) {
            if (!https)
                c.reclassify(
                    scm.passwordAt,
                    "unsupported",
                    "only an https repository takes a password: an SSH repository authenticates with plone-aws:deployKey; not written",
                );
            else if (found) c.became(scm.passwordAt, "not used: the repository URL carries its own token (plone-aws:repositoryToken)");
            else c.secret("repositoryToken", pathParts(scm.passwordAt));
        }
        c.set("app.repository", url, at("repository"));
        const secret = found
            ? `its ${found.place === "password" ? "password" : "token (the URL's user name)"} -> secret plone-aws:repositoryToken (not written)`
            : undefined;
        c.became(at("repository"), [`${c.keyName("app.repository")} ${displayValue(url)}`, secret].filter(Boolean).join("; "));
    } else unused("the Custom JSON names no repository");
    if (o.revision) c.set("app.revision", o.revision, "--revision");
    if (!c.values.has("app.repository")) {
        c.set("app.repository", PLACEHOLDERS.repository, "(placeholder)");
        c.placeholders.push(keyPath(["app", "repository"]));
        c.comments.set("app.repository", "REPLACE: the git URL of the buildout (the OpsWorks app's repository; or run the import with --repository)");
    }
}

function finishFrontend(c: Conversion, frontends: number): void {
    const o = c.o;
    const f = c.facts;
    const certbotAt = "certbot_domains";
    const appDomainsAt = displayPath(["deploy", c.appName, "domains"]);
    const names = f.certbotDomains?.length ? f.certbotDomains : (f.appDomains ?? []);
    const from = f.certbotDomains?.length ? certbotAt : appDomainsAt;
    const domain = o.domain ?? names[0];
    if (domain) c.set("frontend.domain", domain, o.domain ? "--domain" : from);
    else {
        c.set("frontend.domain", PLACEHOLDERS.domain, "(placeholder)");
        c.placeholders.push(keyPath(["frontend", "domain"]));
        c.comments.set("frontend.domain", "REPLACE: the site's host name (the JSON names none; or run the import with --domain)");
    }
    const subsites = Object.keys((c.values.get("frontend.subsites")?.value as Record<string, unknown> | undefined) ?? {});
    const aliases = [...new Set(names.filter((n) => n !== domain && !subsites.includes(n)))];
    if (aliases.length) c.set("frontend.aliases", aliases, from);

    const certbot = (f.certbotDomains?.length ?? 0) > 0 || o.certbotEmail !== undefined;
    const email = o.certbotEmail ?? f.certbotEmail;
    let tls = "no TLS";
    if (o.certificateArn) {
        c.set("frontend.tls", { mode: "acm", certificateArn: o.certificateArn }, "--certificate-arn");
        if (frontends === 1) c.set("frontend.frontDoor", "alb", "--certificate-arn");
        tls = "TLS by the ACM certificate of --certificate-arn";
    } else if (certbot && frontends > 1) {
        c.issue(
            keyPath(["frontend", "tls"]),
            `certbot_domains asks for certbot, which runs on one front end, and ${frontends} hosts carry frontend (a load balancer): give --certificate-arn with an ACM certificate for ${domain}`,
        );
        tls = "certbot, which cannot serve several front ends (see the error)";
    } else if (certbot) {
        if (!email)
            c.issue(
                keyPath(["frontend", "tls", "email"]),
                "certbot needs an email address for Let's Encrypt: set certbot_email in the JSON or give --certbot-email",
            );
        else c.set("frontend.tls", { mode: "certbot", email }, f.certbotEmail && !o.certbotEmail ? "certbot_email" : "--certbot-email");
        tls = `${c.keyName("frontend.tls")} certbot`;
    }
    if (tls === "no TLS" && (o.tier ?? "production") === "production") {
        c.note(
            "the JSON sets up no TLS, and the production policy refuses a production stack served over plain HTTP: " +
                "give --certificate-arn (an ACM certificate, on the load balancer) or --certbot-email (one front end), " +
                "or set frontend.tls.plainHttpIntended: true when TLS ends in front of the stack",
        );
    }
    const describeNames = (at: string, list: string[] | undefined, isSource: boolean) => {
        if (list === undefined) return;
        if (!list.length) return c.became(at, "no names");
        if (!isSource) return c.became(at, "not used: certbot_domains names the site");
        const parts = [
            o.domain
                ? `not the domain: --domain wins (${c.keyName("frontend.domain")} ${displayValue(o.domain)})`
                : `${c.keyName("frontend.domain")} ${displayValue(domain)}`,
        ];
        if (aliases.length) parts.push(`${c.keyName("frontend.aliases")} ${displayValue(aliases)}`);
        if (at === certbotAt) parts.push(tls);
        c.became(at, parts.join("; "));
    };
    describeNames(certbotAt, f.certbotDomains, true);
    describeNames(appDomainsAt, f.appDomains, from === appDomainsAt);
    if (f.certbotEmail !== undefined) {
        c.became(
            "certbot_email",
            o.certbotEmail
                ? "not used: --certbot-email wins"
                : c.values.get("frontend.tls")?.from === "certbot_email"
                  ? `${c.keyName("frontend.tls.email")} ${displayValue(f.certbotEmail)}`
                  : `not used: ${o.certificateArn ? "TLS comes from --certificate-arn" : "no certbot_domains, so no certbot"}`,
        );
    }
}

function finishDatabase(c: Conversion, storage: "zeo" | "relstorage"): void {
    const f = c.facts;
    const keysOf = (d: DatabaseFacts) => [...d.from, ...(d.password && !d.password.inDsn ? [d.password.at] : [])];
    if (storage !== "relstorage") {
        for (const at of [...keysOf(f.db), ...keysOf(f.appDb)])
            c.became(at, "not used: plone-aws:plone.storage is zeo (plone_instances.enable_relstorage is not true)");
        return;
    }
    // The cookbook used relstorage.db.* when db.name was set, else the RDS attached to the OpsWorks app.
    const useOwn = f.db.name !== undefined || (!f.appDb.host && f.db.from.length > 0);
    const type = (useOwn ? f.db.type : f.appDb.adapter) ?? "postgres";
    const src = useOwn ? f.db : f.appDb;
    const other = useOwn ? f.appDb : f.db;
    for (const at of keysOf(other)) {
        c.became(
            at,
            useOwn
                ? "not used: relstorage.db.name is set, so the cookbook used plone_instances.relstorage.db.*"
                : "not used: relstorage.db.name is not set, so the cookbook used the OpsWorks app's database",
        );
    }
    const from = src.from[0] ?? "(defaults)";
    const db: Record<string, unknown> = {};
    const postgres = ["postgres", "postgresql"].includes(type);
    if (!postgres) {
        c.note(`the RelStorage database is ${type}: plone-aws's is PostgreSQL (RDS); convert the data with zodbconvert`);
        c.warnings.push({
            path: keyPath(["database"]),
            message: `the OpsWorks stack used ${type}: plone-aws creates an RDS PostgreSQL; move the data with zodbconvert`,
        });
    } else if (src.host) {
        db.host = src.host;
        c.comments.set(
            "database.host",
            `The cookbook's database server: plone-aws uses it as it is (no RDS instance is created).\nRemove host to have plone-aws create an RDS PostgreSQL and restore a pg_dump into it.`,
        );
    }
    if (src.port !== undefined && !Number.isNaN(src.port)) db.port = src.port;
    if (src.name) db.name = src.name;
    if (src.user) db.user = src.user;
    c.set("database", db, from);
    if (src.password) c.secret("dbPassword", pathParts(src.password.at), src.password.inDsn ? false : undefined);

    // What each key of the chosen database became.
    const field: Record<string, string> = { name: "name", database: "name", host: "host", user: "user", username: "user", port: "port" };
    const shown = (k: string) =>
        db[k] === undefined ? `not used (${postgres ? "no value" : `the database is ${type}`})` : `${c.keyName(`database.${k}`)} ${displayValue(db[k])}`;
    for (const at of src.from) {
        const key = String(pathParts(at).pop());
        if (key === "type" || key === "adapter")
            c.became(
                at,
                postgres ? "PostgreSQL, plone-aws's database" : `not carried over: plone-aws's database is PostgreSQL (RDS); move the data with zodbconvert`,
            );
        else if (key === "dsn") {
            const read = (["name", "host", "port", "user"] as const).filter((k) => db[k] !== undefined).map((k) => shown(k));
            c.became(
                at,
                [read.length ? read.join(", ") : "nothing carried over", src.password?.inDsn ? "its password -> secret plone-aws:dbPassword (not written)" : ""]
                    .filter(Boolean)
                    .join("; "),
            );
        } else if (field[key]) c.became(at, shown(field[key]));
    }
}

/** The value the import set for a dotted key, also inside a section it set whole (database.host in database). */
function valueOfKey(c: Conversion, dotted: string): unknown {
    const parts = dotted.split(".");
    for (let n = parts.length; n > 0; n--) {
        const entry = c.values.get(parts.slice(0, n).join("."));
        if (!entry) continue;
        let v: unknown = entry.value;
        for (const p of parts.slice(n)) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
        return v;
    }
    return undefined;
}

/**
 * aws:region: --region, else the instances' availability zones, else the AWS hosts the Custom JSON
 * names (an RDS endpoint, a broker, an EC2 host name, an S3 URL). Says which source won and why, and
 * warns when a server the stack connects to is in another region.
 */
function finishRegion(c: Conversion): void {
    const sources: RegionSource[] = [];
    if (c.o.region) sources.push({ region: c.o.region, what: "--region", rank: REGION_RANK.option });
    if (c.instancesRegion && c.o.instances) {
        sources.push({
            region: c.instancesRegion.region,
            what: `the availability zones of ${c.o.instances.file} (${c.instancesRegion.zones.join(", ")})`,
            rank: REGION_RANK.instances,
        });
    }
    sources.push(...regionSources(c.json, displayPath));
    const choice = pickRegion(sources);
    if (!choice) {
        c.set("aws:region", "us-east-1", "(assumed)");
        c.note("aws:region us-east-1 is assumed: no --region, no availability zones, and no AWS host name in the Custom JSON names a region");
        c.comments.set(
            "aws:region",
            "Assumed: nothing named a region; give --region (or an --instances file with availability zones) for your stack's region.",
        );
        return;
    }
    c.set("aws:region", choice.region, choice.source.what);
    const others = [...new Set(choice.disagreeing.map((s) => s.region))];
    const picked = `aws:region ${choice.region}: from ${choice.source.what}${sources.length > 1 ? ` (${choice.reason})` : ""}`;
    c.note(
        others.length
            ? `${picked}; the sources disagree: ${others
                  .map(
                      (r) =>
                          `${r} (${choice.disagreeing
                              .filter((s) => s.region === r)
                              .map((s) => s.what)
                              .join("; ")})`,
                  )
                  .join(", ")}`
            : picked,
    );
    c.comments.set(
        "aws:region",
        `From ${choice.source.what}${others.length ? `; other sources name ${others.join(", ")}: the import's notes say why this one won` : ""}.`,
    );

    // Servers the hosts connect to, in another region: they would talk across regions.
    const servers: [string, string][] = [
        ["database.host", "the database"],
        ["plone.celery.brokerHost", "the celery broker"],
        ["plone.solr.host", "Solr"],
        ["plone.relstorage.cacheServers", "the memcached servers"],
    ];
    for (const [key, what] of servers) {
        const value = valueOfKey(c, key);
        for (const host of (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string")) {
            const found = regionSources(host, () => key)[0];
            if (found && found.region !== choice.region) {
                c.warnings.push({
                    path: c.keyName(key),
                    message: `${what} (${host.replace(/:\d+$/, "")}) is in ${found.region}, the stack in ${choice.region} (from ${choice.source.what}): the hosts would reach it across regions (latency, traffic charges, and security groups cannot name it); move it, or import with --region ${found.region}`,
                });
            }
        }
    }
}

/**
 * The region production snapshots are copied to when the Custom JSON had no copy (the cookbook
 * never copied; its TODO asked for it): a nearby region of the same partition.
 */
export const SNAPSHOT_COPY_REGIONS: Record<string, string> = {
    "us-east-1": "us-west-2",
    "us-east-2": "us-west-2",
    "us-west-1": "us-east-1",
    "us-west-2": "us-east-1",
    "ca-central-1": "us-east-1",
    "sa-east-1": "us-east-1",
    "eu-west-1": "eu-central-1",
    "eu-west-2": "eu-west-1",
    "eu-west-3": "eu-central-1",
    "eu-central-1": "eu-west-1",
    "eu-north-1": "eu-central-1",
    "eu-south-1": "eu-central-1",
    "ap-southeast-1": "ap-southeast-2",
    "ap-southeast-2": "ap-southeast-1",
    "ap-northeast-1": "ap-northeast-3",
    "ap-northeast-2": "ap-northeast-1",
    "ap-northeast-3": "ap-northeast-1",
    "ap-south-1": "ap-southeast-1",
};

function finishSnapshots(c: Conversion): void {
    const s = c.facts.snapshot;
    if (s.keep !== undefined) c.set("snapshots.retain", Number(s.keep), "ebs_snapshots.keep");
    const region = String(c.values.get("aws:region")?.value ?? "");
    const copyTo = SNAPSHOT_COPY_REGIONS[region];
    if (c.values.get("tier")?.value === "production" && copyTo) {
        c.set("snapshots.crossRegionCopy", { region: copyTo }, "(production default)");
        c.comments.set(
            "snapshots.crossRegionCopy",
            `Production snapshots are also kept in ${copyTo}, so a regional outage keeps the backups (the cookbook's TODO). Change the region or remove this to keep them in ${region} only.`,
        );
    }
    if (s.hour === undefined && s.minute === undefined && s.weekday === undefined) return;
    const hour = s.hour === undefined ? 8 : Number(s.hour);
    const minute = s.minute === undefined ? 0 : Number(s.minute);
    const daily = s.weekday === undefined || ["0-6", "*", "0-7"].includes(String(s.weekday));
    if (!daily) c.reclassify("ebs_snapshots.weekday", "unsupported", "plone-aws snapshots daily");
    if (!Number.isInteger(hour) || hour < 0 || hour > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59) {
        for (const at of ["ebs_snapshots.hour", "ebs_snapshots.minute"]) {
            c.reclassify(
                at,
                "unsupported",
                `the cron time ${String(s.minute ?? 0)} ${String(s.hour ?? 8)} (minute hour) is not one daily time: plone-aws's default (08:00 UTC) applies`,
            );
        }
        if (daily) c.became("ebs_snapshots.weekday", "daily, at plone-aws's default time (the cron time is not one daily time)");
        return;
    }
    const tz = c.facts.timezone;
    const offset = tz ? tzOffsetMinutes(tz, c.o.now) : 0;
    const total = (((hour * 60 + minute - offset) % 1440) + 1440) % 1440;
    const time = `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
    c.set("snapshots.time", time, s.from.find((at) => at !== "ebs_snapshots.keep") ?? "ebs_snapshots.hour");
    const local = `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
    const result = `${c.keyName("snapshots.time")} ${displayValue(time)} (${offset ? `${local} ${tz} in UTC` : `${local} UTC`})`;
    for (const at of ["ebs_snapshots.hour", "ebs_snapshots.minute"]) c.became(at, result);
    if (daily) c.became("ebs_snapshots.weekday", `daily: ${result}`);
    if (offset)
        c.note(
            `snapshots at ${time} UTC: the cookbook's cron ran at ${hour}:${String(minute).padStart(2, "0")} ${tz} (UTC${offset > 0 ? "+" : ""}${offset / 60} on ${c.o.now.toISOString().slice(0, 10)})`,
        );
}

/** Minutes the zone is ahead of UTC at `when` (0 for an unknown zone). */
function tzOffsetMinutes(zone: string, when: Date): number {
    try {
        const parts = new Intl.DateTimeFormat("en-US", {
            timeZone: zone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
        }).formatToParts(when);
        const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
        const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
        return Math.round((local - Date.UTC(when.getUTCFullYear(), when.getUTCMonth(), when.getUTCDate(), when.getUTCHours(), when.getUTCMinutes())) / 60000);
    } catch {
        return 0;
    }
}
