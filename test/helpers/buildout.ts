// Checking a buildout configuration without buildout (its scripts are broken on Python 3.11 and
// PyPI is unreachable): zc.buildout's own parser for the syntax, and our check that every
// ${section:option} it references is defined.
import { run } from "./system";

export type BuildoutSections = Record<string, Record<string, string>>;

const PARSE = `
import io, json, sys
import zc.buildout.configparser as p
text = sys.stdin.read()
print(json.dumps(p.parse(io.StringIO(text), "deploy.cfg")))
`;

let python: string | undefined;
/** A Python with Debian's python3-zc.buildout (a pyenv python3 earlier on PATH lacks it). */
export function buildoutPython(): string | undefined {
    if (python === undefined) {
        python =
            ["/usr/bin/python3", "python3"].find((p) => {
                try {
                    return run(p, ["-c", "import zc.buildout.configparser"]).status === 0;
                } catch {
                    return false;
                }
            }) ?? "";
    }
    return python || undefined;
}

/** Parses with zc.buildout.configparser.parse; throws with the parser's message on a syntax error. */
export function parseBuildout(text: string): BuildoutSections {
    const py = buildoutPython();
    if (!py) throw new Error("no python3 with zc.buildout (apt-get install python3-zc.buildout)");
    const r = run(py, ["-c", PARSE], { input: text });
    if (r.status !== 0) throw new Error(`zc.buildout could not parse the configuration:\n${r.stderr}`);
    return JSON.parse(r.stdout) as BuildoutSections;
}

/** The value of an option as buildout would see it: `x +=` and `<= macro` resolved within this file. */
export function option(sections: BuildoutSections, section: string, name: string): string | undefined {
    const s = sections[section];
    if (!s) return undefined;
    if (name in s) return s[name];
    if (`${name} +` in s) return s[`${name} +`];
    if (s["<"]) return option(sections, s["<"].trim(), name);
    return undefined;
}

/** Options buildout defines itself. */
const BUILTIN = new Set(["buildout:directory", "buildout:bin-directory", "buildout:parts-directory", "buildout:eggs-directory"]);

/** Every ${section:option} reference that does not resolve within the file (or to buildout's built-ins). */
export function unresolvedReferences(sections: BuildoutSections): string[] {
    const missing: string[] = [];
    for (const [section, options] of Object.entries(sections)) {
        for (const [name, value] of Object.entries(options)) {
            for (const m of value.matchAll(/\$\{([^}:]*):([^}]+)\}/g)) {
                const target = m[1] || section;
                const ref = `${target}:${m[2]}`;
                if (m[2] === "_buildout_section_name_" || BUILTIN.has(ref)) continue;
                if (option(sections, target, m[2]) === undefined) missing.push(`[${section}] ${name}: \${${m[1]}:${m[2]}}`);
            }
        }
    }
    return missing;
}

/** The names listed in a multi-line option. */
export function lines(value: string | undefined): string[] {
    return (value ?? "")
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
}
