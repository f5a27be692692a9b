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

export function stringKeys(): StringKey[] {
    const keys: StringKey[] = [];
    const seen = new Set<string>();
    const walk = (section: SectionName, schema: z.ZodType, steps: Step[]) => {
        const def = schema._zod.def as unknown as Def;
        switch (def.type) {
            case "string": {
                const name = nameOf(section, steps);
                if (!seen.has(name)) {
                    seen.add(name);
                    keys.push({ section, steps, name, kind: kindOf(schema) });
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
                throw new Error(`${nameOf(section, steps)}: schema type ${def.type} is not walked; teach stringKeys about it`);
        }
    };
    for (const [section, schema] of Object.entries(SECTION_SCHEMAS) as [SectionName, z.ZodType][]) walk(section, schema, []);
    return keys;
}

/** The kind of the string key named like plone-aws:app.cacheArchives[0].user (indices and record keys matched loosely). */
export function kindOfKey(key: string, keys: StringKey[] = stringKeys()): StringKind | undefined {
    const plain = key.replace(/\[\d*\]/g, "[]");
    const exact = keys.find((k) => k.name === plain);
    if (exact) return exact.kind;
    const value = keys.find((k) => k.name === `${plain}{value}` || k.name === `${plain}[]`);
    return value?.kind;
}
