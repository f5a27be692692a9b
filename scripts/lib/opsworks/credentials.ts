// Credentials inside the values of an OpsWorks Custom JSON. The cookbook's JSON held secrets in
// clear, not only under secret keys: a repository URL with `user:token@`, a DATABASE_URL with a
// password, a Sentry DSN, an `Authorization:` header, a `password = ...` line in a buildout snippet.
// The importer uses these helpers to route such values to `pulumi config set --secret` commands,
// to leave them out of the stack file, and to keep them out of everything it prints.
import { looksLikeSecretName, urlHasCredentials } from "../../../components/config/secretNames";

/** Known token formats, recognisable by their prefix wherever they appear. */
const TOKEN_FORMATS: readonly { pattern: RegExp; what: string }[] = [
    { pattern: /\bAKIA[0-9A-Z]{16}\b/, what: "an AWS access key id" },
    { pattern: /\bgh[pousr]_[A-Za-z0-9]{30,}/, what: "a GitHub token" },
    { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}/, what: "a GitHub token" },
    { pattern: /\bglpat-[A-Za-z0-9_-]{20,}/, what: "a GitLab token" },
    { pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/, what: "a Slack token" },
    { pattern: /\b[rs]k_live_[A-Za-z0-9]{16,}/, what: "a Stripe key" },
    { pattern: /\bAIza[0-9A-Za-z_-]{35}\b/, what: "a Google API key" },
];

/** A URL whose user-info has a password, also with an empty user name (redis://:password@host). */
const URL_PASSWORD = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/;
/** A URL whose user-info is one long word: a token used as the user name (a Sentry DSN, a GitHub token). */
const URL_TOKEN_USER = /[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/\s:@]+)@/g;
const AUTHORIZATION = /\bAuthorization\s*[:=]\s*\S|\b(Bearer|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{12,}/i;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** The `name =` of `name = value`, `name: value`, `--name=value`, `?name=value` (the value is read after it). */
const ASSIGNMENT = /(?<=^|[\s;,&?'"-])([A-Za-z_][\w.-]*)[ \t]*[=:][ \t]*/gm;
const ASSIGNED_VALUE = /^("[^"\n]*"|'[^'\n]*'|[^\s;,&'"]+)/;

/** True for a user-info word that is a token rather than a user name. */
function isTokenWord(word: string): boolean {
    if (TOKEN_FORMATS.some((t) => t.pattern.test(word))) return true;
    return word.length >= 20 && /^[A-Za-z0-9_-]+$/.test(word) && /[0-9]/.test(word) && /[A-Za-z]/.test(word);
}

/** A value after `=` that cannot be a secret: a reference, a flag, a number, a path, or nothing. */
function isHarmlessSetting(raw: string): boolean {
    const value = raw.replace(/^(["'])(.*)\1$/, "$2").trim();
    return (
        value.length < 4 ||
        /^(\$|%\(|\{\{)/.test(value) ||
        /^(true|false|yes|no|on|off|none|null|nil|required|optional)$/i.test(value) ||
        /^[\d.]+[a-z]{0,2}$/i.test(value) ||
        /^(\/|\.\/|~\/)/.test(value) ||
        /^[a-z][a-z0-9+.-]*:\/\/[^@]*$/i.test(value)
    );
}

/**
 * What kind of credential a text holds ("a URL with a password", "an Authorization header", ...),
 * or undefined. The description never contains the value.
 */
export function findCredential(text: string): string | undefined {
    if (urlHasCredentials(text) || URL_PASSWORD.test(text)) return "a URL with a password (user:password@)";
    for (const m of text.matchAll(URL_TOKEN_USER)) if (isTokenWord(m[1])) return "a URL with a token as its user name (e.g. a Sentry DSN)";
    if (PRIVATE_KEY.test(text)) return "a private key";
    if (AUTHORIZATION.test(text)) return "an Authorization header";
    const token = TOKEN_FORMATS.find((t) => t.pattern.test(text));
    if (token) return token.what;
    for (const m of text.matchAll(ASSIGNMENT)) {
        const value = ASSIGNED_VALUE.exec(text.slice(m.index + m[0].length))?.[1];
        if (value !== undefined && looksLikeSecretName(m[1]) && !isHarmlessSetting(value)) return `a secret setting (${m[1]} = ...)`;
    }
    return undefined;
}

/** Why an environment variable is a secret (its name, or what its value holds), or undefined. */
export function secretEnvReason(name: string, value: string): string | undefined {
    if (looksLikeSecretName(name)) return "its name says it holds a secret";
    const found = findCredential(value);
    return found ? `its value holds ${found}` : undefined;
}

export interface UrlCredentials {
    /** The URL without the secret: with the user name when there was one besides the secret. */
    url: string;
    user?: string;
    /** The password, or the token that stood as the user name. */
    secret: string;
    /** Where the secret stood in the user-info. */
    place: "password" | "user";
}

/**
 * Splits the secret off a URL's user-info: `https://ci:TOKEN@host/x` -> `https://ci@host/x` and
 * TOKEN; `https://TOKEN@host/x` -> `https://host/x` and TOKEN. Undefined when the URL has no
 * secret (`https://oauth2@gitlab.com/...` keeps its user name, `git@github.com:...` is SSH).
 */
export function splitUrlCredentials(url: string): UrlCredentials | undefined {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s.exec(url);
    if (!m) return undefined;
    const [, scheme, authority, rest] = m;
    const at = authority.lastIndexOf("@");
    if (at < 0) return undefined;
    const userInfo = authority.slice(0, at);
    const host = authority.slice(at + 1);
    const colon = userInfo.indexOf(":");
    if (colon >= 0) {
        const user = userInfo.slice(0, colon);
        const secret = userInfo.slice(colon + 1);
        if (!secret) return undefined;
        return { url: `${scheme}${user ? `${user}@` : ""}${host}${rest}`, user: user || undefined, secret, place: "password" };
    }
    if (!isTokenWord(userInfo)) return undefined;
    return { url: `${scheme}${host}${rest}`, secret: userInfo, place: "user" };
}

/**
 * A jq filter (after the path filter) that extracts what splitUrlCredentials calls the secret, so
 * the printed command can pipe it without showing it. Undefined when the secret is percent-encoded
 * (jq cannot decode it): the command then prompts for it.
 */
export function jqUrlSecret(found: UrlCredentials): string | undefined {
    if (found.secret.includes("%")) return undefined;
    return found.place === "password"
        ? ` | capture("^[^:/]+://[^:/?#]*:(?<secret>[^/?#]*)@[^@/?#]*([/?#]|$)").secret`
        : ` | capture("^[^:/]+://(?<secret>[^:@/?#]+)@").secret`;
}

export const NOT_SHOWN = "(a secret, not shown)";
const SHOWN_LENGTH = 60;

/** True when a value (or a value inside it) is a secret by its key's name or by what it holds. */
export function holdsSecret(value: unknown, name?: string): boolean {
    if (value === null || value === undefined || typeof value === "boolean" || typeof value === "number") return false;
    if (typeof value === "string") return (name !== undefined && looksLikeSecretName(name) && value !== "") || findCredential(value) !== undefined;
    if (Array.isArray(value)) return value.some((v) => holdsSecret(v, name));
    if (typeof value === "object") return Object.entries(value).some(([k, v]) => holdsSecret(v, k));
    return false;
}

/**
 * A value as the import's report shows it: JSON, shortened, with control characters escaped; a
 * secret (by its key's name or what it holds) is never shown.
 */
export function displayValue(value: unknown, name?: string): string {
    if (value === undefined) return "(nothing)";
    const json = JSON.stringify(value) ?? String(value);
    if (holdsSecret(value, name)) {
        if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}, holding a secret: not shown]`;
        if (value !== null && typeof value === "object") return `{${Object.keys(value).length} keys, holding a secret: not shown}`;
        return NOT_SHOWN;
    }
    if (json.length <= SHOWN_LENGTH) return json;
    if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}]`;
    if (value !== null && typeof value === "object")
        return `{${Object.keys(value).length} keys: ${Object.keys(value)
            .slice(0, 3)
            .map((k) => JSON.stringify(k))
            .join(", ")}${Object.keys(value).length > 3 ? ", ..." : ""}}`;
    const text = String(value);
    return `${JSON.stringify(text.slice(0, SHOWN_LENGTH - 20)).slice(0, -1)}..." (${text.length} characters)`;
}
