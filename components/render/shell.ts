// Shell quoting for every script and settings file plone-aws renders.

/** A word bash reads back exactly: as it is when it is plainly safe, else single-quoted with ' written as '\''. */
export function shellQuote(value: string): string {
    if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
    return `'${value.replace(/'/g, `'\\''`)}'`;
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
