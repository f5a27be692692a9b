// Writing the imported stack file (sections in the order of the repository's stack files, comments
// saying where each value came from) and validating it as `npm run plan` does.
import YAML, { YAMLMap } from "yaml";
import { z } from "zod";
import { keyPath, NAMESPACE } from "../../../components/config/issues";
import { BlobMode, SECRET_KEYS, SECTION_SCHEMAS, SecretKey } from "../../../components/config/schema";
import { instanceTypeInfo } from "../../../components/topology/instanceTypes";
import { validateStack } from "../offline/loadStack";
import { parseStackText } from "../offline/stackFile";
import { commentAbove, flowScalarLists, mapAt, STRINGIFY } from "../stacks/yaml";
import { estimatedVcpus } from "../stacks/stagingTypes";
import { findCredential } from "./credentials";
import { ImportedHost } from "./instances";
import { Conversion, Json, PLACEHOLDERS, SCRUBBED_LENGTH, isObject } from "./conversion";

const SECTION_ORDER = [
    "tier",
    "hosts",
    "app",
    "plone",
    "database",
    "frontend",
    "snapshots",
    "network",
    "access",
    "volumes",
    "monitoring",
    "offsiteBackups",
    "scaling",
];

export function writeStack(c: Conversion, hosts: ImportedHost[], blobs: BlobMode): void {
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
    ((doc.contents as YAMLMap).items[0].key as YAML.Scalar).commentBefore = header.map((l) => ` ${l}`).join("\n");
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
                return Object.fromEntries(
                    Object.entries(v)
                        .map(([k, x]) => [k, clean(x, `${where}.${k}`)] as const)
                        .filter(([, x]) => x !== REMOVED),
                );
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
        if (v !== null && typeof v === "object")
            return Object.entries(v)
                .map(([k, x]) => find(x, where ? `${where}.${k}` : k))
                .find(Boolean);
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
