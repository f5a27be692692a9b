// Every string key of the stack schema with its declared kind, found by walking the zod schemas:
// the docs list them (docs/opsworks-attributes.md) and the property test puts hostile values into
// each (test/daemons/hostile-config.spec.ts), so a key added to the schema is covered that day.
import { z } from "zod";
import { kindOf, StringKind } from "./kinds";
import { SECTION_SCHEMAS, SectionName } from "./schema";

/** One step into a configuration value: an object key, an array element, or a record's key or value. */
export type Step = { key: string } | { element: true } | { recordKey: true } | { recordValue: true };

export interface StringKey {
    section: SectionName;
    steps: Step[];
    /** plone-aws:app.cacheArchives[].user, plone-aws:app.environment{key}, plone-aws:app.environment{value}. */
    name: string;
    kind: StringKind | undefined;
}

/** The zod internals the walk reads (zod 4's `_zod.def`). */
export interface SchemaDef {
    type: string;
    shape?: Record<string, z.ZodType>;
    element?: z.ZodType;
    keyType?: z.ZodType;
    valueType?: z.ZodType;
    innerType?: z.ZodType;
    options?: z.ZodType[];
    in?: z.ZodType;
    /** An enum's values. */
    entries?: Record<string, string>;
}

export function schemaDef(schema: z.ZodType): SchemaDef {
    return schema._zod.def as unknown as SchemaDef;
}

/** A leaf key of the schema: a string, number, boolean or enum where a stack file puts a value. */
export interface SchemaLeaf {
    section: SectionName;
    steps: Step[];
    /** plone-aws:app.cacheArchives[].user, plone-aws:app.environment{key}, plone-aws:app.environment{value}. */
    name: string;
    type: "string" | "number" | "boolean" | "enum";
    schema: z.ZodType;
}

function nameOf(section: string, steps: Step[]): string {
    let out = `plone-aws:${section}`;
    for (const s of steps) {
        if ("key" in s) out += `.${s.key}`;
        else if ("element" in s) out += "[]";
        else if ("recordKey" in s) out += "{key}";
        else out += "{value}";
    }
    return out;
}

/**
 * Every leaf key of every section, each name once per type (a union of a number and a string is
 * two leaves). Literals are union discriminators, covered by their options' keys.
 */
export function schemaLeaves(): SchemaLeaf[] {
    const leaves = new Map<string, SchemaLeaf>();
    const walk = (section: SectionName, schema: z.ZodType, steps: Step[]) => {
        const def = schemaDef(schema);
        switch (def.type) {
            case "string":
            case "number":
            case "boolean":
            case "enum": {
                const name = nameOf(section, steps);
                if (!leaves.has(`${def.type} ${name}`)) leaves.set(`${def.type} ${name}`, { section, steps, name, type: def.type, schema });
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
            case "literal":
                return;
            default:
                throw new Error(`${nameOf(section, steps)}: schema type ${def.type} is not walked; teach schemaLeaves about it`);
        }
    };
    for (const [section, schema] of Object.entries(SECTION_SCHEMAS) as [SectionName, z.ZodType][]) walk(section, schema, []);
    return [...leaves.values()];
}

export function stringKeys(): StringKey[] {
    return schemaLeaves()
        .filter((l) => l.type === "string")
        .map(({ section, steps, name, schema }) => ({ section, steps, name, kind: kindOf(schema) }));
}

/** The kind of the string key named like plone-aws:app.cacheArchives[0].user (indices and record keys matched loosely). */
export function kindOfKey(key: string, keys: StringKey[] = stringKeys()): StringKind | undefined {
    const plain = key.replace(/\[\d*\]/g, "[]");
    const exact = keys.find((k) => k.name === plain);
    if (exact) return exact.kind;
    const value = keys.find((k) => k.name === `${plain}{value}` || k.name === `${plain}[]`);
    return value?.kind;
}
