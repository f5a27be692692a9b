// Command-line arguments of the stack tools: positionals, boolean flags and options with values
// (`--opt value` or `--opt=value`, some repeatable). Mistakes throw ArgumentError, which the
// commands print with their usage line and exit 1.
import { CommandIo, processIo } from "./cli";

export class ArgumentError extends Error {}

export interface ArgSpec {
    /** Options without a value, e.g. --force. */
    flags: readonly string[];
    /** Options with one value, e.g. --domain. */
    single: readonly string[];
    /** Options with a value that may be given several times, e.g. --set. */
    repeated: readonly string[];
}

export interface ParsedArgs {
    positionals: string[];
    flags: Set<string>;
    values: Map<string, string[]>;
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
    const positionals: string[] = [];
    const flags = new Set<string>();
    const values = new Map<string, string[]>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--") || arg === "--") {
            if (arg !== "--") positionals.push(arg);
            continue;
        }
        const eq = arg.indexOf("=");
        const name = eq > 0 ? arg.slice(0, eq) : arg;
        if (spec.flags.includes(name)) {
            if (eq > 0) throw new ArgumentError(`${name} takes no value`);
            flags.add(name);
            continue;
        }
        if (!spec.single.includes(name) && !spec.repeated.includes(name)) throw new ArgumentError(`unknown option ${name}`);
        const value: string | undefined = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
        if (eq < 0) {
            if (value === undefined || value.startsWith("--")) throw new ArgumentError(`${name} needs a value`);
            i++;
        }
        if (value === "") throw new ArgumentError(`${name} needs a value`);
        const list = values.get(name) ?? [];
        if (spec.single.includes(name) && list.length > 0) throw new ArgumentError(`${name} is given twice`);
        list.push(value);
        values.set(name, list);
    }
    return { positionals, flags, values };
}

/** The one value of a single option, if given. */
export function single(args: ParsedArgs, name: string): string | undefined {
    return args.values.get(name)?.[0];
}

/** Pulumi stack names: letters, digits, '-', '_' and '.'. */
export function checkStackName(name: string, what: string): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
        throw new ArgumentError(`${what} "${name}" is not a stack name (letters, digits, '-', '_' and '.')`);
    }
    return name;
}

/** An ArgumentError prints with the usage line and exits 1; other errors go on to exitWith. */
export function usageOnError(status: Promise<number>, usage: string, io: CommandIo = processIo()): Promise<number> {
    return status.catch((e: unknown) => {
        if (!(e instanceof ArgumentError)) throw e;
        io.err(`error: ${e.message}\n${usage}`);
        return 1;
    });
}
