// Resolves API_FIELDS in AWS's own service models (the JSON models botocore ships; Debian's
// python3-botocore installs them under /usr/lib/python3/dist-packages/botocore/data) into the
// constraints api-constraints.json holds: length, pattern, enum, range of each member.
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { API_FIELDS, ApiField } from "./apiFields";

export const BOTOCORE_DATA_DIR = "/usr/lib/python3/dist-packages/botocore/data";
export const API_CONSTRAINTS_FILE = path.join(__dirname, "api-constraints.json");

export interface ApiConstraint {
    type: string;
    input: string;
    /** "<service> <Operation>:<member path>", as in API_FIELDS. */
    api: string;
    /** The model's shape name. */
    shape: string;
    min?: number;
    max?: number;
    /** A Java regular expression, matched against the whole value. */
    pattern?: string;
    enum?: string[];
}

export interface ApiConstraintData {
    generatedBy: string;
    botocore: string;
    /** API version of each service's model. */
    models: Record<string, string>;
    constraints: ApiConstraint[];
}

interface Shape {
    type: string;
    members?: Record<string, { shape: string }>;
    member?: { shape: string };
    key?: { shape: string };
    value?: { shape: string };
    min?: number;
    max?: number;
    pattern?: string;
    enum?: string[];
}
interface Model {
    operations: Record<string, { input?: { shape: string } }>;
    shapes: Record<string, Shape>;
}

function readJson(file: string): unknown {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8"));
    return JSON.parse(zlib.gunzipSync(fs.readFileSync(`${file}.gz`)).toString("utf8"));
}

/** The newest model version of a service (botocore keeps older ones next to it). */
function loadModel(dataDir: string, service: string): { version: string; model: Model } {
    const versions = fs
        .readdirSync(path.join(dataDir, service))
        .filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))
        .sort();
    const version = versions[versions.length - 1];
    if (!version) throw new Error(`no model of ${service} in ${dataDir}`);
    return { version, model: readJson(path.join(dataDir, service, version, "service-2.json")) as Model };
}

function resolve(model: Model, field: ApiField): { shape: string; spec: Shape } {
    const [operation, memberPath] = field.api.split(":");
    const op = model.operations[operation];
    if (!op?.input) throw new Error(`${field.service} has no operation ${operation} (${field.type} ${field.input})`);
    let shape = op.input.shape;
    for (const segment of memberPath.split(".")) {
        const m = /^([A-Za-z0-9]+)(\[\]|\{key\}|\{value\})?$/.exec(segment);
        if (!m) throw new Error(`bad API path segment ${segment} in ${field.api}`);
        const spec = model.shapes[shape];
        const member = spec.members?.[m[1]];
        if (!member) throw new Error(`${field.service} ${shape} has no member ${m[1]} (${field.api})`);
        shape = member.shape;
        const inner = model.shapes[shape];
        if (m[2] === "[]") {
            if (inner.type !== "list" || !inner.member) throw new Error(`${field.api}: ${m[1]} is not a list`);
            shape = inner.member.shape;
        } else if (m[2] === "{key}" || m[2] === "{value}") {
            if (inner.type !== "map" || !inner.key || !inner.value) throw new Error(`${field.api}: ${m[1]} is not a map`);
            shape = m[2] === "{key}" ? inner.key.shape : inner.value.shape;
        }
    }
    return { shape, spec: model.shapes[shape] };
}

function botocoreVersion(dataDir: string): string {
    const init = path.join(dataDir, "..", "__init__.py");
    const m = fs.existsSync(init) ? /__version__\s*=\s*['"]([^'"]+)['"]/.exec(fs.readFileSync(init, "utf8")) : null;
    return m ? m[1] : "unknown";
}

/** The constraints of every API_FIELDS entry, from the models in dataDir. */
export function generateApiConstraints(dataDir = BOTOCORE_DATA_DIR, fields: ApiField[] = API_FIELDS): ApiConstraintData {
    const models = new Map<string, { version: string; model: Model }>();
    const constraints: ApiConstraint[] = [];
    for (const field of fields) {
        if (!models.has(field.service)) models.set(field.service, loadModel(dataDir, field.service));
        const { shape, spec } = resolve(models.get(field.service)!.model, field);
        const c: ApiConstraint = { type: field.type, input: field.input, api: `${field.service} ${field.api}`, shape };
        for (const key of ["min", "max", "pattern", "enum"] as const) {
            if (spec[key] !== undefined) (c as unknown as Record<string, unknown>)[key] = spec[key];
        }
        if (c.min === undefined && c.max === undefined && c.pattern === undefined && c.enum === undefined) {
            throw new Error(`${field.service} ${field.api} (${shape}) has no constraint: remove ${field.type} ${field.input} from API_FIELDS`);
        }
        constraints.push(c);
    }
    return {
        generatedBy: "npm run gen:aws-constraints (scripts/lib/awsCheck/generate.ts) from botocore's service models",
        botocore: botocoreVersion(dataDir),
        models: Object.fromEntries([...models].sort(([a], [b]) => a.localeCompare(b)).map(([s, m]) => [s, m.version])),
        constraints,
    };
}

export function renderApiConstraints(data: ApiConstraintData): string {
    return `${JSON.stringify(data, null, 1)}\n`;
}
