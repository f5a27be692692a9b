// Reading a stack's configuration: the raw key -> string map Pulumi hands the program (or the
// offline plan builds from a stack file) becomes a StackSpec, or a list of every error at once.
// The checks that need the topology follow in components/stackConfig.ts.
import { z } from "zod";
import { AWS_REGIONS } from "./kinds";
import { SECRET_KEYS, SECTION_SCHEMAS, STRING_SECTIONS, SectionName } from "./schema";
import { crossFieldIssues } from "./rules";
import { stackNameIssues } from "./awsRules";
import { ConfigIssue, keyPath, NAMESPACE } from "./issues";
import { environmentSecretIssues, readSecrets } from "./secrets";
import { APP_SECRETS_KEY } from "./secretNames";
import { ParsedSections, StackSpec, toStackSpec } from "./spec";

export type { ConfigIssue } from "./issues";

export interface LoadResult {
    spec?: StackSpec;
    errors: ConfigIssue[];
    warnings: ConfigIssue[];
}

/** Sections that must be present in every stack file. */
const REQUIRED_SECTIONS: SectionName[] = ["hosts", "app", "frontend", "access"];

/** Known keys, for "did you mean" hints. */
const KNOWN_KEYS = [...Object.keys(SECTION_SCHEMAS), ...Object.keys(SECRET_KEYS), APP_SECRETS_KEY];

/**
 * The AWS provider's own settings (aws:*), as @pulumi/aws declares them in config/vars; a unit test
 * keeps this list equal to the provider's.
 */
export const AWS_PROVIDER_KEYS = [
    "accessKey",
    "allowedAccountIds",
    "assumeRoleWithWebIdentity",
    "assumeRoles",
    "customCaBundle",
    "defaultTags",
    "ec2MetadataServiceEndpoint",
    "ec2MetadataServiceEndpointMode",
    "endpoints",
    "forbiddenAccountIds",
    "httpProxy",
    "httpsProxy",
    "ignoreTags",
    "insecure",
    "maxRetries",
    "noProxy",
    "profile",
    "region",
    "retryMode",
    "s3UsEast1RegionalEndpoint",
    "s3UsePathStyle",
    "secretKey",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "skipCredentialsValidation",
    "skipMetadataApiCheck",
    "skipRegionValidation",
    "skipRequestingAccountId",
    "stsRegion",
    "tagPolicyCompliance",
    "token",
    "tokenBucketRateLimiterCapacity",
    "useDualstackEndpoint",
    "useFipsEndpoint",
    "userAgents",
] as const;

/**
 * Keys renamed since the cookbook's names: raw configuration text now lives only in keys whose name
 * says it is raw. The old name is refused with the new one.
 */
const RENAMED_KEYS: Record<string, string> = {
    "app.additionalConfig": "app.rawBuildoutConfig",
    "frontend.subsiteConfig": "frontend.rawSubsiteServer",
    "frontend.nginx.additionalServers": "frontend.nginx.rawHttp",
    "frontend.nginx.additionalConfig": "frontend.nginx.rawServer",
    "frontend.nginx.additionalSslConfig": "frontend.nginx.rawSslServer",
    "frontend.nginx.defaultConfig": "frontend.nginx.rawDefaultServer",
    "frontend.nginx.defaultSslConfig": "frontend.nginx.rawDefaultSslServer",
};

/** Keys of other namespaces that are most likely plone-aws keys under a misspelt namespace, or in aws:. */
function namespaceIssues(raw: Record<string, string>): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const key of Object.keys(raw)) {
        const colon = key.indexOf(":");
        if (colon < 0) continue;
        const namespace = key.slice(0, colon);
        const name = key.slice(colon + 1);
        if (namespace === NAMESPACE) continue;
        const ours = closest(name.split(".")[0], KNOWN_KEYS, 2);
        if (namespace === "aws") {
            if ((AWS_PROVIDER_KEYS as readonly string[]).includes(name)) continue;
            const theirs = closest(name, AWS_PROVIDER_KEYS, 3);
            if (ours && (!theirs || KNOWN_KEYS.includes(name))) {
                issues.push({ path: key, message: `not a setting of the AWS provider: did you mean ${NAMESPACE}:${ours}?` });
            } else {
                issues.push({
                    path: key,
                    message: `not a setting of the AWS provider${theirs ? ` (did you mean aws:${theirs}?)` : ""}: the provider would ignore or refuse it`,
                });
            }
            continue;
        }
        const looksLikeOurs = namespace.toLowerCase().replace(/[^a-z0-9]/g, "") === "ploneaws" || editDistance(namespace.toLowerCase(), NAMESPACE) <= 2;
        if (looksLikeOurs) {
            issues.push({
                path: key,
                message: `the namespace is ${NAMESPACE}, not ${namespace}: this key would be ignored${ours ? ` (did you mean ${NAMESPACE}:${ours}?)` : ""}`,
            });
        }
    }
    return issues;
}

/**
 * Validates a raw configuration map (keys such as `plone-aws:hosts`, values as Pulumi passes them:
 * strings, JSON for structured values) into a StackSpec, by the configuration's own rules. What
 * only the topology shows comes after (components/stackConfig.ts).
 */
export function parseConfig(raw: Record<string, string>, ctx: { stackName: string }): LoadResult {
    const errors: ConfigIssue[] = [...namespaceIssues(raw)];
    const warnings: ConfigIssue[] = [];
    const sections: Partial<Record<SectionName, unknown>> = {};

    for (const key of Object.keys(raw)) {
        if (!key.startsWith(`${NAMESPACE}:`)) continue;
        const name = key.slice(NAMESPACE.length + 1);
        if (!KNOWN_KEYS.includes(name)) {
            const hint = closest(name, KNOWN_KEYS);
            errors.push({ path: key, message: `unknown key${hint ? ` (did you mean ${NAMESPACE}:${hint}?)` : ""}; the keys are ${KNOWN_KEYS.join(", ")}` });
        }
    }

    const region = raw["aws:region"];
    if (!region) errors.push({ path: "aws:region", message: "required: pulumi config set aws:region <region>, e.g. eu-west-1" });
    else if (!AWS_REGIONS.includes(region)) {
        const hint = closest(region, AWS_REGIONS, 3);
        errors.push({ path: "aws:region", message: `must be an AWS region such as eu-west-1${hint ? ` (did you mean ${hint}?)` : ""}` });
    }

    for (const name of Object.keys(SECTION_SCHEMAS) as SectionName[]) {
        const value = raw[`${NAMESPACE}:${name}`];
        if (value === undefined) {
            if (REQUIRED_SECTIONS.includes(name)) {
                errors.push({ path: `${NAMESPACE}:${name}`, message: "required: this key is missing from the stack configuration" });
                continue;
            }
        }
        let input: unknown = value;
        if (value !== undefined && !STRING_SECTIONS.has(name)) {
            try {
                input = JSON.parse(value);
            } catch {
                errors.push({ path: `${NAMESPACE}:${name}`, message: "must be a structured value (a YAML mapping or list), not a plain string" });
                continue;
            }
        }
        const result = (SECTION_SCHEMAS[name] as z.ZodType).safeParse(input, { reportInput: true });
        if (result.success) sections[name] = result.data;
        else errors.push(...result.error.issues.flatMap((issue) => describeIssue(name, issue)));
    }

    const database = sections.database as ParsedSections["database"];
    const { found, errors: secretErrors } = readSecrets(raw, { externalDatabase: !!database?.host, createsDatabase: !!database && !database.host });
    const secrets = found.set;
    errors.push(...secretErrors);
    // Secret-looking names in app.environment, also when another app key failed (all errors at once).
    const environment = (sections.app as ParsedSections["app"] | undefined)?.environment ?? rawEnvironment(raw[`${NAMESPACE}:app`]);
    errors.push(...environmentSecretIssues(environment, found.appSecretNames));

    const cross = crossFieldIssues(sections as Partial<ParsedSections>, { secrets, region });
    errors.push(...cross.errors);
    errors.push(...stackNameIssues(sections as Partial<ParsedSections>, ctx));
    warnings.push(...cross.warnings);
    if (errors.length > 0) return { errors: dedupe(errors), warnings };

    const spec = toStackSpec(sections as ParsedSections, { stackName: ctx.stackName, region: region!, secrets, appSecretNames: found.appSecretNames });
    return { spec, errors, warnings };
}

/** app.environment as written, when the app section did not parse. */
function rawEnvironment(text: string | undefined): Record<string, unknown> {
    try {
        const env = (JSON.parse(text ?? "{}") as { environment?: unknown }).environment;
        return typeof env === "object" && env !== null && !Array.isArray(env) ? (env as Record<string, unknown>) : {};
    } catch {
        return {};
    }
}

function describeIssue(section: SectionName, issue: z.core.$ZodIssue): ConfigIssue[] {
    const path = [section, ...issue.path];
    switch (issue.code) {
        case "unrecognized_keys":
            return issue.keys.map((k) => {
                const renamed = RENAMED_KEYS[[...path, k].filter((p) => typeof p === "string").join(".")];
                const known = shapeKeysAt(SECTION_SCHEMAS[section] as z.ZodType, issue.path);
                const hint = closest(k, known);
                return {
                    path: keyPath([...path, k]),
                    message:
                        k in SECRET_KEYS
                            ? `secrets are top-level keys: ${`pulumi config set --secret ${NAMESPACE}:${k} <value>`}, and remove it here`
                            : renamed
                              ? `renamed: this is now ${NAMESPACE}:${renamed}`
                              : `unknown key${hint ? ` (did you mean ${hint}?)` : ""}${known.length ? `; the keys here are ${known.join(", ")}` : ""}`,
                };
            });
        case "invalid_type":
            return [
                {
                    path: keyPath(path),
                    message:
                        issue.input === undefined ? `required (${issue.expected})` : `must be ${article(issue.expected)}, not ${describeValue(issue.input)}`,
                },
            ];
        case "invalid_value":
            return [
                { path: keyPath(path), message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, not ${describeValue(issue.input)}` },
            ];
        case "invalid_union":
            if ("options" in issue && issue.options && issue.discriminator) {
                const given = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
                return [
                    { path: keyPath(path), message: `must be one of ${issue.options.map((o) => JSON.stringify(o)).join(", ")}, not ${describeValue(given)}` },
                ];
            }
            return [{ path: keyPath(path), message: issue.message }];
        case "too_small":
        case "too_big": {
            const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
            const word = issue.code === "too_small" ? "at least" : "at most";
            const exclusive = issue.inclusive === false;
            if (issue.message && !issue.message.startsWith("Too ")) return [{ path: keyPath(path), message: issue.message }];
            const what =
                issue.origin === "array" ? `${bound} item${Number(bound) === 1 ? "" : "s"}` : issue.origin === "string" ? `${bound} characters` : String(bound);
            const bounds = exclusive ? `${issue.code === "too_small" ? "more" : "less"} than ${what}` : `${word} ${what}`;
            return [
                {
                    path: keyPath(path),
                    message: `must be ${bounds}${issue.input !== undefined && issue.origin === "number" ? `, not ${describeValue(issue.input)}` : ""}`,
                },
            ];
        }
        case "invalid_format":
        case "custom":
        default:
            return [{ path: keyPath(path), message: issue.message.replace(/^Invalid input: /, "") }];
    }
}

/** The keys of the object schema at `path` inside `schema` (for "did you mean" hints). */
function shapeKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let node: z.ZodType | undefined = schema;
    const unwrap = (s: z.ZodType): z.ZodType => {
        const def = s._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
        if (def.innerType) return unwrap(def.innerType);
        if (def.type === "pipe" && def.in) return unwrap(def.in);
        return s;
    };
    for (const part of path) {
        if (!node) return [];
        const def = unwrap(node)._zod.def as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType };
        if (def.type === "object" && typeof part === "string") node = def.shape?.[part];
        else if (def.type === "array") node = def.element;
        else if (def.type === "record") node = def.valueType;
        else return [];
    }
    if (!node) return [];
    const def = unwrap(node)._zod.def as { type: string; shape?: Record<string, z.ZodType> };
    return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(v: unknown): string {
    if (v === undefined) return "missing";
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "a mapping";
    const text = JSON.stringify(v);
    // An error line quotes at most the start of a value (a pasted 100 kB blob stays out of the report).
    return text.length > 64 ? `${text.slice(0, 60)}..."` : text;
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
    const seen = new Set<string>();
    return issues.filter((i) => {
        const k = `${i.path}\u0000${i.message}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
    });
}

/** The known key closest to a misspelt one (edit distance <= maxDistance, 3 by default). */
export function closest(name: string, candidates: readonly string[], maxDistance = 3): string | undefined {
    let best: string | undefined;
    let bestDistance = maxDistance + 1;
    for (const c of candidates) {
        const d = editDistance(name.toLowerCase(), c.toLowerCase());
        if (d < bestDistance) {
            best = c;
            bestDistance = d;
        }
    }
    return best;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let prev = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const tmp = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
            prev = tmp;
        }
    }
    return row[b.length];
}

/** The error report printed by `pulumi up` and the offline plan. */
export function formatIssues(errors: ConfigIssue[], where: string): string {
    const lines = [`${where} has ${errors.length} configuration error${errors.length === 1 ? "" : "s"}:`];
    for (const e of errors) lines.push(`  - ${e.path}: ${e.message}`);
    lines.push("Nothing was created or changed. Fix the keys above and run again.");
    return lines.join("\n");
}
