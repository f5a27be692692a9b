// Shell quoting for every script and settings file plone-aws renders.

/**
 * A word bash reads back exactly: as it is when it is plainly safe, else single-quoted with ' written
 * as '\''. A value with control characters (a line break in a secret) is ANSI-C quoted ($'...'), so
 * that every word stays on its line.
 */
export function shellQuote(value: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
    if (/[\u0000-\u001f\u007f]/.test(value)) {
        if (value.includes("\u0000")) throw new Error("a NUL cannot be part of a shell word");
        const escaped = value.replace(/[\\'\u0001-\u001f\u007f]/g, (c) =>
            c === "\\" || c === "'" ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
        );
        return `$'${escaped}'`;
    }
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * `content` in base64, for `base64 -d` in a heredoc: a line break after every 76 characters (none
 * after a shorter last line). Sliced rather than matched with a regex: the configure step of a
 * host carries every file of it this way.
 */
export function base64Lines(content: string): string {
    const data = Buffer.from(content, "utf8").toString("base64");
    const full = data.length - (data.length % 76);
    let out = "";
    for (let i = 0; i < full; i += 76) out += `${data.slice(i, i + 76)}\n`;
    return out + data.slice(full);
}

/** A bash array literal: ('a' 'b c'). */
export function shellArray(values: readonly string[]): string {
    return `(${values.map(shellQuote).join(" ")})`;
}

/** NAME=value lines of a sourced settings file; arrays become bash arrays. */
export function shellAssignments(vars: Record<string, string | number | boolean | readonly string[]>): string {
    return Object.entries(vars)
        .map(([k, v]) => {
            if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`${k} is not a shell variable name`);
            if (Array.isArray(v)) return `${k}=${shellArray(v)}`;
            return `${k}=${typeof v === "string" ? shellQuote(v) : String(v)}`;
        })
        .join("\n");
}
