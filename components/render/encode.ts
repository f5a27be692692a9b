// One encoder per target syntax: every renderer that puts a configuration value into a file goes
// through these, so a value can never change the shape of the file it lands in. The schema's kinds
// (config/kinds.ts) already refuse what a target cannot hold; the encoders refuse it again (a bug,
// never a user error, when they do) and escape what the target would otherwise interpret.
// Shell words are in shell.ts (shellQuote, shellArray, shellAssignments); the curl configuration
// of the cache archives is written at run time by curl_config_quote in render/hostScripts/deploy.ts.

/** Line breaks and other control characters: no single-line target can hold them. */
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;

/** Thrown when a value reaches a renderer that its kind should have refused: a plone-aws bug. */
export class UnencodableValueError extends Error {}

function oneLine(value: string, what: string, target: string): string {
    if (CONTROL.test(value)) throw new UnencodableValueError(`${what} holds a line break or control character, which ${target} cannot hold`);
    return value;
}

/**
 * A word for haproxy's configuration parser: single-quoted (no escapes, no $VAR expansion inside),
 * with each ' closed, escaped and reopened, as in the shell.
 */
export function haproxyWord(value: string, what = "a value"): string {
    return `'${oneLine(value, what, "haproxy.cfg").replace(/'/g, `'\\''`)}'`;
}

/**
 * A word of memcached.conf (Debian's wrapper splits option lines at blanks) or redis.conf: an
 * address, a number or a path of letters, digits and . : , / _ -, never a blank, quote or # (both
 * files would read those as separators, quotes or comments).
 */
export function daemonWord(value: string | number, what = "a value"): string {
    const text = String(value);
    if (!/^[A-Za-z0-9.:,/_-]+$/.test(text))
        throw new UnencodableValueError(`${what} (${JSON.stringify(text)}) is not a plain word a daemon's configuration can hold`);
    return text;
}

/** A value of a supervisor program option: supervisor expands %(name)s, so a literal % is %%. */
export function supervisorValue(value: string, what = "a value"): string {
    return oneLine(value, what, "a supervisor program").replace(/%/g, "%%");
}

/**
 * An option value of a Python ini file read with ConfigParser's default interpolation (newrelic.ini):
 * % is written %%, and the value may neither span lines nor start or end with blanks (ConfigParser strips them).
 */
export function iniValue(value: string, what = "a value"): string {
    oneLine(value, what, "an ini file");
    if (value !== value.trim()) throw new UnencodableValueError(`${what} starts or ends with blanks, which an ini file drops`);
    return value.replace(/%/g, "%%");
}

/**
 * A value of deploy.cfg, unchanged: buildout substitutes ${section:option} and has no escape for a
 * literal "${" (it keeps "$$" as it is and only skips substitutions behind it), and strips blanks
 * at either end. Values that would change are refused.
 */
export function buildoutValue(value: string, what = "a value"): string {
    oneLine(value, what, "deploy.cfg");
    if (value !== value.trim()) throw new UnencodableValueError(`${what} starts or ends with blanks, which buildout would drop`);
    if (value.split("$$").some((piece) => piece.includes("${")))
        throw new UnencodableValueError(`${what} holds "\${", which buildout would read as a substitution`);
    return value;
}

/**
 * A value zope.conf reads (ZConfig substitutes $name and ${name}; $$ is a literal $). Once every $
 * is doubled, buildout passes the value through unchanged too.
 */
export function zconfigValue(value: string, what = "a value"): string {
    return oneLine(value, what, "zope.conf").replace(/\$/g, "$$$$");
}

/** A libpq connection-string value: single-quoted, with ' and \ escaped. */
export function libpqValue(value: string): string {
    return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * A VCL string: "..." when the value has no '"', else a long string {"..."} (which ends only at "}).
 * VCL strings hold no line break.
 */
export function vclString(value: string, what = "a value"): string {
    oneLine(value, what, "a VCL string");
    if (!value.includes('"')) return `"${value}"`;
    if (!value.includes('"}')) return `{"${value}"}`;
    throw new UnencodableValueError(`${what} holds both '"' and '"}', which no VCL string can hold`);
}

/**
 * A quoted nginx parameter: "..." with \ and " escaped. nginx expands $variables inside quotes in
 * many directives and has no escape for '$', so a value holding one is refused.
 */
export function nginxString(value: string, what = "a value"): string {
    oneLine(value, what, "an nginx parameter");
    if (value.includes("$")) throw new UnencodableValueError(`${what} holds '$', which nginx would expand as a variable`);
    return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** An rsyslog (RainerScript) string: "..." with \ and " escaped. */
export function rsyslogString(value: string, what = "a value"): string {
    return `"${oneLine(value, what, "an rsyslog string").replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * A value cookiecutter puts into the files it generates (cookiecutter-zope-instance's zope.conf and
 * zope.ini). cookiecutter renders every string of its context as a Jinja template before it uses it,
 * so a value with "{" could run Jinja code: such a value becomes a Jinja string literal whose
 * characters other than letters, digits and a few plain ones are \xHH or \uHHHH escapes, which
 * Jinja turns back into exactly the value. A value without "{" stays as it is.
 */
export function cookiecutterValue(value: string, what = "a value"): string {
    oneLine(value, what, "a generated instance configuration");
    // Jinja's delimiters all start with "{" ({{, {%, {#; line statements are off in cookiecutter).
    if (!value.includes("{")) return value;
    const escaped = [...value]
        .map((c) => {
            if (/[A-Za-z0-9 ._:/@+=,-]/.test(c)) return c;
            const code = c.codePointAt(0)!;
            if (code < 0x100) return `\\x${code.toString(16).padStart(2, "0")}`;
            if (code < 0x10000) return `\\u${code.toString(16).padStart(4, "0")}`;
            return `\\U${code.toString(16).padStart(8, "0")}`;
        })
        .join("");
    return `{{ '${escaped}' }}`;
}

/** A YAML scalar: a JSON string is a valid YAML double-quoted scalar. */
export function yamlString(value: string): string {
    return JSON.stringify(value);
}

/** HTML text (the error page). */
export function htmlText(value: string): string {
    return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/**
 * A name in a comment or a header line. Comments never carry free text from the configuration:
 * only names of the kinds whose characters are safe in every syntax (host, app, stack, layer names,
 * DNS names, paths of the safe kinds).
 */
export function commentName(value: string): string {
    if (!/^[A-Za-z0-9_.,:/@+=*() -]*$/.test(value))
        throw new UnencodableValueError(`${JSON.stringify(value.slice(0, 40))} is not a name that may appear in a comment`);
    return value;
}

/**
 * A value of postfix's main.cf: one word of letters, digits and . _ @ + = : [ ] / - (a host, an
 * address, a port, a path). main.cf expands $name inside values and reads '{', '}', ',' and blanks
 * as syntax, so anything else is refused.
 */
export function postfixValue(value: string | number, what = "a value"): string {
    const text = String(value);
    if (!/^[A-Za-z0-9._@+=:[\]/-]+$/.test(text))
        throw new UnencodableValueError(`${what} (${JSON.stringify(text)}) is not a plain word postfix's main.cf can hold`);
    return text;
}

/**
 * One line of a postfix lookup table (texthash:, as the SMTP client's password map reads it): the
 * key is one word, the value the rest of the line. postfix trims blanks around the value, reads a
 * line starting with a blank as a continuation, and a '#' at the start of a line as a comment, so
 * a key with a blank or a value with a line break or blanks at either end is refused.
 */
export function postfixTableLine(key: string, value: string, what = "a value"): string {
    if (!/^[\x21-\x7e]+$/.test(key) || key.startsWith("#"))
        throw new UnencodableValueError(`the key of ${what} is not one word postfix's lookup table can hold`);
    oneLine(value, what, "a postfix lookup table");
    if (value === "" || value !== value.trim())
        throw new UnencodableValueError(`${what} is empty or starts or ends with blanks, which postfix's lookup table drops`);
    return `${key} ${value}`;
}
