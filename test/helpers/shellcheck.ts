// shellcheck on rendered files laid out as on a host, and what its verdict depends on.
import * as fs from "fs";
import * as path from "path";
import type { RenderedFile } from "../../components/render/context";
import { run, tempDir } from "./system";

/**
 * shellcheck (bash, following sources) on files laid out by basename in one directory, so that
 * `source "$dir/common.sh"` resolves as on a host. The `sourcesOnly` files are there for the others
 * to source, not checked themselves. Returns shellcheck's findings and its exit status.
 */
export function shellcheckLaidOut(files: RenderedFile[], sourcesOnly: RenderedFile[] = []): { status: number; output: string } {
    const { dir, cleanup } = tempDir("shellcheck");
    try {
        const paths = files.map((f) => path.join(dir, path.basename(f.path)));
        files.forEach((f, i) => fs.writeFileSync(paths[i], f.content));
        for (const f of sourcesOnly) fs.writeFileSync(path.join(dir, path.basename(f.path)), f.content);
        const r = run("shellcheck", ["-s", "bash", "-x", "-P", dir, "-f", "gcc", ...paths]);
        return { status: r.status, output: r.stdout + r.stderr };
    } finally {
        cleanup();
    }
}

/**
 * What shellcheck reads from a sourced settings file (deploy.env, backup.env): the names it assigns
 * (arrays marked), in order; its directives; any other line but a comment as it is. Two settings
 * files alike here give a script that sources them the same verdict, whatever their values and
 * comments (each settings file is checked itself).
 */
export function assignedNames(content: string): string {
    return content
        .split("\n")
        .map((line) => {
            const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\(?)/.exec(line);
            if (m) return `${m[1]}${m[2] ? "[]" : ""}`;
            return /^\s*#/.test(line) && !/^\s*#\s*shellcheck\s/.test(line) ? "" : line;
        })
        .join("\n");
}
