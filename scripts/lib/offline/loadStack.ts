// Loading a stack for the offline tools (plan, policy, render): read the stack file, set aside the
// secrets that are not set yet (they are needed by `pulumi up`, not offline), validate.
import type { ConfigIssue } from "../../../components/config/load";
import { parseStackConfig } from "../../../components/stackConfig";
import { NAMESPACE } from "../../../components/config/issues";
import { SECRET_KEYS, SecretKey } from "../../../components/config/schema";
import type { StackSpec } from "../../../components/config/spec";
import { deploymentIssues } from "../../../components/config/awsRules";
import { readStackFile, stackFilePath, StackConfig, StackFileError, withSecretPlaceholders } from "./stackFile";

export interface LoadedStack {
    config: StackConfig;
    spec?: StackSpec;
    errors: ConfigIssue[];
    warnings: ConfigIssue[];
    /** Secrets `pulumi up` needs that the stack does not set yet, with the command to set each. */
    unsetSecrets: ConfigIssue[];
    /** Example values (key, certificate, documentation ranges) `pulumi up` refuses: replace them first. */
    deployBlockers: ConfigIssue[];
}

export interface StackSelection {
    stack?: string;
    stackFile?: string;
}

/** Parses `<stack>`, `--stack-file FILE` and `--json` style arguments shared by the offline tools. */
export function parseStackArgs(argv: string[], flags: string[] = []): { selection: StackSelection; flags: Set<string>; rest: string[] } {
    const selection: StackSelection = {};
    const seen = new Set<string>();
    const rest: string[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--stack-file") {
            if (!argv[i + 1]) throw new StackFileError("--stack-file needs a file name");
            selection.stackFile = argv[++i];
        } else if (a.startsWith("--stack-file=")) {
            selection.stackFile = a.slice("--stack-file=".length);
        } else if (flags.includes(a)) {
            seen.add(a);
        } else if (!a.startsWith("-") && !selection.stack && !selection.stackFile) {
            selection.stack = a;
        } else {
            rest.push(a);
        }
    }
    return { selection, flags: seen, rest };
}

export function loadStack(selection: StackSelection): LoadedStack {
    if (!selection.stack && !selection.stackFile) throw new StackFileError("name a stack (e.g. dev) or give --stack-file FILE");
    const file = selection.stackFile ?? stackFilePath(selection.stack!);
    return validateStack(readStackFile(file, selection.stackFile && selection.stack ? selection.stack : undefined));
}

/** Validates a stack read by readStackFile or parseStackText, with placeholders for unset secrets. */
export function validateStack(config: StackConfig): LoadedStack {
    const file = config.file;
    const first = parseStackConfig(config.raw, { stackName: config.stackName });
    const secretPaths = new Set(Object.keys(SECRET_KEYS).map((k) => `${NAMESPACE}:${k}`));
    const unsetSecrets = first.errors.filter((e) => secretPaths.has(e.path));
    const missing = unsetSecrets.map((e) => e.path.slice(NAMESPACE.length + 1) as SecretKey);
    const filled = withSecretPlaceholders(config, missing).config;
    const result = missing.length ? parseStackConfig(filled.raw, { stackName: config.stackName }) : first;
    const warnings = [
        ...result.warnings,
        ...config.plaintextSecrets.map((k) => ({ path: k, message: `stored in plain text in ${file}: set it again with pulumi config set --secret ${k}` })),
    ];
    const deployBlockers = result.spec ? deploymentIssues(result.spec) : [];
    return { config: filled, spec: result.spec, errors: result.errors, warnings, unsetSecrets, deployBlockers };
}
