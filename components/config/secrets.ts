// The secret keys of a stack: which are set, whether each value is of a form its targets (RDS,
// haproxy.cfg, a curl configuration, an SSH client, git) accept, and the app's secret environment
// (plone-aws:appSecrets). Messages never quote a secret value, only its key.
import { z } from "zod";
import { rdsMasterPasswordProblem } from "./awsRules";
import { SECRET_KEYS, SecretKey } from "./schema";
import { APP_SECRETS_KEY, looksLikeSecretName } from "./secretNames";
import { ConfigIssue, NAMESPACE } from "./issues";

/** The value that stands for a secret the offline tools cannot read (render/context.ts writes it). */
const PLACEHOLDER = /^<secret [^<>]+>$/;

/** An environment variable name: what app.environment and appSecrets accept as names. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

const ONE_LINE = /^[^\u0000-\u001f\u007f]*$/;

/**
 * What each secret must look like. RDS refuses '/', '"', '@' and spaces in a master password, and
 * 8..128 printable ASCII characters are what it takes (CreateDBInstance, MasterUserPassword).
 */
const SECRET_FORMS: Record<SecretKey, { test: (value: string, ctx: SecretContext) => boolean; what: string }> = {
    sshPrivateKey: { test: isPrivateKey, what: "an SSH private key (the whole file, from -----BEGIN to -----END)" },
    deployKey: { test: isPrivateKey, what: "an SSH private key (the whole file, from -----BEGIN to -----END)" },
    repositoryToken: { test: (v) => /^[\x21-\x7e]{1,1024}$/.test(v), what: "a password or token of printable characters without spaces (at most 1024)" },
    dbPassword: {
        // What RDS refuses is checked (and explained) by rdsMasterPasswordProblem; deploy.cfg holds
        // the password too, and buildout has no escape for "${".
        test: (v) => !v.includes("${") && v === v.trim() && ONE_LINE.test(v) && v.length >= 1 && v.length <= 1024,
        what: "one line without '${' or blanks at either end, as deploy.cfg (buildout) holds it (e.g. openssl rand -hex 24)",
    },
    haproxyStatsPassword: { test: (v) => ONE_LINE.test(v) && v.length >= 8 && v.length <= 256, what: "one line of 8 to 256 characters" },
    cacheArchivePassword: { test: (v) => ONE_LINE.test(v) && v.length >= 1 && v.length <= 256, what: "one line of at most 256 characters" },
    newRelicLicenseKey: { test: (v) => /^[A-Za-z0-9]{32,64}$/.test(v), what: "a New Relic license key (32 to 64 letters and digits)" },
    // The relay's password map holds it as the value of one line (postfix drops blanks at either end);
    // the user ends at the first ':'.
    smtpCredentials: {
        test: (v) => /^[A-Za-z0-9._@+=-]{1,256}:[\x21-\x7e]([\x20-\x7e]{0,254}[\x21-\x7e])?$/.test(v),
        what: "USER:PASSWORD on one line: a user of letters, digits and '.', '_', '@', '+', '=', '-' (SES: the access key id), ':', then a password of printable ASCII without blanks at either end",
    },
};

interface SecretContext {
    /** database.host names a server outside the stack: its password rules are its own. */
    externalDatabase: boolean;
    /** The stack creates an RDS instance, whose master password is dbPassword. */
    createsDatabase: boolean;
}

function isPrivateKey(value: string): boolean {
    const text = value.trim();
    return /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\n[\s\S]+\n-----END [A-Z0-9 ]*PRIVATE KEY-----$/.test(text) && !text.includes("\u0000");
}

export interface SecretsFound {
    /** Which of the secret keys are set (the values never leave this module's callers). */
    set: Record<SecretKey, boolean>;
    /** The names of the app's secret environment variables (plone-aws:appSecrets). */
    appSecretNames: string[];
}

/** Reads which secrets are set and checks each value's form; the errors name keys, never values. */
export function readSecrets(raw: Record<string, string>, ctx: SecretContext): { found: SecretsFound; errors: ConfigIssue[] } {
    const errors: ConfigIssue[] = [];
    const set = {} as Record<SecretKey, boolean>;
    for (const key of Object.keys(SECRET_KEYS) as SecretKey[]) {
        const full = `${NAMESPACE}:${key}`;
        const value = raw[full];
        set[key] = value !== undefined && value !== "";
        if (!set[key] || PLACEHOLDER.test(value)) continue;
        const form = SECRET_FORMS[key];
        if (!form.test(value, ctx)) errors.push({ path: full, message: `must be ${form.what}: set it again with pulumi config set --secret ${full}` });
        const rds = key === "dbPassword" && ctx.createsDatabase ? rdsMasterPasswordProblem(value) : undefined;
        if (rds) {
            errors.push({
                path: full,
                message: `RDS refuses this master password (${rds}): set one of printable ASCII without / " @ or spaces, e.g. pulumi config set --secret ${full} "$(openssl rand -hex 24)"`,
            });
        }
    }
    return { found: { set, appSecretNames: readAppSecretNames(raw, errors) }, errors };
}

/** The command that sets one variable of the app's secret environment. */
export function setAppSecretCommand(name: string): string {
    return `pulumi config set --secret --path '${NAMESPACE}:${APP_SECRETS_KEY}.${name}' <value>`;
}

const appSecretsShape = z.record(z.string(), z.string());

function readAppSecretNames(raw: Record<string, string>, errors: ConfigIssue[]): string[] {
    const full = `${NAMESPACE}:${APP_SECRETS_KEY}`;
    const value = raw[full];
    if (value === undefined || value === "") return [];
    if (PLACEHOLDER.test(value)) {
        errors.push({ path: full, message: `must be a mapping of variable names to secret values, each set with ${setAppSecretCommand("NAME")}` });
        return [];
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        parsed = undefined;
    }
    const result = appSecretsShape.safeParse(parsed);
    if (!result.success) {
        errors.push({ path: full, message: `must be a mapping of variable names to secret values, each set with ${setAppSecretCommand("NAME")}` });
        return [];
    }
    const names: string[] = [];
    for (const [name, secret] of Object.entries(result.data)) {
        const path = `${full}.${name}`;
        if (!ENV_NAME.test(name))
            errors.push({ path, message: "must be an environment variable name (letters, digits and '_', not starting with a digit, at most 128)" });
        else if (secret.includes("\u0000") || secret.length > 16384)
            errors.push({
                path,
                message: `must be a value without NUL characters, of at most 16384 characters: set it again with ${setAppSecretCommand(name)}`,
            });
        else names.push(name);
    }
    return names.sort();
}

/**
 * app.environment is written where the deploy user, the plan and reviewers read it: a variable
 * whose name or value says it is a secret belongs in plone-aws:appSecrets.
 */
export function environmentSecretIssues(environment: Record<string, unknown>, appSecretNames: readonly string[]): ConfigIssue[] {
    const issues: ConfigIssue[] = [];
    for (const name of Object.keys(environment)) {
        const path = `${NAMESPACE}:app.environment.${name}`;
        // Secret values (a password in a URL, an authorization header) are refused by the envValue kind.
        if (looksLikeSecretName(name)) {
            issues.push({
                path,
                message: `looks like a secret, and app.environment is readable on the hosts and in the plan: remove it here and set it with ${setAppSecretCommand(name)}`,
            });
        } else if (appSecretNames.includes(name)) {
            issues.push({ path, message: `is also set in ${NAMESPACE}:${APP_SECRETS_KEY}: keep one of the two` });
        }
    }
    return issues;
}
