// The state of one OpsWorks import: the report line of every key of the Custom JSON, the plone-aws
// values found with where each came from, the secrets (their sources, never their values in any
// output) and the notes; walking the JSON through the attribute table; the result.
import { shellQuote } from "../../../components/render/shell";
import { closest } from "../../../components/config/load";
import { ConfigIssue, keyPath, NAMESPACE } from "../../../components/config/issues";
import { SecretKey, Tier } from "../../../components/config/schema";
import { appSecret, ploneSecret, secretKeyName, SecretToSet, sortSecrets } from "../stacks/secretCommands";
import { ATTRIBUTES, attributeFor, Disposition, FAMILIES, hasAttributesBelow, KNOWN_MISTAKES } from "./attributes";
import { displayValue, holdsSecret, NOT_SHOWN, splitUrlCredentials } from "./credentials";
import { LayerNames } from "./instances";

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
export interface Line {
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
export const BUILTIN_LINKS = ["eggs", "downloads", "extends", "var", "parts"];

export type Handler = (value: Json, at: string, c: Conversion) => void;

export function isObject(v: unknown): v is { [key: string]: Json } {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `a.b[0]["odd key"]` for report lines. */
export function displayPath(parts: readonly (string | number)[]): string {
    return parts
        .map((p, i) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(p) ? `${i ? "." : ""}${p}` : `[${JSON.stringify(p)}]`))
        .join("");
}

/** The jq filter for a path, or undefined when the path cannot be written safely in single quotes. */
export function jqPath(parts: readonly (string | number)[]): string | undefined {
    if (parts.some((p) => typeof p === "string" && p.includes("'"))) return undefined;
    return parts
        .map((p) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
        .join("")
        .replace(/^\[/, ".[");
}

export interface SecretSource {
    /** JSON paths the value was found at. */
    paths: string[];
    /** A jq filter that extracts it, for the pipe into `pulumi config set`. */
    jq?: string;
    /** What it is, for plone-aws:appSecrets entries. */
    why?: string;
}

/** Everything read from the JSON that the final stack is derived from. */
export interface Facts {
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

export interface DatabaseFacts {
    name?: string;
    host?: string;
    user?: string;
    port?: number;
    /** JSON paths of the keys read. */
    from: string[];
    /** Where the password was found: a key of its own (extractable with jq), or inside the DSN. */
    password?: { at: string; inDsn: boolean };
}

export class Conversion {
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

    constructor(
        readonly o: ImportOptions,
        /** How each key that is not a plain copy is converted (handlers.ts). */
        private readonly handlers: Readonly<Record<string, Handler>>,
    ) {}

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
                return void this.line(
                    parts,
                    "unknown",
                    `no layer deploys an app named ${app} (the apps are ${this.appName}, ${this.zeoApp} and ${this.solrApp}): not used`,
                    value,
                );
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
                const handler = this.handlers[tablePath];
                line.copied = !handler;
                if (handler) handler(value, displayPath(parts), this);
                else this.set(entry.target!.slice(NAMESPACE.length + 1), value, displayPath(parts));
            }
            return;
        }
        if (hasAttributesBelow(tablePath)) {
            if (!isObject(value))
                return void this.line(
                    parts,
                    "unknown",
                    `${displayPath(parts)} holds keys (a mapping), not a ${Array.isArray(value) ? "list" : "value"}: not carried over`,
                    value,
                );
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
        const near = mistake
            ? undefined
            : closest(
                  tablePath,
                  ATTRIBUTES.map((a) => a.path),
                  4,
              );
        this.line(
            parts,
            "unknown",
            `not a key of the OpsWorks cookbooks${mistake ? `; did you mean ${mistake}?` : near ? `; did you mean ${near}?` : ""}: not carried over`,
            value,
        );
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
            this.line(
                parts,
                "unsupported",
                `differs from ${displayPath(["deploy", this.appName, ...rest])}: plone-aws builds every layer (ZEO, Solr) from the one app, with the Plone app's settings`,
                value,
            );
        }
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
        const shown =
            l.found === undefined
                ? undefined
                : l.kind === "secret" || l.kind === "refused"
                  ? NOT_SHOWN
                  : displayValue(l.found, typeof name === "string" ? name : undefined);
        if (l.kind === "mapped" || l.kind === "secret") {
            const outcome = typeof l.outcome === "function" ? l.outcome() : (l.outcome ?? this.outcomeFromValues(l.path));
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
            list.push(
                withJq(
                    appSecret(name, this.o.stack, `the app's environment variable ${name} (${src.why}); the Custom JSON has it at ${src.paths.join(", ")}`),
                    src,
                ),
            );
        }
        return sortSecrets(list);
    }

    requiredSecrets: SecretKey[] = [];
}

/** Secret values shorter than this are not searched for in messages (they would match ordinary words). */
export const SCRUBBED_LENGTH = 8;

/**
 * Remembers the secret strings below a value: every string when the key itself is a secret
 * (`all`), else those whose key's name or content says so, and the secrets inside URLs.
 */
export function collectSecrets(value: Json, c: Conversion, name: string | undefined, all: boolean): void {
    if (typeof value === "string") {
        if (all || holdsSecret(value, name)) c.sawSecret(value);
        const split = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? splitUrlCredentials(value) : undefined;
        if (split) c.sawSecret(split.secret);
    } else if (Array.isArray(value)) value.forEach((v) => collectSecrets(v, c, name, all));
    else if (isObject(value)) for (const [k, v] of Object.entries(value)) collectSecrets(v, c, k, all);
}
