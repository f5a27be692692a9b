// Policy pack configuration the way the Pulumi CLI handles `--policy-pack-config FILE`: start from
// each policy's own level and its configSchema defaults, apply "all", then each policy's entry,
// and validate the result against the schemas (pulumi/pulumi pkg/resource/analyzer/config.go,
// ReconcilePolicyPackConfig). Stricter than the CLI in two places, because a typo there silently
// does nothing: unknown policy names and unknown settings are errors.
import * as fs from "fs";

export const ENFORCEMENT_LEVELS = ["advisory", "mandatory", "remediate", "disabled"] as const;
export type EnforcementLevel = (typeof ENFORCEMENT_LEVELS)[number];

/** The part of JSON Schema the plone-guard policies use in their configSchema. */
export interface JsonSchema {
    type?: "string" | "number" | "integer" | "boolean" | "array" | "object";
    items?: JsonSchema;
    enum?: unknown[];
    minimum?: number;
    maximum?: number;
    minItems?: number;
    default?: unknown;
    description?: string;
}

/** What the pack says about a policy (GetAnalyzerInfo). */
export interface PolicyInfo {
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    configSchema?: { properties: Record<string, JsonSchema>; required?: string[] };
}

export interface EffectivePolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

export function isEnforcementLevel(v: unknown): v is EnforcementLevel {
    return typeof v === "string" && (ENFORCEMENT_LEVELS as readonly string[]).includes(v);
}

/** Reads a policy config file (JSON). Errors name the file. */
export function readPolicyConfigFile(file: string): { config?: Record<string, unknown>; errors: string[] } {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        return { errors: [`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`] };
    }
    if (text.trim() === "") return { config: {}, errors: [] };
    try {
        const parsed: unknown = JSON.parse(text);
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
            return { errors: [`${file}: must be a JSON object of policy name -> enforcement level or settings`] };
        return { config: parsed as Record<string, unknown>, errors: [] };
    } catch (e) {
        return { errors: [`${file}: not valid JSON (${(e as Error).message})`] };
    }
}

function describe(v: unknown): string {
    return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}

/** Validation errors of one value against a schema, each starting with its path. */
export function validateValue(value: unknown, schema: JsonSchema, path: string): string[] {
    const errors: string[] = [];
    const type = schema.type;
    const typeOk =
        type === undefined ||
        (type === "integer"
            ? Number.isInteger(value)
            : type === "number"
              ? typeof value === "number"
              : type === "array"
                ? Array.isArray(value)
                : type === "object"
                  ? typeof value === "object" && value !== null && !Array.isArray(value)
                  : typeof value === type);
    if (!typeOk) return [`${path}: must be ${type === "integer" || type === "array" || type === "object" ? "an" : "a"} ${type}, not ${describe(value)}`];
    if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
        errors.push(`${path}: must be one of ${schema.enum.map(describe).join(", ")}, not ${describe(value)}`);
    if (typeof value === "number" && schema.minimum !== undefined && value < schema.minimum)
        errors.push(`${path}: must be at least ${schema.minimum}, not ${value}`);
    if (typeof value === "number" && schema.maximum !== undefined && value > schema.maximum)
        errors.push(`${path}: must be at most ${schema.maximum}, not ${value}`);
    if (Array.isArray(value)) {
        if (schema.minItems !== undefined && value.length < schema.minItems)
            errors.push(`${path}: must list at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}`);
        if (schema.items) value.forEach((item, i) => errors.push(...validateValue(item, schema.items!, `${path}[${i}]`)));
    }
    return errors;
}

/** Each policy's own level and its schema defaults: the config a pack runs with when given none. */
export function defaultPolicyConfig(policy: PolicyInfo): EffectivePolicyConfig {
    const properties: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (schema.default !== undefined) properties[key] = structuredClone(schema.default);
    }
    return { enforcementLevel: policy.enforcementLevel, properties };
}

/**
 * The configuration each policy runs with, from the pack's policies and a config file's content.
 * With errors, the config must not be used (the CLI refuses to run the pack).
 */
export function reconcilePolicyConfig(
    policies: PolicyInfo[],
    given: Record<string, unknown> | undefined,
    source = "policy config",
): { config: Record<string, EffectivePolicyConfig>; errors: string[] } {
    const errors: string[] = [];
    const config: Record<string, EffectivePolicyConfig> = Object.fromEntries(policies.map((p) => [p.name, defaultPolicyConfig(p)]));
    const byName = new Map(policies.map((p) => [p.name, p]));
    const entries = Object.entries(given ?? {});

    const all = given?.all;
    if (all !== undefined) {
        const level = typeof all === "string" ? all : typeof all === "object" && all !== null ? (all as Record<string, unknown>).enforcementLevel : undefined;
        const extra = typeof all === "object" && all !== null ? Object.keys(all).filter((k) => k !== "enforcementLevel") : [];
        if (!isEnforcementLevel(level)) errors.push(`${source}: all: ${describe(level)} is not an enforcement level (${ENFORCEMENT_LEVELS.join(", ")})`);
        else for (const c of Object.values(config)) c.enforcementLevel = level;
        if (extra.length) errors.push(`${source}: all takes only an enforcement level, not ${extra.join(", ")}`);
    }

    for (const [name, value] of entries) {
        if (name === "all") continue;
        const policy = byName.get(name);
        if (!policy) {
            errors.push(`${source}: "${name}" is not a policy of the pack (its policies: ${policies.map((p) => p.name).join(", ")})`);
            continue;
        }
        const target = config[name];
        if (typeof value === "string") {
            if (isEnforcementLevel(value)) target.enforcementLevel = value;
            else errors.push(`${source}: ${name}: ${describe(value)} is not an enforcement level (${ENFORCEMENT_LEVELS.join(", ")})`);
            continue;
        }
        if (!value || typeof value !== "object" || Array.isArray(value)) {
            errors.push(`${source}: ${name}: must be an enforcement level or an object of settings, not ${describe(value)}`);
            continue;
        }
        for (const [key, setting] of Object.entries(value)) {
            if (key === "enforcementLevel") {
                if (isEnforcementLevel(setting)) target.enforcementLevel = setting;
                else errors.push(`${source}: ${name}.enforcementLevel: ${describe(setting)} is not an enforcement level (${ENFORCEMENT_LEVELS.join(", ")})`);
                continue;
            }
            const schema = policy.configSchema?.properties[key];
            if (!schema) {
                const known = Object.keys(policy.configSchema?.properties ?? {});
                errors.push(
                    `${source}: ${name}.${key} is not a setting of this policy (${known.length ? `its settings: ${known.join(", ")}` : "it has no settings"})`,
                );
                continue;
            }
            target.properties[key] = setting;
        }
    }

    for (const policy of policies) {
        const props = config[policy.name].properties;
        for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
            if (props[key] !== undefined) errors.push(...validateValue(props[key], schema, `${source}: ${policy.name}.${key}`));
        }
        for (const key of policy.configSchema?.required ?? []) {
            if (props[key] === undefined) errors.push(`${source}: ${policy.name}.${key} is required`);
        }
    }
    return { config, errors };
}
