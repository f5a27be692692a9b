// Which names hold secrets. app.environment is written into files many users can read (supervisor
// programs, deploy.env, deploy.cfg) and into the plan, so a variable whose name says it is a secret
// is refused there and belongs in the secret map plone-aws:appSecrets; the OpsWorks importer routes
// such values (and credentials it finds inside other values) to `pulumi config set --secret`.

/** Words that mark a secret wherever they are in a name (split at `_`, `-`, `.` and case changes). */
export const SECRET_NAME_PARTS = [
    "PASS",
    "PASSWD",
    "PASSWORD",
    "PASSPHRASE",
    "PWD",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "DSN",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATE",
    "SALT",
    "APIKEY",
    "ACCESSKEY",
] as const;

/** Words that mark a secret as the last word of a name: API_KEY, LICENSE_KEY, BASIC_AUTH; not CACHE_KEY_PREFIX or USE_AUTH_CACHE. */
export const SECRET_NAME_ENDINGS = ["KEY", "AUTH", "AUTHORIZATION", "LICENSE"] as const;

/** The config key of the app's secret environment: a map NAME -> value, each value a Pulumi secret. */
export const APP_SECRETS_KEY = "appSecrets";

/**
 * True when an environment variable (or attribute) name says it holds a secret: one of its words
 * (split at `_`, `-`, `.`, or between a lower-case letter and an upper-case one) is a secret word,
 * e.g. DB_PASSWORD, SENTRY_DSN, SMTP_PASS, aws-access-key, apiToken. PUBLIC_KEY and KEYWORDS are not
 * secrets: a word must match whole, and a public key is public.
 */
export function looksLikeSecretName(name: string): boolean {
    const words = name
        .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
        .toUpperCase()
        .split(/[^A-Z0-9]+/)
        .filter(Boolean);
    if (words.includes("PUBLIC")) return false;
    const parts: readonly string[] = SECRET_NAME_PARTS;
    const endings: readonly string[] = SECRET_NAME_ENDINGS;
    if (words.some((w) => parts.includes(w))) return true;
    if (words.length > 0 && endings.includes(words[words.length - 1])) return true;
    // Run-together names: DBPASSWORD, APIKEY, AUTHTOKEN.
    const joined = words.join("");
    return ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "ACCESSKEY", "PRIVATEKEY", "CREDENTIAL"].some((p) => joined.includes(p));
}

/** A URL that carries a password in its user-info part (scheme://user:password@host). */
export function urlHasCredentials(value: string): boolean {
    return /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/.test(value);
}
