// The offline check of every registered resource against what AWS and the provider accept: the
// constraints of AWS's service models (api-constraints.json, generated from botocore), the
// provider's own validations and auto-naming limits (providerRules.ts), and the quotas a stack
// can hit by itself (quotas.ts). `npm run plan` stops on what it finds, as on a config error.
import type { StackSpec } from "../../../components/config/spec";
import { CapturedResource, OfflineRun, unwrapSecrets } from "../offline/run";
import type { ApiConstraint, ApiConstraintData } from "./generate";
import { AUTONAME_RANDOM_LENGTH, AUTONAME_RULES, FIELD_RULES, TAG_RULES } from "./providerRules";
import { quotaIssues } from "./quotas";
import apiConstraintData from "./api-constraints.json";

export { siblingStacks } from "./quotas";

export interface AwsIssue {
    /** Logical name of the resource. */
    resource: string;
    type: string;
    /** The input, with list indices (policyDetails.schedules[0].name). */
    field: string;
    value?: unknown;
    message: string;
    /** Where the rule comes from: the API model, the provider, a quota. */
    source: string;
}

export const API_CONSTRAINTS = apiConstraintData as ApiConstraintData;

/** The values at an input path: "a.b", "a[]" (list elements), "a{key}" / "a{value}" (map entries). */
export function valuesAt(root: unknown, inputPath: string): { path: string; value: unknown }[] {
    let current: { path: string; value: unknown }[] = [{ path: "", value: root }];
    for (const segment of inputPath.split(".")) {
        const m = /^([A-Za-z0-9_]+)(\[\]|\{key\}|\{value\})?$/.exec(segment);
        if (!m) throw new Error(`bad input path ${inputPath}`);
        const next: { path: string; value: unknown }[] = [];
        for (const { path, value } of current) {
            if (value === null || typeof value !== "object") continue;
            const child = (value as Record<string, unknown>)[m[1]];
            const base = path ? `${path}.${m[1]}` : m[1];
            if (child === undefined || child === null) continue;
            if (m[2] === "[]") {
                if (Array.isArray(child)) child.forEach((v, i) => next.push({ path: `${base}[${i}]`, value: v }));
            } else if (m[2] === "{key}" || m[2] === "{value}") {
                if (typeof child === "object" && !Array.isArray(child)) {
                    for (const [k, v] of Object.entries(child as Record<string, unknown>))
                        next.push({ path: `${base}["${k}"]`, value: m[2] === "{key}" ? k : v });
                }
            } else {
                next.push({ path: base, value: child });
            }
        }
        current = next;
    }
    return current;
}

/**
 * A model pattern as a JavaScript expression matching the whole value (AWS validates the whole
 * member). Java's \p{all} becomes [\s\S]; the rest (\p{L}, lookaheads, ranges) is the same.
 */
export function modelPattern(pattern: string): RegExp {
    return new RegExp(`^(?:${pattern.replace(/\\p\{all\}/g, "\\s\\S")})$`, "u");
}

const patterns = new Map<string, RegExp>();

/** Why a value breaks a model constraint, or undefined. */
export function apiProblem(c: ApiConstraint, value: unknown): string | undefined {
    if (typeof value === "string") {
        if (c.enum && !c.enum.includes(value)) return `must be one of ${c.enum.join(", ")}`;
        if (c.min !== undefined && value.length < c.min) return `is ${value.length} characters, at least ${c.min} are needed`;
        if (c.max !== undefined && value.length > c.max) return `is ${value.length} characters, at most ${c.max} are allowed`;
        if (c.pattern) {
            let re = patterns.get(c.pattern);
            if (!re) patterns.set(c.pattern, (re = modelPattern(c.pattern)));
            if (!re.test(value)) return `does not match ${c.pattern}`;
        }
    } else if (typeof value === "number") {
        if (c.min !== undefined && value < c.min) return `is ${value}, at least ${c.min} is needed`;
        if (c.max !== undefined && value > c.max) return `is ${value}, at most ${c.max} is allowed`;
    }
    return undefined;
}

function plain(r: CapturedResource): Record<string, unknown> {
    return unwrapSecrets(r.inputs) as Record<string, unknown>;
}

/** Checks one value against every rule for (type, input). */
function checkValue(r: CapturedResource, inputs: Record<string, unknown>, input: string, field: string, value: unknown, data: ApiConstraintData): AwsIssue[] {
    const issues: AwsIssue[] = [];
    if (typeof value !== "string" && typeof value !== "number") return issues;
    for (const c of data.constraints) {
        if (c.type !== r.type || c.input !== input) continue;
        const problem = apiProblem(c, value);
        if (problem)
            issues.push({
                resource: r.name,
                type: r.type,
                field,
                value,
                message: problem,
                source: `AWS API model (botocore ${data.botocore}): ${c.api} (${c.shape})`,
            });
    }
    for (const rule of FIELD_RULES) {
        if (rule.type !== r.type || rule.input !== input) continue;
        const problem = rule.check(value, inputs);
        if (problem) issues.push({ resource: r.name, type: r.type, field, value, message: problem, source: rule.source });
    }
    for (const rule of TAG_RULES) {
        if (rule.input !== input) continue;
        const problem = rule.check(value);
        if (problem) issues.push({ resource: r.name, type: r.type, field, value, message: problem, source: rule.source });
    }
    return issues;
}

export interface AwsCheckOptions {
    spec: StackSpec;
    /** The other stack files of the repository (Elastic IPs per region); siblingStacks(file). */
    siblings?: { file: string; stack: string; region: string; elasticIps: number }[];
    /** The constraint data (tests pass a regenerated one). */
    data?: ApiConstraintData;
}

/** Every input of the run AWS or the provider would refuse, and the quotas it would exceed. */
export function checkAwsConstraints(run: OfflineRun, options: AwsCheckOptions): AwsIssue[] {
    const data = options.data ?? API_CONSTRAINTS;
    const issues: AwsIssue[] = [];
    const inputsChecked = new Set([...data.constraints.map((c) => c.input), ...FIELD_RULES.map((r) => r.input), ...TAG_RULES.map((r) => r.input)]);
    for (const r of run.resources) {
        if (!r.custom) continue;
        const inputs = plain(r);
        for (const input of inputsChecked) {
            for (const { path, value } of valuesAt(inputs, input)) issues.push(...checkValue(r, inputs, input, path, value, data));
        }
        // Names the provider generates: the logical name, the separator and 7 random hex characters.
        for (const rule of AUTONAME_RULES) {
            if (rule.type !== r.type || inputs[rule.input] !== undefined) continue;
            const generated = `${r.name}${rule.separator}${"0123abc".slice(0, AUTONAME_RANDOM_LENGTH)}`;
            if (generated.length > rule.maxLength) {
                issues.push({
                    resource: r.name,
                    type: r.type,
                    field: rule.input,
                    value: `${r.name}${rule.separator}<${AUTONAME_RANDOM_LENGTH} random>`,
                    message: `Pulumi names it after the resource (${r.name.length} characters) plus ${rule.separator.length + AUTONAME_RANDOM_LENGTH}: ${generated.length}, and at most ${rule.maxLength} are allowed`,
                    source: rule.source,
                });
                continue;
            }
            for (const issue of checkValue(r, inputs, rule.input, rule.input, generated, data)) {
                issues.push({
                    ...issue,
                    value: `${r.name}${rule.separator}<${AUTONAME_RANDOM_LENGTH} random>`,
                    message: `(the name Pulumi generates) ${issue.message}`,
                });
            }
        }
    }
    issues.push(...quotaIssues(run, options.spec, options.siblings ?? []));
    return issues;
}

/** The report `npm run plan` prints before it stops. */
export function formatAwsIssues(issues: AwsIssue[], where: string): string {
    const lines = [`${where}: AWS or the provider would refuse ${issues.length} input${issues.length === 1 ? "" : "s"} at \`pulumi up\`:`];
    for (const i of issues) {
        const value = i.value === undefined ? "" : ` = ${JSON.stringify(i.value)}`;
        lines.push(`  - ${i.resource} (${i.type}) ${i.field}${value}: ${i.message} [${i.source}]`);
    }
    lines.push("Nothing was created or changed. Change the keys (or the program) behind these inputs and run again.");
    return lines.join("\n");
}
