// The kinds of string a stack file may hold. Every string key of the schema is built from one of
// these, so each value is known to be a name, a DNS name, a path, a URL... before it reaches a
// root script or a daemon's configuration. No kind but `raw` and `openpgpKeys` (only between the
// lines of its strict format) accepts a line break, and none accepts another control character. Renderers still encode each value for its target syntax
// (components/render/encode.ts); the kinds make sure there is nothing a target cannot express.
import { z } from "zod";

/** Every kind, with what it accepts: the README and docs/opsworks-attributes.md list these. */
export const STRING_KINDS = {
    name: "an identifier of a fixed pattern (letters, digits and at most '_', '-', '.'): host, app, database and program names",
    format: "a value of a fixed format given by a pattern: instance types, sizes, durations, cron schedules, windows, CIDR blocks, ARNs, keys",
    dnsName: "a DNS name such as www.example.org (lower-case letters, digits, '-' and dots; a leading '*.' where the key allows it)",
    hostAddress: "a DNS name or an IPv4 address: a server the hosts connect to",
    url: "a URL with one of the schemes the key allows, without spaces, quotes, '$', '`', '\\' or a password",
    absolutePath: "an absolute path of letters, digits and '_', '-', '.', '@', '+', '/' without '..' segments",
    relativePath: "a path inside the release (no leading '/'), of letters, digits and '_', '-', '.', '@', '+', '/' without '..' segments",
    urlPath: "a URL path starting with '/', without spaces, quotes, '$', '`', '\\' or '..' segments",
    gitRevision: "a branch, tag or commit as git accepts it (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', and not starting with '-')",
    regex: "one line holding a valid regular expression",
    text: "one line of text without control characters",
    shellWords:
        "arguments separated by spaces: plain words of letters, digits and '_', '-', '.', ',', '=', ':', '/', '@', '%', '+', or quoted text ('...', or \"...\" without '$', '`', '\\')",
    envValue: "one line of text without control characters, '$' or a password in a URL, not starting or ending with a blank",
    shellCommand: "one line of shell, run by bash as the deploy user (never root) in the release directory",
    raw: "raw configuration text, several lines: only in keys whose name starts with 'raw', only into files a daemon validates before they go live",
    openpgpKeys:
        "OpenPGP public keys in ASCII armor, as gpg --armor --export writes them (BEGIN line, headers, a blank line, base64 lines, END line; several blocks may follow each other): into a file, never a script",
} as const;
export type StringKind = keyof typeof STRING_KINDS;

/** The kind of every string schema built here; tests walk the schema and read it. */
const kindRegistry = z.registry<{ kind: StringKind }>();

/** The declared kind of a string schema, or undefined for a string schema built without one. */
export function kindOf(schema: z.ZodType): StringKind | undefined {
    return kindRegistry.get(schema)?.kind;
}

function declare<T extends z.ZodType>(kind: StringKind, schema: T): T {
    kindRegistry.add(schema, { kind });
    return schema;
}

/** C0 and C1 control characters and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same, but tab and line feed are allowed (raw blocks). */
const CONTROL_IN_RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

/** The limit of every single-line value: far above any real one, far below what would slow a renderer. */
export const MAX_LINE = 1024;
/** The limit of a raw block. */
export const MAX_RAW = 32 * 1024;

/** The start of every single-line kind: a string of 1..max characters with no control character. */
function line(max = MAX_LINE, min = 1) {
    return z
        .string()
        .min(min, min === 1 ? "must not be empty" : `must be at least ${min} characters`)
        .max(max, `must be at most ${max} characters`)
        .refine((v) => !CONTROL.test(v), "must be one line without control characters (no line break, tab or NUL)");
}

/** An identifier of a fixed pattern. `what` says in words what the pattern allows. */
export function name(pattern: RegExp, what: string) {
    return declare("name", line().regex(pattern, `must be ${what}`));
}

/**
 * A value of a fixed format. `what` says in words what the pattern allows; `check` is a further
 * test the pattern cannot express (a CIDR's host bits, a port range), with `what` as its message.
 */
export function format(pattern: RegExp, what: string, max = MAX_LINE, check?: (value: string) => boolean) {
    const schema = line(max).regex(pattern, `must be ${what}`);
    return declare("format", check ? schema.refine(check, `must be ${what}`) : schema);
}

const DNS_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)+[a-z]{2,63}$`);
const WILDCARD_DNS_NAME = new RegExp(`^(\\*\\.)?(${DNS_LABEL}\\.)+[a-z]{2,63}$`);

/** A DNS name (lower case); `wildcard` allows a leading "*.". */
export function dnsName(opts: { wildcard?: boolean } = {}) {
    return declare(
        "dnsName",
        line(253).regex(
            opts.wildcard ? WILDCARD_DNS_NAME : DNS_NAME,
            `must be a DNS name such as www.example.org${opts.wildcard ? " (or *.example.org)" : ""}`,
        ),
    );
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** Host names of servers outside the stack may be upper case or single-label (a VPC-internal name). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** True for a DNS host name or an IPv4 address. */
export function isHostAddress(value: string): boolean {
    return IPV4.test(value) || HOST_NAME.test(value);
}

/** A server's DNS name or IPv4 address. */
export function hostAddress() {
    return declare("hostAddress", line(253).refine(isHostAddress, "must be a DNS name (such as db.example.internal) or an IPv4 address"));
}

/** Characters of a URL that no target needs quoting rules for: RFC 3986 minus quotes, '$' and '\'. */
const URL_CHARS = /^[A-Za-z0-9._~:/?#[\]@!&()*+,;=%-]+$/;

export type UrlScheme = "https" | "http" | "ssh" | "git" | "file";

/** The user-info part of a URL holds a password (scheme://user:password@host). */
export function urlHasPassword(value: string): boolean {
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(value);
    return !!m && m[1].includes(":");
}

/** A URL with one of `schemes`, without a password (passwords are secrets: `secretHint` says which). */
export function url(schemes: readonly UrlScheme[], secretHint: string) {
    const pattern = new RegExp(`^(${schemes.join("|")})://[^/?#\\s]`);
    return declare(
        "url",
        line()
            .regex(pattern, `must be a URL starting with ${schemes.map((s) => `${s}://`).join(" or ")}`)
            .regex(URL_CHARS, "must be a URL without spaces, quotes, '$', '`', '<', '>' or '\\' (percent-encode them)")
            .refine((v) => !urlHasPassword(v), `must not carry a password: ${secretHint}`),
    );
}

/** A git repository: a URL (https, ssh, git, file), scp-style user@host:path, or an absolute path. */
export function gitUrl(secretHint: string) {
    return declare(
        "url",
        line()
            .regex(
                /^((https|ssh|git):\/\/[^/?#\s]|file:\/\/\/?[^/\s]|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/\s]|\/[^/\s])/,
                "must be a git URL (https://, ssh://, git://, git@host:path, file:// or an absolute path)",
            )
            .regex(URL_CHARS, "must be a URL without spaces, quotes, '$', '`', '<', '>' or '\\' (percent-encode them)")
            .refine((v) => !urlHasPassword(v), `must not carry a password: ${secretHint}`),
    );
}

const PATH_CHARS = /^[A-Za-z0-9_.@+/-]+$/;
const hasDotDot = (p: string) => p.split("/").some((s) => s === "..");
const allDots = (p: string) => p.split("/").some((s) => s === ".");

/** An absolute path on a host. */
export function absolutePath() {
    return declare(
        "absolutePath",
        line(4096)
            .regex(/^\//, "must be an absolute path (starting with '/')")
            .regex(PATH_CHARS, "must be a path of letters, digits and '_', '-', '.', '@', '+', '/'")
            .refine((p) => !hasDotDot(p) && !allDots(p), "must not have '.' or '..' segments"),
    );
}

/** A path inside the release or the app's deploy directory. */
export function relativePath() {
    return declare(
        "relativePath",
        line(4096)
            .regex(/^[^/-]/, "must be a relative path (not starting with '/' or '-')")
            .regex(PATH_CHARS, "must be a path of letters, digits and '_', '-', '.', '@', '+', '/'")
            .refine((p) => !hasDotDot(p) && !allDots(p), "must be a path inside the release, without '.' or '..' segments"),
    );
}

/** A URL path (with an optional query), as Plone serves it. */
export function urlPath() {
    return declare(
        "urlPath",
        line(2048)
            .regex(/^\//, "must start with '/'")
            .regex(/^[A-Za-z0-9._~:/?@!&()*+,;=%-]+$/, "must be a URL path without spaces, quotes, '#', '$', '`' or '\\' (percent-encode them)")
            .refine((p) => !hasDotDot(p.split("?")[0]), "must not have '..' segments"),
    );
}

/** Whether git would accept `value` as a branch, tag or commit name (git check-ref-format, plus no leading '-'). */
export function isGitRevision(value: string): boolean {
    if (!/^[A-Za-z0-9._/+@-]+$/.test(value)) return false;
    if (value.startsWith("-") || value.startsWith("/") || value.endsWith("/") || value.endsWith(".")) return false;
    if (value.includes("..") || value.includes("//") || value.includes("@{") || value === "@") return false;
    return value.split("/").every((c) => c.length > 0 && !c.startsWith(".") && !c.endsWith(".lock"));
}

export function gitRevision() {
    return declare(
        "gitRevision",
        line(255).refine(isGitRevision, "must be a branch, tag or commit name as git accepts it (letters, digits, '.', '_', '-', '/', not starting with '-')"),
    );
}

/** A regular expression (JavaScript syntax, which Varnish's PCRE2 reads the same for the usual ones). */
export function regex() {
    return declare(
        "regex",
        line().refine((v) => {
            try {
                new RegExp(v);
                return true;
            } catch {
                return false;
            }
        }, "must be a valid regular expression"),
    );
}

/** One line of free text. */
export function text(max = MAX_LINE) {
    return declare("text", line(max));
}

/** One line of free text that deploy.cfg holds unchanged: buildout strips blanks at either end and reads "${" as a substitution. */
export function buildoutText(max = MAX_LINE) {
    return declare(
        "text",
        line(max)
            .refine((v) => v === v.trim(), "must not start or end with a blank (buildout would drop it)")
            .refine((v) => !v.includes("${"), 'must not contain "${" (buildout reads it as a substitution)'),
    );
}

/**
 * One argument: plain characters, 'single-quoted' text, or "double-quoted" text without '$', '`'
 * and '\', which bash and supervisor (Python's shlex, POSIX mode) split and unquote alike.
 */
const SHELL_WORD = `(?:[A-Za-z0-9_.,=:/@%+-]|'[^'\u0000-\u001f\u007f]*'|"[^"\\\\$\`\u0000-\u001f\u007f]*")+`;

/** Command-line arguments that every target (bash, supervisor) reads the same way. */
export function shellWords() {
    return declare(
        "shellWords",
        z
            .string()
            .max(MAX_LINE, `must be at most ${MAX_LINE} characters`)
            .regex(
                new RegExp(`^(${SHELL_WORD}( +${SHELL_WORD})*)?$`),
                "must be arguments separated by spaces: letters, digits, '_', '-', '.', ',', '=', ':', '/', '@', '%', '+', and text in '...' or in \"...\" (without '$', '`' or '\\'); no ';', '|', '&', '<', '>' or '$'",
            ),
    );
}

/** The value of an environment variable of the app (not a secret: those are in plone-aws:appSecrets). */
export function envValue() {
    return declare(
        "envValue",
        z
            .string()
            .max(4096, "must be at most 4096 characters")
            .refine((v) => !CONTROL.test(v), "must be one line without control characters (no line break, tab or NUL)")
            .refine((v) => v === v.trim(), "must not start or end with a blank (buildout and zope.conf would drop it)")
            .refine((v) => !v.includes("$"), "must not contain '$' (buildout and zope.conf read it as a substitution)")
            .refine(
                (v) => !urlHasPassword(v),
                "carries a password in a URL: put the variable in plone-aws:appSecrets instead (pulumi config set --secret --path 'plone-aws:appSecrets.NAME')",
            )
            .refine(
                (v) => !/^(Bearer|Basic|Token|Digest)\s+\S{8,}/i.test(v),
                "holds an HTTP authorization value: put the variable in plone-aws:appSecrets instead (pulumi config set --secret --path 'plone-aws:appSecrets.NAME')",
            ),
    );
}

/** A shell command line run as the deploy user: the build and bootstrap commands. */
export function shellCommand() {
    return declare("shellCommand", line(4096));
}

/** A raw configuration block; `target` names the file and the daemon that validates it. */
export function raw() {
    return declare(
        "raw",
        z
            .string()
            .max(MAX_RAW, `must be at most ${MAX_RAW} characters`)
            .refine((v) => !CONTROL_IN_RAW.test(v), "must be text without control characters other than line breaks and tabs"),
    );
}

/** One OpenPGP public key block in ASCII armor: the BEGIN line, printable headers, a blank line, base64 lines (the checksum too), the END line. */
const ARMORED_PUBLIC_KEY_BLOCK =
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\\n(?:[A-Za-z][A-Za-z-]{0,40}: [ -~]{0,200}\\n)*\\n(?:[A-Za-z0-9+/=]{1,200}\\n)+-----END PGP PUBLIC KEY BLOCK-----\\n";
const ARMORED_PUBLIC_KEYS = new RegExp(`^(?:${ARMORED_PUBLIC_KEY_BLOCK}\\n*)+$`);

/** OpenPGP public keys in ASCII armor (one block or several), line ends normalized to LF; nothing else. */
export function openpgpKeys() {
    // The schema walk (stringKeys) reads the kind of the string inside the transform: declared on both.
    const text = declare("openpgpKeys", z.string().max(500_000, "must be at most 500,000 characters of keys"));
    return declare(
        "openpgpKeys",
        text
            .transform((v) => `${v.replace(/\r\n/g, "\n").trim()}\n`)
            .refine(
                (v) => ARMORED_PUBLIC_KEYS.test(v),
                "not OpenPGP public keys in ASCII armor (-----BEGIN PGP PUBLIC KEY BLOCK----- ... -----END PGP PUBLIC KEY BLOCK-----): export them with gpg --armor --export",
            ),
    );
}

/** An e-mail address (the address part only: no display name). */
export function email() {
    return declare("format", line(254).regex(/^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$/, "must be an e-mail address such as ops@example.org"));
}

/**
 * The AWS regions, by partition. Debian 12's botocore (endpoints.json) knows those of 2022; the ones
 * opened since are added from AWS's announcements. A region missing here is refused: add it.
 */
export const AWS_REGIONS: readonly string[] = [
    // aws
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    // aws-cn, aws-us-gov, aws-eusc (European Sovereign Cloud), the isolated partitions
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "eusc-de-east-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "eu-isoe-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
];

export function awsRegion() {
    return declare(
        "format",
        line(32).refine(
            (r) => AWS_REGIONS.includes(r),
            `must be an AWS region such as eu-west-1 (one of ${AWS_REGIONS.length} known: ${AWS_REGIONS.slice(0, 4).join(", ")}, ...)`,
        ),
    );
}
