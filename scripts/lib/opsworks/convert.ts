// OpsWorks stack Custom JSON (+ optionally an instances file) -> a plone-aws stack file.
//
// Every key of the JSON is classified with the attribute table (attributes.ts): carried to a
// plone-aws key, carried as a secret (never written), or reported with the reason it is not;
// keys that are no cookbook key at all are reported as unknown. Each report line shows the value
// the JSON held (never a secret) and what it became. Secrets found inside other values (a token in
// a repository URL, a DATABASE_URL with a password, an Authorization header) become secret
// commands too, and no value that holds a credential is written. The result is validated the way
// `npm run plan` validates a stack file; import problems and validation errors come back together
// as ConfigIssues (key path + message), and nothing is written while there are any.
import { shellQuote } from "../../../components/render/shell";
import YAML, { isMap, YAMLMap } from "yaml";
import { z } from "zod";
import { closest } from "../../../components/config/load";
import { ConfigIssue, keyPath, NAMESPACE } from "../../../components/config/issues";
import { BlobMode, Layer, LAYERS, ploneSchema, SECRET_KEYS, SECTION_SCHEMAS, SecretKey, Tier, VolumeKind } from "../../../components/config/schema";
import { volumeKindsFor } from "../../../components/topology";
import { APP_HOST_LAYERS, singleInstanceLayers } from "../../../components/layers";
import { instanceTypeInfo } from "../../../components/topology/instanceTypes";
import { validateStack } from "../offline/loadStack";
import { appSecret, ploneSecret, secretKeyName, SecretToSet, sortSecrets } from "../stacks/secretCommands";
import { parseStackText } from "../offline/stackFile";
import { commentAbove, flowScalarLists, mapAt, STRINGIFY } from "../stacks/yaml";
import { estimatedVcpus } from "../stacks/stagingTypes";
import { ATTRIBUTES, attributeFor, Disposition, FAMILIES, hasAttributesBelow, KNOWN_MISTAKES } from "./attributes";
import { displayValue, findCredential, holdsSecret, jqUrlSecret, NOT_SHOWN, secretEnvReason, splitUrlCredentials } from "./credentials";
import { ImportedHost, LayerNames, readInstances } from "./instances";
import { debianPackages } from "./packages";
import { pickRegion, REGION_RANK, RegionSource, regionSources } from "./regions";

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
    /** The value found (never a secret) and what it became, or the reason it was not carried over. */
    message: string;
}

/** A report line while the conversion runs: the message is made at the end, from what happened. */
interface Line {
    parts: (string | number)[];
    path: string;
    kind: ReportKind;
    /** The value the JSON held; undefined for a line about no one value. */
    found: Json | undefined;
    /** The table's note, or the reason. */
    note: string;
    /**
     * What the value became, when a handler or the finishing step says (a function when it reads
     * values a later step may still change); else read from the values it set.
     */
    outcome?: string | (() => string);
    /** Parts of the value left out because they hold a credential. */
    withheld: string[];
    /** Copied to its target as it is (no handler): the table's note explains the target. */
    copied?: boolean;
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
    /** What it is, for plone-aws:appSecrets entries. */
    why?: string;
}

/** Everything read from the JSON that the final stack is derived from. */
interface Facts {
    blobs: { nfs: string[]; gluster: string[]; zeoNfs: string[]; zeoGluster: string[]; shared?: boolean; dir?: string; s3fsPaths: string[]; s3fsAt?: string };
    relstorage: boolean;
    db: DatabaseFacts & { type?: string };
    appDb: DatabaseFacts & { adapter?: string };
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
    scm: { type?: string; repository?: string; user?: string; passwordAt?: string };
    /** The app's plain variables, and the JSON path (environment or environment_variables) each name came from. */
    environment: { plain: Record<string, string>; from: Record<string, string> };
    osPackages?: { app?: Json; global?: Json };
    pipPackages?: { app?: Json; global?: Json };
    links: { symlinkBeforeMigrate: Record<string, string>; purgeBeforeSymlink: string[]; createDirsBeforeSymlink: string[]; from: string[] };
    fallbacks: Record<string, { value: Json; at: string }>;
    maxConnections?: { value: Json; at: string; global: boolean };
}

interface DatabaseFacts {
    name?: string;
    host?: string;
    user?: string;
    port?: number;
    /** JSON paths of the keys read. */
    from: string[];
    /** Where the password was found: a key of its own (extractable with jq), or inside the DSN. */
    password?: { at: string; inDsn: boolean };
}

class Conversion {
    readonly lines: Line[] = [];
    readonly notes: string[] = [];
    readonly issues: ConfigIssue[] = [];
    readonly warnings: ConfigIssue[] = [];
    readonly placeholders: string[] = [];
    /** plone-aws values by dotted path within the namespace (plone.siteId), with where they came from. */
    readonly values = new Map<string, { value: unknown; from: string }>();
    /** JSON paths whose value another source replaced: the plone-aws key and the winning source. */
    readonly superseded = new Map<string, { key: string; by: string }>();
    readonly secrets = new Map<SecretKey, SecretSource>();
    /** Variables of plone-aws:appSecrets by name. */
    readonly appSecrets = new Map<string, SecretSource>();
    /** Every secret value seen, to prove none is written or printed. */
    readonly secretValues = new Set<string>();
    readonly comments = new Map<string, string>();
    readonly facts: Facts = {
        blobs: { nfs: [], gluster: [], zeoNfs: [], zeoGluster: [], s3fsPaths: [] },
        relstorage: false,
        db: { from: [] },
        appDb: { from: [] },
        snapshot: { from: [] },
        scm: {},
        environment: { plain: {}, from: {} },
        links: { symlinkBeforeMigrate: {}, purgeBeforeSymlink: [], createDirsBeforeSymlink: [], from: [] },
        fallbacks: {},
    };
    appName = "plone_instances";
    zeoApp = "zeoserver";
    solrApp = "solr";
    layerNames: LayerNames = { zeo: "zeoserver", broker: "celery_broker", solr: "solr", blobs: "shared_blobs" };
    /** The Custom JSON (the region is read from its host names). */
    json: { [key: string]: Json } = {};
    /** The region of the --instances file's availability zones. */
    instancesRegion?: { region: string; zones: string[] };
    text?: string;

    constructor(readonly o: ImportOptions) {}

    issue(path: string, message: string): void {
        this.issues.push({ path, message });
    }

    /** A report line; `found` is the value the JSON held (undefined for a line about no one value). */
    line(parts: readonly (string | number)[], kind: ReportKind, note: string, found?: Json): Line {
        const line: Line = { parts: [...parts], path: displayPath(parts), kind, found, note, withheld: [] };
        this.lines.push(line);
        return line;
    }

    /** Says what the value at a JSON path became (the line's message shows the value found, then this). */
    became(at: string, outcome: string | (() => string)): void {
        for (const l of this.lines) if (l.path === at && (l.kind === "mapped" || l.kind === "secret")) l.outcome = outcome;
    }

    /** Says that part of the value at a JSON path was left out (it holds a credential). */
    withhold(at: string, text: string): void {
        const line = this.lines.find((l) => l.path === at);
        if (line) line.withheld.push(text);
    }

    /** Moves the line of a JSON path to another kind, with the reason. */
    reclassify(at: string, kind: ReportKind, note: string): void {
        for (const l of this.lines) {
            if (l.path !== at) continue;
            l.kind = kind;
            l.note = note;
            l.outcome = undefined;
        }
    }

    set(path: string, value: unknown, from: string): void {
        const before = this.values.get(path);
        if (before && before.from !== from) this.superseded.set(before.from, { key: path, by: from });
        this.values.set(path, { value, from });
    }

    /** Remembers a secret value so that no output can contain it. */
    sawSecret(value: Json | undefined): void {
        if (typeof value === "string" && value.trim() !== "") this.secretValues.add(value);
    }

    /**
     * A plone-aws secret found at a JSON path. `jq`: the filter that extracts it (the path's by
     * default; a longer one for a secret inside a value; false when jq cannot extract it).
     */
    secret(key: SecretKey, parts: readonly (string | number)[], jq: string | false = jqPath(parts) ?? false): void {
        const entry = this.secrets.get(key) ?? { paths: [] };
        entry.paths.push(displayPath(parts));
        if (jq && !entry.jq) entry.jq = jq;
        this.secrets.set(key, entry);
        this.became(displayPath(parts), `secret ${secretKeyName(key)} (not written: set it with the command printed below)`);
    }

    /** A plone-aws secret that no JSON path holds (e.g. a token given in an option): its command prompts. */
    promptSecret(key: SecretKey): void {
        if (!this.secrets.has(key)) this.secrets.set(key, { paths: [] });
    }

    /** A variable of the app's secret environment (plone-aws:appSecrets.NAME). */
    appSecret(name: string, parts: readonly (string | number)[], why: string): void {
        const entry = this.appSecrets.get(name) ?? { paths: [], why };
        entry.paths.push(displayPath(parts));
        entry.jq = entry.jq ?? jqPath(parts);
        this.appSecrets.set(name, entry);
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
                if (!isObject(value)) return void this.line(parts, "unknown", "deploy must map app short names to their settings", value);
                for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
                return;
            }
            const app = strParts[1];
            if (![this.appName, this.zeoApp, this.solrApp].includes(app)) {
                return void this.line(parts, "unknown", `no layer deploys an app named ${app} (the apps are ${this.appName}, ${this.zeoApp} and ${this.solrApp}): not used`, value);
            }
            if (parts.length === 2) {
                if (!isObject(value)) return void this.line(parts, "unknown", "an app's settings are a mapping", value);
                for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
                return;
            }
        }
        const tablePath = strParts[0] === "deploy" ? ["deploy", "<app>", ...strParts.slice(2)].join(".") : strParts.join(".");
        const entry = attributeFor(tablePath);
        if (entry) {
            collectSecrets(value, this, strParts[strParts.length - 1], entry.disposition === "secret" || entry.disposition === "refused");
            const otherApp = strParts[0] === "deploy" && strParts[1] !== this.appName;
            if (otherApp) return this.otherAppKey(value, parts);
            // Chef reads null as "not set": the default applies.
            if (value === null) return void this.line(parts, "dropped", "not set: plone-aws's default applies", value);
            const line = this.line(parts, entry.disposition, entry.note, value);
            if (entry.disposition === "mapped" || entry.disposition === "secret") {
                const handler = HANDLERS[tablePath];
                line.copied = !handler;
                if (handler) handler(value, displayPath(parts), this);
                else this.set(entry.target!.slice(NAMESPACE.length + 1), value, displayPath(parts));
            }
            return;
        }
        if (hasAttributesBelow(tablePath)) {
            if (!isObject(value)) return void this.line(parts, "unknown", `${displayPath(parts)} holds keys (a mapping), not a ${Array.isArray(value) ? "list" : "value"}: not carried over`, value);
            for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
            return;
        }
        collectSecrets(value, this, strParts[strParts.length - 1], false);
        if (FAMILIES[strParts[0]]) return void this.line(parts, "dropped", FAMILIES[strParts[0]], value);
        // Inside an unknown mapping, report the keys a known mistake names one by one (zeoserver.nfs_blobs).
        if (isObject(value) && Object.keys(KNOWN_MISTAKES).some((k) => k.startsWith(`${tablePath}.`))) {
            for (const [k, v] of Object.entries(value)) this.walk(v, [...parts, k]);
            return;
        }
        const mistake = KNOWN_MISTAKES[tablePath];
        const near = mistake ? undefined : closest(tablePath, ATTRIBUTES.map((a) => a.path), 4);
        this.line(parts, "unknown", `not a key of the OpsWorks cookbooks${mistake ? `; did you mean ${mistake}?` : near ? `; did you mean ${near}?` : ""}: not carried over`, value);
    }

    /** deploy.<zeoserver app>/<solr app> keys: plone-aws builds every layer from the Plone app. */
    private otherAppKey(value: Json, parts: (string | number)[]): void {
        const rest = parts.slice(2);
        const ploneApp = this.json.deploy && isObject(this.json.deploy) ? this.json.deploy[this.appName] : undefined;
        let same: Json | undefined = ploneApp;
        for (const p of rest) same = isObject(same) ? same[String(p)] : undefined;
        if (JSON.stringify(same) === JSON.stringify(value)) {
            this.line(parts, "dropped", `the same as ${displayPath(["deploy", this.appName, ...rest])}: plone-aws builds every layer from one app`, value);
        } else {
            this.line(parts, "unsupported", `differs from ${displayPath(["deploy", this.appName, ...rest])}: plone-aws builds every layer (ZEO, Solr) from the one app, with the Plone app's settings`, value);
        }
    }

    finish(): void {
        finishConversion(this);
    }

    result(): ImportResult {
        const scrub = (text: string) => this.scrub(text);
        return {
            text: this.issues.length === 0 ? this.text : undefined,
            report: this.lines.map((l) => ({ path: l.path, kind: l.kind, message: scrub(this.message(l)) })),
            notes: this.notes.map(scrub),
            issues: this.issues.map((i) => ({ path: i.path, message: scrub(i.message) })),
            warnings: this.warnings.map((w) => ({ path: w.path, message: scrub(w.message) })),
            secrets: this.secretCommands(),
            placeholders: this.placeholders,
        };
    }

    /** A line's message: the value found (never a secret) and what it became, or why not. */
    private message(l: Line): string {
        const name = l.parts[l.parts.length - 1];
        const shown = l.found === undefined ? undefined : l.kind === "secret" || l.kind === "refused" ? NOT_SHOWN : displayValue(l.found, typeof name === "string" ? name : undefined);
        if (l.kind === "mapped" || l.kind === "secret") {
            const outcome = typeof l.outcome === "function" ? l.outcome() : l.outcome ?? this.outcomeFromValues(l.path);
            const withheld = l.withheld.length ? `; not written: ${l.withheld.join("; ")}` : "";
            return [`${shown} -> ${outcome ?? "not carried over"}${withheld}`, l.copied && !l.outcome ? l.note : ""].filter(Boolean).join(": ");
        }
        return [shown, l.note].filter(Boolean).join(": ");
    }

    /** What a plainly copied key became: the plone-aws values it set, or the source that won over it. */
    private outcomeFromValues(at: string): string | undefined {
        const set = [...this.values].filter(([, v]) => v.from === at).map(([k, v]) => `${this.keyName(k)} ${displayValue(v.value, k.split(".").pop())}`);
        if (set.length) return set.join("; ");
        const lost = this.superseded.get(at);
        return lost ? `not used: ${this.keyName(lost.key)} comes from ${lost.by}` : undefined;
    }

    /** plone-aws:plone.siteId for plone.siteId (aws:region stays as it is). */
    keyName(dotted: string): string {
        return dotted.includes(":") ? dotted : keyPath(dotted.split("."));
    }

    /** Replaces any secret value that reached a message (e.g. a password reused as a user name). */
    private scrub(text: string): string {
        let out = text;
        for (const v of this.secretValues) if (v.length >= SCRUBBED_LENGTH) out = out.split(v).join("(secret)");
        return out;
    }

    private secretCommands(): SecretToSet[] {
        const list: SecretToSet[] = [];
        const keys = new Set<SecretKey>([...this.secrets.keys(), ...this.requiredSecrets]);
        const withJq = (s: SecretToSet, src: SecretSource | undefined) => {
            if (src?.jq) s.command = `jq -j ${shellQuote(src.jq)} ${shellQuote(this.o.jsonFile)} | ${s.command}`;
            return s;
        };
        for (const key of keys) {
            const src = this.secrets.get(key);
            list.push(withJq(ploneSecret(key, this.o.stack, src?.paths.length ? `the Custom JSON has it at ${src.paths.join(", ")}` : undefined), src));
        }
        for (const [name, src] of this.appSecrets) {
            list.push(withJq(appSecret(name, this.o.stack, `the app's environment variable ${name} (${src.why}); the Custom JSON has it at ${src.paths.join(", ")}`), src));
        }
        return sortSecrets(list);
    }

    requiredSecrets: SecretKey[] = [];
}

/** Secret values shorter than this are not searched for in messages (they would match ordinary words). */
const SCRUBBED_LENGTH = 8;

/**
 * Remembers the secret strings below a value: every string when the key itself is a secret
 * (`all`), else those whose key's name or content says so, and the secrets inside URLs.
 */
function collectSecrets(value: Json, c: Conversion, name: string | undefined, all: boolean): void {
    if (typeof value === "string") {
        if (all || holdsSecret(value, name)) c.sawSecret(value);
        const split = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? splitUrlCredentials(value) : undefined;
        if (split) c.sawSecret(split.secret);
    } else if (Array.isArray(value)) value.forEach((v) => collectSecrets(v, c, name, all));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) collectSecrets(v, c, k, all);
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

/** The layer-name keys: they only name layers of the --instances file. */
function layerName(layer: Layer): Handler {
    return (v, at, c) => c.became(at, c.o.instances ? `the OpsWorks layer ${JSON.stringify(str(v))} is plone-aws's ${layer} layer in ${c.o.instances.file}` : "not used: no --instances file names layers");
}

/** A database key: read now, described by finishDatabase (which database the cookbook used). */
function databaseKey(which: "db" | "appDb", field: "name" | "host" | "user"): Handler {
    return (v, at, c) => {
        c.facts[which][field] = str(v);
        c.facts[which].from.push(at);
    };
}

export const HANDLERS: Readonly<Record<string, Handler>> = {
    "plone_instances.shared_blobs": (v, _at, c) => { c.facts.blobs.shared = bool(v); },
    "plone_instances.nfs_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.nfs.push(at); },
    "plone_instances.gluster_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.gluster.push(at); },
    "plone_zeoserver.nfs_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.zeoNfs.push(at); },
    "plone_zeoserver.gluster_blobs": (v, at, c) => { if (bool(v)) c.facts.blobs.zeoGluster.push(at); },
    "plone_blobs.blob_dir": (v, _at, c) => { c.facts.blobs.dir = str(v); },
    "s3fs_fuse.mounts": (v, at, c) => {
        c.facts.blobs.s3fsAt = at;
        if (Array.isArray(v)) for (const m of v) if (isObject(m) && typeof m.path === "string") c.facts.blobs.s3fsPaths.push(m.path.replace(/\/+$/, ""));
    },
    "plone_instances.enable_relstorage": (v, at, c) => {
        c.facts.relstorage = bool(v);
        if (bool(v)) c.set("plone.storage", "relstorage", at);
        else c.became(at, `${c.keyName("plone.storage")} "zeo" (the default: ZEO, no RelStorage)`);
    },
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
        if (dsn.password) {
            c.sawSecret(dsn.password);
            // The cookbook used the DSN instead of the discrete fields: its password is the one.
            db.password = { at, inDsn: true };
        }
    },
    "plone_instances.relstorage.db.name": databaseKey("db", "name"),
    "plone_instances.relstorage.db.host": databaseKey("db", "host"),
    "plone_instances.relstorage.db.user": databaseKey("db", "user"),
    "plone_instances.relstorage.db.port": (v, at, c) => { if (v !== null) c.facts.db.port = Number(v); c.facts.db.from.push(at); },
    "plone_instances.relstorage.db.password": (v, at, c) => {
        if (v === "") return c.became(at, "empty: no password");
        if (!c.facts.db.password?.inDsn) c.facts.db.password = { at, inDsn: false };
    },
    "plone_instances.relstorage.enable_cache": (v, _at, c) => { c.facts.enableCache = bool(v); },
    "plone_instances.relstorage.cache_servers": (v, at, c) => {
        const servers = list(v);
        if (servers.length > 0) { c.facts.cacheServers = servers; c.set("plone.relstorage.cacheServers", servers, at); }
        else c.became(at, "no static servers: the memcached layer serves the cache, as in the cookbook");
    },
    "plone_instances.relstorage.enable_pack": (v, _at, c) => { c.facts.enablePack = bool(v); },
    "plone_instances.zeo_layer": layerName("zeoserver"),
    "plone_instances.broker_layer": layerName("redis"),
    "plone_instances.solr_layer": layerName("solr"),
    "plone_blobs.layer": layerName("shared_blobs"),
    "plone_instances.celerybeat": (v, _at, c) => { c.facts.celerybeat = bool(v); },
    "plone_instances.broker.host": (v, at, c) => { if (v !== null) c.set("plone.celery.brokerHost", str(v), at); },
    "plone_instances.solr_host": (v, at, c) => { if (v !== null) c.set("plone.solr.host", str(v), at); },
    "plone_instances.syslog_level": (v, at, c) => c.set("plone.clientSyslog.level", String(v).toUpperCase(), at),
    "plone_zeoserver.syslog_level": (v, at, c) => c.set("plone.zeoSyslog.level", String(v).toUpperCase(), at),
    "tmpdir.tmpfs": (v, at, c) => { c.facts.tmpfs = bool(v); if (!bool(v)) c.became(at, "no tmpfs (plone-aws's default)"); },
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
    "certbot_domains": (v, _at, c) => { c.facts.certbotDomains = list(v); },
    "certbot_email": (v, _at, c) => { c.facts.certbotEmail = str(v); },
    "newrelic.license": (v, at, c) => { if (v) c.secret("newRelicLicenseKey", pathParts(at)); else c.became(at, "empty: no license key"); },
    "deploy_python.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy_python.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy_python.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
    "deploy_buildout.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy_buildout.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy_buildout.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
    "deploy.<app>.symlink_before_migrate": (v, at, c) => mergeLinks(c, v, "symlinkBeforeMigrate", at),
    "deploy.<app>.purge_before_symlink": (v, at, c) => mergeLinks(c, v, "purgeBeforeSymlink", at),
    "deploy.<app>.create_dirs_before_symlink": (v, at, c) => mergeLinks(c, v, "createDirsBeforeSymlink", at),
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
    "deploy.<app>.scm.scm_type": (v, _at, c) => { c.facts.scm.type = str(v); },
    "deploy.<app>.scm.repository": (v, _at, c) => { c.facts.scm.repository = str(v); },
    "deploy.<app>.scm.user": (v, _at, c) => { c.facts.scm.user = str(v); },
    "deploy.<app>.scm.password": (v, at, c) => { if (v) c.facts.scm.passwordAt = at; else c.became(at, "empty: no password"); },
    "deploy.<app>.scm.ssh_key": (v, at, c) => { if (v) c.secret("deployKey", pathParts(at)); else c.became(at, "empty: no deploy key"); },
    "deploy.<app>.database.host": databaseKey("appDb", "host"),
    "deploy.<app>.database.port": (v, at, c) => { if (v !== null) c.facts.appDb.port = Number(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.adapter": (v, at, c) => { c.facts.appDb.adapter = str(v); c.facts.appDb.from.push(at); },
    "deploy.<app>.database.username": databaseKey("appDb", "user"),
    "deploy.<app>.database.database": databaseKey("appDb", "name"),
    "deploy.<app>.database.password": (v, at, c) => { if (v) c.facts.appDb.password = { at, inDsn: false }; else c.became(at, "empty: no password"); },
    "deploy.<app>.domains": (v, _at, c) => { c.facts.appDomains = list(v); },
    "deploy.<app>.ssl_support": (v, at, c) => {
        if (!bool(v)) return c.became(at, "no certificate of the app's own: TLS comes from certbot_domains or --certificate-arn");
        c.note(`${at}: the app's own certificate is not carried over: import it into ACM (--certificate-arn) or use certbot (--certbot-email)`);
        c.became(at, "the app's own certificate is not carried over: import it into ACM (--certificate-arn) or use certbot (--certbot-email)");
    },
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

function mergeLinks(c: Conversion, v: Json, kind: Exclude<keyof Facts["links"], "from">, at: string): void {
    const links = c.facts.links;
    links.from.push(at);
    if (kind === "symlinkBeforeMigrate") {
        if (isObject(v)) for (const [k, x] of Object.entries(v)) if (!BUILTIN_LINKS.includes(k) || x !== k) links.symlinkBeforeMigrate[k] = String(x);
    } else {
        for (const d of list(v)) if (!BUILTIN_LINKS.includes(d) && !links[kind].includes(d)) links[kind].push(d);
    }
}

function initType(v: Json, at: string, c: Conversion): void {
    if (v === "supervisor" || v === null) c.became(at, "supervisor: plone-aws runs every program under supervisor");
    else c.reclassify(at, "unsupported", "plone-aws runs the programs under supervisor");
}

function partsToInclude(v: Json, at: string, c: Conversion): void {
    const parts = list(v);
    const zeo = parts.includes("zeoserver");
    if (zeo) {
        c.facts.zeoOnAppHost = at;
        c.note(`${at} builds the zeoserver part with the clients (a single-host stack): the zeoserver layer on the app host does that in plone-aws`);
    }
    const kept = parts.filter((p) => p !== "zeoserver");
    c.set("app.partsToInclude", kept, at);
    c.became(at, () => `${c.keyName("app.partsToInclude")} ${displayValue(c.values.get("app.partsToInclude")?.value ?? [])}${zeo ? "; the zeoserver part -> the zeoserver layer on the app host" : ""}`);
}

function initCommands(v: Json, at: string, c: Conversion): void {
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

function cacheArchives(v: Json, at: string, c: Conversion): void {
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
                c.warnings.push({ path: keyPath(["app", "cacheArchives", String(i), "user"]), message: `the URL at ${at}[${i}].url had a token as its user name: it is plone-aws:cacheArchivePassword now; give the archive the user name its server expects with that token` });
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
        c.issue(keyPath(["cacheArchivePassword"]), `the cache archives at ${at} have ${passwords.size} different passwords, and plone-aws has one (plone-aws:cacheArchivePassword): give them one user and password`);
    }
    c.set("app.cacheArchives", out, at);
    const secret = passwords.size ? `; ${passwords.size === 1 ? "the password" : "passwords"}${fromUrls.length ? ` (in the URL of ${fromUrls.join(", ")})` : ""} -> secret plone-aws:cacheArchivePassword (not written)` : "";
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
            c.line(parts, "refused", "a secret under a name that is no environment variable name: not written; set it under a valid name with pulumi config set --secret --path 'plone-aws:appSecrets.NAME'", x);
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
        return [
            plain.length ? `${c.keyName("app.environment")} ${plain.join(", ")}` : "",
            secret.length ? `${secret.join(", ")} -> secrets (not written: their commands are printed below)` : "",
            lost.length ? `${lost.join(", ")} -> not used: deploy.${c.appName}.environment sets ${lost.length === 1 ? "it" : "them"} too, and wins` : "",
        ].filter(Boolean).join("; ") || "no variables";
    });
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
    describeBlobKeys(c, blobs.mode, blobs.from);
    if (f.tmpfs) c.set("plone.tmpfsSize", f.tmpfsSize ?? "1G", "tmpdir.tmpfs");
    if (f.tmpfsSize !== undefined) c.became("tmpdir.tmpfs_size", f.tmpfs ? `${c.keyName("plone.tmpfsSize")} ${displayValue(f.tmpfsSize)}` : "not used: tmpdir.tmpfs is not true, so there is no tmpfs");
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
        return { mode: "efs", from: b.s3fsAt ?? "s3fs_fuse.mounts" };
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
        else if (bool(l.found ?? null) && key.kind === "shared" && from.startsWith("(")) c.became(l.path, `${result}: shared_blobs alone does not say how the blobs are shared (nfs_blobs, gluster_blobs or blob_dir)`);
        else if (bool(l.found ?? null)) c.became(l.path, `${result} (${why}${l.path.startsWith("plone_zeoserver.") ? "; the ZEO server mounts the same blobs" : ""})`);
        else c.became(l.path, `no ${key.kind} blobs: ${result} (${why})`);
    }
}

/** What the keys that became layers (memcached, celerybeat, db_packing) became, given the final hosts. */
function describeLayerKeys(c: Conversion, hosts: ImportedHost[], storage: "zeo" | "relstorage"): void {
    const f = c.facts;
    const on = (layer: Layer) => {
        const names = hosts.filter((h) => h.layers.includes(layer)).map((h) => h.name);
        return names.length ? `the ${layer} layer on ${names.join(", ")}` : undefined;
    };
    const fromFile = c.o.instances ? ` (the hosts of ${c.o.instances.file})` : "";
    if (f.enableCache !== undefined) {
        const at = "plone_instances.relstorage.enable_cache";
        if (storage !== "relstorage") c.became(at, "not used: plone-aws:plone.storage is zeo, and memcached served RelStorage's cache only");
        else if (!f.enableCache) c.became(at, "no memcached layer and no cache servers");
        else if (f.cacheServers) c.became(at, `the static plone_instances.relstorage.cache_servers serve the cache (${c.keyName("plone.relstorage.cacheServers")}): they win over a memcached layer, as in the cookbook`);
        else c.became(at, on("memcached") ?? `no host carries the memcached layer${fromFile}: the clients' own RelStorage cache serves alone`);
    }
    if (f.celerybeat !== undefined) {
        const at = "plone_instances.celerybeat";
        const celery = c.values.get("plone.celery.enabled")?.value === true;
        if (f.celerybeat && !celery) c.became(at, "not used: plone_instances.enable_celery is not true, so there is no celery");
        else c.became(at, on("celerybeat") ? `${on("celerybeat")}${f.celerybeat ? "" : fromFile}` : "no celerybeat layer");
    }
    if (f.enablePack !== undefined) {
        const at = "plone_instances.relstorage.enable_pack";
        if (storage !== "relstorage") c.became(at, "not used: plone-aws:plone.storage is zeo; the ZEO server packs (plone_zeoserver.enable_pack)");
        else {
            const packing = on("db_packing");
            const why = f.enablePack ? "" : c.o.instances ? fromFile : " (plone-aws packs RelStorage from one app host unless plone.pack.enabled is false)";
            c.became(at, packing ? `${packing}${why}` : `no db_packing layer: RelStorage is not packed (${c.keyName("plone.pack.enabled")} false)`);
        }
    }
}

/** The entries of a links key beyond the built-in ones (those plone-aws always makes, and Rails' defaults). */
function ownLinkEntries(kind: string, found: Json | undefined): string[] {
    if (kind === "symlink_before_migrate") return isObject(found ?? null) ? Object.entries(found as Record<string, Json>).filter(([k, x]) => !BUILTIN_LINKS.includes(k) || x !== k).map(([k]) => k) : [];
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
    const packages = (facts: { app?: Json; global?: Json } | undefined, key: string, global: string, convert: (v: Json) => { packages: string[]; notes: string[] }, target: string) => {
        if (!facts) return;
        const chosen = facts.app !== undefined ? facts.app : facts.global;
        const at = facts.app !== undefined ? appKey(key) : global;
        if (facts.app !== undefined && facts.global !== undefined) c.became(global, `not used: ${appKey(key)} wins (the app's own)`);
        if (chosen === undefined || chosen === null) return;
        const out = convert(chosen);
        c.set(target, out.packages, at);
        c.became(at, () => `${c.keyName(target)} ${displayValue(c.values.get(target)?.value)}${out.notes.length ? ` (${out.notes.length} change${out.notes.length === 1 ? "" : "s"} for Debian 12: see "Assumed or changed")` : ""}`);
        for (const n of out.notes) c.note(`${key}: ${n}`);
    };
    packages(f.osPackages, "os_packages", "deploy_python.os_packages", (os) => debianPackages(Array.isArray(os) ? os.map(String) : isObject(os) ? Object.fromEntries(Object.entries(os).map(([k, v]) => [k, String(v ?? "")])) : list(os)), "app.osPackages");
    packages(f.pipPackages, "packages", "deploy_python.packages", (pip) => ({ packages: Array.isArray(pip) ? pip.map(String) : isObject(pip) ? Object.entries(pip).map(([k, v]) => (v ? `${k}==${String(v)}` : k)) : list(pip), notes: [] }), "app.pipPackages");

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
            c.became(at, () => (own.length ? `${c.keyName(target)} ${displayValue(c.values.get(target)?.value)}${froms.length > 1 ? " (merged)" : ""}` : "only built-in entries (plone-aws makes them itself): nothing to carry over"));
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
            c.note(`--repository: its ${found.place === "password" ? "password" : "token"} is not written; set it as plone-aws:repositoryToken (the command is printed)`);
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
            } else c.became(at("user"), https ? (hasUser ? "not used: the URL names its user" : "not used: no password goes with it") : "not used: an SSH repository authenticates with plone-aws:deployKey");
        }
        if (scm.passwordAt) {
            if (!https) c.reclassify(scm.passwordAt, "unsupported", "only an https repository takes a password: an SSH repository authenticates with plone-aws:deployKey; not written");
            else if (found) c.became(scm.passwordAt, "not used: the repository URL carries its own token (plone-aws:repositoryToken)");
            else c.secret("repositoryToken", pathParts(scm.passwordAt));
        }
        c.set("app.repository", url, at("repository"));
        const secret = found ? `its ${found.place === "password" ? "password" : "token (the URL's user name)"} -> secret plone-aws:repositoryToken (not written)` : undefined;
        c.became(at("repository"), [`${c.keyName("app.repository")} ${displayValue(url)}`, secret].filter(Boolean).join("; "));
    } else unused("the Custom JSON names no repository");
    if (o.revision) c.set("app.revision", o.revision, "--revision");
    if (!c.values.has("app.repository")) {
        c.set("app.repository", PLACEHOLDERS.repository, "(placeholder)");
        c.placeholders.push(keyPath(["app", "repository"]));
        c.comments.set("app.repository", "REPLACE: the git URL of the buildout (the OpsWorks app's repository; or run the import with --repository)");
    }
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
    if (read.region) c.instancesRegion = { region: read.region, zones: read.zones };
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
    for (const layer of singleInstanceLayers(blobs)) {
        const carriers = hosts.filter((h) => h.layers.includes(layer));
        for (const h of carriers.slice(1)) {
            h.layers = h.layers.filter((l) => l !== layer);
            c.note(`${h.name}: layer ${layer} dropped: ${carriers[0].name} carries it, and the cookbook used the first instance of a ${layer} layer only`);
        }
    }
    const firstApp = hosts.find((h) => h.layers.includes("plone_instances"));
    for (const layer of APP_HOST_LAYERS) {
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
    const certbotAt = "certbot_domains";
    const appDomainsAt = displayPath(["deploy", c.appName, "domains"]);
    const names = f.certbotDomains?.length ? f.certbotDomains : f.appDomains ?? [];
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
        c.issue(keyPath(["frontend", "tls"]), `certbot_domains asks for certbot, which runs on one front end, and ${frontends} hosts carry frontend (a load balancer): give --certificate-arn with an ACM certificate for ${domain}`);
        tls = "certbot, which cannot serve several front ends (see the error)";
    } else if (certbot) {
        if (!email) c.issue(keyPath(["frontend", "tls", "email"]), "certbot needs an email address for Let's Encrypt: set certbot_email in the JSON or give --certbot-email");
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
        const parts = [o.domain ? `not the domain: --domain wins (${c.keyName("frontend.domain")} ${displayValue(o.domain)})` : `${c.keyName("frontend.domain")} ${displayValue(domain)}`];
        if (aliases.length) parts.push(`${c.keyName("frontend.aliases")} ${displayValue(aliases)}`);
        if (at === certbotAt) parts.push(tls);
        c.became(at, parts.join("; "));
    };
    describeNames(certbotAt, f.certbotDomains, true);
    describeNames(appDomainsAt, f.appDomains, from === appDomainsAt);
    if (f.certbotEmail !== undefined) {
        c.became("certbot_email", o.certbotEmail ? "not used: --certbot-email wins"
            : c.values.get("frontend.tls")?.from === "certbot_email" ? `${c.keyName("frontend.tls.email")} ${displayValue(f.certbotEmail)}`
            : `not used: ${o.certificateArn ? "TLS comes from --certificate-arn" : "no certbot_domains, so no certbot"}`);
    }
}

function finishDatabase(c: Conversion, storage: "zeo" | "relstorage"): void {
    const f = c.facts;
    const keysOf = (d: DatabaseFacts) => [...d.from, ...(d.password && !d.password.inDsn ? [d.password.at] : [])];
    if (storage !== "relstorage") {
        for (const at of [...keysOf(f.db), ...keysOf(f.appDb)]) c.became(at, "not used: plone-aws:plone.storage is zeo (plone_instances.enable_relstorage is not true)");
        return;
    }
    // The cookbook used relstorage.db.* when db.name was set, else the RDS attached to the OpsWorks app.
    const useOwn = f.db.name !== undefined || (!f.appDb.host && f.db.from.length > 0);
    const type = (useOwn ? f.db.type : f.appDb.adapter) ?? "postgres";
    const src = useOwn ? f.db : f.appDb;
    const other = useOwn ? f.appDb : f.db;
    for (const at of keysOf(other)) {
        c.became(at, useOwn ? "not used: relstorage.db.name is set, so the cookbook used plone_instances.relstorage.db.*" : "not used: relstorage.db.name is not set, so the cookbook used the OpsWorks app's database");
    }
    const from = src.from[0] ?? "(defaults)";
    const db: Record<string, unknown> = {};
    const postgres = ["postgres", "postgresql"].includes(type);
    if (!postgres) {
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
    if (src.password) c.secret("dbPassword", pathParts(src.password.at), src.password.inDsn ? false : undefined);

    // What each key of the chosen database became.
    const field: Record<string, string> = { name: "name", database: "name", host: "host", user: "user", username: "user", port: "port" };
    const shown = (k: string) => (db[k] === undefined ? `not used (${postgres ? "no value" : `the database is ${type}`})` : `${c.keyName(`database.${k}`)} ${displayValue(db[k])}`);
    for (const at of src.from) {
        const key = String(pathParts(at).pop());
        if (key === "type" || key === "adapter") c.became(at, postgres ? "PostgreSQL, plone-aws's database" : `not carried over: plone-aws's database is PostgreSQL (RDS); move the data with zodbconvert`);
        else if (key === "dsn") {
            const read = (["name", "host", "port", "user"] as const).filter((k) => db[k] !== undefined).map((k) => shown(k));
            c.became(at, [read.length ? read.join(", ") : "nothing carried over", src.password?.inDsn ? "its password -> secret plone-aws:dbPassword (not written)" : ""].filter(Boolean).join("; "));
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
        sources.push({ region: c.instancesRegion.region, what: `the availability zones of ${c.o.instances.file} (${c.instancesRegion.zones.join(", ")})`, rank: REGION_RANK.instances });
    }
    sources.push(...regionSources(c.json, displayPath));
    const choice = pickRegion(sources);
    if (!choice) {
        c.set("aws:region", "us-east-1", "(assumed)");
        c.note("aws:region us-east-1 is assumed: no --region, no availability zones, and no AWS host name in the Custom JSON names a region");
        c.comments.set("aws:region", "Assumed: nothing named a region; give --region (or an --instances file with availability zones) for your stack's region.");
        return;
    }
    c.set("aws:region", choice.region, choice.source.what);
    const others = [...new Set(choice.disagreeing.map((s) => s.region))];
    const picked = `aws:region ${choice.region}: from ${choice.source.what}${sources.length > 1 ? ` (${choice.reason})` : ""}`;
    c.note(others.length ? `${picked}; the sources disagree: ${others.map((r) => `${r} (${choice.disagreeing.filter((s) => s.region === r).map((s) => s.what).join("; ")})`).join(", ")}` : picked);
    c.comments.set("aws:region", `From ${choice.source.what}${others.length ? `; other sources name ${others.join(", ")}: the import's notes say why this one won` : ""}.`);

    // Servers the hosts connect to, in another region: they would talk across regions.
    const servers: [string, string][] = [["database.host", "the database"], ["plone.celery.brokerHost", "the celery broker"], ["plone.solr.host", "Solr"], ["plone.relstorage.cacheServers", "the memcached servers"]];
    for (const [key, what] of servers) {
        const value = valueOfKey(c, key);
        for (const host of (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === "string")) {
            const found = regionSources(host, () => key)[0];
            if (found && found.region !== choice.region) {
                c.warnings.push({ path: c.keyName(key), message: `${what} (${host.replace(/:\d+$/, "")}) is in ${found.region}, the stack in ${choice.region} (from ${choice.source.what}): the hosts would reach it across regions (latency, traffic charges, and security groups cannot name it); move it, or import with --region ${found.region}` });
            }
        }
    }
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
    const daily = s.weekday === undefined || ["0-6", "*", "0-7"].includes(String(s.weekday));
    if (!daily) c.reclassify("ebs_snapshots.weekday", "unsupported", "plone-aws snapshots daily");
    if (!Number.isInteger(hour) || hour < 0 || hour > 23 || !Number.isInteger(minute) || minute < 0 || minute > 59) {
        for (const at of ["ebs_snapshots.hour", "ebs_snapshots.minute"]) {
            c.reclassify(at, "unsupported", `the cron time ${String(s.minute ?? 0)} ${String(s.hour ?? 8)} (minute hour) is not one daily time: plone-aws's default (08:00 UTC) applies`);
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

    withholdCredentials(c);

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
    const leaked = writtenSecret(c, text);
    if (leaked) c.issue(leaked, "a secret value of the Custom JSON would be written here: nothing was written (a bug in the import; please report it)");

    const loaded = validateStack(parseStackText(text, `Pulumi.${o.stack}.yaml`, o.stack));
    c.requiredSecrets = loaded.unsetSecrets.map((e) => e.path.slice(NAMESPACE.length + 1)).filter((k): k is SecretKey => k in SECRET_KEYS);
    c.warnings.push(...loaded.warnings);
    for (const e of loaded.errors) c.issues.push({ path: e.path, message: `${e.message}${provenance(c, e.path)}` });
    c.text = text;
}

/** Keys the options set (--public-key, --admin-cidr): the operator's values, not the Custom JSON's. */
const FROM_OPTIONS = /^(--|\()/;

/**
 * Leaves (strings, list items, map entries) of the values to write that hold a credential (a URL
 * with a password, an Authorization header, a `password = ...` line, a secret value seen elsewhere
 * in the JSON) are left out; the report and a warning say which, never the value.
 */
function withholdCredentials(c: Conversion): void {
    const REMOVED = Symbol("removed");
    const known = [...c.secretValues].filter((v) => v.length >= SCRUBBED_LENGTH);
    for (const [key, entry] of c.values) {
        if (key === "aws:region" || FROM_OPTIONS.test(entry.from)) continue;
        const removed: { where: string; what: string }[] = [];
        const clean = (v: unknown, where: string): unknown => {
            if (typeof v === "string") {
                const what = findCredential(v) ?? (known.some((s) => v.includes(s)) ? "a value the Custom JSON also holds as a secret" : undefined);
                if (!what) return v;
                removed.push({ where, what });
                return REMOVED;
            }
            if (Array.isArray(v)) return v.map((x, i) => clean(x, `${where}[${i}]`)).filter((x) => x !== REMOVED);
            if (v !== null && typeof v === "object") {
                return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clean(x, `${where}.${k}`)] as const).filter(([, x]) => x !== REMOVED));
            }
            return v;
        };
        const cleaned = clean(entry.value, c.keyName(key));
        if (removed.length === 0) continue;
        if (cleaned === REMOVED) c.values.delete(key);
        else entry.value = cleaned;
        for (const r of removed) {
            c.withhold(entry.from, `${r.where} (it holds ${r.what})`);
            c.warnings.push({
                path: r.where,
                message: `holds ${r.what} (from ${entry.from}): left out of the stack file. Keep credentials out of it: the app reads secrets from plone-aws:appSecrets (environment variables), the buildout from its repository's own private configuration`,
            });
        }
    }
}

/** The plone-aws key path (or "the stack file") where a known secret value would be written, if any. */
function writtenSecret(c: Conversion, text: string): string | undefined {
    const known = [...c.secretValues].filter((v) => v.length >= SCRUBBED_LENGTH);
    const config = (YAML.parse(text) as { config: Record<string, unknown> }).config;
    const find = (v: unknown, where: string): string | undefined => {
        if (typeof v === "string") return known.some((s) => v.includes(s)) ? where : undefined;
        if (Array.isArray(v)) return v.map((x, i) => find(x, `${where}[${i}]`)).find(Boolean);
        if (v !== null && typeof v === "object") return Object.entries(v).map(([k, x]) => find(x, where ? `${where}.${k}` : k)).find(Boolean);
        return undefined;
    };
    return find(config, "") ?? (known.some((s) => text.includes(s)) ? `Pulumi.${c.o.stack}.yaml` : undefined);
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
    const notCarried = c.lines.filter((r) => ["unsupported", "refused", "unknown"].includes(r.kind));
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
