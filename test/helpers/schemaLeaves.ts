// Every string leaf of the stack schema, found by walking the zod schemas: where it is (a path of
// object keys, array elements and record keys or values) and its declared kind. The property test
// puts hostile values into each; a test checks that every leaf has a kind.
import { z } from "zod";
import { kindOf, StringKind } from "../../components/config/kinds";
import { SECTION_SCHEMAS, SectionName } from "../../components/config/schema";

/** One step into a configuration value: an object key, the first array element, or a record's first key or value. */
export type Step = { key: string } | { element: true } | { recordKey: true } | { recordValue: true };

export interface StringLeaf {
    section: SectionName;
    steps: Step[];
    /** plone-aws:app.cacheArchives[].user, app.environment{key}, app.environment{value}. */
    name: string;
    kind: StringKind | undefined;
}

interface Def {
    type: string;
    shape?: Record<string, z.ZodType>;
    element?: z.ZodType;
    keyType?: z.ZodType;
    valueType?: z.ZodType;
    innerType?: z.ZodType;
    options?: z.ZodType[];
    in?: z.ZodType;
}

function describe(section: string, steps: Step[]): string {
    let out = `plone-aws:${section}`;
    for (const s of steps) {
        if ("key" in s) out += `.${s.key}`;
        else if ("element" in s) out += "[]";
        else if ("recordKey" in s) out += "{key}";
        else out += "{value}";
    }
    return out;
}

export function stringLeaves(): StringLeaf[] {
    const leaves: StringLeaf[] = [];
    const seen = new Set<string>();
    const walk = (section: SectionName, schema: z.ZodType, steps: Step[]) => {
        const def = schema._zod.def as unknown as Def;
        switch (def.type) {
            case "string": {
                const name = describe(section, steps);
                if (!seen.has(name)) {
                    seen.add(name);
                    leaves.push({ section, steps, name, kind: kindOf(schema) });
                }
                return;
            }
            case "object":
                for (const [k, v] of Object.entries(def.shape ?? {})) walk(section, v, [...steps, { key: k }]);
                return;
            case "array":
                return walk(section, def.element!, [...steps, { element: true }]);
            case "record":
                walk(section, def.keyType!, [...steps, { recordKey: true }]);
                walk(section, def.valueType!, [...steps, { recordValue: true }]);
                return;
            case "optional":
            case "default":
            case "prefault":
            case "nullable":
                return walk(section, def.innerType!, steps);
            case "union":
                for (const option of def.options ?? []) walk(section, option, steps);
                return;
            case "pipe":
                return walk(section, def.in!, steps);
            case "enum":
            case "literal":
            case "number":
            case "boolean":
                return;
            default:
                throw new Error(`${describe(section, steps)}: schema type ${def.type} is not walked; teach schemaLeaves about it`);
        }
    };
    for (const [section, schema] of Object.entries(SECTION_SCHEMAS) as [SectionName, z.ZodType][]) walk(section, schema, []);
    return leaves;
}

type Json = unknown;

/**
 * The value with the leaf replaced by `value`, or undefined when the value has nothing at that
 * place (an absent optional key, an empty list, another option of a union). The path of the
 * replaced leaf, as the configuration errors name it, comes along.
 */
export function withLeaf(section: Json, steps: Step[], value: string): { section: Json; keyPath: (string | number)[] } | undefined {
    const keyPath: (string | number)[] = [];
    const set = (node: Json, i: number): Json | undefined => {
        if (i === steps.length) return value;
        const step = steps[i];
        if ("key" in step) {
            if (!isObject(node) || !(step.key in node)) return undefined;
            keyPath.push(step.key);
            const inner = set(node[step.key], i + 1);
            return inner === undefined ? undefined : { ...node, [step.key]: inner };
        }
        if ("element" in step) {
            if (!Array.isArray(node) || node.length === 0) return undefined;
            keyPath.push(0);
            const inner = set(node[0], i + 1);
            return inner === undefined ? undefined : [inner, ...node.slice(1)];
        }
        if (!isObject(node) || Object.keys(node).length === 0) return undefined;
        const [first, ...rest] = Object.keys(node);
        if ("recordKey" in step) {
            if (i !== steps.length - 1) return undefined;
            keyPath.push(value);
            return Object.fromEntries([[value, node[first]], ...rest.map((k) => [k, node[k]])]);
        }
        keyPath.push(first);
        const inner = set(node[first], i + 1);
        return inner === undefined ? undefined : { ...node, [first]: inner };
    };
    const out = set(section, 0);
    return out === undefined ? undefined : { section: out, keyPath };
}

function isObject(v: Json): v is Record<string, Json> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}
