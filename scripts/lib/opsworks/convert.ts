// OpsWorks stack Custom JSON (+ optionally an instances file) -> a plone-aws stack file.
//
// Every key of the JSON is classified with the attribute table (attributes.ts): carried to a
// plone-aws key, carried as a secret (never written), or reported with the reason it is not;
// keys that are no cookbook key at all are reported as unknown. The result is validated the way
// `npm run plan` validates a stack file; import problems and validation errors come back together
// as ConfigIssues (key path + message), and nothing is written while there are any.
import { shellQuote } from "../../../components/render/shell";
import YAML, { isMap, YAMLMap } from "yaml";
import { z } from "zod";
import { closest } from "../../../components/config/load";
import { ConfigIssue, keyPath, NAMESPACE } from "../../../components/config/rules";
import { BlobMode, Layer, LAYERS, ploneSchema, SECRET_KEYS, SECTION_SCHEMAS, SecretKey, Tier, VolumeKind } from "../../../components/config/schema";
import { volumeKindsFor } from "../../../components/topology";
import { instanceTypeInfo } from "../../../components/topology/instanceTypes";
import { validateStack } from "../planLoad";
import { ploneSecret, SecretToSet, sortSecrets } from "../secretCommands";
import { parseStackText } from "../stackFile";
import { commentAbove, flowScalarLists, mapAt, STRINGIFY } from "../stackYaml";
import { estimatedVcpus } from "../stagingTypes";
import { ATTRIBUTES, attributeFor, Disposition, FAMILIES, hasAttributesBelow, KNOWN_MISTAKES } from "./attributes";
import { ImportedHost, LayerNames, readInstances } from "./instances";
import { debianPackages } from "./packages";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ImportOptions {
    stack: string;
    /** The Custom JSON file as named on the command line (messages, jq commands). */
    jsonFile: string;
    instances?: { json: unknown; file: string };
    region?: string;
    tier?: Tier;
    repository?: string;
    revision?: string;
    domain?: string;
    certbotEmail?: string;
    certificateArn?: string;
    publicKey?: string;
    adminCidrs: string[];
    now: Date;
}

export type ReportKind = Disposition | "unknown";

export interface ReportLine {
    /** The key's path in the Custom JSON. */
    path: string;
    kind: ReportKind;
    /** The plone-aws key, or the reason. */
    message: string;
}

export interface ImportResult {
    /** The stack file, when there are no issues. */
    text?: string;
    /** One line per key of the Custom JSON (and per instance-file finding). */
    report: ReportLine[];
    /** What the import assumed or changed, also written as comments. */
    notes: string[];
    /** Errors: with any, nothing is written. */
    issues: ConfigIssue[];
    warnings: ConfigIssue[];
    secrets: SecretToSet[];
    /** Keys written with placeholder values that must be replaced before `pulumi up`. */
    placeholders: string[];
}

/** Values written when the JSON cannot know them; each is marked REPLACE in the file. */
export const PLACEHOLDERS = {
    repository: "https://github.com/example-org/REPLACE-WITH-YOUR-buildout.git",
    domain: "www.example.org",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMPLACEHOLDERKEYREPLACEWITHYOURS0000000000 plone-aws",
    adminCidr: "198.51.100.7/32",
} as const;

/** Environment variable names that hold secrets: never written to the stack file. */
const SECRET_ENV = /(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE|CREDENTIAL|API_?KEY|ACCESS_?KEY|LICENSE)/i;

/** Built-in release links (deploy_buildout defaults) that plone-aws always makes. */
const BUILTIN_LINKS = ["eggs", "downloads", "extends", "var", "parts"];

type Handler = (value: Json, at: string, c: Conversion) => void;

/** Converts; never throws for bad input (that becomes issues and report lines). */
export function importOpsWorks(json: unknown, o: ImportOptions): ImportResult {
    const c = new Conversion(o);
    if (!isObject(json)) {
        c.issue(o.jsonFile, "a stack Custom JSON is a JSON object ({ ... })");
        return c.result();
    }
    c.readNames(json);
    for (const [key, value] of Object.entries(json)) c.walk(value, [key]);
    c.finish();
    return c.result();
}

function isObject(v: unknown): v is { [key: string]: Json } {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `a.b[0]["odd key"]` for report lines. */
export function displayPath(parts: readonly (string | number)[]): string {
    return parts.map((p, i) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(p) ? `${i ? "." : ""}${p}` : `[${JSON.stringify(p)}]`)).join("");
}

/** The jq filter for a path, or undefined when the path cannot be written safely in single quotes. */
function jqPath(parts: readonly (string | number)[]): string | undefined {
    if (parts.some((p) => typeof p === "string" && p.includes("'"))) return undefined;
    return parts.map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join("").replace(/^\[/, ".[");
}


interface SecretSource {
    /** JSON paths the value was found at. */
    paths: string[];
    /** A jq filter that extracts it, for the pipe into `pulumi config set`. */
    jq?: string;
}

/** Everything read from the JSON that the final stack is derived from. */
interface Facts {
    blobs: { nfs: string[]; gluster: string[]; zeoNfs: string[]; zeoGluster: string[]; shared?: boolean; dir?: string; s3fsPaths: string[] };
    relstorage: boolean;
    db: { type?: string; name?: string; host?: string; user?: string; port?: number; from: string[] };
    appDb: { adapter?: string; name?: string; host?: string; user?: string; port?: number; from: string[] };
    enableCache?: boolean;
    cacheServers?: string[];
    enablePack?: boolean;
    celerybeat?: boolean;
    certbotDomains?: string[];
    certbotEmail?: string;
    appDomains?: string[];
    snapshot: { hour?: Json; minute?: Json; weekday?: Json; keep?: Json; from: string[] };
    timezone?: string;
    tmpfs?: boolean;
    tmpfsSize?: string;
    zeoOnAppHost?: string;
    scmType?: string;
    environment: Record<string, string>;
    osPackages?: { app?: Json; global?: Json };
    pipPackages?: { app?: Json; global?: Json };
    links: { symlinkBeforeMigrate: Record<string, string>; purgeBeforeSymlink: string[]; createDirsBeforeSymlink: string[] };
    fallbacks: Record<string, { value: Json; at: string }>;
    maxConnections?: { value: Json; at: string; global: boolean };
}

class Conversion {
    readonly report: ReportLine[] = [];
    readonly notes: string[] = [];
    readonly issues: ConfigIssue[] = [];
    readonly warnings: ConfigIssue[] = [];
    readonly placeholders: string[] = [];
    /** plone-aws values by dotted path within the namespace (plone.siteId), with where they came from. */
    readonly values = new Map<string, { value: unknown; from: string }>();
    readonly secrets = new Map<SecretKey, SecretSource>();
    readonly comments = new Map<string, string>();
    readonly facts: Facts = {
        blobs: { nfs: [], gluster: [], zeoNfs: [], zeoGluster: [], s3fsPaths: [] },
        relstorage: false,
        db: { from: [] },
        appDb: { from: [] },
        snapshot: { from: [] },
        environment: {},
        links: { symlinkBeforeMigrate: {}, purgeBeforeSymlink: [], createDirsBeforeSymlink: [] },
        fallbacks: {},
    };
    appName = "plone_instances";
    zeoApp = "zeoserver";
    solrApp = "solr";
    layerNames: LayerNames = { zeo: "zeoserver", broker: "celery_broker", solr: "solr", blobs: "shared_blobs" };
    private json: { [key: string]: Json } = {};
    text?: string;

    constructor(readonly o: ImportOptions) {}

    issue(path: string, message: string): void {
        this.issues.push({ path, message });
    }

    line(parts: readonly (string | number)[], kind: ReportKind, message: string): void {
        this.report.push({ path: displayPath(parts), kind, message });
    }

    set(path: string, value: unknown, from: string): void {
        this.values.set(path, { value, from });
    }

    secret(key: SecretKey, parts: readonly (string | number)[], extractable = true): void {
        const entry = this.secrets.get(key) ?? { paths: [] };
        entry.paths.push(displayPath(parts));
        if (extractable && !entry.jq) entry.jq = jqPath(parts);
        this.secrets.set(key, entry);
    }

    note(text: string): void {
        this.notes.push(text);
    }

    /** The names other keys depend on: the apps and the configurable layer names. */
    readNames(json: { [key: string]: Json }): void {
        this.json = json;
        const str = (obj: Json | undefined, key: string) => (isObject(obj) && typeof obj[key] === "string" ? (obj[key] as string) : undefined);
        const inst = json.plone_instances;
        this.appName = str(inst, "app_name") ?? this.appName;
        this.zeoApp = str(json.plone_zeoserver, "app_name") ?? this.zeoApp;
        this.solrApp = str(json.plone_solr, "app_name") ?? this.solrApp;
        this.layerNames = {
            zeo: str(inst, "zeo_layer") ?? "zeoserver",
            broker: str(inst, "broker_layer") ?? "celery_broker",
            solr: str(inst, "solr_layer") ?? "solr",
            blobs: str(json.plone_blobs, "layer") ?? "shared_blobs",
        };
    }

    /** Classifies one key (and its subtree) and converts what maps. */
    walk(value: Json, parts: (string | number)[]): void {
        const strParts = parts.map(String);
        if (strParts[0] === "deploy") {
            if (parts.length === 1) {
                if (!isObject(value)) return this.line(parts, "unknown", "deploy must map app short names to their settings");
                for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
                return;
            }
            const app = strParts[1];
            if (![this.appName, this.zeoApp, this.solrApp].includes(app)) {
                return this.line(parts, "unknown", `no layer deploys an app named ${app} (the apps are ${this.appName}, ${this.zeoApp} and ${this.solrApp}): not used`);
            }
            if (parts.length === 2) {
                if (!isObject(value)) return this.line(parts, "unknown", "an app's settings are a mapping");
                for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
                return;
            }
        }
        const tablePath = strParts[0] === "deploy" ? ["deploy", "<app>", ...strParts.slice(2)].join(".") : strParts.join(".");
        const entry = attributeFor(tablePath);
        if (entry) {
            const otherApp = strParts[0] === "deploy" && strParts[1] !== this.appName;
            if (otherApp) return this.otherAppKey(value, parts);
            // Chef reads null as "not set": the default applies.
            if (value === null) return this.line(parts, "dropped", "null: not set, plone-aws's default applies");
            const what = entry.disposition === "secret" ? `secret ${entry.target} (not written)` : entry.target;
            this.line(parts, entry.disposition, [what, entry.note].filter(Boolean).join(": "));
            if (entry.disposition === "mapped" || entry.disposition === "secret") {
                const handler = HANDLERS[tablePath];
                if (handler) handler(value, displayPath(parts), this);
                else this.set(entry.target!.slice(NAMESPACE.length + 1), value, displayPath(parts));
            }
            return;
        }
        if (hasAttributesBelow(tablePath)) {
            if (!isObject(value)) return this.line(parts, "unknown", `${displayPath(parts)} holds keys (a mapping), not a ${Array.isArray(value) ? "list" : "value"}: not carried over`);
            for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
            return;
        }
        if (FAMILIES[strParts[0]]) return this.line(parts, "dropped", FAMILIES[strParts[0]]);
        // Inside an unknown mapping, report the keys a known mistake names one by one (zeoserver.nfs_blobs).
        if (isObject(value) && Object.keys(KNOWN_MISTAKES).some((k) => k.startsWith(`${tablePath}.`))) {
            for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
            return;
        }
        const mistake = KNOWN_MISTAKES[tablePath];
        const near = mistake ? undefined : closest(tablePath, ATTRIBUTES.map((a) => a.path), 4);
        this.line(parts, "unknown", `not a key of the OpsWorks cookbooks${mistake ? `; did you mean ${mistake}?` : near ? `; did you mean ${near}?` : ""}: not carried over`);
    }

    /** deploy.<zeoserver app>/<solr app> keys: plone-aws builds every layer from the Plone app. */
    private otherAppKey(value: Json, parts: (string | number)[]): void {
        const rest = parts.slice(2);
        const ploneApp = this.json.deploy && isObject(this.json.deploy) ? this.json.deploy[this.appName] : undefined;
        let same: Json | undefined = ploneApp;
        for (const p of rest) same = isObject(same) ? same[String(p)] : undefined;
        if (JSON.stringify(same) === JSON.stringify(value)) {
            this.line(parts, "dropped", `the same as ${displayPath(["deploy", this.appName, ...rest])}: plone-aws builds every layer from one app`);
        } else {
            this.line(parts, "unsupported", `differs from ${displayPath(["deploy", this.appName, ...rest])}: plone-aws builds every layer (ZEO, Solr) from the one app, with the Plone app's settings`);
        }
    }

    finish(): void {
        finishConversion(this);
    }

    result(): ImportResult {
        return {
            text: this.issues.length === 0 ? this.text : undefined,
            report: this.report,
            notes: this.notes,
            issues: this.issues,
            warnings: this.warnings,
            secrets: this.secretCommands(),
            placeholders: this.placeholders,
        };
    }

    private secretCommands(): SecretToSet[] {
        const list: SecretToSet[] = [];
        const keys = new Set<SecretKey>([...this.secrets.keys(), ...this.requiredSecrets]);
        for (const key of keys) {
            const src = this.secrets.get(key);
            const s = ploneSecret(key, this.o.stack, src ? `the Custom JSON has it at ${src.paths.join(", ")}` : undefined);
            if (src?.jq) s.command = `jq -j ${shellQuote(src.jq)} ${shellQuote(this.o.jsonFile)} | ${s.command}`;
            list.push(s);
        }
        return sortSecrets(list);
    }

    requiredSecrets: SecretKey[] = [];
}

// ---------------------------------------------------------------------------------------------
// Handlers for the keys that are not a plain copy to their target.

const bool = (v: Json) => v === true || v === "true";
const str = (v: Json) => (typeof v === "string" ? v : v === null ? undefined : String(v));

function list(v: Json): string[] {
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

export const HANDLERS: Readonly<Record<string, Handler>> = {
    "plone_instances.shared_blobs": (v, _at, c) => { c.facts.blobs.shared = bool(v); },
    "plone_instances.nfs_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.nfs.push(at); },
    "plone_instances.gluster_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.gluster.push(at); },
    "plone_zeoserver.nfs_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.zeoNfs.push(at); },
    "plone_zeoserver.gluster_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.zeoGluster.push(at); },
    "plone_blobs.blob_dir": (v, _at, c) => { c.facts.blobs.dir = str(v); },
    "s3fs_fuse.mounts": (v, _at, c) => {
        if (Array.isArray(v)) for (const m of v) if (isObject(m) && typeof m.path === "string") c.facts.blobs.s3fsPaths.push(m.path.replace(/\/+$/, ""));
    },
    "plone_instances.enable_relstorage": (v, at, c) => { c.facts.relstorage = bool(v); if (bool(v)) c.set("plone.storage", "relstorage", at); },
    "plone_instances.relstorage.db.type": (v, at, c) => { c.facts.db.type = str(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.dsn": (v, at, c) => {
        if (typeof v !== "string") return;
        const dsn = parseDsn(v);
        const db = c.facts.db;
        db.name = db.name ?? dsn.dbname;
        db.host = db.host ?? dsn.host;
        db.user = db.user ?? dsn.user;
        db.port = db.port ?? (dsn.port ? Number(dsn.port) : undefined);
        db.from.push(at);
        if (dsn.password) c.secret("dbPassword", pathParts(at), false);
    },
    "plone_instances.relstorage.db.name": (v, at, c) => { c.facts.db.name = str(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.host": (v, at, c) => { c.facts.db.host = str(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.user": (v, at, c) => { c.facts.db.user = str(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.port": (v, at, c) => { if (v !== null) c.facts.db.port = Number(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.password": (v, at, c) => { if (v !== null && v !== "") c.secret("dbPassword", pathParts(at)); },
    "plone_instances.relstorage.enable_cache": (v, _at, c) => { c.facts.enableCache = bool(v); },
    "plone_instances.relstorage.cache_servers": (v, at, c) => {
        const servers = list(v);
        if (servers.length > 0) { c.facts.cacheServers = servers; c.set("plone.relstorage.cacheServers", servers, at); }
    },
    "plone_instances.relstorage.enable_pack": (v, _at, c) => { c.facts.enablePack = bool(v); },
    "plone_instances.zeo_layer": () => undefined,
    "plone_instances.broker_layer": () => undefined,
    "plone_instances.solr_layer": () => undefined,
    "plone_blobs.layer": () => undefined,
    "plone_instances.celerybeat": (v, _at, c) => { c.facts.celerybeat = bool(v); },
    "plone_instances.broker.host": (v, at, c) => { if (v !== null) c.set("plone.celery.brokerHost", str(v), at); },
    "plone_instances.solr_host": (v, at, c) => { if (v !== null) c.set("plone.solr.host", str(v), at); },
    "plone_instances.syslog_level": (v, at, c) => c.set("plone.clientSyslog.level", String(v).toUpperCase(), at),
    "plone_zeoserver.syslog_level": (v, at, c) => c.set("plone.zeoSyslog.level", String(v).toUpperCase(), at),
    "tmpdir.tmpfs": (v, _at, c) => { c.facts.tmpfs = bool(v); },
    "tmpdir.tmpfs_size": (v, _at, c) => { c.facts.tmpfsSize = str(v); },
    "system.timezone": (v, at, c) => { c.facts.timezone = str(v); c.set("plone.timezone", v, at); },
    "ebs_snapshots.keep": (v, at, c) => { c.facts.snapshot.keep = v; c.facts.snapshot.from.push(at); },
    "ebs_snapshots.hour": (v, at, c) => { c.facts.snapshot.hour = v; c.facts.snapshot.from.push(at); },
    "ebs_snapshots.minute": (v, at, c) => { c.facts.snapshot.minute = v; c.facts.snapshot.from.push(at); },
    "ebs_snapshots.weekday": (v, at, c) => { c.facts.snapshot.weekday = v; c.facts.snapshot.from.push(at); },
    "nginx_plone.client_max_body_size": (v, at, c) => c.set("frontend.nginx.clientMaxBodySize", typeof v === "string" ? v.toLowerCase() : v, at),
    "varnish.storage_size": (v, at, c) => c.set("frontend.varnish.storage", `malloc,${String(v).toLowerCase()}`, at),
    "varnish_purge_urls": (v, at, c) => c.set("frontend.varnish.purgeUrls", typeof v === "string" ? [v] : v, at),
    "haproxy.check_interval": (v, at, c) => c.set("frontend.haproxy.checkInterval", typeof v === "string" && /^\d+s$/.test(v) ? Number(v.slice(0, -1)) * 1000 : v, at),
    "haproxy.server_timeout": (v, at, c) => c.set("frontend.haproxy.serverTimeout", duration(v), at),
    "haproxy.client_timeout": (v, at, c) => c.set("frontend.haproxy.clientTimeout", duration(v), at),
    "haproxy.queue_timeout": (v, at, c) => c.set("frontend.haproxy.queueTimeout", duration(v), at),
    "haproxy.connect_timeout": (v, at, c) => c.set("frontend.haproxy.connectTimeout", duration(v), at),
    "haproxy.http_request_timeout": (v, at, c) => c.set("frontend.haproxy.httpRequestTimeout", duration(v), at),
    "haproxy.global_max_connections": (v, at, c) => { c.facts.maxConnections = { value: v, at, global: true }; },
    "haproxy.default_max_connections": (v, at, c) => { if (!c.facts.maxConnections?.global) c.facts.maxConnections = { value: v, at, global: false }; },
    "haproxy.stats_password": (v, at, c) => {
        if (v === "STATSPASSWORD" || v === "STATS PASSWORD") c.note(`${at} is the CloudFormation template's placeholder: choose a real password for plone-aws:haproxyStatsPassword`);
        else c.secret("haproxyStatsPassword", pathParts(at));
    },
    "certbot_domains": (v, _at, c) => { c.facts.certbotDomains = list(v); },
    "certbot_email": (v, _at, c) => { c.facts.certbotEmail = str(v); },
    "newrelic.license": (v, at, c) => { if (v) c.secret("newRelicLicenseKey", pathParts(at)); },
    "deploy_python.symlink_before_migrate": (v, _at, c) => mergeLinks(c, v, "symlinkBeforeMigrate"),
    "deploy_python.purge_before_symlink": (v, _at, c) => mergeLinks(c, v, "purgeBeforeSymlink"),
    "deploy_python.create_dirs_before_symlink": (v, _at, c) => mergeLinks(c, v, "createDirsBeforeSymlink"),
    "deploy_buildout.symlink_before_migrate": (v, _at, c) => mergeLinks(c, v, "symlinkBeforeMigrate"),
    "deploy_buildout.purge_before_symlink": (v, _at, c) => mergeLinks(c, v, "purgeBeforeSymlink"),
    "deploy_buildout.create_dirs_before_symlink": (v, _at, c) => mergeLinks(c, v, "createDirsBeforeSymlink"),
    "deploy.<app>.symlink_before_migrate": (v, _at, c) => mergeLinks(c, v, "symlinkBeforeMigrate"),
    "deploy.<app>.purge_before_symlink": (v, _at, c) => mergeLinks(c, v, "purgeBeforeSymlink"),
    "deploy.<app>.create_dirs_before_symlink": (v, _at, c) => mergeLinks(c, v, "createDirsBeforeSymlink"),
    "deploy_python.packages": (v, _at, c) => { c.facts.pipPackages = { ...c.facts.pipPackages, global: v }; },
    "deploy.<app>.packages": (v, _at, c) => { c.facts.pipPackages = { ...c.facts.pipPackages, app: v }; },
    "deploy_python.os_packages": (v, _at, c) => { c.facts.osPackages = { ...c.facts.osPackages, global: v }; },
    "deploy.<app>.os_packages": (v, _at, c) => { c.facts.osPackages = { ...c.facts.osPackages, app: v }; },
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
    "deploy.<app>.scm.scm_type": (v, _at, c) => { c.facts.scmType = str(v); },
    "deploy.<app>.scm.ssh_key": (v, at, c) => { if (v) c.secret("deployKey", pathParts(at)); },
    "deploy.<app>.database.host": (v, at, c) => { c.facts.appDb.host = str(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.port": (v, at, c) => { if (v !== null) c.facts.appDb.port = Number(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.adapter": (v, at, c) => { c.facts.appDb.adapter = str(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.username": (v, at, c) => { c.facts.appDb.user = str(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.database": (v, at, c) => { c.facts.appDb.name = str(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.password": (v, at, c) => { if (v) c.secret("dbPassword", pathParts(at)); },
    "deploy.<app>.domains": (v, _at, c) => { c.facts.appDomains = list(v); },
    "deploy.<app>.ssl_support": (v, at, c) => { if (bool(v)) c.note(`${at}: the app's own certificate is not carried over: import it into ACM (--certificate-arn) or use certbot (--certbot-email)`); },
};

/** Split a display path back into parts (keys with dots come from bracketed segments). */
function pathParts(at: string): (string | number)[] {
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
    return (value, at, c) => { c.facts.fallbacks[appKey] = { value, at }; };
}

function mergeLinks(c: Conversion, v: Json, kind: keyof Facts["links"]): void {
    const links = c.facts.links;
    if (kind === "symlinkBeforeMigrate") {
        if (isObject(v)) for (const [k, x] of Object.entries(v)) if (!BUILTIN_LINKS.includes(k) || x !== k) links.symlinkBeforeMigrate[k] = String(x);
    } else {
        for (const d of list(v)) if (!BUILTIN_LINKS.includes(d) && !links[kind].includes(d)) links[kind].push(d);
    }
}

function initType(v: Json, at: string, c: Conversion): void {
    if (v !== "supervisor" && v !== null) c.line(pathParts(at), "unsupported", `init type ${String(v)}: plone-aws runs the programs under supervisor`);
}

function partsToInclude(v: Json, at: string, c: Conversion): void {
    const parts = list(v);
    if (parts.includes("zeoserver")) {
        c.facts.zeoOnAppHost = at;
        c.note(`${at} builds the zeoserver part with the clients (a single-host stack): the zeoserver layer on the app host does that in plone-aws`);
    }
    c.set("app.partsToInclude", parts.filter((p) => p !== "zeoserver"), at);
}

function initCommands(v: Json, at: string, c: Conversion): void {
    if (!Array.isArray(v)) return c.set("app.initCommands", v, at);
    const out: Record<string, unknown>[] = [];
    v.forEach((cmd, i) => {
        if (!isObject(cmd)) return void out.push({ name: cmd });
        if (cmd.name === "zeoserver" && typeof cmd.cmd === "string" && cmd.cmd.endsWith("bin/zeoserver")) {
            c.facts.zeoOnAppHost = c.facts.zeoOnAppHost ?? `${at}[${i}]`;
            c.note(`${at}[${i}] runs bin/zeoserver with the clients: the zeoserver layer's own program replaces it`);
            return;
        }
        const entry: Record<string, unknown> = { name: cmd.name, cmd: cmd.cmd };
        if (cmd.args !== undefined && cmd.args !== "") entry.args = cmd.args;
        if (cmd.delay !== undefined && cmd.delay !== 0) entry.delay = cmd.delay;
        if (bool(cmd.eventlistener ?? false)) entry.eventListener = { events: list(cmd.eventlistener_events ?? []) };
        for (const k of Object.keys(cmd)) {
            if (!["name", "cmd", "args", "delay", "eventlistener", "eventlistener_events", "init_type"].includes(k)) {
                c.line([...pathParts(at), i, k], "unknown", "not a key of an init command: not carried over");
            }
        }
        out.push(entry);
    });
    c.set("app.initCommands", out, at);
}

function cacheArchives(v: Json, at: string, c: Conversion): void {
    if (!Array.isArray(v)) return c.set("app.cacheArchives", v, at);
    const passwords = new Set<string>();
    const out = v.map((a, i) => {
        if (!isObject(a)) return a;
        const entry: Record<string, unknown> = { url: a.url, path: a.path };
        if (a.user) entry.user = a.user;
        if (bool(a.purge ?? false)) entry.purge = true;
        if (a.password) {
            passwords.add(String(a.password));
            c.secret("cacheArchivePassword", [...pathParts(at), i, "password"]);
        }
        return entry;
    });
    if (passwords.size > 1) {
        c.issue(keyPath(["cacheArchivePassword"]), `the cache archives at ${at} have ${passwords.size} different passwords, and plone-aws has one (plone-aws:cacheArchivePassword): give them one user and password`);
    }
    c.set("app.cacheArchives", out, at);
}

function environment(v: Json, at: string, c: Conversion): void {
    if (!isObject(v)) return c.set("app.environment", v, at);
    for (const [k, x] of Object.entries(v)) {
        if (k === "NEW_RELIC_LICENSE_KEY") {
            c.secret("newRelicLicenseKey", [...pathParts(at), k]);
        } else if (SECRET_ENV.test(k)) {
            c.line([...pathParts(at), k], "refused", "looks like a secret, so it is not written: plone-aws has no secret environment variables; keep it out of the stack file (e.g. in a file the buildout reads)");
        } else if (/^(RUBY|RAILS|RACK)/.test(k)) {
            c.line([...pathParts(at), k], "dropped", "the cookbook removed Ruby/Rails variables from the environment");
        } else {
            c.facts.environment[k] = String(x);
            c.set("app.environment", { ...c.facts.environment }, at);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Deriving the stack from the facts.

/** Previous-generation instance types and their current equivalents (same size). */
export const CURRENT_GENERATION: Readonly<Record<string, string>> = {
    c1: "c6i", c3: "c6i", c4: "c6i", m1: "m6i", m2: "r6i", m3: "m6i", m4: "m6i", r3: "r6i", r4: "r6i",
    i2: "i4i", i3: "i4i", t1: "t3", t2: "t3", hi1: "i4i", hs1: "d3",
};

/** A type Debian 12 runs on and the instance table knows: old generations become current ones. */
export function currentInstanceType(type: string): { type: string; note?: string } {
    const [family, size] = type.split(".");
    const modern = CURRENT_GENERATION[family];
    if (!modern) return { type };
    const currentSize = modern === "t3" || ["large", "xlarge"].includes(size) || /^\d+xlarge$/.test(size) ? size : "large";
    const next = `${modern}.${currentSize}`;
    return { type: next, note: `${type} -> ${next}: a previous-generation type; the current one of its family and size` };
}

function finishConversion(c: Conversion): void {
    const o = c.o;
    const f = c.facts;

    // Storage and blobs.
    const storage = f.relstorage ? "relstorage" : "zeo";
    const blobs = blobMode(c, storage);
    c.set("plone.blobs", blobs.mode, blobs.from);
    if (f.tmpfs) c.set("plone.tmpfsSize", f.tmpfsSize ?? "1G", "tmpdir.tmpfs");
    if (f.maxConnections) c.set("frontend.haproxy.maxConnections", Number(f.maxConnections.value), f.maxConnections.at);

    // The app: fallbacks, packages, links, repository.
    finishApp(c);

    // Hosts.
    const hosts = o.instances ? hostsFromInstances(c, storage, blobs.mode) : defaultHosts(c, storage, blobs.mode);
    if (!hosts) return;

    // The front end, the database, snapshots.
    finishFrontend(c, hosts.filter((h) => h.layers.includes("frontend")).length);
    if (storage === "relstorage") finishDatabase(c);
    c.set("tier", o.tier ?? "production", o.tier ? "--tier" : "(assumed)");
    finishSnapshots(c);
    writeStack(c, hosts, blobs.mode);
}

function blobMode(c: Conversion, storage: "zeo" | "relstorage"): { mode: BlobMode; from: string } {
    const b = c.facts.blobs;
    const nfs = [...b.nfs, ...(b.nfs.length || b.gluster.length ? [] : b.zeoNfs)];
    const gluster = [...b.gluster, ...(b.nfs.length || b.gluster.length ? [] : b.zeoGluster)];
    for (const [flag, side] of [[b.nfs.length > 0 && b.gluster.length > 0, "plone_instances"], [b.zeoNfs.length > 0 && b.zeoGluster.length > 0, "plone_zeoserver"]] as const) {
        if (flag) c.issue(keyPath(["plone", "blobs"]), `nfs and gluster blobs are exclusive: the Custom JSON sets both ${side}.nfs_blobs and ${side}.gluster_blobs to true; set one of them to false`);
    }
    if ((b.zeoNfs.length && b.gluster.length) || (b.zeoGluster.length && b.nfs.length)) {
        c.issue(keyPath(["plone", "blobs"]), "nfs and gluster blobs are exclusive: plone_instances and plone_zeoserver mount different blob servers; use the same one for both");
    }
    if (nfs.length) return { mode: "nfs", from: nfs[0] };
    if (gluster.length) return { mode: "gluster", from: gluster[0] };
    if (b.dir && b.s3fsPaths.includes(b.dir.replace(/\/+$/, ""))) {
        c.note(`blobs were in an S3 bucket mounted at ${b.dir} with s3fs: EFS is the shared file system now (plone.blobs efs); copy the bucket's blob files into it`);
        return { mode: "efs", from: "s3fs_fuse.mounts" };
    }
    if (b.shared === false) {
        c.note(storage === "relstorage" ? "shared_blobs false: blobs are kept in the database (plone.blobs database)" : "shared_blobs false: the ZEO server keeps the blobs and streams them to the clients (plone.blobs zeo)");
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

function finishApp(c: Conversion): void {
    const o = c.o;
    const f = c.facts;
    const fb = (appKey: string, plonePath: string, apply: (v: Json, at: string) => void = (v, at) => c.set(plonePath, v, at)) => {
        const g = f.fallbacks[appKey];
        if (g && !c.values.has(plonePath)) apply(g.value, g.at);
    };
    fb("buildout_cache_archives", "app.cacheArchives", (v, at) => cacheArchives(v, at, c));
    fb("buildout_flags", "app.buildoutFlags");
    fb("buildout_inherit_parts", "app.inheritParts");
    fb("buildout_parts_to_include", "app.partsToInclude", (v, at) => partsToInclude(v, at, c));
    fb("buildout_additional_config", "app.additionalConfig");
    fb("buildout_init_commands", "app.initCommands", (v, at) => initCommands(v, at, c));
    if (f.fallbacks.buildout_init_type) initType(f.fallbacks.buildout_init_type.value, f.fallbacks.buildout_init_type.at, c);

    const os = f.osPackages?.app ?? f.osPackages?.global;
    if (os !== undefined && os !== null) {
        const mapped = debianPackages(Array.isArray(os) ? os.map(String) : isObject(os) ? Object.fromEntries(Object.entries(os).map(([k, v]) => [k, String(v ?? "")])) : list(os));
        c.set("app.osPackages", mapped.packages, f.osPackages?.app !== undefined ? `deploy.${c.appName}.os_packages` : "deploy_python.os_packages");
        for (const n of mapped.notes) c.note(`os_packages: ${n}`);
    }
    const pip = f.pipPackages?.app ?? f.pipPackages?.global;
    if (pip !== undefined && pip !== null) {
        const pkgs = Array.isArray(pip) ? pip.map(String) : isObject(pip) ? Object.entries(pip).map(([k, v]) => (v ? `${k}==${String(v)}` : k)) : list(pip);
        c.set("app.pipPackages", pkgs, f.pipPackages?.app !== undefined ? `deploy.${c.appName}.packages` : "deploy_python.packages");
    }
    const links = f.links;
    if (Object.keys(links.symlinkBeforeMigrate).length) c.set("app.symlinkBeforeMigrate", links.symlinkBeforeMigrate, "symlink_before_migrate");
    if (links.purgeBeforeSymlink.length) c.set("app.purgeBeforeSymlink", links.purgeBeforeSymlink.filter((d) => !["log", "tmp/pids", "public/system"].includes(d)), "purge_before_symlink");
    if (links.createDirsBeforeSymlink.length) c.set("app.createDirsBeforeSymlink", links.createDirsBeforeSymlink.filter((d) => !["public", "tmp", "config"].includes(d)), "create_dirs_before_symlink");
    for (const k of ["app.purgeBeforeSymlink", "app.createDirsBeforeSymlink"]) if ((c.values.get(k)?.value as string[] | undefined)?.length === 0) c.values.delete(k);

    if (f.scmType && f.scmType !== "git") c.line(["deploy", c.appName, "scm", "scm_type"], "unsupported", `${f.scmType} sources: plone-aws deploys from git; move the buildout into a git repository`);
    if (o.repository) c.set("app.repository", o.repository, "--repository");
    if (o.revision) c.set("app.revision", o.revision, "--revision");
    if (!c.values.has("app.repository") || (f.scmType && f.scmType !== "git" && !o.repository)) {
        c.set("app.repository", PLACEHOLDERS.repository, "(placeholder)");
        c.placeholders.push(keyPath(["app", "repository"]));
        c.comments.set("app.repository", "REPLACE: the git URL of the buildout (the OpsWorks app's repository; or run the import with --repository)");
    }
    c.note("the cookbook built with Python 2.7; plone-aws builds the buildout with python3 (Plone 5.2 or later)");
}

/** The CloudFormation templates' layout: one host per layer the JSON needs, or one host for a single-host stack. */
function defaultHosts(c: Conversion, storage: "zeo" | "relstorage", blobs: BlobMode): ImportedHost[] {
    const f = c.facts;
    const get = (p: string) => c.values.get(p)?.value;
    const celery = get("plone.celery.enabled") === true;
    const solr = get("plone.solr.enabled") === true && !get("plone.solr.host");
    const redis = celery && !get("plone.celery.brokerHost");
    const memcached = storage === "relstorage" && f.enableCache !== false && !f.cacheServers;
    const packs = storage === "relstorage" && get("plone.pack.enabled") !== false;
    const appLayers: Layer[] = ["plone_instances", ...(f.celerybeat ? ["celerybeat" as Layer] : []), ...(packs ? ["db_packing" as Layer] : [])];
    const single = blobs === "local" || f.zeoOnAppHost !== undefined;
    const host = (name: string, instanceType: string, layers: Layer[]): ImportedHost => ({ name, hostname: name, instanceType, az: 0, layers: LAYERS.filter((l) => layers.includes(l)), volumes: {} });

    let hosts: ImportedHost[];
    if (single) {
        hosts = [host("plone-1", "m6i.large", ["frontend", ...appLayers, ...(storage === "zeo" ? ["zeoserver" as Layer] : []), ...(solr ? ["solr" as Layer] : []), ...(redis ? ["redis" as Layer] : [])])];
        c.note(`no --instances file: one host, plone-1 (m6i.large), carries every layer, as the single-host stack (${f.zeoOnAppHost ?? "plone_blobs.blob_dir"}) did${memcached ? "; no memcached on it: the clients' own RelStorage cache does that on one host" : ""}`);
    } else {
        hosts = [host("web-1", "t3.medium", ["frontend"]), host("app-1", "m6i.large", appLayers)];
        if (storage === "zeo") hosts.push(host("zeo-1", "t3.medium", ["zeoserver"]));
        if (blobs === "nfs" || blobs === "gluster") hosts.push(host("blobs-1", "t3.medium", ["shared_blobs"]));
        if (memcached) hosts.push(host("cache-1", "t3.medium", ["memcached"]));
        if (solr) hosts.push(host("solr-1", "t3.medium", ["solr"]));
        if (redis) hosts.push(host("redis-1", "t3.small", ["redis"]));
        c.note(`no --instances file: one host per layer, as the plone_buildout CloudFormation templates created them (${hosts.map((h) => `${h.name}: ${h.layers.join("+")}`).join(", ")}); instance types are a starting point: review them`);
    }
    if (packs) c.note("RelStorage packing runs on app host's db_packing layer, as the DB Packing layer of the relstorage template did");
    c.comments.set("hosts", `Assumed topology (no --instances file): ${single ? "one host carries every layer" : "one host per OpsWorks layer, as the CloudFormation templates made them"}.\nInstance types are a starting point: size them from your OpsWorks instances.`);
    c.set("aws:region", c.o.region ?? "us-east-1", c.o.region ? "--region" : "(assumed)");
    if (!c.o.region) c.comments.set("aws:region", "Assumed: give --region (or an --instances file with availability zones) for your stack's region.");
    return hosts;
}

function hostsFromInstances(c: Conversion, storage: "zeo" | "relstorage", blobs: BlobMode): ImportedHost[] | undefined {
    const o = c.o;
    const file = o.instances!.file;
    const read = readInstances(o.instances!.json, file, c.layerNames);
    c.issues.push(...read.issues);
    for (const n of read.notes) c.note(n);
    if (read.issues.length > 0) return undefined;
    const hosts = read.hosts;
    const region = read.region;
    if (region && o.region && region !== o.region) c.issue("--region", `--region ${o.region} differs from the instances' region ${region}`);
    c.set("aws:region", region ?? o.region ?? "us-east-1", region ? `${file} availability zones` : o.region ? "--region" : "(assumed)");
    if (!region && !o.region) c.comments.set("aws:region", "Assumed: give --region for your stack's region.");
    const azCount = Math.min(3, Math.max(2, read.zones.length));
    c.set("network.azCount", azCount, read.zones.length ? `${file} availability zones (${read.zones.join(", ")})` : "(assumed)");

    for (const h of hosts) {
        const current = currentInstanceType(h.instanceType);
        if (current.note) {
            c.note(`${h.name}: ${current.note}`);
            h.instanceType = current.type;
        }
        if (!instanceTypeInfo(h.instanceType) && h.layers.includes("plone_instances")) {
            const vcpus = estimatedVcpus(h.instanceType);
            if (vcpus) c.note(`${h.name}: ${h.instanceType} is not in plone-aws's instance table; its ${vcpus} vCPUs are estimated from the size name (hosts[].vcpus)`);
        }
    }

    const get = (p: string) => c.values.get(p)?.value;
    const keep = (layer: Layer, ok: boolean, why: string) => {
        if (ok) return;
        for (const h of hosts) {
            if (h.layers.includes(layer)) {
                h.layers = h.layers.filter((l) => l !== layer);
                c.note(`${h.name}: layer ${layer} dropped: ${why}`);
            }
        }
    };
    const celery = get("plone.celery.enabled") === true;
    keep("zeoserver", storage === "zeo", "RelStorage needs no ZEO server");
    keep("memcached", storage === "relstorage" && c.facts.enableCache !== false && !c.facts.cacheServers, storage !== "relstorage" ? "memcached served only RelStorage's cache" : c.facts.cacheServers ? "the static relstorage.cache_servers won over the memcached layer" : "relstorage.enable_cache is false");
    keep("shared_blobs", blobs === "nfs" || blobs === "gluster", `no client mounted it (plone.blobs ${blobs})`);
    keep("redis", celery && !get("plone.celery.brokerHost"), celery ? "the fixed plone_instances.broker.host won over the broker layer" : "celery is not enabled, so nothing used the broker");
    keep("solr", get("plone.solr.enabled") === true && !get("plone.solr.host"), get("plone.solr.host") ? "the fixed solr_host won over the solr layer" : "solr_enabled is false: the clients never used this Solr");
    keep("celerybeat", celery, "celery is not enabled");
    keep("db_packing", storage === "relstorage", "packing RelStorage; ZEO packs on the zeoserver host");

    // Singletons: the cookbook's clients took the first online instance of the layer.
    for (const layer of ["zeoserver", "solr", "redis", "celerybeat", "db_packing", ...(blobs === "nfs" ? ["shared_blobs"] : [])] as Layer[]) {
        const carriers = hosts.filter((h) => h.layers.includes(layer));
        for (const h of carriers.slice(1)) {
            h.layers = h.layers.filter((l) => l !== layer);
            c.note(`${h.name}: layer ${layer} dropped: ${carriers[0].name} carries it, and the cookbook used the first instance of a ${layer} layer only`);
        }
    }
    const firstApp = hosts.find((h) => h.layers.includes("plone_instances"));
    for (const layer of ["celerybeat", "db_packing"] as Layer[]) {
        for (const h of hosts.filter((x) => x.layers.includes(layer) && !x.layers.includes("plone_instances"))) {
            h.layers = h.layers.filter((l) => l !== layer);
            if (firstApp && !hosts.some((x) => x.layers.includes(layer))) firstApp.layers = LAYERS.filter((l) => l === layer || firstApp.layers.includes(l));
            c.note(`${h.name}: layer ${layer} moved to ${firstApp?.name ?? "(no app host)"}: it runs from the buildout of a plone_instances host`);
        }
    }
    const wants = (layer: Layer, flag: boolean | undefined, why: string) => {
        if (flag && firstApp && !hosts.some((h) => h.layers.includes(layer))) {
            firstApp.layers = LAYERS.filter((l) => l === layer || firstApp.layers.includes(l));
            c.note(`${firstApp.name}: layer ${layer} added: ${why}`);
        }
    };
    wants("celerybeat", celery && c.facts.celerybeat, "plone_instances.celerybeat is true (every app host ran it in the cookbook; one does now)");
    wants("db_packing", storage === "relstorage" && c.facts.enablePack, "relstorage.enable_pack is true (every app host packed in the cookbook; one does now)");
    if (storage === "relstorage" && !hosts.some((h) => h.layers.includes("db_packing")) && get("plone.pack.enabled") !== true) {
        c.set("plone.pack.enabled", false, `${file} (no db_packing instance)`);
        c.note("no instance carried the DB Packing layer, so the cookbook never packed RelStorage: plone.pack.enabled false (add db_packing to one plone_instances host to pack)");
    }
    for (const h of hosts) {
        if (h.layers.length === 0) c.issue(`${file}`, `instance ${h.hostname} has no plone-aws layer left: remove it from the file`);
    }
    // Volume sizes only for the volumes a host's layers give it.
    const plone = ploneSchema.parse({ storage, blobs, backups: { enabled: get("plone.backups.enabled") !== false } });
    const blobHost = blobs === "local" ? firstApp?.name : blobs === "zeo" ? hosts.find((h) => h.layers.includes("zeoserver"))?.name : undefined;
    for (const h of hosts) {
        const kinds = volumeKindsFor({ plone }, h.layers, blobHost, h.name).map(([k]) => k);
        for (const kind of Object.keys(h.volumes) as VolumeKind[]) {
            if (!kinds.includes(kind)) {
                c.note(`${h.name}: its ${kind} volume is not carried over (its layers give it ${kinds.join(", ") || "no data volume"})`);
                delete h.volumes[kind];
            }
        }
    }
    c.comments.set("hosts", `From ${file}: one host per OpsWorks instance, with the layers plone-aws keeps.`);
    return hosts;
}

function finishFrontend(c: Conversion, frontends: number): void {
    const o = c.o;
    const f = c.facts;
    const names = f.certbotDomains?.length ? f.certbotDomains : f.appDomains ?? [];
    const from = f.certbotDomains?.length ? "certbot_domains" : `deploy.${c.appName}.domains`;
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
    if (o.certificateArn) {
        c.set("frontend.tls", { mode: "acm", certificateArn: o.certificateArn }, "--certificate-arn");
        if (frontends === 1) c.set("frontend.frontDoor", "alb", "--certificate-arn");
    } else if (certbot && frontends > 1) {
        c.issue(keyPath(["frontend", "tls"]), `certbot_domains asks for certbot, which runs on one front end, and ${frontends} hosts carry frontend (a load balancer): give --certificate-arn with an ACM certificate for ${domain}`);
    } else if (certbot) {
        if (!email) c.issue(keyPath(["frontend", "tls", "email"]), "certbot needs an email address for Let's Encrypt: set certbot_email in the JSON or give --certbot-email");
        else c.set("frontend.tls", { mode: "certbot", email }, f.certbotEmail && !o.certbotEmail ? "certbot_email" : "--certbot-email");
    }
}

function finishDatabase(c: Conversion): void {
    const f = c.facts;
    // The cookbook used relstorage.db.* when db.name was set, else the RDS attached to the OpsWorks app.
    const useOwn = f.db.name !== undefined || (!f.appDb.host && f.db.from.length > 0);
    const type = (useOwn ? f.db.type : f.appDb.adapter) ?? "postgres";
    const src = useOwn ? f.db : f.appDb;
    const from = src.from[0] ?? "(defaults)";
    const db: Record<string, unknown> = {};
    if (!["postgres", "postgresql"].includes(type)) {
        c.note(`the RelStorage database is ${type}: plone-aws's is PostgreSQL (RDS); convert the data with zodbconvert`);
        c.warnings.push({ path: keyPath(["database"]), message: `the OpsWorks stack used ${type}: plone-aws creates an RDS PostgreSQL; move the data with zodbconvert` });
    } else if (src.host) {
        db.host = src.host;
        c.comments.set("database.host", `The cookbook's database server: plone-aws uses it as it is (no RDS instance is created).\nRemove host to have plone-aws create an RDS PostgreSQL and restore a pg_dump into it.`);
    }
    if (src.port !== undefined && !Number.isNaN(src.port)) db.port = src.port;
    if (src.name) db.name = src.name;
    if (src.user) db.user = src.user;
    c.set("database", db, from);
}

/**
 * The region production snapshots are copied to when the Custom JSON had no copy (the cookbook
 * never copied; its TODO asked for it): a nearby region of the same partition.
 */
export const SNAPSHOT_COPY_REGIONS: Record<string, string> = {
    "us-east-1": "us-west-2", "us-east-2": "us-west-2", "us-west-1": "us-east-1", "us-west-2": "us-east-1",
    "ca-central-1": "us-east-1", "sa-east-1": "us-east-1",
    "eu-west-1": "eu-central-1", "eu-west-2": "eu-west-1", "eu-west-3": "eu-central-1", "eu-central-1": "eu-west-1",
    "eu-north-1": "eu-central-1", "eu-south-1": "eu-central-1",
    "ap-southeast-1": "ap-southeast-2", "ap-southeast-2": "ap-southeast-1", "ap-northeast-1": "ap-northeast-3",
    "ap-northeast-2": "ap-northeast-1", "ap-northeast-3": "ap-northeast-1", "ap-south-1": "ap-southeast-1",
};

function finishSnapshots(c: Conversion): void {
    const s = c.facts.snapshot;
    if (s.keep !== undefined) c.set("snapshots.retain", Number(s.keep), "ebs_snapshots.keep");
    const region = String(c.values.get("aws:region")?.value ?? "");
    const copyTo = SNAPSHOT_COPY_REGIONS[region];
    if (c.values.get("tier")?.value === "production" && copyTo) {
        c.set("snapshots.crossRegionCopy", { region: copyTo }, "(production default)");
        c.comments.set("snapshots.crossRegionCopy", `Production snapshots are also kept in ${copyTo}, so a regional outage keeps the backups (the cookbook's TODO). Change the region or remove this to keep them in ${region} only.`);
    }
    if (s.hour === undefined && s.minute === undefined && s.weekday === undefined) return;
    const hour = s.hour === undefined ? 8 : Number(s.hour);
    const minute = s.minute === undefined ? 0 : Number(s.minute);
    if (s.weekday !== undefined && !["0-6", "*", "0-7"].includes(String(s.weekday))) {
        c.line(["ebs_snapshots", "weekday"], "unsupported", `weekdays ${String(s.weekday)}: plone-aws snapshots daily`);
    }
    if (!Number.isInteger(hour) || hour < 0 || hour > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59) {
        c.line(["ebs_snapshots"], "unsupported", `the cron time ${String(s.minute ?? 0)} ${String(s.hour ?? 8)} is not one daily time: plone-aws's default (08:00 UTC) applies`);
        return;
    }
    const tz = c.facts.timezone;
    const offset = tz ? tzOffsetMinutes(tz, c.o.now) : 0;
    const total = (((hour * 60 + minute - offset) % 1440) + 1440) % 1440;
    const time = `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
    c.set("snapshots.time", time, s.from[0]);
    if (offset) c.note(`snapshots at ${time} UTC: the cookbook's cron ran at ${hour}:${String(minute).padStart(2, "0")} ${tz} (UTC${offset > 0 ? "+" : ""}${offset / 60} on ${c.o.now.toISOString().slice(0, 10)})`);
}

/** Minutes the zone is ahead of UTC at `when` (0 for an unknown zone). */
function tzOffsetMinutes(zone: string, when: Date): number {
    try {
        const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(when);
        const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
        const local = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"));
        return Math.round((local - Date.UTC(when.getUTCFullYear(), when.getUTCMonth(), when.getUTCDate(), when.getUTCHours(), when.getUTCMinutes())) / 60000);
    } catch {
        return 0;
    }
}

// ---------------------------------------------------------------------------------------------
// Writing and validating the stack file.

const SECTION_ORDER = ["tier", "hosts", "app", "plone", "database", "frontend", "snapshots", "network", "access", "volumes", "monitoring", "offsiteBackups"];

function writeStack(c: Conversion, hosts: ImportedHost[], blobs: BlobMode): void {
    const o = c.o;
    const placeholder = (path: string, value: unknown, comment: string) => {
        c.set(path, value, "(placeholder)");
        c.placeholders.push(keyPath(path.split(".")));
        c.comments.set(path, comment);
    };
    if (o.publicKey) c.set("access.publicKey", o.publicKey, "--public-key");
    else placeholder("access.publicKey", PLACEHOLDERS.publicKey, "REPLACE: your SSH public key (or run the import with --public-key FILE)");
    if (o.adminCidrs.length) c.set("network.adminCidrs", o.adminCidrs, "--admin-cidr");
    else placeholder("network.adminCidrs", [PLACEHOLDERS.adminCidr], "REPLACE: the networks operators and `pulumi up` connect from (or --admin-cidr)");

    // Nested sections from the dotted paths, each in the schema's key order.
    const sections: Record<string, unknown> = {};
    for (const [path, { value }] of c.values) {
        if (path === "aws:region") continue;
        const parts = path.split(".");
        let node = sections as Record<string, unknown>;
        parts.slice(0, -1).forEach((p) => {
            node[p] = isObject(node[p] as Json) ? node[p] : {};
            node = node[p] as Record<string, unknown>;
        });
        const last = parts[parts.length - 1];
        if (Array.isArray(value) && value.length === 0) continue; // the schema's default
        node[last] = isObject(value as Json) && isObject(node[last] as Json) ? { ...(node[last] as object), ...(value as object) } : value;
    }
    sections.hosts = hosts.map((h) => {
        const out: Record<string, unknown> = { name: h.name, instanceType: h.instanceType, az: h.az, layers: h.layers };
        if (!instanceTypeInfo(h.instanceType) && estimatedVcpus(h.instanceType)) out.vcpus = estimatedVcpus(h.instanceType);
        if (Object.keys(h.volumes).length) out.volumes = h.volumes;
        if (h.rootVolumeSize) out.rootVolumeSize = h.rootVolumeSize;
        return out;
    });
    const config: Record<string, unknown> = { "aws:region": c.values.get("aws:region")?.value ?? "us-east-1" };
    for (const name of SECTION_ORDER) {
        if (sections[name] === undefined) continue;
        const schema = SECTION_SCHEMAS[name as keyof typeof SECTION_SCHEMAS] as z.ZodType;
        config[`${NAMESPACE}:${name}`] = orderLike(sections[name], schema);
    }

    const doc = new YAML.Document({ config });
    flowScalarLists(doc.contents as YAML.Node);
    const root = doc.get("config") as YAMLMap;
    for (const [path, text] of c.comments) {
        const parts = path.split(".");
        const first = parts[0].includes(":") ? parts[0] : `${NAMESPACE}:${parts[0]}`;
        const map = parts.length === 1 ? root : mapAt(root, [first, ...parts.slice(1, -1)]);
        if (map) commentAbove(map, parts.length === 1 ? first : parts[parts.length - 1], text);
    }
    const header = headerLines(c, blobs);
    (doc.contents as YAMLMap).items[0].key = doc.createNode("config");
    (((doc.contents as YAMLMap).items[0].key) as YAML.Scalar).commentBefore = header.map((l) => ` ${l}`).join("\n");
    const text = doc.toString(STRINGIFY);

    const loaded = validateStack(parseStackText(text, `Pulumi.${o.stack}.yaml`, o.stack));
    c.requiredSecrets = loaded.unsetSecrets.map((e) => e.path.slice(NAMESPACE.length + 1)).filter((k): k is SecretKey => k in SECRET_KEYS);
    c.warnings.push(...loaded.warnings);
    for (const e of loaded.errors) c.issues.push({ path: e.path, message: `${e.message}${provenance(c, e.path)}` });
    c.text = text;
}

/** " (from <JSON path>)" for a plone-aws key path, by the longest key the import set. */
function provenance(c: Conversion, path: string): string {
    const dotted = path.slice(NAMESPACE.length + 1).replace(/\[(\d+)\]/g, ".$1");
    let best: string | undefined;
    for (const [k, { from }] of c.values) {
        if ((dotted === k || dotted.startsWith(`${k}.`)) && (!best || k.length > best.length) && !from.startsWith("(")) best = k;
    }
    if (best) return ` (from ${c.values.get(best)!.from})`;
    const host = /^hosts\.(\d+)/.exec(dotted);
    return host && c.o.instances ? ` (from ${c.o.instances.file}[${host[1]}])` : "";
}

function headerLines(c: Conversion, blobs: BlobMode): string[] {
    const o = c.o;
    const lines = [
        `The ${o.stack} stack, imported from the OpsWorks stack Custom JSON ${o.jsonFile}${o.instances ? ` and ${o.instances.file}` : ""}`,
        `on ${o.now.toISOString().slice(0, 10)} by \`npm run import-opsworks\`. Review it, then \`npm run plan -- ${o.stack}\`.`,
        `Storage: ${c.values.get("plone.storage")?.value ?? "zeo"}, blobs ${blobs}. What the import assumed or changed:`,
        ...c.notes.map((n) => `  - ${n}`),
    ];
    const notCarried = c.report.filter((r) => ["unsupported", "refused", "unknown"].includes(r.kind));
    if (notCarried.length) {
        lines.push("Not carried over (the import's report says why):", ...wrap(notCarried.map((r) => r.path).join(", "), 96).map((l) => `  ${l}`));
    }
    if (c.placeholders.length) lines.push(`Placeholders to replace before \`pulumi up\` (marked REPLACE): ${c.placeholders.join(", ")}`);
    lines.push("", "Secrets are never written here: the import prints the `pulumi config set --secret` commands.");
    return lines;
}

function wrap(text: string, width: number): string[] {
    const out: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
        if (line && line.length + word.length + 1 > width) {
            out.push(line);
            line = word;
        } else line = line ? `${line} ${word}` : word;
    }
    if (line) out.push(line);
    return out;
}

/** A plain object with its keys in the order of the zod object schema (recursively). */
function orderLike(value: unknown, schema: z.ZodType): unknown {
    const inner = unwrap(schema);
    if (!(inner instanceof z.ZodObject) || !isObject(value as Json)) return value;
    const shape = inner.shape as Record<string, z.ZodType>;
    const obj = value as Record<string, unknown>;
    const keys = [...Object.keys(shape).filter((k) => k in obj), ...Object.keys(obj).filter((k) => !(k in shape))];
    return Object.fromEntries(keys.map((k) => [k, shape[k] ? orderLike(obj[k], shape[k]) : obj[k]]));
}

function unwrap(schema: z.ZodType): z.ZodType {
    let s = schema;
    for (let i = 0; i < 5; i++) {
        const def = (s as unknown as { _zod: { def: { innerType?: z.ZodType } } })._zod.def;
        if (!def.innerType) break;
        s = def.innerType;
    }
    return s;
}
